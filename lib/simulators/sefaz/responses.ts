import type { Service } from './envelope.ts';
import type { Status } from './messages.ts';
import { NFE_NS, SOAP12_NS, escapeXml } from './xml.ts';

/** What every answer starts with: the environment and the moment SEFAZ received the message. */
export interface Header {
  tpAmb: string;
  verAplic: string;
  cUF: string;
  dhRecbto: string;
}

/** A document's outcome in a lot: its key, its status, and when authorized its protocol number. */
export interface Protocol {
  chNFe: string;
  status: Status;
  /** Only when authorized. */
  nProt?: string;
  /** The document's DigestValue, echoed whenever it could be read. */
  digVal?: string;
}

/** Everything infProt carries: the lot's Protocol with the environment, application and time that processed it. */
export interface ProtocolDetails extends Protocol {
  tpAmb: string;
  verAplic: string;
  dhRecbto: string;
}

/** TDateTimeUTC in Brasília time (UTC−3, no daylight saving since 2019), as SP answers. */
export function brasiliaTime(date: Date): string {
  return `${new Date(date.getTime() - 3 * 3_600_000).toISOString().slice(0, 19)}-03:00`;
}

const element = (name: string, value: string | undefined): string =>
  value === undefined ? '' : `<${name}>${escapeXml(value)}</${name}>`;

const status = ({ cStat, xMotivo }: Status): string => element('cStat', cStat) + element('xMotivo', xMotivo);

/**
 * protNFe (TProtNFe), built in one place so that a consultation repeats an authorization's
 * protocol exactly as the lot's answer carried it.
 */
export function protNFe(protocol: ProtocolDetails): string {
  return (
    `<protNFe versao="4.00"><infProt>${element('tpAmb', protocol.tpAmb)}${element('verAplic', protocol.verAplic)}` +
    `${element('chNFe', protocol.chNFe)}${element('dhRecbto', protocol.dhRecbto)}${element('nProt', protocol.nProt)}` +
    `${element('digVal', protocol.digVal)}${status(protocol.status)}</infProt></protNFe>`
  );
}

/** retEnviNFe (TRetEnviNFe): the lot's status, then the document's protocol when the lot was processed. */
export function retEnviNFe(header: Header, lot: Status, protocol?: Protocol): string {
  const prot = protocol && protNFe({ tpAmb: header.tpAmb, verAplic: header.verAplic, dhRecbto: header.dhRecbto, ...protocol });
  return (
    `<retEnviNFe versao="4.00" xmlns="${NFE_NS}">${element('tpAmb', header.tpAmb)}${element('verAplic', header.verAplic)}` +
    `${status(lot)}${element('cUF', header.cUF)}${element('dhRecbto', header.dhRecbto)}${prot ?? ''}</retEnviNFe>`
  );
}

/** retConsStatServ (TRetConsStatServ); tMed, the average answer time in seconds, only while in operation. */
export function retConsStatServ(header: Header, answer: Status, tMed?: string): string {
  return (
    `<retConsStatServ versao="4.00" xmlns="${NFE_NS}">${element('tpAmb', header.tpAmb)}${element('verAplic', header.verAplic)}` +
    `${status(answer)}${element('cUF', header.cUF)}${element('dhRecbto', header.dhRecbto)}${element('tMed', tMed)}</retConsStatServ>`
  );
}

/**
 * retConsSitNFe (TRetConsSitNFe): the answer's status, the key consulted (left out only when the
 * message did not carry a readable one) and, for an authorized key, its protocol.
 */
export function retConsSitNFe(header: Header, answer: Status, chNFe?: string, protocol?: ProtocolDetails): string {
  return (
    `<retConsSitNFe versao="4.00" xmlns="${NFE_NS}">${element('tpAmb', header.tpAmb)}${element('verAplic', header.verAplic)}` +
    `${status(answer)}${element('cUF', header.cUF)}${element('dhRecbto', header.dhRecbto)}${element('chNFe', chNFe)}` +
    `${protocol ? protNFe(protocol) : ''}</retConsSitNFe>`
  );
}

export function soapResult(service: Service, content: string): string {
  return soap(`<nfeResultMsg xmlns="${service.wsdl}">${content}</nfeResultMsg>`);
}

/** SOAP 1.2 fault: Sender when the request is at fault, Receiver when the server is. */
export function soapFault(code: 'Sender' | 'Receiver', reason: string): string {
  return soap(
    `<soap:Fault><soap:Code><soap:Value>soap:${code}</soap:Value></soap:Code>` +
      `<soap:Reason><soap:Text xml:lang="pt-BR">${escapeXml(reason)}</soap:Text></soap:Reason></soap:Fault>`,
  );
}

const soap = (body: string): string =>
  `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP12_NS}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
