import type { Element } from '@xmldom/xmldom';
import { services } from './envelope.ts';
import { statuses, type Status } from './messages.ts';
import type { Authorization, RegisteredEvent } from './registry.ts';
import { brasiliaTime, soapResult } from './responses.ts';
import { schemaErrors } from './schema.ts';
import type { Answer, Received, Sefaz } from './services.ts';
import { checkSignedElement } from './signature.ts';
import { NFE_NS, child, childElements, descendants, escapeXml, serialize, text } from './xml.ts';

/**
 * NFeRecepcaoEvento4 for the NFC-e: cancellation (110111) and cancellation by substitution
 * (110112), layout of the PL_010d v1.02 event schemas (`../shared/nfe-schemas/PL_010d_v1.02_events/`),
 * rules of `../shared/specs/nfce-2026.md` §4–5; codes and texts of MOC 7.0 and of the events' rule
 * table (§2.7 "Validação das Regras de Negócio": P12-48, P31-46, 2P12-18, 5P31-10/14 for 110112),
 * read in a text conversion published in a public repository.
 *
 * The batch answers `retEnvEvento` 1.00: 128 with one `retEvento` per event, in order, or a batch
 * rejection without any (108/109 paused or stopped, 214 too large, 215 schema or not an envEvento,
 * 404 namespace prefix). Each event's checks, first failure answers:
 *
 * - 252 another environment; 491 a tpEvento other than 110111/110112; 572 an Id that is not
 *   "ID" + tpEvento + chNFe + nSeqEvento (2 digits);
 * - 493 detEvento against its own schema (e110111 / e110112 when the event schemas are configured;
 *   without them only the fields the rules below read);
 * - the NFe's signature checks over `infEvento` (298, 290, 297, 291, 292, 213: signature.ts), the
 *   certificate's CNPJ base against the author's;
 * - 574 an author that is not the key's emitter (positions 7–20 of the key);
 * - 110112, on the keys alone: 920 a cancelled key whose tpEmis is not 1 or a chNFeRef whose tpEmis
 *   is not 9 (so chNFeRef = chNFe fails here), 911 a chNFeRef of another emitter;
 * - 217 a key this SEFAZ never authorized;
 * - 573 the same key, tpEvento and nSeqEvento already registered (a resend: "Duplicidade de Evento");
 * - 580 any other event on a key already cancelled ("O evento exige uma NF-e autorizada", the MOC's
 *   code for an event on an NF-e that is no longer authorized);
 * - 222 an nProt that is not the key's authorization protocol;
 * - 501 past the deadline on the simulator's clock: 30 minutes after the authorization's dhRecbto
 *   for 110111, 168 h for 110112;
 * - 110112: 912 a chNFeRef this SEFAZ never authorized, 913 one it holds cancelled;
 *
 * then 135 "Evento registrado e vinculado a NF-e" with a 15-digit nProt of its own and dhRegEvento;
 * the registry records the event, and the key is cancelled (a consultation answers 101). Like a
 * document, the next event that reaches the checks takes control.rejectNext's answer instead.
 */

/** The PL_010d schemas: the generic batch (TEnvEvento, detEvento open) and each type's detEvento. */
export const eventSchemas = {
  batch: 'envEvento_v1.00.xsd',
  '110111': 'e110111_v1.00.xsd',
  '110112': 'e110112_v1.00.xsd',
} as const;

type TpEvento = '110111' | '110112';
const isSupported = (tpEvento: string): tpEvento is TpEvento => tpEvento === '110111' || tpEvento === '110112';

/** How long after the authorization's dhRecbto each event is accepted (spec §4–5). */
const DEADLINE_MS: Record<TpEvento, number> = { '110111': 30 * 60_000, '110112': 168 * 3_600_000 };
/** retEvento/xEvento (TString, 5–60 characters). */
const X_EVENTO: Record<TpEvento, string> = {
  '110111': 'Cancelamento registrado',
  '110112': 'Cancelamento por substituicao registrado',
};

const KEY = /^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/;

/** One `evento` as far as the generic schema guarantees it (checked again for when no schemas are configured). */
interface ReceivedEvent {
  evento: Element;
  id: string;
  tpAmb: string;
  /** CNPJ of the author; undefined for a CPF author (never an NFC-e's emitter). */
  cnpj: string | undefined;
  chNFe: string;
  tpEvento: string;
  nSeqEvento: number;
  detEvento: Element;
}

function readEvent(evento: Element): ReceivedEvent | undefined {
  const infEvento = child(evento, 'infEvento');
  const detEvento = child(infEvento, 'detEvento');
  const field = (name: string) => text(infEvento, name);
  const [tpAmb, cnpj, cpf, chNFe, tpEvento, nSeqEvento] = ['tpAmb', 'CNPJ', 'CPF', 'chNFe', 'tpEvento', 'nSeqEvento'].map(field);
  const wellFormed =
    evento.getAttribute('versao') === '1.00' &&
    infEvento?.hasAttribute('Id') &&
    (tpAmb === '1' || tpAmb === '2') &&
    (cnpj !== undefined) !== (cpf !== undefined) &&
    KEY.test(chNFe ?? '') &&
    /^[0-9]{6}$/.test(tpEvento ?? '') &&
    /^[1-9][0-9]?$/.test(nSeqEvento ?? '') &&
    detEvento !== undefined;
  if (!wellFormed) return undefined;
  return {
    evento,
    id: infEvento!.getAttribute('Id')!,
    tpAmb: tpAmb!,
    cnpj,
    chNFe: chNFe!,
    tpEvento: tpEvento!,
    nSeqEvento: Number(nSeqEvento),
    detEvento: detEvento!,
  };
}

const element = (name: string, value: string | undefined): string =>
  value === undefined ? '' : `<${name}>${escapeXml(value)}</${name}>`;

/** retEvento 1.00 (TRetEvento), its namespace declared so that it stands alone in a procEventoNFe. */
function retEvento(
  sefaz: Sefaz,
  dhRegEvento: string,
  status: Status,
  event?: Pick<ReceivedEvent, 'chNFe' | 'tpEvento' | 'nSeqEvento'>,
  registered?: { xEvento: string; nProt: string },
): string {
  return (
    `<retEvento versao="1.00" xmlns="${NFE_NS}"><infEvento>${element('tpAmb', sefaz.tpAmb)}` +
    `${element('verAplic', sefaz.verAplic)}${element('cOrgao', sefaz.cUF)}${element('cStat', status.cStat)}` +
    `${element('xMotivo', status.xMotivo)}${element('chNFe', event?.chNFe)}${element('tpEvento', event?.tpEvento)}` +
    `${element('xEvento', registered?.xEvento)}${element('nSeqEvento', event && String(event.nSeqEvento))}` +
    `${element('dhRegEvento', dhRegEvento)}${element('nProt', registered?.nProt)}</infEvento></retEvento>`
  );
}

/** retEnvEvento 1.00 (TRetEnvEvento): the batch's status, then its events' answers. */
function retEnvEvento(sefaz: Sefaz, idLote: string, status: Status, retEventos: string[]): string {
  return (
    `<retEnvEvento versao="1.00" xmlns="${NFE_NS}">${element('idLote', idLote)}${element('tpAmb', sefaz.tpAmb)}` +
    `${element('verAplic', sefaz.verAplic)}${element('cOrgao', sefaz.cUF)}${element('cStat', status.cStat)}` +
    `${element('xMotivo', status.xMotivo)}${retEventos.join('')}</retEnvEvento>`
  );
}

/**
 * A consultation's answer (retConsSitNFe, as responses.ts builds it) with these events appended
 * as `procEventoNFe` 1.00, where TRetConsSitNFe puts them (after protNFe).
 */
export function withProcEventos(retConsSitNFeXml: string, events: RegisteredEvent[]): string {
  const procs = events.map((e) => `<procEventoNFe versao="1.00">${e.eventoXml}${e.retEventoXml}</procEventoNFe>`);
  return retConsSitNFeXml.replace(/<\/retConsSitNFe>$/, `${procs.join('')}</retConsSitNFe>`);
}

/** NFeRecepcaoEvento4: a batch of 1–20 events, each checked and answered on its own, in order. */
export async function receiveEvents(sefaz: Sefaz, received: Received): Promise<Answer> {
  const now = sefaz.now();
  const dhRegEvento = brasiliaTime(now);
  const batch = (status: Status, idLote = '0', retEventos: string[] = []) => ({
    httpStatus: 200,
    body: soapResult(services.event, retEnvEvento(sefaz, idLote, status, retEventos)),
  });

  if (sefaz.serviceStatus !== 'running') return batch(sefaz.serviceStatus === 'paused' ? statuses.paused : statuses.stopped);
  if (received.kind === 'tooLarge') return batch(statuses.tooLarge);
  const envEvento = received.payload;
  if (!envEvento) return batch(statuses.messageSchema);
  const idLote = text(envEvento, 'idLote');
  const echoedLote = /^[0-9]{1,15}$/.test(idLote ?? '') ? idLote : undefined;
  if (sefaz.eventSchemasDir && schemaErrors(sefaz.eventSchemasDir, eventSchemas.batch, serialize(envEvento))) {
    return batch(statuses.messageSchema, echoedLote);
  }
  if ([...descendants(envEvento)].some((e) => e.prefix)) return batch(statuses.prefix, echoedLote);

  const eventos = childElements(envEvento, NFE_NS, 'evento');
  const events = eventos.map(readEvent);
  const wellFormed =
    envEvento.getAttribute('versao') === '1.00' &&
    echoedLote !== undefined &&
    eventos.length >= 1 &&
    eventos.length <= 20 &&
    events.every((e) => e !== undefined);
  if (!wellFormed) return batch(statuses.messageSchema, echoedLote);

  const retEventos = (events as ReceivedEvent[]).map((event) => {
    const rejection = sefaz.forcedRejections.shift() ?? checkEvent(sefaz, event, now);
    if (rejection) return retEvento(sefaz, dhRegEvento, rejection, event);
    // checkEvent passed: a supported type on an authorized key.
    const tpEvento = event.tpEvento as TpEvento;
    const registered = { xEvento: X_EVENTO[tpEvento], nProt: sefaz.registry.nextEventProtocol(dhRegEvento) };
    const xml = retEvento(sefaz, dhRegEvento, statuses.eventRegistered, event, registered);
    const chNFeRef = tpEvento === '110112' ? text(event.detEvento, 'chNFeRef') : undefined;
    sefaz.registry.registerEvent({
      chNFe: event.chNFe,
      tpEvento,
      nSeqEvento: event.nSeqEvento,
      nProt: registered.nProt,
      dhRegEvento,
      ...(chNFeRef !== undefined ? { chNFeRef } : {}),
      eventoXml: serialize(event.evento),
      retEventoXml: xml,
    });
    return xml;
  });
  return batch(statuses.eventLotProcessed, echoedLote, retEventos);
}

/** The checks of one event, in the order the module's comment lists them; undefined when it is to be registered. */
function checkEvent(sefaz: Sefaz, event: ReceivedEvent, now: Date): Status | undefined {
  const { chNFe, tpEvento, nSeqEvento, detEvento } = event;
  if (event.tpAmb !== sefaz.tpAmb) return statuses.wrongEnvironment;
  if (!isSupported(tpEvento)) return statuses.eventTypeUnsupported;
  if (event.id !== `ID${tpEvento}${chNFe}${String(nSeqEvento).padStart(2, '0')}`) return statuses.eventId;

  const nProt = text(detEvento, 'nProt');
  const chNFeRef = text(detEvento, 'chNFeRef');
  const specific = sefaz.eventSchemasDir
    ? !schemaErrors(sefaz.eventSchemasDir, eventSchemas[tpEvento], serialize(detEvento))
    : nProt !== undefined && text(detEvento, 'xJust') !== undefined && (tpEvento === '110111' || chNFeRef !== undefined);
  if (!specific) return statuses.eventSchema;

  const author = event.cnpj ?? '';
  const signature = checkSignedElement(event.evento, event.id, author, now);
  if (signature) return signature;
  if (author !== chNFe.slice(6, 20)) return statuses.eventAuthor;
  const keys = tpEvento === '110112' ? checkSubstitutionKeys(chNFe, chNFeRef!) : undefined;
  if (keys) return keys;

  const authorization = sefaz.registry.find(chNFe);
  if (!authorization) return statuses.notFound;
  if (sefaz.registry.findEvent(chNFe, tpEvento, nSeqEvento)) return statuses.eventDuplicate;
  if (sefaz.registry.cancellationOf(chNFe)) return statuses.eventNeedsAuthorized;
  if (nProt !== authorization.nProt) return statuses.protocolDiffers;
  if (late(authorization, tpEvento, now)) return statuses.cancellationLate;
  if (tpEvento === '110112') {
    if (!sefaz.registry.find(chNFeRef!)) return statuses.substituteNotFound;
    if (sefaz.registry.cancellationOf(chNFeRef!)) return statuses.substituteCancelled;
  }
  return undefined;
}

/**
 * 110112's rules on the keys (P12-48, P31-46): an online NFC-e (tpEmis 1, position 35 of the key)
 * replaced by an offline contingency one (tpEmis 9) of the same emitter (positions 7–20).
 */
function checkSubstitutionKeys(chNFe: string, chNFeRef: string): Status | undefined {
  if (chNFe[34] !== '1' || chNFeRef[34] !== '9') return statuses.substitutionEmissionType;
  if (chNFeRef.slice(6, 20) !== chNFe.slice(6, 20)) return statuses.substituteOtherEmitter;
  return undefined;
}

const late = (authorization: Authorization, tpEvento: TpEvento, now: Date): boolean =>
  now.getTime() - Date.parse(authorization.dhRecbto) > DEADLINE_MS[tpEvento];
