import { randomUUID } from 'node:crypto';
import { saoPauloIso } from '../shared/time.ts';
import { clientTls, type FiscalConfig } from './config.ts';
import { cancellationEvent, envEvento, InvalidEvent, procEventoNFe, type EventBatchAnswer } from './events.ts';
import { sefazServiceUrl } from './fiscal.ts';
import type { Invoice, InvoiceCancellation } from './invoices.ts';
import { SefazUnavailable, type AuthorizationAnswer, type ClientTls } from './sefaz.ts';

/**
 * Cancelling an authorized NFC-e: event 110111 (spec nfce-2026.md §5), signed per infEvento, sent
 * to NFeRecepcaoEvento4. Within 30 minutes of the authorization (`dhRecbto` of its protocol: a
 * contingency NFC-e authorized hours after the sale still has its 30 minutes; Ajuste SINIEF 07/18).
 * Registered (135 / 136) → the procEventoNFe stored beside the NFC-e and the invoice marked
 * cancelled, for good: the same request again answers the stored result, never a second event. A
 * claim on the invoice keeps two requests from sending at once; a repeated event SEFAZ already
 * holds (573, our earlier answer lost) is read back from the key's consultation.
 */

/** Ajuste SINIEF 07/18: NFC-e may be cancelled up to 30 minutes after its authorization. */
export const CANCELLATION_WINDOW_MS = 30 * 60_000;
/** A claim older than this is from a request that died: another may take over. */
const CLAIM_STALE_MS = 60_000;
const EVENT_DUPLICATE = '573';
const CANCELLED = '101';

export interface CancellationDeps {
  invoices: {
    get(chave: string): Promise<Invoice | undefined>;
    claimCancellation(chave: string, claim: string, nowMs: number, staleBeforeMs: number): Promise<boolean>;
    recordCancellation(chave: string, cancellation: InvoiceCancellation): Promise<void>;
    releaseCancellation(chave: string, claim: string): Promise<void>;
  };
  fiscal: Pick<FiscalConfig, 'load'>;
  documents: { get(key: string): Promise<string>; put(key: string, body: string, contentType: string): Promise<void> };
  sendEvents: (url: string, envEventoXml: string, tls: ClientTls) => Promise<EventBatchAnswer>;
  consultProtocol: (url: string, chave: string, tpAmb: 1 | 2, tls: ClientTls) => Promise<AuthorizationAnswer>;
  now: () => Date;
}

/** The cancelled NFC-e: the answer of `POST /invoices/{key}/cancellation`. */
export interface CancellationResult {
  invoiceKey: string;
  status: 'CANCELLED';
  /** The event's protocol. */
  protocol: string;
  /** When SEFAZ registered it (`dhRegEvento`). */
  cancelledAt: string;
  /** The procEventoNFe. */
  eventXML: string;
}

/**
 * Why a cancellation was not done; `kind` maps to the HTTP answer: notFound 404, invalid 400,
 * conflict 409 (for good: past the 30 minutes, a refused contingency NFC-e), notYet 409 (later:
 * SEFAZ has not authorized it yet, its online attempt is being settled, another request is
 * cancelling it), rejected 422, unavailable 503.
 */
export class CancellationRefused extends Error {
  constructor(
    readonly kind: 'notFound' | 'invalid' | 'conflict' | 'notYet' | 'rejected' | 'unavailable',
    message: string,
    /** SEFAZ's answer, for `rejected`. */
    readonly sefaz?: { cStat: string; xMotivo: string },
  ) {
    super(message);
    this.name = 'CancellationRefused';
  }
}

/**
 * Cancels `chave` for `integrationHubServiceId` with `justification` (15–255 characters once
 * mapped to schema text). Throws {@link CancellationRefused}: notFound (no such NFC-e for this
 * integration), invalid (the justification), conflict (not authorized yet, past the 30 minutes,
 * another request cancelling it now), rejected (SEFAZ's refusal, with its code), unavailable
 * (SEFAZ did not answer: nothing is recorded, the same request may be repeated).
 */
export async function cancelInvoice(
  request: { chave: string; integrationHubServiceId: string; justification: string },
  deps: CancellationDeps,
): Promise<CancellationResult> {
  const { chave } = request;
  const invoice = await deps.invoices.get(chave);
  if (!invoice || invoice.integrationHubServiceId !== request.integrationHubServiceId) {
    throw new CancellationRefused('notFound', `no NFC-e ${chave} for this integration`);
  }
  if (invoice.cancellation) return resultOf(chave, invoice.cancellation, deps);
  if (invoice.contingencyState === 'REJECTED') {
    throw new CancellationRefused(
      'conflict',
      `SEFAZ refused the contingency NFC-e ${chave}: it is not valid and has nothing to cancel`,
    );
  }
  if (!invoice.nProt) {
    throw new CancellationRefused(
      'notYet',
      `the NFC-e ${chave} was issued in offline contingency and SEFAZ has not authorized it yet; it can be cancelled within 30 minutes of its authorization`,
    );
  }
  if (invoice.contingencyState === 'SETTLING') {
    // Its online attempt may be authorized and is cancelled by substitution first (110112 names this key).
    throw new CancellationRefused(
      'notYet',
      `the online attempt of contingency NFC-e ${chave} is still being settled (minutes after the sale); repeat the request then`,
    );
  }
  const setup = await deps.fiscal.load(request.integrationHubServiceId);
  const tls = clientTls(setup);
  const consult = () =>
    deps.consultProtocol(sefazServiceUrl(setup.emitter, 'consultaProtocolo'), chave, setup.emitter.tpAmb, tls);
  const authorizedAt = invoice.authorizedAt ?? dhRecbtoOf(await deps.documents.get(invoice.nfeProcKey));
  const now = deps.now();
  const deadline = Date.parse(authorizedAt) + CANCELLATION_WINDOW_MS;
  if (now.getTime() > deadline) {
    // An earlier request may have been registered and its answer lost: SEFAZ's record says.
    const registered = await registeredAtSefaz(chave, consult).catch(() => undefined);
    if (registered) return record(chave, registered, deps, invoice.nfeProcKey);
    throw new CancellationRefused(
      'conflict',
      `the 30 minutes to cancel NFC-e ${chave} ended at ${saoPauloIso(new Date(deadline))} (authorized ${authorizedAt}); SEFAZ refuses it now`,
    );
  }
  let event;
  try {
    event = cancellationEvent(
      {
        chave,
        nProt: invoice.nProt,
        xJust: request.justification,
        cnpj: setup.emitter.cnpj,
        tpAmb: setup.emitter.tpAmb,
        dhEvento: now,
      },
      setup.certificate,
    );
  } catch (error) {
    if (error instanceof InvalidEvent) throw new CancellationRefused('invalid', error.message);
    throw error;
  }

  const claim = randomUUID();
  if (!(await deps.invoices.claimCancellation(chave, claim, now.getTime(), now.getTime() - CLAIM_STALE_MS))) {
    const current = await deps.invoices.get(chave);
    if (current?.cancellation) return resultOf(chave, current.cancellation, deps);
    throw new CancellationRefused(
      'notYet',
      `NFC-e ${chave} is being cancelled by another request; repeat this one for its result`,
    );
  }
  try {
    const answer = await deps.sendEvents(
      sefazServiceUrl(setup.emitter, 'recepcaoEvento'),
      envEvento(String(now.getTime() % 10 ** 15), [event.xml]),
      tls,
    );
    const registered = answer.events[0];
    if (registered?.registered && registered.nProt) {
      return await record(
        chave,
        {
          eventXML: procEventoNFe(event.xml, registered.xml),
          nProt: registered.nProt,
          dhRegEvento: registered.dhRegEvento,
          justification: request.justification,
        },
        deps,
        invoice.nfeProcKey,
      );
    }
    if (registered?.cStat === EVENT_DUPLICATE) {
      // Registered by an earlier request whose answer was lost: SEFAZ's copy is the record.
      const held = await registeredAtSefaz(chave, consult);
      if (held) return await record(chave, held, deps, invoice.nfeProcKey);
    }
    const refusal = registered ?? answer;
    if (NOT_NOW.has(refusal.cStat)) throw new SefazUnavailable(`SEFAZ answered ${refusal.cStat} ${refusal.xMotivo}`);
    throw new CancellationRefused('rejected', `SEFAZ refused the cancellation: ${refusal.cStat} ${refusal.xMotivo}`, {
      cStat: refusal.cStat,
      xMotivo: refusal.xMotivo,
    });
  } catch (error) {
    await deps.invoices.releaseCancellation(chave, claim);
    if (error instanceof SefazUnavailable) {
      throw new CancellationRefused(
        'unavailable',
        `SEFAZ did not answer the cancellation (${error.message}); repeat the request`,
      );
    }
    throw error;
  }
}

/** SEFAZ's answers that say "not now" (service paused, too many calls): the request may be repeated. */
const NOT_NOW = new Set(['108', '109', '656']);

/** The key's 110111 as SEFAZ holds it (NFeConsultaProtocolo4: 101 with its procEventoNFe), if it is cancelled so. */
async function registeredAtSefaz(chave: string, consult: () => Promise<AuthorizationAnswer>): Promise<Registered | undefined> {
  const held = await consult();
  const proc =
    held.cStat === CANCELLED ? held.procEventos?.find((xml) => xml.includes('<tpEvento>110111</tpEvento>')) : undefined;
  if (!proc) return undefined;
  const answerAt = proc.indexOf('<retEvento');
  return {
    eventXML: `<?xml version="1.0" encoding="UTF-8"?>${proc}`,
    nProt: between(proc, 'nProt', answerAt),
    dhRegEvento: between(proc, 'dhRegEvento', answerAt),
    // The justification SEFAZ holds, not this request's.
    justification: between(proc, 'xJust', 0),
  };
}

interface Registered {
  eventXML: string;
  nProt: string;
  dhRegEvento: string;
  justification: string;
}

/** Stores the registered event beside the NFC-e's documents (`nfeProcKey`'s folder) and marks the invoice cancelled, for good. */
async function record(
  chave: string,
  registered: Registered,
  deps: CancellationDeps,
  nfeProcKey: string,
): Promise<CancellationResult> {
  const cancellation: InvoiceCancellation = {
    nProt: registered.nProt,
    dhRegEvento: registered.dhRegEvento,
    eventKey: `${nfeProcKey.slice(0, nfeProcKey.lastIndexOf('/'))}/procEventoNFe-110111-01.xml`,
    justification: registered.justification,
  };
  await deps.documents.put(cancellation.eventKey, registered.eventXML, 'application/xml');
  await deps.invoices.recordCancellation(chave, cancellation);
  return resultFrom(chave, cancellation, registered.eventXML);
}

async function resultOf(chave: string, cancellation: InvoiceCancellation, deps: CancellationDeps): Promise<CancellationResult> {
  return resultFrom(chave, cancellation, await deps.documents.get(cancellation.eventKey));
}

function resultFrom(chave: string, cancellation: InvoiceCancellation, eventXML: string): CancellationResult {
  return {
    invoiceKey: chave,
    status: 'CANCELLED',
    protocol: cancellation.nProt,
    cancelledAt: cancellation.dhRegEvento,
    eventXML,
  };
}

/** The text of the first `<name>` after `from` in `xml`. */
function between(xml: string, name: string, from: number): string {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml.slice(Math.max(0, from)));
  if (!match) throw new Error(`no ${name} in SEFAZ's procEventoNFe`);
  return match[1]!;
}

/** dhRecbto of the nfeProc's protocol (records from before `authorizedAt` was kept). */
function dhRecbtoOf(nfeProc: string): string {
  return between(nfeProc, 'dhRecbto', nfeProc.indexOf('<protNFe'));
}
