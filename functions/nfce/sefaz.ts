import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import * as z from 'zod';
import { NFE_NS } from './xml.ts';

/**
 * SEFAZ NFeAutorizacao4 client: SOAP 1.2, synchronous (indSinc 1, one NFC-e), mutual TLS with the
 * company's A1 certificate. Anything that is not a SEFAZ answer — timeout, refused connection, HTTP
 * 5xx, a body that is not the expected SOAP — is a SefazUnavailable: the job is retried later.
 */

const SOAP_NS = 'http://www.w3.org/2003/05/soap-envelope';
const WSDL = 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeAutorizacao4';
const CONSULTA_WSDL = 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeConsultaProtocolo4';

export class SefazUnavailable extends Error {
  override name = 'SefazUnavailable';
  /**
   * False only when the connection was never made (refused, no such host, a timeout before the
   * TLS handshake ended): then the NFC-e did not leave. True when it may have reached SEFAZ.
   */
  readonly reachedSefaz: boolean;
  /** True when the call ran out of time (SEFAZ silent), rather than failing. */
  readonly timedOut: boolean;

  constructor(message: string, options: { reachedSefaz?: boolean; timedOut?: boolean } = {}) {
    super(message);
    this.reachedSefaz = options.reachedSefaz ?? true;
    this.timedOut = options.timedOut ?? false;
  }
}

export interface ClientTls {
  key: string;
  cert: string;
}

export interface AuthorizationAnswer {
  /** Lot status: 104 processed, otherwise a lot-level rejection (e.g. 225 schema). */
  cStat: string;
  xMotivo: string;
  protocol?: {
    cStat: string;
    xMotivo: string;
    nProt?: string;
    dhRecbto: string;
    /** `<protNFe …>…</protNFe>` as SEFAZ sent it, for the nfeProc. */
    xml: string;
  };
  /** NFeConsultaProtocolo4 only: the key's registered events (`<procEventoNFe …>`, e.g. its cancellation), as sent. */
  procEventos?: string[];
}

/** TStat: 3 or 4 digits (PL_010: the 4-digit codes are the Reforma Tributária's rejections, e.g. 1115). */
export const cStatSchema = z.string().regex(/^[0-9]{3,4}$/);
/** TProt: 15 or 17 digits (SEFAZ-SP answers NFC-e with 17). */
export const nProtSchema = z.string().regex(/^(?:[0-9]{15}|[0-9]{17})$/);

const answerSchema = z.object({ cStat: cStatSchema, xMotivo: z.string().min(1) });
const protocolSchema = answerSchema.extend({
  nProt: nProtSchema.optional(),
  dhRecbto: z.string().min(1),
});

/** How to reach SEFAZ: the company's certificate for mutual TLS, and a limit on the whole exchange. */
export type SefazCallOptions = { tls?: ClientTls; timeoutMs: number };
type Options = SefazCallOptions;

const envelope = (wsdl: string, message: string) =>
  `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP_NS}"><soap:Body>` +
  `<nfeDadosMsg xmlns="${wsdl}">${message}</nfeDadosMsg></soap:Body></soap:Envelope>`;

/** SEFAZ refuses a message over 500 KB (rejection 214, "Tamanho da mensagem excedeu o limite estabelecido"). */
export const MAX_MESSAGE_BYTES = 500 * 1024;

/** The size of the NFeAutorizacao4 message that carries `enviNFeXml`, in bytes. */
export function authorizationMessageBytes(enviNFeXml: string): number {
  return Buffer.byteLength(envelope(WSDL, enviNFeXml), 'utf8');
}

/**
 * One SOAP 1.2 call of a layout-4.00 web service: `message` inside nfeDadosMsg of `wsdl`, the
 * action `wsdl/operation`; resolves to the answer's body (HTTP < 500). Failures to reach SEFAZ are
 * {@link SefazUnavailable}. Exported for the other services' clients (events.ts' recepcaoEvento).
 */
export function soapCall(url: string, wsdl: string, operation: string, message: string, options: Options): Promise<string> {
  return post(url, envelope(wsdl, message), `application/soap+xml;charset=utf-8;action="${wsdl}/${operation}"`, options);
}

export async function authorize(url: string, enviNFeXml: string, options: Options): Promise<AuthorizationAnswer> {
  return parseAnswer(await soapCall(url, WSDL, 'nfeAutorizacaoLote', enviNFeXml, options), 'retEnviNFe');
}

/**
 * NFeConsultaProtocolo4: the protocol SEFAZ holds for a key. Used when an authorization answers
 * 204 (duplicate): an earlier attempt was authorized but its answer never reached us.
 */
export async function consultProtocol(url: string, chave: string, tpAmb: 1 | 2, options: Options): Promise<AuthorizationAnswer> {
  const message = `<consSitNFe xmlns="${NFE_NS}" versao="4.00"><tpAmb>${tpAmb}</tpAmb><xServ>CONSULTAR</xServ><chNFe>${chave}</chNFe></consSitNFe>`;
  return parseAnswer(await soapCall(url, CONSULTA_WSDL, 'nfeConsultaNF', message, options), 'retConsSitNFe');
}

/**
 * The first `resultElement` (NFe namespace) of a SEFAZ answer body (the SOAP envelope, or the bare
 * element). Throws {@link SefazUnavailable} when there is none: the outcome is unknown.
 */
export function answerElement(body: string, resultElement: string): Element {
  let ret: Element | undefined;
  try {
    const doc = new DOMParser({ onError: () => undefined }).parseFromString(body, 'text/xml');
    ret = doc.getElementsByTagNameNS(NFE_NS, resultElement)[0];
  } catch {
    ret = undefined;
  }
  if (!ret) throw new SefazUnavailable(`SEFAZ answered without a ${resultElement}: ${body.slice(0, 200)}`);
  return ret;
}

/** The text of each direct child element in the NFe namespace, by local name (the first of each). */
export function childTexts(parent: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    const el = node as Element;
    if (node.nodeType === 1 && el.namespaceURI === NFE_NS) out[el.localName!] ??= el.textContent ?? '';
  }
  return out;
}

export function parseAnswer(body: string, resultElement: 'retEnviNFe' | 'retConsSitNFe'): AuthorizationAnswer {
  const ret = answerElement(body, resultElement);
  const lot = answerSchema.safeParse({ cStat: child(ret, 'cStat'), xMotivo: child(ret, 'xMotivo') });
  if (!lot.success) throw new SefazUnavailable(`SEFAZ answered a ${resultElement} without cStat/xMotivo`);
  const procEventos = [...childElementsOf(ret, 'procEventoNFe')].map((e) => new XMLSerializer().serializeToString(e));
  const events = procEventos.length > 0 ? { procEventos } : {};
  const protNFe = ret.getElementsByTagNameNS(NFE_NS, 'protNFe')[0];
  if (!protNFe) return { ...lot.data, ...events };
  const infProt = protNFe.getElementsByTagNameNS(NFE_NS, 'infProt')[0];
  const protocol = protocolSchema.safeParse({
    cStat: infProt && child(infProt, 'cStat'),
    xMotivo: infProt && child(infProt, 'xMotivo'),
    nProt: infProt && child(infProt, 'nProt'),
    dhRecbto: infProt && child(infProt, 'dhRecbto'),
  });
  if (!protocol.success) throw new SefazUnavailable(`SEFAZ answered a malformed protNFe: ${protocol.error.message}`);
  return { ...lot.data, protocol: { ...protocol.data, xml: new XMLSerializer().serializeToString(protNFe) }, ...events };
}

function* childElementsOf(parent: Element, name: string): Generator<Element> {
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).localName === name) yield node as Element;
  }
}

function child(parent: Element, name: string): string | undefined {
  for (const element of childElementsOf(parent, name)) return element.textContent ?? undefined;
  return undefined;
}

function post(url: string, body: string, contentType: string, options: Options): Promise<string> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
        ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 500) reject(new SefazUnavailable(`SEFAZ answered HTTP ${res.statusCode}`));
          else resolve(text);
        });
        res.on('error', (error) => reject(new SefazUnavailable(`SEFAZ answer broke off: ${error.message}`)));
      },
    );
    // Whether the request could have left: the (TLS) connection was made, or a kept-alive one reused.
    let connected = false;
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once(target.protocol === 'https:' ? 'secureConnect' : 'connect', () => (connected = true));
    });
    // A limit on the whole exchange (a socket timeout only counts idle time).
    const timer = setTimeout(
      () =>
        req.destroy(
          new SefazUnavailable(`SEFAZ did not answer within ${options.timeoutMs} ms`, {
            reachedSefaz: connected,
            timedOut: true,
          }),
        ),
      options.timeoutMs,
    );
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(
        error instanceof SefazUnavailable
          ? error
          : new SefazUnavailable(`SEFAZ unreachable: ${error.message}`, { reachedSefaz: connected }),
      );
    });
    req.end(body);
  });
}
