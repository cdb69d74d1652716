import { saoPauloIso } from '../shared/time.ts';
import { clientTls, FiscalSetupProblem, type FiscalConfig, type FiscalSetup } from './config.ts';
import { retryDelayMs, type ContingencyInvoice, type ContingencyState, type OnlineAttempt } from './contingency.ts';
import { envEvento, procEventoNFe, substitutionEvent, type EventBatchAnswer } from './events.ts';
import { sefazServiceUrl } from './fiscal.ts';
import type { ContingencyQueue } from './invoices.ts';
import { documentFolder, type DocumentStore } from './issuer.ts';
import type { NumberSource } from './numbering.ts';
import { renderReceipt } from './receipt.ts';
import { SefazUnavailable, type AuthorizationAnswer, type ClientTls } from './sefaz.ts';
import { enviNFe, nfeProc } from './xml.ts';

/**
 * The contingency sender (`nfceContingencySender`, scheduled): transmits every pending offline-
 * contingency NFC-e, oldest first, and settles the online attempt each one stands in for.
 *
 * Transmission: authorized (100 / 150, or 204 and the key's protocol) → the nfeProc stored, the
 * receipt rewritten with the protocol, SETTLING; refused → REJECTED with SEFAZ's code and message
 * (the number recorded for inutilização), for an operator; no answer → tried again later (1, 2,
 * 4 … 30 minutes), and the run sends nothing more (SEFAZ is still away).
 *
 * Settlement (spec §4, issue "offline contingency" 2): the online key is queried. Authorized → it
 * is cancelled by substitution (event 110112, `chNFeRef` = the contingency key, within 168 h);
 * already cancelled (101, or 573 for our own earlier event) → settled; unknown to SEFAZ (217) →
 * its number recorded for inutilização with its key — but only once no late answer can come (a
 * send that may have reached SEFAZ is final `onlineFinalAfterMs` after its dhEmi).
 * Anything else is left for an operator (`online.problem`).
 *
 * A contingency NFC-e SEFAZ refused (REJECTED) has its online attempt settled too: unknown → a
 * gap; authorized → it stands as the sale's NFC-e (`AUTHORIZED`, nothing cancelled), for an operator.
 *
 * Idempotent and safe to run twice at once: each record is claimed before any SEFAZ call (a claim
 * older than `claimStaleMs` is from a run that died), every write is conditioned on the state read,
 * and SEFAZ answers a repeated authorization 204 and a repeated event 573, both read back from the
 * key's consultation. One record failing is logged and retried later; the run goes on.
 */

export interface SenderDeps {
  queue: ContingencyQueue;
  fiscal: Pick<FiscalConfig, 'load'>;
  documents: DocumentStore & { get(key: string): Promise<string> };
  numbering: Pick<NumberSource, 'recordGap'>;
  authorize: (url: string, enviNFeXml: string, tls: ClientTls) => Promise<AuthorizationAnswer>;
  consultProtocol: (url: string, chave: string, tpAmb: 1 | 2, tls: ClientTls) => Promise<AuthorizationAnswer>;
  sendEvents: (url: string, envEventoXml: string, tls: ClientTls) => Promise<EventBatchAnswer>;
  now: () => Date;
  /** False once no new document should be started (the Lambda's time is running out). */
  hasTime: () => boolean;
  /** The alarm's window: documents not authorized whose deadline is this close (or past) are counted. */
  alarmWithinMs: number;
  /** When "unknown to SEFAZ" is final for an online send, after its dhEmi (contingency.ts' ONLINE_FINAL_AFTER_MS by default). */
  onlineFinalAfterMs: number;
  /** A claim older than this is from a run that died (longer than one record's SEFAZ calls). */
  claimStaleMs: number;
  verProc: string;
  log: { info(message: string, extra?: object): void; warn(message: string, extra?: object): void };
}

export interface SenderOutcome {
  authorized: number;
  rejected: number;
  /** Transmissions SEFAZ did not answer, or not yet due. */
  waiting: number;
  /** Online attempts settled this run. */
  settled: number;
  /** Documents not yet transmitted within `alarmWithinMs` of their deadline, or past it. */
  nearDeadline: number;
  /** Seconds to the nearest deadline of a document not yet transmitted (negative: passed); absent when none. */
  nearestDeadlineSeconds?: number;
}

/** SEFAZ answers that mean "not now" (see issuer.ts): the transmission is tried again later. */
const NOT_NOW = new Set(['103', '105', '108', '109', '656']);
const AUTHORIZED = new Set(['100', '150']);
const NOT_FOUND = '217';
const CANCELLED = '101';
const DUPLICATE = '204';
const EVENT_DUPLICATE = '573';
/** Event 110112 is accepted within 168 h of the cancelled NFC-e's authorization (spec §4). */
const SUBSTITUTION_WINDOW_MS = 168 * 60 * 60 * 1000;
const SUBSTITUTION_XJUST = 'Venda registrada na NFC-e emitida em contingencia offline, que substitui esta';

/** One run over the pending and settling documents, read `batch` at a time. */
export async function sendContingency(deps: SenderDeps, batch = 100): Promise<SenderOutcome> {
  const outcome: SenderOutcome = { authorized: 0, rejected: 0, waiting: 0, settled: 0, nearDeadline: 0 };
  let sefazAway = false;
  for await (const entry of everyRecord('PENDING', batch, deps)) {
    const due = !entry.contingency.nextAttemptAt || Date.parse(entry.contingency.nextAttemptAt) <= deps.now().getTime();
    if (sefazAway || !due || !deps.hasTime() || !(await claim(entry, deps))) {
      outcome.waiting++;
      continue;
    }
    const result = await guarded(entry, 'transmitting', deps, () => transmit(entry, deps), 'later');
    if (result === 'authorized') outcome.authorized++;
    else if (result === 'rejected') outcome.rejected++;
    else {
      outcome.waiting++;
      sefazAway = result === 'away';
    }
  }
  if (!sefazAway) {
    // The online attempts of authorized documents, and of refused ones not yet looked at: every
    // page, so the records left for an operator (or settled already) never hide newer ones.
    for (const state of ['SETTLING', 'REJECTED'] as const) {
      for await (const entry of everyRecord(state, batch, deps)) {
        if (!deps.hasTime()) break;
        const { online } = entry.contingency;
        if (online.settlement || online.problem || !onlineFinal(entry, deps) || !(await claim(entry, deps))) continue;
        if (await guarded(entry, 'settling', deps, () => settle(entry, deps), false)) outcome.settled++;
      }
    }
  }
  // The alarm's count: documents not yet transmitted (a refused one was transmitted: the listing flags it).
  for await (const entry of everyRecord('PENDING', batch, deps, { evenOutOfTime: true })) {
    const left = Date.parse(entry.contingency.deadline) - deps.now().getTime();
    if (left <= deps.alarmWithinMs) outcome.nearDeadline++;
    const seconds = Math.floor(left / 1000);
    if (outcome.nearestDeadlineSeconds === undefined || seconds < outcome.nearestDeadlineSeconds)
      outcome.nearestDeadlineSeconds = seconds;
  }
  return outcome;
}

type Transmission = 'authorized' | 'rejected' | 'away' | 'later';

async function transmit(entry: ContingencyInvoice, deps: SenderDeps): Promise<Transmission> {
  const ctx = { chave: entry.chave, paymentId: entry.paymentId };
  const setup = await fiscalSetup(entry, deps);
  if (!setup) {
    await retryLater(entry, 'the fiscal setup cannot be read (see the log)', deps);
    return 'later';
  }
  const { emitter } = setup;
  const tls = clientTls(setup);
  const signed = (await deps.documents.get(entry.signedKey)).replace(/^<\?xml[^>]*\?>/, '');
  let answer: AuthorizationAnswer;
  try {
    answer = await deps.authorize(emitter.urls.autorizacao, enviNFe(String(entry.contingency.nNF), signed), tls);
    if (answer.protocol?.cStat === DUPLICATE) {
      // Authorized by an earlier run whose answer was lost: SEFAZ keeps its protocol.
      const held = await deps.consultProtocol(sefazServiceUrl(emitter, 'consultaProtocolo'), entry.chave, emitter.tpAmb, tls);
      if (!held.protocol || !AUTHORIZED.has(held.protocol.cStat)) {
        // Never a rejection: the key is at SEFAZ. Its protocol is read on a later run.
        await retryLater(entry, `SEFAZ answered 204 and its query ${held.cStat} ${held.xMotivo}`, deps);
        return 'away';
      }
      answer = held;
    }
  } catch (error) {
    if (!(error instanceof SefazUnavailable)) throw error;
    deps.log.warn('SEFAZ unavailable for a contingency NFC-e; trying again later', { ...ctx, reason: error.message });
    await retryLater(entry, error.message, deps);
    return 'away';
  }
  if (!answer.protocol && NOT_NOW.has(answer.cStat)) {
    await retryLater(entry, `SEFAZ answered ${answer.cStat} ${answer.xMotivo}`, deps);
    return 'away';
  }
  const protocol = answer.protocol;
  if (protocol && AUTHORIZED.has(protocol.cStat) && protocol.nProt) {
    const proc = nfeProc(signed, protocol.xml);
    const { receiptKey, receiptColumns } = entry.contingency;
    await Promise.all([
      deps.documents.put(entry.nfeProcKey, proc, 'application/xml'),
      // The POS's stored receipt now prints the protocol (a poll or reprint shows it).
      receiptKey
        ? deps.documents.put(receiptKey, renderReceipt(proc, { columns: receiptColumns ?? 32 }), 'text/plain')
        : undefined,
    ]);
    const { nextAttemptAt: _next, lastError: _error, ...detail } = entry.contingency;
    await deps.queue.save(
      {
        ...entry,
        contingencyState: 'SETTLING',
        nProt: protocol.nProt,
        contingency: { ...detail, authorizedAt: protocol.dhRecbto },
      },
      'PENDING',
    );
    deps.log.info('contingency NFC-e authorized', { ...ctx, nProt: protocol.nProt });
    return 'authorized';
  }
  const rejection = protocol
    ? { cStat: protocol.cStat, xMotivo: protocol.xMotivo }
    : { cStat: answer.cStat, xMotivo: answer.xMotivo };
  const { contingency } = entry;
  await deps.numbering.recordGap(
    contingency.cnpj,
    contingency.serie,
    contingency.nNF,
    entry.paymentId,
    rejection.cStat,
    entry.chave,
  );
  await deps.queue.save({ ...entry, contingencyState: 'REJECTED', contingency: { ...contingency, rejection } }, 'PENDING');
  deps.log.warn('SEFAZ refused a contingency NFC-e; an operator must act', { ...ctx, ...rejection });
  return 'rejected';
}

async function retryLater(entry: ContingencyInvoice, reason: string, deps: SenderDeps): Promise<void> {
  const attempts = entry.contingency.attempts + 1;
  const nextAttemptAt = `${saoPauloIso(new Date(deps.now().getTime() + retryDelayMs(attempts))).slice(0, 19)}-03:00`;
  await deps.queue.save(
    { ...entry, contingency: { ...entry.contingency, attempts, nextAttemptAt, lastError: reason } },
    'PENDING',
  );
}

/** Every record in `state`, page by page (`batch` a page), oldest first; no further page once time runs out, unless `evenOutOfTime`. */
async function* everyRecord(
  state: ContingencyState,
  batch: number,
  deps: SenderDeps,
  options: { evenOutOfTime?: boolean } = {},
): AsyncGenerator<ContingencyInvoice> {
  let after: Record<string, unknown> | undefined;
  do {
    const page = await deps.queue.inState(state, batch, false, after);
    yield* page.items;
    after = page.next;
  } while (after && (options.evenOutOfTime || deps.hasTime()));
}

/** Claims the record for this run: false when another run holds a fresh claim on it. */
function claim(entry: ContingencyInvoice, deps: SenderDeps): Promise<boolean> {
  const now = deps.now().getTime();
  return deps.queue.claim(entry.chave, entry.contingencyState, now, now - deps.claimStaleMs);
}

/**
 * Runs one record's work; an error that is not SEFAZ's (a document missing from S3, a bug) is
 * logged, kept as its last error and retried later, so one record never stops the run.
 */
async function guarded<T>(
  entry: ContingencyInvoice,
  what: string,
  deps: SenderDeps,
  work: () => Promise<T>,
  failed: T,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    deps.log.warn(`contingency NFC-e failed while ${what}; retried later`, {
      chave: entry.chave,
      reason: (error as Error).message,
    });
    if (entry.contingencyState === 'PENDING') await retryLater(entry, (error as Error).message, deps);
    else await deps.queue.release(entry.chave);
    return failed;
  }
}

/** Whether no late answer can come for the online send any more (one never sent is final at once). */
function onlineFinal(entry: ContingencyInvoice, deps: SenderDeps): boolean {
  const { online } = entry.contingency;
  return !online.sent || deps.now().getTime() >= Date.parse(online.dhEmi) + deps.onlineFinalAfterMs;
}

/**
 * Settles the online attempt of a contingency NFC-e, authorized (SETTLING) or refused (REJECTED);
 * true when it is settled now. SEFAZ away or "not now" leaves it for the next run.
 */
async function settle(entry: ContingencyInvoice, deps: SenderDeps): Promise<boolean> {
  const { online } = entry.contingency;
  const from = entry.contingencyState;
  const now = deps.now();
  const setup = await fiscalSetup(entry, deps);
  if (!setup) {
    await deps.queue.release(entry.chave);
    return false;
  }
  const { emitter } = setup;
  const tls = clientTls(setup);
  const ctx = { chave: entry.chave, paymentId: entry.paymentId, online: online.chave };
  const settled = (change: Partial<OnlineAttempt>, state: ContingencyState = from === 'SETTLING' ? 'SENT' : from) =>
    deps.queue.save(
      {
        ...entry,
        contingencyState: state,
        contingency: { ...entry.contingency, online: { ...online, ...change, settledAt: saoPauloIso(now) } },
      },
      from,
    );
  const later = async (why: string) => {
    deps.log.warn('SEFAZ cannot settle an online attempt now; trying again later', { ...ctx, why });
    await deps.queue.release(entry.chave);
    return false;
  };
  const problem = async (text: string) => {
    deps.log.warn('the online attempt of a contingency NFC-e needs an operator', { ...ctx, problem: text });
    const { settledAt: _settledAt, ...kept } = online;
    await deps.queue.save({ ...entry, contingency: { ...entry.contingency, online: { ...kept, problem: text } } }, from);
    return false;
  };
  /** Our own 110112 as SEFAZ holds it (an earlier run's answer was lost): SUBSTITUTED with it, else CANCELLED by something else. */
  const cancelledAlready = async (held: AuthorizationAnswer) => {
    const substitution = held.procEventos?.find(
      (xml) => xml.includes('<tpEvento>110112</tpEvento>') && xml.includes(entry.chave),
    );
    if (!substitution) return settled({ settlement: 'CANCELLED' }).then(() => true);
    const eventKey = substitutionKey(emitter.cnpj, online);
    await deps.documents.put(eventKey, `<?xml version="1.0" encoding="UTF-8"?>${substitution}`, 'application/xml');
    return settled({ settlement: 'SUBSTITUTED', eventKey }).then(() => true);
  };
  const consult = () => deps.consultProtocol(sefazServiceUrl(emitter, 'consultaProtocolo'), online.chave, emitter.tpAmb, tls);
  try {
    const held = await consult();
    if (NOT_NOW.has(held.cStat)) return later(`${held.cStat} ${held.xMotivo}`);
    if (held.cStat === NOT_FOUND) {
      await deps.numbering.recordGap(
        entry.contingency.cnpj,
        entry.contingency.serie,
        online.nNF,
        entry.paymentId,
        'online attempt replaced by contingency',
        online.chave,
      );
      await settled({ settlement: 'GAP' });
      deps.log.info('online attempt unknown to SEFAZ; its number goes to inutilização', ctx);
      return true;
    }
    if (held.cStat === CANCELLED) return cancelledAlready(held);
    const protocol = held.protocol;
    if (!protocol || !AUTHORIZED.has(protocol.cStat) || !protocol.nProt) {
      return problem(`SEFAZ answered the online key's query ${held.cStat} ${held.xMotivo}`);
    }
    if (from === 'REJECTED') {
      // SEFAZ refused the contingency NFC-e but holds the online one: that one is the sale's.
      await settled({ settlement: 'AUTHORIZED' });
      deps.log.warn('contingency NFC-e refused, its online attempt authorized: the online NFC-e stands for the sale', ctx);
      return true;
    }
    if (now.getTime() > Date.parse(protocol.dhRecbto) + SUBSTITUTION_WINDOW_MS) {
      return problem(
        `the online NFC-e was authorized (${protocol.nProt}) and the 168 h to cancel it by substitution have passed`,
      );
    }
    const event = substitutionEvent(
      {
        chave: online.chave,
        nProt: protocol.nProt,
        xJust: SUBSTITUTION_XJUST,
        cnpj: emitter.cnpj,
        tpAmb: emitter.tpAmb,
        dhEvento: now,
        chNFeRef: entry.chave,
        verAplic: deps.verProc,
      },
      setup.certificate,
    );
    const answer = await deps.sendEvents(
      sefazServiceUrl(emitter, 'recepcaoEvento'),
      envEvento(String(online.nNF), [event.xml]),
      tls,
    );
    const registered = answer.events[0];
    if (registered?.registered) {
      const eventKey = substitutionKey(emitter.cnpj, online);
      await deps.documents.put(eventKey, procEventoNFe(event.xml, registered.xml), 'application/xml');
      await settled({ settlement: 'SUBSTITUTED', eventKey });
      deps.log.info('online attempt was authorized; cancelled by substitution (110112)', ctx);
      return true;
    }
    if (registered?.cStat === EVENT_DUPLICATE) return cancelledAlready(await consult());
    if (!registered && NOT_NOW.has(answer.cStat)) return later(`${answer.cStat} ${answer.xMotivo}`);
    return problem(
      registered
        ? `SEFAZ refused the cancellation by substitution: ${registered.cStat} ${registered.xMotivo}`
        : `SEFAZ refused the event batch: ${answer.cStat} ${answer.xMotivo}`,
    );
  } catch (error) {
    if (!(error instanceof SefazUnavailable)) throw error;
    return later(error.message);
  }
}

/** Where the online NFC-e's 110112 procEventoNFe goes: beside its own documents. */
function substitutionKey(cnpj: string, online: OnlineAttempt): string {
  return `${documentFolder(cnpj, online.dhEmi, online.chave)}/procEventoNFe-110112-01.xml`;
}

async function fiscalSetup(entry: ContingencyInvoice, deps: SenderDeps): Promise<FiscalSetup | undefined> {
  try {
    return await deps.fiscal.load(entry.integrationHubServiceId);
  } catch (error) {
    if (!(error instanceof FiscalSetupProblem)) throw error;
    deps.log.warn('contingency NFC-e waits: fiscal setup unusable', { chave: entry.chave, reason: error.message });
    return undefined;
  }
}
