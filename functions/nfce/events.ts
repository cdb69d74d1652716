import { DOMImplementation, XMLSerializer, type Element } from '@xmldom/xmldom';
import * as z from 'zod';
import { saoPauloIso } from '../shared/time.ts';
import { UF_CODES } from './fiscal.ts';
import { ACCESS_KEY_PATTERN } from './key.ts';
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
 * NF-e events for the NFC-e (`envEvento` 1.00, web service NFeRecepcaoEvento4): cancellation
 * (110111) and cancellation by substitution (110112, NFC-e only). Layout from the event schemas of
 * package PL_010d v1.02 (`../shared/nfe-schemas/PL_010d_v1.02_events/`: `leiauteEvento_v1.00.xsd`,
 * `e110111_v1.00.xsd`, `e110112_v1.00.xsd`, `tiposBasico_v1.03.xsd`); rules from
 * `../shared/specs/nfce-2026.md` §4–5.
 *
 * Each `<evento>` is signed on its own `infEvento` with the NFe's xmldsig profile (enveloped,
 * inclusive C14N 1.0, RSA-SHA1, SHA-1 digest, the certificate in X509Data), reference `#ID…`.
 *
 * What this module does NOT check, because only SEFAZ knows: the deadline (30 minutes after the
 * authorization for 110111, 168 h for 110112 — a late event is rejected per event, e.g. 501), that
 * `nProt` is the key's authorization protocol, and duplicates (573).
 */

const serializer = new XMLSerializer();
const dom = new DOMImplementation();

/** Event types this module builds: `tpEvento` → `descEvento`, the XSDs' fixed enumeration values (no accent in 110112). */
export const EVENT_TYPES = {
  '110111': 'Cancelamento',
  '110112': 'Cancelamento por substituicao',
} as const;
export type TpEvento = keyof typeof EVENT_TYPES;

/** An event's input is invalid (before anything is sent): the message says which field and why. */
export class InvalidEvent extends Error {
  override name = 'InvalidEvent';
}

export interface CancellationInput {
  /** The NFC-e's access key, 44 characters (`TChNFe`: numeric, or with an alphanumeric CNPJ in positions 7–18). */
  chave: string;
  /** The NFC-e's authorization protocol (`protNFe/infProt/nProt`), 15 or 17 digits (`TProt`). */
  nProt: string;
  /**
   * Why it is cancelled. Written as schema text (`TJust` = `TString`, Latin-1, see text.ts'
   * `schemaText`: mapped, spaces collapsed, trimmed) and then it must hold 15–255 characters
   * (`TJust` minLength/maxLength); otherwise {@link InvalidEvent}. Never truncated.
   */
  xJust: string;
  /** The author's CNPJ (`TCnpj`, alphanumeric allowed): the emitter, so it must be the one in the key (positions 7–20). */
  cnpj: string;
  /** 1 production, 2 homologation. */
  tpAmb: 1 | 2;
  /**
   * The receiving organ (`TCOrgaoIBGE`). NFC-e events go to the emitter's state: the key's cUF
   * (35 for São Paulo). Optional; when given it must equal the key's cUF.
   */
  cOrgao?: string;
  /** When the event happened; written in São Paulo time, `2026-11-22T12:40:00-03:00` (`TDateTimeUTC`: no fractions). */
  dhEvento: Date;
  /** Sequence of this event type for the key, 1–20 (leiauteEventoCancNFe: `[1-9]|[1][0-9]{0,1}|20`); 1 by default. */
  nSeqEvento?: number;
}

export interface SubstitutionInput extends CancellationInput {
  /**
   * The key of the NFC-e that replaces the cancelled one (`chNFeRef`, `TChNFe`): the offline
   * contingency NFC-e (tpEmis 9) of the same sale, when its online attempt was also authorized
   * (spec §4). Must differ from `chave`.
   */
  chNFeRef: string;
  /** Version of the application that produced the event (`verAplic`, `TVerAplic`, 1–20 characters). */
  verAplic: string;
}

export interface SignedEvent {
  /** `ID` + tpEvento + chave + nSeqEvento (2 digits): 54 characters, the signature's reference. */
  id: string;
  tpEvento: TpEvento;
  chave: string;
  nSeqEvento: number;
  /** The signed `<evento versao="1.00">` element, compact, no XML declaration: one item of {@link envEvento}. */
  xml: string;
}

const tCnpj = z.string().regex(/^[0-9A-Z]{12}[0-9]{2}$/, { message: 'must be a CNPJ (14 characters, TCnpj)' });
const tChNFe = z.string().regex(ACCESS_KEY_PATTERN, { message: 'must be a 44-character access key (TChNFe)' });
const cancellationSchema = z.object({
  chave: tChNFe,
  nProt: nProtSchema,
  xJust: z.string(),
  cnpj: tCnpj,
  tpAmb: z.union([z.literal(1), z.literal(2)]),
  cOrgao: z.string().optional(),
  dhEvento: z.date().refine((d) => !Number.isNaN(d.getTime()), { message: 'must be a valid date' }),
  nSeqEvento: z.number().int().min(1).max(20).default(1),
});
const substitutionSchema = cancellationSchema.extend({
  chNFeRef: tChNFe,
  verAplic: z.string().regex(/^[!-ÿ](?:[ -ÿ]{0,18}[!-ÿ])?$/, { message: 'must be 1–20 characters of schema text (TVerAplic)' }),
});

const UF_CODE_SET: ReadonlySet<string> = new Set(Object.values(UF_CODES));

function parseInput<S extends z.ZodType>(schema: S, input: unknown, tpEvento: TpEvento): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new InvalidEvent(`event ${tpEvento}: ${issues}`);
  }
  return parsed.data;
}

/** The common checks: the key's state is the receiving organ, the author is the key's emitter, xJust fits TJust. */
function checked<T extends z.output<typeof cancellationSchema>>(input: T, tpEvento: TpEvento): T & { cOrgao: string } {
  const cUF = input.chave.slice(0, 2);
  if (!UF_CODE_SET.has(cUF)) throw new InvalidEvent(`event ${tpEvento}: the key's cUF ${cUF} is not a state code`);
  if (input.cOrgao !== undefined && input.cOrgao !== cUF)
    throw new InvalidEvent(
      `event ${tpEvento}: cOrgao ${input.cOrgao} is not the key's state ${cUF} (NFC-e events go to the emitter's state)`,
    );
  if (input.chave.slice(6, 20) !== input.cnpj)
    throw new InvalidEvent(`event ${tpEvento}: the author ${input.cnpj} is not the key's emitter ${input.chave.slice(6, 20)}`);
  const xJust = schemaText(input.xJust, Number.MAX_SAFE_INTEGER);
  if (xJust.length < 15 || xJust.length > 255)
    throw new InvalidEvent(`event ${tpEvento}: xJust must be 15–255 characters after trimming (TJust), got ${xJust.length}`);
  return { ...input, cOrgao: cUF, xJust };
}

/**
 * Cancellation, event 110111 (spec §5; `e110111_v1.00.xsd`): detEvento = descEvento
 * "Cancelamento", nProt, xJust. Throws {@link InvalidEvent} on a bad input.
 */
export function cancellationEvent(input: CancellationInput, signer: Signer): SignedEvent {
  const e = checked(parseInput(cancellationSchema, input, '110111'), '110111');
  return signedEvent(
    '110111',
    e,
    [
      ['nProt', e.nProt],
      ['xJust', e.xJust],
    ],
    signer,
  );
}

/**
 * Cancellation by substitution, event 110112, NFC-e only (spec §4–5; `e110112_v1.00.xsd`):
 * detEvento = descEvento "Cancelamento por substituicao", cOrgaoAutor (the key's cUF, `TCodUfIBGE`),
 * tpAutor 1 (the emitter: the only value the XSD allows), verAplic, nProt, xJust, chNFeRef.
 * Throws {@link InvalidEvent} on a bad input.
 */
export function substitutionEvent(input: SubstitutionInput, signer: Signer): SignedEvent {
  const e = checked(parseInput(substitutionSchema, input, '110112'), '110112');
  if (e.chNFeRef === e.chave)
    throw new InvalidEvent('event 110112: chNFeRef must be the substitute NFC-e, not the cancelled one');
  return signedEvent(
    '110112',
    e,
    [
      ['cOrgaoAutor', e.cOrgao],
      ['tpAutor', '1'],
      ['verAplic', e.verAplic],
      ['nProt', e.nProt],
      ['xJust', e.xJust],
      ['chNFeRef', e.chNFeRef],
    ],
    signer,
  );
}

type Checked = z.output<typeof cancellationSchema> & { cOrgao: string };

/**
 * `<evento versao="1.00"><infEvento Id="ID…">` cOrgao, tpAmb, CNPJ, chNFe, dhEvento, tpEvento,
 * nSeqEvento, verEvento 1.00, `<detEvento versao="1.00">` descEvento + `details` `</infEvento>`,
 * then the Signature (leiauteEvento_v1.00.xsd, `TEvento`). Built as a DOM: the serializer escapes text.
 */
function signedEvent(tpEvento: TpEvento, e: Checked, details: [string, string][], signer: Signer): SignedEvent {
  const id = `ID${tpEvento}${e.chave}${String(e.nSeqEvento).padStart(2, '0')}`;
  const doc = dom.createDocument(NFE_NS, 'evento', null);
  const evento = doc.documentElement!;
  evento.setAttribute('versao', '1.00');
  const append = (parent: Element, name: string, text?: string) => {
    const child = doc.createElementNS(NFE_NS, name);
    if (text !== undefined) child.appendChild(doc.createTextNode(text));
    parent.appendChild(child);
    return child;
  };
  const infEvento = append(evento, 'infEvento');
  infEvento.setAttribute('Id', id);
  const fields: [string, string][] = [
    ['cOrgao', e.cOrgao],
    ['tpAmb', String(e.tpAmb)],
    ['CNPJ', e.cnpj],
    ['chNFe', e.chave],
    ['dhEvento', `${saoPauloIso(e.dhEvento).slice(0, 19)}-03:00`],
    ['tpEvento', tpEvento],
    ['nSeqEvento', String(e.nSeqEvento)],
    ['verEvento', '1.00'],
  ];
  for (const [name, text] of fields) append(infEvento, name, text);
  const detEvento = append(infEvento, 'detEvento');
  detEvento.setAttribute('versao', '1.00');
  append(detEvento, 'descEvento', EVENT_TYPES[tpEvento]);
  for (const [name, text] of details) append(detEvento, name, text);
  // Signed per infEvento with the NFe's profile (xml.ts), the Signature after it.
  appendSignature(evento, id, digestOf(infEvento), signer);
  return { id, tpEvento, chave: e.chave, nSeqEvento: e.nSeqEvento, xml: serializer.serializeToString(evento) };
}

/** SEFAZ takes 1 to 20 events per batch (`TEnvEvento`: `evento` maxOccurs 20; spec §5). */
export const MAX_EVENTS_PER_BATCH = 20;

/**
 * The batch NFeRecepcaoEvento4 takes: `<envEvento versao="1.00"><idLote/>` + the signed events
 * (`SignedEvent.xml`, in order). `idLote` is 1–15 digits (`TEnvEvento/idLote`). Throws
 * {@link InvalidEvent} otherwise. Like xml.ts' `enviNFe`.
 */
export function envEvento(idLote: string, eventXmls: readonly string[]): string {
  if (!/^[0-9]{1,15}$/.test(idLote)) throw new InvalidEvent(`envEvento: idLote must be 1–15 digits, got "${idLote}"`);
  if (eventXmls.length < 1 || eventXmls.length > MAX_EVENTS_PER_BATCH)
    throw new InvalidEvent(`envEvento: 1–${MAX_EVENTS_PER_BATCH} events per batch, got ${eventXmls.length}`);
  return `<envEvento xmlns="${NFE_NS}" versao="1.00"><idLote>${idLote}</idLote>${eventXmls.join('')}</envEvento>`;
}

/**
 * The stored event: the signed `<evento>` and SEFAZ's `<retEvento>` (`EventAnswer.xml`) in
 * `<procEventoNFe versao="1.00">` (`TProcEvento`). Like xml.ts' `nfeProc`.
 */
export function procEventoNFe(eventoXml: string, retEventoXml: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><procEventoNFe versao="1.00" xmlns="${NFE_NS}">${eventoXml}${retEventoXml}</procEventoNFe>`;
}

/** Batch cStat 128: "Lote de Evento Processado" — each event then carries its own answer. */
export const BATCH_PROCESSED = '128';
/** Per-event cStat meaning the event is registered: 135 (registered and linked to the NF-e), 136 (registered, not linked). */
export const REGISTERED = new Set(['135', '136']);

export interface EventAnswer {
  /** 135 / 136 registered; anything else is a rejection of this event (e.g. 573 duplicate, 501 out of deadline). */
  cStat: string;
  xMotivo: string;
  registered: boolean;
  chNFe?: string;
  tpEvento?: string;
  nSeqEvento?: number;
  /** When SEFAZ received or registered the event, as SEFAZ wrote it (`2026-11-22T12:40:01-03:00`). */
  dhRegEvento: string;
  /** The event's protocol, 15 or 17 digits: present when registered. */
  nProt?: string;
  /** `<retEvento versao="1.00">…</retEvento>` as SEFAZ sent it (its namespace declared), for {@link procEventoNFe}. */
  xml: string;
}

export interface EventBatchAnswer {
  /** Batch status: 128 processed; anything else rejects the whole batch (e.g. 215 schema) and there are no events. */
  cStat: string;
  xMotivo: string;
  /** One per event of the batch, in SEFAZ's order (match them by chNFe / tpEvento / nSeqEvento). */
  events: EventAnswer[];
}

const lotSchema = z.object({ cStat: cStatSchema, xMotivo: z.string().min(1) });
const eventAnswerSchema = z
  .object({
    cStat: cStatSchema,
    xMotivo: z.string().min(1),
    chNFe: tChNFe.optional(),
    tpEvento: z
      .string()
      .regex(/^[0-9]{6}$/)
      .optional(),
    nSeqEvento: z
      .string()
      .regex(/^[1-9][0-9]?$/)
      .transform(Number)
      .optional(),
    dhRegEvento: z.string().min(1),
    nProt: nProtSchema.optional(),
  })
  .refine((a) => !REGISTERED.has(a.cStat) || a.nProt !== undefined, {
    message: 'a registered event without nProt',
    path: ['nProt'],
  });

/**
 * SEFAZ's NFeRecepcaoEvento4 answer (the SOAP body, or a bare `retEnvEvento`): the batch's
 * cStat/xMotivo and each `retEvento/infEvento`'s fields, validated with zod as sefaz.ts'
 * `parseAnswer` does. Anything that is not such an answer — no `retEnvEvento`, a batch without
 * cStat, a malformed `retEvento` (e.g. 135 without nProt) — is a {@link SefazUnavailable}: the
 * outcome is unknown and the caller should ask again (a second send answers 573 duplicate).
 */
export function parseEventAnswer(body: string): EventBatchAnswer {
  const ret = answerElement(body, 'retEnvEvento');
  const lot = lotSchema.safeParse(childTexts(ret));
  if (!lot.success) throw new SefazUnavailable('SEFAZ answered a retEnvEvento without cStat/xMotivo');
  const events: EventAnswer[] = [];
  for (let node = ret.firstChild; node; node = node.nextSibling) {
    const retEvento = node as Element;
    if (node.nodeType !== 1 || retEvento.namespaceURI !== NFE_NS || retEvento.localName !== 'retEvento') continue;
    const inf = retEvento.getElementsByTagNameNS(NFE_NS, 'infEvento')[0];
    const answer = eventAnswerSchema.safeParse(inf ? childTexts(inf) : {});
    if (!answer.success) throw new SefazUnavailable(`SEFAZ answered a malformed retEvento: ${answer.error.message}`);
    const { nSeqEvento, ...fields } = answer.data;
    events.push({
      ...fields,
      ...(nSeqEvento !== undefined ? { nSeqEvento } : {}),
      registered: REGISTERED.has(fields.cStat),
      xml: serializer.serializeToString(retEvento),
    });
  }
  return { cStat: lot.data.cStat, xMotivo: lot.data.xMotivo, events };
}

/** NFeRecepcaoEvento4's WSDL namespace; its one operation is `nfeRecepcaoEvento`. */
export const RECEPCAO_EVENTO_WSDL = 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeRecepcaoEvento4';

/**
 * NFeRecepcaoEvento4: sends an {@link envEvento} batch (SOAP 1.2, mutual TLS, the timeout of
 * sefaz.ts' other calls) and returns {@link parseEventAnswer}'s reading of the answer. It lives
 * here rather than in sefaz.ts because this module already imports sefaz.ts (cStatSchema,
 * nProtSchema at load time): the reverse import would be a cycle. Anything that is not an answer
 * (timeout, refused connection, HTTP 5xx, no retEnvEvento) is a {@link SefazUnavailable}.
 */
export async function recepcaoEvento(url: string, envEventoXml: string, options: SefazCallOptions): Promise<EventBatchAnswer> {
  return parseEventAnswer(await soapCall(url, RECEPCAO_EVENTO_WSDL, 'nfeRecepcaoEvento', envEventoXml, options));
}
