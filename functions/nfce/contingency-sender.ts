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
 * Idempotent: every write is a state change conditioned on the state read; SEFAZ answers a
 * repeated authorization 204 and a repeated event 573, both read as done.
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
  /** Documents not authorized (pending or rejected) within `alarmWithinMs` of their deadline, or past it. */
  nearDeadline: number;
  /** Seconds to the nearest deadline of a document not authorized (negative: passed); absent when none. */
  nearestDeadlineSeconds?: number;
}

/** SEFAZ answers that mean "not now" (see issuer.ts): the transmission is tried again later. */
const NOT_NOW = new Set(['103', '105', '108', '109', '656']);
const AUTHORIZED = new Set(['100', '150']);
const NOT_FOUND = '217';
const CANCELLED = '101';
const EVENT_DUPLICATE = '573';
/** Event 110112 is accepted within 168 h of the cancelled NFC-e's authorization (spec §4). */
const SUBSTITUTION_WINDOW_MS = 168 * 60 * 60 * 1000;
const SUBSTITUTION_XJUST = 'Venda registrada na NFC-e emitida em contingencia offline, que substitui esta';

/** One run over the pending and settling documents; `batch` of each at most. */
export async function sendContingency(deps: SenderDeps, batch = 100): Promise<SenderOutcome> {
  const outcome: SenderOutcome = { authorized: 0, rejected: 0, waiting: 0, settled: 0, nearDeadline: 0 };
  const pending = await deps.queue.inState('PENDING', batch);
  let sefazAway = false;
  for (const entry of pending.items) {
    const due = !entry.contingency.nextAttemptAt || Date.parse(entry.contingency.nextAttemptAt) <= deps.now().getTime();
    if (sefazAway || !due || !deps.hasTime()) {
      outcome.waiting++;
      continue;
    }
    const result = await transmit(entry, deps);
    if (result === 'authorized') outcome.authorized++;
    else if (result === 'rejected') outcome.rejected++;
    else {
      outcome.waiting++;
      sefazAway = result === 'away';
    }
  }
  if (!sefazAway) {
    const settling = await deps.queue.inState('SETTLING', batch);
    for (const entry of settling.items) {
      if (!deps.hasTime()) break;
      if (await settle(entry, deps)) outcome.settled++;
    }
  }
  const unsent = [...(await deps.queue.inState('PENDING', batch)).items, ...(await deps.queue.inState('REJECTED', batch)).items];
  for (const entry of unsent) {
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
    if (answer.protocol?.cStat === '204') {
      // Authorized by an earlier run whose answer was lost: SEFAZ keeps its protocol.
      const held = await deps.consultProtocol(sefazServiceUrl(emitter, 'consultaProtocolo'), entry.chave, emitter.tpAmb, tls);
      if (held.protocol && AUTHORIZED.has(held.protocol.cStat)) answer = held;
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
  const nextAttemptAt = saoPauloIso(new Date(deps.now().getTime() + retryDelayMs(attempts)));
  await deps.queue.save(
    { ...entry, contingency: { ...entry.contingency, attempts, nextAttemptAt, lastError: reason } },
    'PENDING',
  );
}

/** Settles the online attempt of an authorized contingency NFC-e; true when it is settled now. */
async function settle(entry: ContingencyInvoice, deps: SenderDeps): Promise<boolean> {
  const { online } = entry.contingency;
  if (online.problem) return false; // an operator's
  const now = deps.now();
  if (online.sent && now.getTime() < Date.parse(online.dhEmi) + deps.onlineFinalAfterMs) return false;
  const setup = await fiscalSetup(entry, deps);
  if (!setup) return false;
  const { emitter } = setup;
  const tls = clientTls(setup);
  const ctx = { chave: entry.chave, paymentId: entry.paymentId, online: online.chave };
  const settled = (change: Partial<OnlineAttempt>, state: ContingencyState = 'SENT') =>
    deps.queue.save(
      {
        ...entry,
        contingencyState: state,
        contingency: { ...entry.contingency, online: { ...online, ...change, settledAt: saoPauloIso(now) } },
      },
      'SETTLING',
    );
  const problem = async (text: string) => {
    deps.log.warn('the online attempt of a contingency NFC-e needs an operator', { ...ctx, problem: text });
    await settled({ problem: text }, 'SETTLING');
    return false;
  };
  try {
    const held = await deps.consultProtocol(sefazServiceUrl(emitter, 'consultaProtocolo'), online.chave, emitter.tpAmb, tls);
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
    if (held.cStat === CANCELLED) {
      await settled({ settlement: 'CANCELLED' });
      return true;
    }
    const protocol = held.protocol;
    if (!protocol || !AUTHORIZED.has(protocol.cStat) || !protocol.nProt) {
      return problem(`SEFAZ answered the online key's query ${held.cStat} ${held.xMotivo}`);
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
      const eventKey = `${documentFolder(emitter.cnpj, online.dhEmi, online.chave)}/procEventoNFe-110112-01.xml`;
      await deps.documents.put(eventKey, procEventoNFe(event.xml, registered.xml), 'application/xml');
      await settled({ settlement: 'SUBSTITUTED', eventKey });
      deps.log.info('online attempt was authorized; cancelled by substitution (110112)', ctx);
      return true;
    }
    if (registered?.cStat === EVENT_DUPLICATE) {
      await settled({ settlement: 'CANCELLED' });
      return true;
    }
    return problem(
      registered
        ? `SEFAZ refused the cancellation by substitution: ${registered.cStat} ${registered.xMotivo}`
        : `SEFAZ refused the event batch: ${answer.cStat} ${answer.xMotivo}`,
    );
  } catch (error) {
    if (!(error instanceof SefazUnavailable)) throw error;
    deps.log.warn('SEFAZ unavailable while settling an online attempt; trying again later', { ...ctx, reason: error.message });
    return false;
  }
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
