import { randomUUID } from 'node:crypto';
import type { OrderStore, StoredOrder } from '../orders/order.ts';
import { paymentJobSchema, type PaymentJob } from '../payments/job.ts';
import { ISSUE_FAILED, ISSUE_INCOMPLETE, SEFAZ_UNAVAILABLE, type PaymentRecord, type PaymentResult } from '../payments/record.ts';
import type { PaymentStore } from '../payments/store.ts';
import { parseTaxDocument } from '../shared/documents.ts';
import { formatReais } from '../shared/money.ts';
import { saoPauloIso } from '../shared/time.ts';
import { FiscalSetupProblem, type FiscalConfig } from './config.ts';
import { buildDocument, itemTotal, type Det, type NfceDocument } from './document.ts';
import { randomCNF } from './key.ts';
import type { NumberSource } from './numbering.ts';
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
 * key), S3 writes overwrite the same keys. SEFAZ being unreachable throws SefazUnavailable so the
 * job is retried; on the last attempt the payment also says so.
 */

export interface InvoiceIndex {
  record(invoice: {
    chave: string;
    integrationHubServiceId: string;
    paymentId: string;
    nfeProcKey: string;
    signedKey: string;
    nProt: string;
  }): Promise<void>;
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
  /** Records on the Cielo order `tab.cieloOrderId` the NFC-e's key, or why the payment got none. */
  settle(tab: StoredOrder, paymentId: string, outcome: { key: string } | { error: string }): Promise<void>;
}

export interface IssuerDeps {
  payments: PaymentStore;
  orders: Pick<OrderStore, 'lockFor' | 'markInvoiced' | 'get'>;
  cielo?: CieloOrderLink;
  fiscal: Pick<FiscalConfig, 'load'>;
  numbering: NumberSource;
  documents: DocumentStore;
  invoices: InvoiceIndex;
  authorize: (url: string, enviNFeXml: string, tls: ClientTls) => Promise<AuthorizationAnswer>;
  consultProtocol: (url: string, chave: string, tpAmb: 1 | 2, tls: ClientTls) => Promise<AuthorizationAnswer>;
  now: () => Date;
  verProc: string;
  log: { info(message: string, extra?: object): void; warn(message: string, extra?: object): void };
}

export interface Delivery {
  /** 1 for the first delivery of the message. */
  receiveCount: number;
  maxReceiveCount: number;
}

export type IssueOutcome = 'authorized' | 'failed' | 'finished-without-invoice' | 'skipped';

/** Lot processed (104) with the NFC-e authorized (100), or authorized late (150). */
const AUTHORIZED = new Set(['100', '150']);
/** Rejeição: Duplicidade de NF-e (the same key). */
const DUPLICATE = '204';
/**
 * Lot answers that say "not now", not "no": 103/105 (the lot went asynchronous or is still being
 * processed), 108/109 (service paused), 656 (consumo indevido: too many calls, wait). Retried.
 */
const TRANSIENT = new Set(['103', '105', '108', '109', '656']);

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
  outcome: { key: string } | { error: string },
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

  let setup;
  try {
    setup = await deps.fiscal.load(record.integrationHubServiceId);
  } catch (error) {
    if (error instanceof FiscalSetupProblem) return fail('FISCAL_SETUP', error.message);
    throw error;
  }
  const { emitter, catalog, certificate } = setup;

  // Its first attempt ever (no earlier one can have reserved a number): nothing to read first.
  const firstAttempt = record.processingAttempts === 1;
  const numbering = await deps.numbering.reserve(record.paymentId, emitter.cnpj, emitter.serie, firstAttempt, (nNF) => ({
    cNF: randomCNF(nNF),
    // dhEmi without fractions: the schema's TDateTimeUTC has none.
    dhEmi: `${saoPauloIso(deps.now()).slice(0, 19)}-03:00`,
  }));
  let document: NfceDocument;
  let signed: SignedNfce;
  let lot: string;
  try {
    document = buildDocument({
      emitter,
      catalog,
      numbering,
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
    signed = signNfce(document, certificate);
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

  const folder = `nfce/${emitter.cnpj}/${numbering.dhEmi.slice(0, 4)}/${numbering.dhEmi.slice(5, 7)}/${signed.chave}`;
  const signedKey = `${folder}/signed.xml`;
  const tls = { key: certificate.privateKeyPem, cert: certificate.certificatePem };
  const attempt = randomUUID();
  // Both before the send, neither waiting for the other; a signed XML that was not stored means
  // nothing was sent under this attempt.
  const [stored, marked] = await Promise.allSettled([
    deps.documents.put(signedKey, `<?xml version="1.0" encoding="UTF-8"?>${signed.nfeXml}`, 'application/xml'),
    deps.numbering.beginSend(record.paymentId, attempt, saoPauloIso(deps.now())),
  ]);
  if (marked.status === 'rejected') throw marked.reason;
  if (stored.status === 'rejected') {
    await deps.numbering.notSent(record.paymentId, attempt);
    throw stored.reason;
  }
  let answer: AuthorizationAnswer;
  try {
    answer = await deps.authorize(emitter.urls.autorizacao, lot, tls);
  } catch (error) {
    // A connection never made sent nothing: the number stays withdrawable.
    if (error instanceof SefazUnavailable && !error.reachedSefaz) await deps.numbering.notSent(record.paymentId, attempt);
    throw error;
  }
  if (!answer.protocol && TRANSIENT.has(answer.cStat)) {
    throw new SefazUnavailable(`SEFAZ answered ${answer.cStat} ${answer.xMotivo}`);
  }
  if (answer.protocol?.cStat === DUPLICATE) {
    // This very key is already authorized: an earlier attempt's answer was lost (a timeout, a
    // crash). SEFAZ keeps its protocol; finish with that instead of failing an issued NFC-e.
    const consulta =
      emitter.urls.consultaProtocolo ?? emitter.urls.autorizacao.replace('NFeAutorizacao4', 'NFeConsultaProtocolo4');
    const held = await deps.consultProtocol(consulta, signed.chave, emitter.tpAmb, tls);
    if (held.protocol && AUTHORIZED.has(held.protocol.cStat)) answer = held;
  }

  const protocol = answer.protocol;
  if (!protocol || !AUTHORIZED.has(protocol.cStat) || !protocol.nProt) {
    // Rejected: this number will not be used again; it is listed for inutilização.
    await deps.numbering.recordGap(emitter.cnpj, emitter.serie, numbering.nNF, record.paymentId, protocol?.cStat ?? answer.cStat);
    return protocol ? fail(protocol.cStat, protocol.xMotivo) : fail(answer.cStat, answer.xMotivo);
  }

  const proc = nfeProc(signed.nfeXml, protocol.xml);
  const nfeProcKey = `${folder}/nfeProc.xml`;
  const receiptText = paymentObject.printInvoiceAtPos ? receipt(proc, setup.receiptColumns, deps) : undefined;
  const receiptKey = receiptText === undefined ? undefined : `${folder}/receipt-${setup.receiptColumns}.txt`;
  // Independent and each idempotent (a retry repeats them). Then the Cielo order's link, which
  // points readers at these documents, and last the result the POS reads (a crash before it
  // retries everything).
  await Promise.all([
    deps.documents.put(nfeProcKey, proc, 'application/xml'),
    receiptKey ? deps.documents.put(receiptKey, receiptText!, 'text/plain') : undefined,
    deps.invoices.record({
      chave: signed.chave,
      integrationHubServiceId: record.integrationHubServiceId,
      paymentId: record.paymentId,
      nfeProcKey,
      signedKey,
      nProt: protocol.nProt,
    }),
    deps.orders.markInvoiced(job.orderRef, record.paymentId),
  ]);
  await settleCielo(order, record.paymentId, { key: signed.chave }, deps);
  await finish(job, deps, {
    success: true,
    invoice: { chave: signed.chave, qrCode: signed.qrCode, nfeProcKey, ...(receiptKey ? { receiptKey } : {}) },
    error: null,
    ...(order.cieloOrderId ? { cieloOrderId: order.cieloOrderId } : {}),
  });
  deps.log.info('NFC-e authorized', { paymentId: record.paymentId, nNF: numbering.nNF, nProt: protocol.nProt });
  return 'authorized';
}

/** The receipt never fails an authorized NFC-e: without it the POS can still reprint via GET. */
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
