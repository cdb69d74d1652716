import type { Element } from '@xmldom/xmldom';
import { NFE_NS, SOAP12_NS, childElements, parseXml } from './xml.ts';

/** A SEFAZ web service as SP publishes it: one SOAP 1.2 operation per .asmx. */
export interface Service {
  path: string;
  /** Namespace of nfeDadosMsg/nfeResultMsg. */
  wsdl: string;
  action: string;
  /** Root element of the message inside nfeDadosMsg. */
  payload: string;
}

const WSDL = 'http://www.portalfiscal.inf.br/nfe/wsdl';

export const services = {
  authorization: {
    path: '/ws/NFeAutorizacao4.asmx',
    wsdl: `${WSDL}/NFeAutorizacao4`,
    action: `${WSDL}/NFeAutorizacao4/nfeAutorizacaoLote`,
    payload: 'enviNFe',
  },
  status: {
    path: '/ws/NFeStatusServico4.asmx',
    wsdl: `${WSDL}/NFeStatusServico4`,
    action: `${WSDL}/NFeStatusServico4/nfeStatusServicoNF`,
    payload: 'consStatServ',
  },
  consultation: {
    path: '/ws/NFeConsultaProtocolo4.asmx',
    wsdl: `${WSDL}/NFeConsultaProtocolo4`,
    action: `${WSDL}/NFeConsultaProtocolo4/nfeConsultaNF`,
    payload: 'consSitNFe',
  },
  event: {
    path: '/ws/NFeRecepcaoEvento4.asmx',
    wsdl: `${WSDL}/NFeRecepcaoEvento4`,
    action: `${WSDL}/NFeRecepcaoEvento4/nfeRecepcaoEvento`,
    payload: 'envEvento',
  },
  inutilization: {
    path: '/ws/NFeInutilizacao4.asmx',
    wsdl: `${WSDL}/NFeInutilizacao4`,
    action: `${WSDL}/NFeInutilizacao4/nfeInutilizacaoNF`,
    payload: 'inutNFe',
  },
} as const satisfies Record<string, Service>;

export type Envelope =
  /** Not a SOAP 1.2 call of this service: answered with a SOAP fault, as the .asmx would. */
  | { kind: 'fault'; httpStatus: 400 | 415; reason: string }
  /** The body is not well-formed XML. */
  | { kind: 'malformed' }
  /** The payload element, or undefined when nfeDadosMsg does not hold exactly the expected one. */
  | { kind: 'message'; payload: Element | undefined };

export function readEnvelope(service: Service, contentType: string | undefined, body: string): Envelope {
  const header = contentTypeProblem(service, contentType);
  if (header) return { kind: 'fault', httpStatus: 415, reason: header };

  const doc = parseXml(body);
  if (!doc) return { kind: 'malformed' };
  const envelope = doc.documentElement!;
  if (envelope.namespaceURI !== SOAP12_NS || envelope.localName !== 'Envelope') {
    return { kind: 'fault', httpStatus: 400, reason: 'the message is not a SOAP 1.2 Envelope' };
  }
  const bodies = childElements(envelope, SOAP12_NS, 'Body');
  const message = bodies.length === 1 ? childElements(bodies[0]!) : [];
  if (message.length !== 1 || message[0]!.namespaceURI !== service.wsdl || message[0]!.localName !== 'nfeDadosMsg') {
    return { kind: 'fault', httpStatus: 400, reason: `soap:Body must hold one nfeDadosMsg of ${service.wsdl}` };
  }
  const payload = childElements(message[0]!);
  const only = payload.length === 1 ? payload[0]! : undefined;
  return { kind: 'message', payload: only?.namespaceURI === NFE_NS && only.localName === service.payload ? only : undefined };
}

/** SOAP 1.2 over HTTP: application/soap+xml, UTF-8, and an action (when given) naming this operation. */
function contentTypeProblem(service: Service, contentType: string | undefined): string | undefined {
  const [mediaType = '', ...parameters] = (contentType ?? '').split(';').map((part) => part.trim());
  if (mediaType.toLowerCase() !== 'application/soap+xml') return 'Content-Type must be application/soap+xml (SOAP 1.2)';
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=', 2).map((part) => part.trim());
    const unquoted = value.replace(/^"(.*)"$/, '$1');
    if (name.toLowerCase() === 'charset' && unquoted.toLowerCase() !== 'utf-8') return 'the message must be UTF-8';
    if (name.toLowerCase() === 'action' && unquoted !== service.action) return `action must be ${service.action}`;
  }
  return undefined;
}
