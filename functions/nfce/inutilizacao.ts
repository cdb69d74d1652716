import { DOMImplementation, XMLSerializer, type Element } from '@xmldom/xmldom';
import * as z from 'zod';
import { UF_CODES } from './fiscal.ts';
import {
  answerElement,
  childTexts,
  cStatSchema,
  nProtSchema,
  SefazUnavailable,
  soapCall,
  type SefazCallOptions,
} from './sefaz.ts';
import { schemaText } from './text.ts';
import { appendSignature, digestOf, NFE_NS, type Signer } from './xml.ts';

/**
 * Inutilização of NFC-e numbers (`inutNFe` 4.00, web service NFeInutilizacao4): declaring to SEFAZ
 * that numbers of a series were skipped and will never be used. Layout from PL_010e_v1.01
 * (`../shared/nfe-schemas/PL_010e_v1.01/`: `inutNFe_v4.00.xsd`, `leiauteInutNFe_v4.00.xsd`,
 * `retInutNFe_v4.00.xsd`, `procInutNFe_v4.00.xsd`); rules from `../shared/specs/nfce-2026.md` §5
 * (by the 10th day of the following month) and MOC 7.0's NFeInutilizacao4.
 *
 * The request is signed on its `infInut` with the NFe's xmldsig profile (enveloped, inclusive
 * C14N 1.0, RSA-SHA1, SHA-1 digest, the certificate in X509Data), reference `#ID…`.
 *
 * What this module does NOT check, because only SEFAZ knows: that no number of the range was used
 * (241) or already inutilized (256), and the year against SEFAZ's clock (453/454).
 */

const serializer = new XMLSerializer();
const dom = new DOMImplementation();

/** The request's input is invalid (before anything is sent): the message says which field and why. */
export class InvalidInutilizacao extends Error {
  override name = 'InvalidInutilizacao';
}

export interface InutilizacaoInput {
  /** The emitter's CNPJ, 14 characters (`TCnpj`: `[0-9A-Z]{12}[0-9]{2}`, alphanumeric allowed). */
  cnpj: string;
  /** The emitter's state; `cUF` is its IBGE code (fiscal.ts' `UF_CODES`, 35 for SP). */
  uf: keyof typeof UF_CODES;
  /** 1 production, 2 homologation. */
  tpAmb: 1 | 2;
  /** Two-digit year of the numbers (the year their documents would carry), `Tano` (`[0-9]{2}`). */
  ano: string;
  /** The NFC-e series, 0–999 (`TSerie`). */
  serie: number;
  /** First number of the range, 1–999999999 (`TNF`). */
  nNFIni: number;
  /** Last number of the range (inclusive), 1–999999999 and ≥ nNFIni (else SEFAZ answers 224). */
  nNFFin: number;
  /**
   * Why the numbers are skipped. Written as schema text (`TJust` = `TString`, Latin-1, see text.ts'
   * `schemaText`: mapped, spaces collapsed, trimmed) and then it must hold 15–255 characters
   * (`TJust` minLength/maxLength); otherwise {@link InvalidInutilizacao}. Never truncated.
   */
  xJust: string;
}

export interface SignedInutilizacao {
  /** `ID` + cUF(2) + ano(2) + CNPJ(14) + mod "65" + serie(3) + nNFIni(9) + nNFFin(9): 43 characters, the signature's reference. */
  id: string;
  /** `<inutNFe versao="4.00" xmlns="http://www.portalfiscal.inf.br/nfe">` signed per infInut, compact, no XML declaration. */
  xml: string;
}

const UF_NAMES = Object.keys(UF_CODES) as [keyof typeof UF_CODES, ...(keyof typeof UF_CODES)[]];
const tNF = z.number().int().min(1).max(999_999_999);
const inputSchema = z
  .object({
    cnpj: z.string().regex(/^[0-9A-Z]{12}[0-9]{2}$/, { message: 'must be a CNPJ (14 characters, TCnpj)' }),
    uf: z.enum(UF_NAMES),
    tpAmb: z.union([z.literal(1), z.literal(2)]),
    ano: z.string().regex(/^[0-9]{2}$/, { message: 'must be the year in two digits (Tano)' }),
    serie: z.number().int().min(0).max(999),
    nNFIni: tNF,
    nNFFin: tNF,
    xJust: z.string(),
  })
  .refine((i) => i.nNFFin >= i.nNFIni, { message: 'must not be below nNFIni', path: ['nNFFin'] });

/**
 * The signed `<inutNFe versao="4.00">` (`TInutNFe`): `<infInut Id="ID…">` tpAmb, xServ
 * "INUTILIZAR", cUF, ano, CNPJ, mod 65, serie, nNFIni, nNFFin, xJust `</infInut>`, then the
 * Signature. Built as a DOM like events.ts' events, so the serializer escapes text. Throws
 * {@link InvalidInutilizacao} on a bad input.
 */
export function inutilizacaoRequest(input: InutilizacaoInput, signer: Signer): SignedInutilizacao {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new InvalidInutilizacao(`inutilização: ${issues}`);
  }
  const i = parsed.data;
  const xJust = schemaText(i.xJust, Number.MAX_SAFE_INTEGER);
  if (xJust.length < 15 || xJust.length > 255)
    throw new InvalidInutilizacao(`inutilização: xJust must be 15–255 characters after trimming (TJust), got ${xJust.length}`);

  const cUF = UF_CODES[i.uf];
  const id =
    `ID${cUF}${i.ano}${i.cnpj}65${String(i.serie).padStart(3, '0')}` +
    `${String(i.nNFIni).padStart(9, '0')}${String(i.nNFFin).padStart(9, '0')}`;
  const doc = dom.createDocument(NFE_NS, 'inutNFe', null);
  const inutNFe = doc.documentElement!;
  inutNFe.setAttribute('versao', '4.00');
  const infInut = doc.createElementNS(NFE_NS, 'infInut');
  infInut.setAttribute('Id', id);
  inutNFe.appendChild(infInut);
  // serie, nNFIni and nNFFin without leading zeros: TSerie and TNF do not allow them.
  const fields: [string, string][] = [
    ['tpAmb', String(i.tpAmb)],
    ['xServ', 'INUTILIZAR'],
    ['cUF', cUF],
    ['ano', i.ano],
    ['CNPJ', i.cnpj],
    ['mod', '65'],
    ['serie', String(i.serie)],
    ['nNFIni', String(i.nNFIni)],
    ['nNFFin', String(i.nNFFin)],
    ['xJust', xJust],
  ];
  for (const [name, text] of fields) {
    const field = doc.createElementNS(NFE_NS, name);
    field.appendChild(doc.createTextNode(text));
    infInut.appendChild(field);
  }
  // Signed per infInut with the NFe's profile (xml.ts), the Signature after it.
  appendSignature(inutNFe, id, digestOf(infInut), signer);
  return { id, xml: serializer.serializeToString(inutNFe) };
}

/** cStat 102: "Inutilização de número homologado" — the range is inutilized. */
export const INUTILIZED = '102';

export interface InutilizacaoAnswer {
  /** 102 inutilized; anything else is a rejection (e.g. 241 a number was used, 256 already inutilized, 215 schema). */
  cStat: string;
  xMotivo: string;
  /** True for 102. */
  homologated: boolean;
  /** The inutilização's protocol, 15 or 17 digits (`TProt`): present when homologated. */
  nProt?: string;
  /** When SEFAZ recorded (102) or received (a rejection) the request, as SEFAZ wrote it (`2026-11-22T12:40:01-03:00`). */
  dhRecbto: string;
  /** `<retInutNFe versao="4.00">…</retInutNFe>` as SEFAZ sent it (its namespace declared), for {@link procInutNFe}. */
  xml: string;
}

const answerSchema = z
  .object({
    cStat: cStatSchema,
    xMotivo: z.string().min(1),
    dhRecbto: z.string().min(1),
    nProt: nProtSchema.optional(),
  })
  .refine((a) => a.cStat !== INUTILIZED || a.nProt !== undefined, {
    message: 'a homologated inutilização without nProt',
    path: ['nProt'],
  });

/**
 * SEFAZ's NFeInutilizacao4 answer (the SOAP body, or a bare `retInutNFe`): `retInutNFe/infInut`'s
 * cStat, xMotivo, dhRecbto and nProt, validated with zod as sefaz.ts' `parseAnswer` does.
 * Anything that is not such an answer — no `retInutNFe`, no cStat/xMotivo/dhRecbto, a 102
 * without nProt — is a {@link SefazUnavailable}: the outcome is unknown and the caller should ask
 * again (a range SEFAZ did inutilize then answers 256).
 */
export function parseInutilizacaoAnswer(body: string): InutilizacaoAnswer {
  const ret = answerElement(body, 'retInutNFe');
  const infInut = ret.getElementsByTagNameNS(NFE_NS, 'infInut')[0];
  const answer = answerSchema.safeParse(infInut ? childTexts(infInut) : {});
  if (!answer.success) throw new SefazUnavailable(`SEFAZ answered a malformed retInutNFe: ${answer.error.message}`);
  const { nProt, ...fields } = answer.data;
  return {
    ...fields,
    homologated: fields.cStat === INUTILIZED,
    ...(nProt !== undefined ? { nProt } : {}),
    xml: serializer.serializeToString(ret),
  };
}

/**
 * The stored inutilização: the signed `<inutNFe>` ({@link SignedInutilizacao}.xml) and SEFAZ's
 * `<retInutNFe>` ({@link InutilizacaoAnswer}.xml) in `TProcInutNFe`. The root is `ProcInutNFe`,
 * capital P: the name procInutNFe_v4.00.xsd declares. Like xml.ts' `nfeProc`.
 */
export function procInutNFe(inutXml: string, retInutXml: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><ProcInutNFe versao="4.00" xmlns="${NFE_NS}">${inutXml}${retInutXml}</ProcInutNFe>`;
}

/** NFeInutilizacao4's WSDL namespace; its one operation is `nfeInutilizacaoNF`. */
export const INUTILIZACAO_WSDL = 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeInutilizacao4';

/**
 * NFeInutilizacao4: sends a signed `inutNFe` ({@link inutilizacaoRequest}) over SOAP 1.2 (mutual
 * TLS, sefaz.ts' `soapCall`) and returns {@link parseInutilizacaoAnswer}'s reading of the answer.
 * Anything that is not an answer (timeout, refused connection, HTTP 5xx, no retInutNFe) is a
 * {@link SefazUnavailable}.
 */
export async function inutilizacao(url: string, inutXml: string, options: SefazCallOptions): Promise<InutilizacaoAnswer> {
  return parseInutilizacaoAnswer(await soapCall(url, INUTILIZACAO_WSDL, 'nfeInutilizacaoNF', inutXml, options));
}

/**
 * Sorted, de-duplicated numbers merged into consecutive ranges, each one inutilização request:
 * [1,2,3,7] → [{from:1,to:3},{from:7,to:7}]; [] → []. Throws a RangeError for a number that is not
 * a safe integer.
 */
export function numberRanges(numbers: readonly number[]): { from: number; to: number }[] {
  for (const n of numbers) if (!Number.isSafeInteger(n)) throw new RangeError(`numberRanges: ${n} is not an integer`);
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const ranges: { from: number; to: number }[] = [];
  for (const n of sorted) {
    const last = ranges.at(-1);
    if (last && n === last.to + 1) last.to = n;
    else ranges.push({ from: n, to: n });
  }
  return ranges;
}
