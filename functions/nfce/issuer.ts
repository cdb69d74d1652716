import { randomUUID } from 'node:crypto';
import type { OrderStore, StoredOrder } from '../orders/order.ts';
import { paymentJobSchema, type PaymentJob } from '../payments/job.ts';
import { ISSUE_FAILED, ISSUE_INCOMPLETE, SEFAZ_UNAVAILABLE, type PaymentRecord, type PaymentResult } from '../payments/record.ts';
import type { PaymentStore } from '../payments/store.ts';
import { parseTaxDocument } from '../shared/documents.ts';
import { formatReais } from '../shared/money.ts';
import { saoPauloIso } from '../shared/time.ts';
import { clientTls, FiscalSetupProblem, type FiscalConfig, type FiscalSetup } from './config.ts';
import { contingencyDeadline, type ContingencyInvoice } from './contingency.ts';
import {
  buildDocument,
  documentKey,
  itemTotal,
  type Contingency,
  type Det,
  type NfceDocument,
  type Numbering,
} from './document.ts';
import { sefazServiceUrl } from './fiscal.ts';
import { randomCNF } from './key.ts';
import type { ContingencyNumbering, NumberSource } from './numbering.ts';
import { renderReceipt } from './receipt.ts';
import {
  authorizationMessageBytes,
  MAX_MESSAGE_BYTES,
  SefazUnavailable,
  type AuthorizationAnswer,
  type ClientTls,
} from './sefaz.ts';
import { enviNFe, nfeProc, signNfce, type SignedNfce } from './xml.ts';

/**
 * One payment's NFC-e, from the queued job to the result the POS gets with 200. Idempotent: a
 * finished payment is skipped, the number is reserved once per payment (a retry rebuilds the same
 * key), S3 writes overwrite the same keys.
 *
 * SEFAZ unreachable (refused, DNS, TLS, 5xx), paused (108 / 109, 656, 103 / 105) or silent past
 * `contingency.waitMs`: with offline contingency on (the integration's default) the sale gets a
 * tpEmis 9 NFC-e at once, with a new number (spec nfce-2026.md §4), answered as a success; the
 * online attempt is never sent again and the contingency sender settles it. With contingency off
 * SefazUnavailable is thrown so the job is retried, and on the last attempt the payment says so.
 * A normal-emission document older than `contingency.lateAfterMs` is never sent (SEFAZ refuses it
 * with 704): its key is queried first.
 */

export interface InvoiceIndex {
  record(invoice: {
    chave: string;
    integrationHubServiceId: string;
    paymentId: string;
    nfeProcKey: string;
    signedKey: string;
    nProt: string;
    /** SEFAZ's dhRecbto. */
    authorizedAt: string;
  }): Promise<void>;
  /** A contingency NFC-e for the sender, written once (a retry leaves what is there). */
  recordContingency(entry: ContingencyInvoice): Promise<void>;
  /** The NFC-e recorded under this key, if any. */
  get(chave: string): Promise<object | undefined>;
}

export interface DocumentStore {
  put(key: string, body: string, contentType: string): Promise<void>;
}

/**
 * Orders from Cielo's Order Manager (functions/cielo/): the tab of a payment whose order the POS
 * never pushed, and the NFC-e's outcome written back on the Cielo order the tab came from.
 */
export interface CieloOrderLink {
  /**
   * Looks for a Cielo order this payment pays and, when exactly one is free to invoice, stores it
   * as the payment's tab (source CIELO). Undefined when no Cielo order matches; a refusal (two
   * orders for one table, one already invoiced, items an NFC-e cannot carry) names its reason.
   */
  resolve(record: PaymentRecord): Promise<{ found: true } | { found: false; code: string; message: string } | undefined>;
  /** Records on the Cielo order `tab.cieloOrderId` the NFC-e's key (issued in contingency or authorized), or why the payment got none. */
  settle(tab: StoredOrder, paymentId: string, outcome: { key: string; contingency?: true } | { error: string }): Promise<void>;
}

export interface IssuerDeps {
  payments: PaymentStore;
  orders: Pick<OrderStore, 'lockFor' | 'markInvoiced' | 'get'>;
  cielo?: CieloOrderLink;
  fiscal: Pick<FiscalConfig, 'load'>;
  numbering: NumberSource;
  documents: DocumentStore;
  invoices: InvoiceIndex;
  /** NFeAutorizacao4; `waitMs`, when given, caps the call (the contingency wait). */
  authorize: (url: string, enviNFeXml: string, tls: ClientTls, waitMs?: number) => Promise<AuthorizationAnswer>;
  consultProtocol: (url: string, chave: string, tpAmb: 1 | 2, tls: ClientTls) => Promise<AuthorizationAnswer>;
  now: () => Date;
  /**
   * Offline contingency timing: how long the POS's sale waits for SEFAZ's authorization before
   * going to contingency (8 s by default), the age past which a normal-emission document is not
   * sent (4 minutes: SEFAZ refuses it at 5, 704), and the transmission deadline in business days.
   */
  contingency: { waitMs: number; lateAfterMs: number; deadlineBusinessDays: number };
  /** What this container saw of SEFAZ lately: while it is known away, sales go to contingency without waiting. */
  sefazAway: SefazAwayMemory;
  verProc: string;
  log: { info(message: string, extra?: object): void; warn(message: string, extra?: object): void };
}

export interface Delivery {
  /** 1 for the first delivery of the message. */
  receiveCount: number;
  maxReceiveCount: number;
}

export type IssueOutcome = 'authorized' | 'contingency' | 'failed' | 'finished-without-invoice' | 'skipped';

/** Lot processed (104) with the NFC-e authorized (100), or authorized late (150). */
const AUTHORIZED = new Set(['100', '150']);
/** Rejeição: Duplicidade de NF-e (the same key). */
const DUPLICATE = '204';
/**
 * Lot answers that say "not now", not "no": 103/105 (the lot went asynchronous or is still being
 * processed), 108/109 (service paused), 656 (consumo indevido: too many calls, wait). Retried.
 */
const TRANSIENT = new Set(['103', '105', '108', '109', '656']);
/**
 * Rejeição 704: dhEmi more than 5 minutes behind SEFAZ's clock (normal emission only; a tpEmis 9
 * document is accepted late). 703 (ahead) is not here: a contingency document would fail it too.
 */
const LATE = '704';

export async function issue(message: unknown, delivery: Delivery, deps: IssuerDeps): Promise<IssueOutcome> {
  const job = paymentJobSchema.parse(message);
  const record = await deps.payments.startProcessing(job.orderRef, job.paymentId, saoPauloIso(deps.now()));
  if (!record) {
    // It finished already, or the order's slot moved on (a newer payment replaced it).
    deps.log.info('payment finished or no longer in its slot; nothing to do', { paymentId: job.paymentId });
    return 'skipped';
  }
  try {
    return await issueFor(job, record, deps);
  } catch (error) {
    const lastAttempt = delivery.receiveCount >= delivery.maxReceiveCount;
    // A document that cannot be built will not build on a retry either.
    if (!lastAttempt && !(error instanceof DocumentFailure)) throw error;
    const outcome = await giveUp(record.paymentId, error, delivery.receiveCount, deps);
    // An NFC-e under this number may exist at SEFAZ: only the queue's retries can settle it.
    if (outcome.holdsOrder && !lastAttempt) throw error;
    deps.log.warn('payment finished without an NFC-e', { paymentId: job.paymentId, code: outcome.code });
    await settleCielo(await deps.orders.get(job.orderRef), record.paymentId, { error: outcome.message }, deps);
    await finish(job, deps, { success: false, invoice: null, error: { code: outcome.code, message: outcome.message } });
    // The POS has its answer; the job still goes to the DLQ, where an operator's redrive restarts it.
    if (lastAttempt) throw error;
    return 'failed';
  }
}

/**
 * The failure a payment ends with when the issuer gives up. Only a number that was handed to
 * SEFAZ holds the order (its NFC-e may be authorized); a number never sent is withdrawn and
 * recorded as a gap for inutilização, and the order is free.
 */
async function giveUp(
  paymentId: string,
  error: unknown,
  attempts: number,
  deps: IssuerDeps,
): Promise<{ code: string; message: string; holdsOrder: boolean }> {
  const why =
    error instanceof DocumentFailure
      ? `the NFC-e could not be built from this order (${error.message})`
      : error instanceof SefazUnavailable
        ? `SEFAZ could not be reached after ${attempts} attempts (${error.message})`
        : `the NFC-e could not be issued after ${attempts} attempts`;
  const numbered = await deps.numbering.reserved(paymentId);
  if (!numbered) {
    return { code: ISSUE_FAILED, message: `${why}; nothing was sent to SEFAZ`, holdsOrder: false };
  }
  if (!numbered.sentAt && !numbered.sending && (await deps.numbering.withdraw(paymentId, 'never sent'))) {
    return {
      code: ISSUE_FAILED,
      message: `${why}; nothing was sent to SEFAZ and nº ${numbered.nNF} is recorded for inutilização`,
      holdsOrder: false,
    };
  }
  if (numbered.contingency) {
    return {
      code: ISSUE_INCOMPLETE,
      message: `${why}; the contingency NFC-e nº ${numbered.contingency.nNF} could not be completed and waits for an operator to retry`,
      holdsOrder: true,
    };
  }
  if (error instanceof SefazUnavailable) {
    return {
      code: SEFAZ_UNAVAILABLE,
      message: `SEFAZ did not answer after ${attempts} attempts (${error.message}); the NFC-e nº ${numbered.nNF} waits for an operator to retry`,
      holdsOrder: true,
    };
  }
  return {
    code: ISSUE_INCOMPLETE,
    message: `the NFC-e nº ${numbered.nNF} was sent to SEFAZ but could not be completed; it waits for an operator to retry`,
    holdsOrder: true,
  };
}

/** Why SEFAZ was last seen away: the xJust of the contingency NFC-e issued meanwhile. */
type AwayReason = 'unreachable' | 'silent' | 'paused';

/**
 * SEFAZ seen away by this container (unreachable, silent, paused) within the last `forMs`: during
 * an outage, only one sale per container and period waits the contingency wait for SEFAZ, the
 * others go to contingency at once; any answer from SEFAZ clears it.
 */
export interface SefazAwayMemory {
  awayFor(url: string): AwayReason | undefined;
  saw(url: string, why: AwayReason): void;
  answered(url: string): void;
}

/** {@link SefazAwayMemory} in the container's memory; `forMs` 0 never skips SEFAZ. */
export class RecentSefazFailures implements SefazAwayMemory {
  private readonly seen = new Map<string, { why: AwayReason; at: number }>();

  constructor(
    private readonly forMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  awayFor(url: string): AwayReason | undefined {
    const seen = this.seen.get(url);
    return seen && this.now() - seen.at < this.forMs ? seen.why : undefined;
  }

  saw(url: string, why: AwayReason): void {
    this.seen.set(url, { why, at: this.now() });
  }

  answered(url: string): void {
    this.seen.delete(url);
  }
}

/** Building or signing the document failed: the same inputs would fail again. */
export class DocumentFailure extends Error {
  constructor(cause: unknown) {
    super((cause as Error).message, { cause });
    this.name = 'DocumentFailure';
  }
}

/** The NFC-e's outcome on the Cielo order a tab came from (nothing for a POS tab). */
async function settleCielo(
  tab: StoredOrder | undefined,
  paymentId: string,
  outcome: { key: string; contingency?: true } | { error: string },
  deps: IssuerDeps,
): Promise<void> {
  if (tab?.cieloOrderId && deps.cielo) await deps.cielo.settle(tab, paymentId, outcome);
}

async function issueFor(job: PaymentJob, record: PaymentRecord, deps: IssuerDeps): Promise<IssueOutcome> {
  let order: StoredOrder | undefined;
  const fail = async (code: string, text: string): Promise<IssueOutcome> => {
    deps.log.warn('payment finished without an NFC-e', { paymentId: job.paymentId, code });
    await settleCielo(order, record.paymentId, { error: text }, deps);
    await finish(job, deps, { success: false, invoice: null, error: { code, message: text } });
    return 'failed';
  };

  const { paymentObject } = record.request;
  if (!paymentObject.generateInvoice) {
    // It pays the tab all the same: it takes the order's lock from any earlier payment, so the
    // next PUT of a tab releases this one (a stale lock would refuse every new tab).
    await deps.orders.lockFor(job.orderRef, record.paymentId);
    await finish(job, deps, { success: true, invoice: null, error: null });
    return 'finished-without-invoice';
  }

  order = await deps.orders.lockFor(job.orderRef, record.paymentId);
  if (deps.cielo && (!order || order.source === 'CIELO')) {
    // No tab from the POS (or one an earlier payment took from Cielo): an open order Cielo
    // notified, or its API knows, may be this one; the POS's own tab always wins.
    const resolved = await deps.cielo.resolve(record);
    if (resolved && !resolved.found) return fail(resolved.code, resolved.message);
    if (resolved) order = await deps.orders.lockFor(job.orderRef, record.paymentId);
  }
  const label = `${record.orderKeyType} ${record.orderKey}`;
  if (!order) {
    return fail(
      'ORDER_NOT_FOUND',
      `no open order for ${label}: push its items with PUT /orders/${record.orderKeyType}/${record.orderKey} before paying`,
    );
  }
  if (order.invoicedByPaymentId && order.invoicedByPaymentId !== record.paymentId) {
    return fail(
      'ORDER_ALREADY_INVOICED',
      `the order ${label} already has an NFC-e (payment ${order.invoicedByPaymentId}); push the new tab with PUT before paying again`,
    );
  }
  const itemsTotal = order.items.reduce((sum, item) => sum + itemTotal(item), 0);
  if (itemsTotal !== record.amounts.orderAmount) {
    // Checked before a number is reserved, so a wrong payment burns no nNF.
    return fail(
      'ORDER_AMOUNT_MISMATCH',
      `orderAmount R$ ${formatReais(record.amounts.orderAmount)} differs from the order's items total R$ ${formatReais(itemsTotal)} for ${label}`,
    );
  }

  let setup: FiscalSetup;
  try {
    setup = await deps.fiscal.load(record.integrationHubServiceId);
  } catch (error) {
    if (error instanceof FiscalSetupProblem) return fail('FISCAL_SETUP', error.message);
    throw error;
  }
  const sale: Sale = { job, record, order, setup };
  const { emitter } = setup;
  const tls = clientTls(setup);
  const consulta = sefazServiceUrl(emitter, 'consultaProtocolo');

  // Its first attempt ever (no earlier one can have reserved a number): nothing to read first.
  const firstAttempt = record.processingAttempts === 1;
  const reserve = (first: boolean) =>
    deps.numbering.reserve(record.paymentId, emitter.cnpj, emitter.serie, first, (nNF) => ({
      cNF: randomCNF(nNF),
      dhEmi: secondsIso(deps.now()),
    }));
  let numbering = await reserve(firstAttempt);
  // Once in contingency, always: the online number is never sent again (the sender settles it).
  if (numbering.contingency) return inContingency(sale, numbering.contingency, deps);
  let online = build(sale, numbering, deps);

  if (deps.now().getTime() - Date.parse(numbering.dhEmi) > deps.contingency.lateAfterMs) {
    // A normal-emission NFC-e this old would be refused (704): ask SEFAZ whether it has it first.
    let held: AuthorizationAnswer | undefined;
    try {
      held = await deps.consultProtocol(consulta, online.signed.chave, emitter.tpAmb, tls);
    } catch (error) {
      if (!(error instanceof SefazUnavailable)) throw error;
      if (setup.offlineContingency) return toContingency(sale, online, 'late', deps);
      throw error;
    }
    if (held.protocol && AUTHORIZED.has(held.protocol.cStat) && held.protocol.nProt) {
      return authorized(sale, online, { ...held.protocol, nProt: held.protocol.nProt }, deps);
    }
    if (setup.offlineContingency) return toContingency(sale, online, 'late', deps);
    // Contingency off: this number goes to inutilização and the sale gets a new one, issued now.
    await deps.numbering.renumber(record.paymentId, numbering.nNF, online.signed.chave, 'late: not at SEFAZ');
    numbering = await reserve(false);
    online = build(sale, numbering, deps);
  }

  const authorizationUrl = emitter.urls.autorizacao;
  const away = setup.offlineContingency ? deps.sefazAway.awayFor(authorizationUrl) : undefined;
  // SEFAZ failed this container moments ago: this sale does not wait for it (the online document is never sent).
  if (away) return toContingency(sale, online, away, deps);

  const attempt = randomUUID();
  // Both before the send, neither waiting for the other; a signed XML that was not stored means
  // nothing was sent under this attempt.
  const [stored, marked] = await Promise.allSettled([
    deps.documents.put(online.signedKey, `${XML_DECLARATION}${online.signed.nfeXml}`, 'application/xml'),
    deps.numbering.beginSend(record.paymentId, attempt, saoPauloIso(deps.now())),
  ]);
  if (marked.status === 'rejected') throw marked.reason;
  if (stored.status === 'rejected') {
    await deps.numbering.notSent(record.paymentId, attempt);
    throw stored.reason;
  }
  let answer: AuthorizationAnswer;
  try {
    answer = await deps.authorize(
      authorizationUrl,
      online.lot,
      tls,
      setup.offlineContingency ? deps.contingency.waitMs : undefined,
    );
  } catch (error) {
    // A connection never made sent nothing: the number stays withdrawable.
    if (error instanceof SefazUnavailable && !error.reachedSefaz) await deps.numbering.notSent(record.paymentId, attempt);
    if (error instanceof SefazUnavailable && setup.offlineContingency) {
      const why = error.timedOut ? 'silent' : 'unreachable';
      deps.sefazAway.saw(authorizationUrl, why);
      return toContingency(sale, online, why, deps);
    }
    throw error;
  }
  if (!answer.protocol && TRANSIENT.has(answer.cStat)) {
    if (setup.offlineContingency) {
      deps.sefazAway.saw(authorizationUrl, 'paused');
      return toContingency(sale, online, 'paused', deps);
    }
    throw new SefazUnavailable(`SEFAZ answered ${answer.cStat} ${answer.xMotivo}`);
  }
  deps.sefazAway.answered(authorizationUrl);
  if (answer.protocol?.cStat === DUPLICATE) {
    // This very key is already authorized: an earlier attempt's answer was lost (a timeout, a
    // crash). SEFAZ keeps its protocol; finish with that instead of failing an issued NFC-e.
    const held = await deps.consultProtocol(consulta, online.signed.chave, emitter.tpAmb, tls);
    if (held.protocol && AUTHORIZED.has(held.protocol.cStat)) answer = held;
  }

  const protocol = answer.protocol;
  if (!protocol || !AUTHORIZED.has(protocol.cStat) || !protocol.nProt) {
    // Rejected: this number will not be used again; it is listed for inutilização.
    const cStat = protocol?.cStat ?? answer.cStat;
    await deps.numbering.recordGap(emitter.cnpj, emitter.serie, numbering.nNF, record.paymentId, cStat, online.signed.chave);
    // Sent too late after all (the clocks differ): the sale is covered in contingency.
    if (cStat === LATE && setup.offlineContingency) return toContingency(sale, online, 'late', deps);
    return protocol ? fail(protocol.cStat, protocol.xMotivo) : fail(answer.cStat, answer.xMotivo);
  }
  return authorized(sale, online, { ...protocol, nProt: protocol.nProt }, deps);
}

/** A payment's sale once its order and fiscal setup are known: what each NFC-e of it is built from. */
interface Sale {
  job: PaymentJob;
  record: PaymentRecord;
  order: StoredOrder;
  setup: FiscalSetup;
}

/** One NFC-e built and signed, with its authorization lot and where its documents go in S3. */
interface Built {
  numbering: Numbering;
  signed: SignedNfce;
  lot: string;
  /** `nfce/<cnpj>/<yyyy>/<mm>/<chave>` */
  folder: string;
  signedKey: string;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** dhEmi / dhCont without fractions: the schema's TDateTimeUTC has none. */
function secondsIso(date: Date): string {
  return `${saoPauloIso(date).slice(0, 19)}-03:00`;
}

/** Builds and signs the sale's NFC-e under `numbering` (tpEmis 9 with `contingency`); a failure is a {@link DocumentFailure}. */
function build(sale: Sale, numbering: Numbering, deps: IssuerDeps, contingency?: Contingency): Built {
  const { record, order, setup } = sale;
  let document: NfceDocument;
  let signed: SignedNfce;
  let lot: string;
  try {
    document = buildDocument({
      emitter: setup.emitter,
      catalog: setup.catalog,
      numbering,
      ...(contingency ? { contingency } : {}),
      order: {
        orderKeyType: record.orderKeyType as PaymentRecord['request']['orderKeyType'],
        orderKey: record.orderKey,
        items: order.items,
        ...(order.notes ? { notes: order.notes } : {}),
      },
      payment: {
        request: record.request,
        amounts: record.amounts,
        customer: record.customerDocument ? (parseTaxDocument(record.customerDocument) ?? null) : null,
        ...(record.integrated ? { integrated: record.integrated } : {}),
      },
      verProc: deps.verProc,
    });
    signed = signNfce(document, setup.certificate);
    lot = enviNFe(String(numbering.nNF), signed.nfeXml);
    // SEFAZ would refuse it (214): nothing is sent and the number is withdrawn instead.
    const bytes = authorizationMessageBytes(lot);
    if (bytes > MAX_MESSAGE_BYTES) {
      throw new Error(
        `the NFC-e message is ${Math.ceil(bytes / 1024)} KB and SEFAZ takes at most ${MAX_MESSAGE_BYTES / 1024} KB: split the tab into smaller orders`,
      );
    }
  } catch (error) {
    throw new DocumentFailure(error);
  }
  const defaulted = document.det.filter((d: Det) => d.defaulted).map((d) => d.cProd);
  if (defaulted.length > 0)
    deps.log.warn('skus missing from the fiscal catalog; its default profile was used', { skus: defaulted });
  const folder = documentFolder(setup.emitter.cnpj, numbering.dhEmi, signed.chave);
  return { numbering, signed, lot, folder, signedKey: `${folder}/signed.xml` };
}

/** Where an NFC-e's documents live in the fiscal bucket: `nfce/<cnpj>/<yyyy>/<mm>/<chave>`. */
export function documentFolder(cnpj: string, dhEmi: string, chave: string): string {
  return `nfce/${cnpj}/${dhEmi.slice(0, 4)}/${dhEmi.slice(5, 7)}/${chave}`;
}

/** The NFC-e was authorized (now, or by an earlier attempt whose answer was lost): store it and answer. */
async function authorized(
  sale: Sale,
  online: Built,
  protocol: { cStat: string; xml: string; nProt: string; dhRecbto: string },
  deps: IssuerDeps,
): Promise<IssueOutcome> {
  const { job, record, order, setup } = sale;
  const proc = nfeProc(online.signed.nfeXml, protocol.xml);
  const nfeProcKey = `${online.folder}/nfeProc.xml`;
  const receiptText = record.request.paymentObject.printInvoiceAtPos ? receipt(proc, setup.receiptColumns, deps) : undefined;
  const receiptKey = receiptText === undefined ? undefined : `${online.folder}/receipt-${setup.receiptColumns}.txt`;
  // Independent and each idempotent (a retry repeats them). Then the Cielo order's link, which
  // points readers at these documents, and last the result the POS reads (a crash before it
  // retries everything).
  await Promise.all([
    deps.documents.put(nfeProcKey, proc, 'application/xml'),
    receiptKey ? deps.documents.put(receiptKey, receiptText!, 'text/plain') : undefined,
    deps.invoices.record({
      chave: online.signed.chave,
      integrationHubServiceId: record.integrationHubServiceId,
      paymentId: record.paymentId,
      nfeProcKey,
      signedKey: online.signedKey,
      nProt: protocol.nProt,
      authorizedAt: protocol.dhRecbto,
    }),
    deps.orders.markInvoiced(job.orderRef, record.paymentId),
  ]);
  await settleCielo(order, record.paymentId, { key: online.signed.chave }, deps);
  await finish(job, deps, {
    success: true,
    invoice: { chave: online.signed.chave, qrCode: online.signed.qrCode, nfeProcKey, ...(receiptKey ? { receiptKey } : {}) },
    error: null,
    ...(order.cieloOrderId ? { cieloOrderId: order.cieloOrderId } : {}),
  });
  deps.log.info('NFC-e authorized', { paymentId: record.paymentId, nNF: online.numbering.nNF, nProt: protocol.nProt });
  return 'authorized';
}

/**
 * Why the sale went to contingency, as `ide/xJust` says it (15–256 characters, spec §4): SEFAZ
 * refused the connection or failed (5xx), did not answer within the wait, answered that its
 * service is paused (108 / 109, or 656 / 103 / 105: not now), or the online NFC-e was too old to send.
 */
const XJUST = {
  unreachable: 'SEFAZ inacessivel na autorizacao da NFC-e: emissao em contingencia offline',
  silent: 'SEFAZ sem resposta no prazo da autorizacao da NFC-e: emissao em contingencia offline',
  paused: 'SEFAZ com servico de autorizacao paralisado: emissao em contingencia offline',
  late: 'NFC-e nao autorizada a tempo pela SEFAZ: emissao em contingencia offline',
} as const;

/** Gives the sale its contingency number (once) and issues the tpEmis 9 NFC-e in place of `online`. */
async function toContingency(sale: Sale, online: Built, why: keyof typeof XJUST, deps: IssuerDeps): Promise<IssueOutcome> {
  const { emitter } = sale.setup;
  const now = secondsIso(deps.now());
  const numbering = await deps.numbering.reserveContingency(sale.record.paymentId, emitter.cnpj, emitter.serie, (nNF) => ({
    cNF: randomCNF(nNF),
    dhEmi: now,
    dhCont: now,
    xJust: XJUST[why],
  }));
  deps.log.warn('SEFAZ did not authorize the NFC-e; issuing it in offline contingency', {
    paymentId: sale.record.paymentId,
    onlineNNF: online.numbering.nNF,
    why,
  });
  return inContingency(sale, numbering, deps);
}

/**
 * Issues (or, on a retry, issues again, byte for byte: the same number, times and inputs) the
 * sale's tpEmis 9 NFC-e: stored signed with its receipt, recorded for the contingency sender with
 * the online attempt it stands in for, and answered to the POS as a success (`contingency: true`).
 */
async function inContingency(sale: Sale, numbering: ContingencyNumbering, deps: IssuerDeps): Promise<IssueOutcome> {
  const { job, record, order, setup } = sale;
  const { nNF, cNF, dhEmi, dhCont, xJust } = numbering;
  const built = build(sale, { nNF, cNF, dhEmi }, deps, { dhCont, xJust });
  const reservation = await deps.numbering.reserved(record.paymentId);
  if (!reservation) throw new Error(`payment ${record.paymentId} lost its numbers in contingency`);
  const onlineKey = documentKey(setup.emitter, reservation, 1);
  const receiptText = record.request.paymentObject.printInvoiceAtPos
    ? receipt(built.signed.nfeXml, setup.receiptColumns, deps)
    : undefined;
  const receiptKey = receiptText === undefined ? undefined : `${built.folder}/receipt-${setup.receiptColumns}.txt`;
  const nfeProcKey = `${built.folder}/nfeProc.xml`;
  // Recorded by an earlier attempt: the sender may have authorized it since, and rewritten its receipt.
  if (!(await deps.invoices.get(built.signed.chave))) {
    await Promise.all([
      deps.documents.put(built.signedKey, `${XML_DECLARATION}${built.signed.nfeXml}`, 'application/xml'),
      receiptKey ? deps.documents.put(receiptKey, receiptText!, 'text/plain') : undefined,
    ]);
  }
  await deps.invoices.recordContingency({
    chave: built.signed.chave,
    integrationHubServiceId: record.integrationHubServiceId,
    paymentId: record.paymentId,
    signedKey: built.signedKey,
    nfeProcKey,
    contingencyState: 'PENDING',
    dhEmi,
    contingency: {
      cnpj: setup.emitter.cnpj,
      serie: setup.emitter.serie,
      nNF,
      dhCont,
      xJust,
      deadline: contingencyDeadline(dhEmi, deps.contingency.deadlineBusinessDays),
      ...(receiptKey ? { receiptKey, receiptColumns: setup.receiptColumns } : {}),
      attempts: 0,
      online: {
        chave: onlineKey,
        nNF: reservation.nNF,
        dhEmi: reservation.dhEmi,
        sent: reservation.sentAt !== undefined || reservation.sending !== undefined,
      },
    },
  });
  await deps.orders.markInvoiced(job.orderRef, record.paymentId);
  await settleCielo(order, record.paymentId, { key: built.signed.chave, contingency: true }, deps);
  await finish(job, deps, {
    success: true,
    invoice: {
      chave: built.signed.chave,
      qrCode: built.signed.qrCode,
      nfeProcKey,
      signedKey: built.signedKey,
      contingency: true,
      ...(receiptKey ? { receiptKey } : {}),
    },
    error: null,
    ...(order.cieloOrderId ? { cieloOrderId: order.cieloOrderId } : {}),
  });
  deps.log.warn('NFC-e issued in offline contingency; the sender transmits it when SEFAZ is back', {
    paymentId: record.paymentId,
    nNF,
  });
  return 'contingency';
}

/** The receipt never fails an issued NFC-e: without it the POS can still reprint via GET. */
function receipt(proc: string, columns: 32 | 48, deps: IssuerDeps): string | undefined {
  try {
    return renderReceipt(proc, { columns });
  } catch (error) {
    deps.log.warn('receipt text could not be rendered; answering without it', { reason: (error as Error).message });
    return undefined;
  }
}

/** Stores how the payment finished; the intake assembles the POS's 200 answer from it. */
async function finish(job: PaymentJob, deps: IssuerDeps, result: PaymentResult): Promise<void> {
  await deps.payments.finish(job.orderRef, job.paymentId, result, saoPauloIso(deps.now()));
}
