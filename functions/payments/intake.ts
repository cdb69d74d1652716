import { randomUUID } from 'node:crypto';
import type { FieldError } from '../shared/http.ts';
import { saoPauloIso } from '../shared/time.ts';
import type { JobQueue } from './job.ts';
import {
  fingerprint,
  holdsOrder,
  orderRef,
  PENDING,
  type PaymentAnswer,
  type PaymentRecord,
  type StoredInvoice,
} from './record.ts';
import type { ValidPayment } from './request.ts';
import type { PaymentStore } from './store.ts';

/**
 * The POST/poll protocol of seed 003: the first request queues the payment (202), the same request
 * again answers 208 while it is processed and 200 with the result once finished — for as long as
 * the order's tab is unchanged, whatever other payments were tried since. A different payment for
 * an order whose payment is in flight, or whose tab was already paid, is a 409.
 */
export interface QueueingDeps {
  store: PaymentStore;
  queue: JobQueue;
  now: () => Date;
  /** A claim to send the job older than this is presumed dead (its sender crashed or failed). */
  enqueueStaleMs: number;
  onEnqueueFailure: (error: unknown, record: PaymentRecord) => void;
}

/** Reads a finished payment's documents (the fiscal bucket) to assemble its 200 answer. */
export interface DocumentReader {
  get(key: string): Promise<string>;
  /** The document, or undefined when nothing is stored under `key` yet. */
  find(key: string): Promise<string | undefined>;
}

export interface IntakeDeps extends QueueingDeps {
  documents: DocumentReader;
}

export type IntakeOutcome =
  | { kind: 'accepted'; record: PaymentRecord }
  | { kind: 'processing'; record: PaymentRecord }
  | { kind: 'finished'; record: PaymentRecord; answer: PaymentAnswer }
  | { kind: 'conflict'; record: PaymentRecord; errors: FieldError[] };

/** Optimistic writes lose only to a concurrent writer; a few rounds always settle. */
const MAX_ROUNDS = 5;
/**
 * Different failed payments one tab may collect before the POS must push the tab again: keeps
 * the slot item small (each entry is about 100 bytes of a 400 KB item).
 */
export const MAX_PAYMENTS_PER_TAB = 100;

export async function takePayment(payment: ValidPayment, correlationId: string, deps: IntakeDeps): Promise<IntakeOutcome> {
  const { request } = payment;
  const ref = orderRef(request.integrationHubServiceId, request.orderKeyType, request.orderKey);
  const print = fingerprint(request);
  const refuse = (record: PaymentRecord, why: string): IntakeOutcome => ({
    kind: 'conflict',
    record,
    errors: [{ key: 'orderKey', message: `body.orderKey ${request.orderKeyType} ${request.orderKey} ${why}` }],
  });

  for (let round = 0; round < MAX_ROUNDS; round++) {
    let current: PaymentRecord | undefined;
    if (round === 0) {
      // Most requests are an order's first payment: written before anything is read (one write and
      // one send on the request path). A slot already taken answers with what it holds (DynamoDB's
      // ALL_OLD on the refused write; read when a store cannot say), and the request is decided below.
      const record = newRecord(payment, ref, print, correlationId, deps.now(), undefined);
      const first = await deps.store.create(record);
      if (first.written) {
        await sendJob(record, deps);
        return { kind: 'accepted', record };
      }
      current = first.current ?? (await deps.store.get(ref));
    } else {
      current = await deps.store.get(ref);
    }

    if (current?.fingerprint === print) {
      if (current.status === 'DONE') {
        const answer = await answerFor(current, deps.documents);
        // Its first reading frees the tab for a new PUT (see pushTab).
        if (!current.answeredAt) await deps.store.markAnswered(ref, current.paymentId, saoPauloIso(deps.now()));
        return { kind: 'finished', record: current, answer };
      }
      await ensureQueued(current, deps);
      return { kind: 'processing', record: current };
    }
    const earlier = current?.replaced?.[print];
    if (earlier) {
      // This request's payment finished and another one took the slot since: it keeps its answer.
      const archived = await deps.store.getArchived(earlier);
      if (!archived) throw new Error(`payment ${earlier} is listed for ${ref} but not archived`);
      return { kind: 'finished', record: archived, answer: await answerFor(archived, deps.documents) };
    }
    if (current && holdsOrder(current)) {
      return refuse(
        current,
        current.status === 'DONE'
          ? `has an NFC-e not yet confirmed by SEFAZ (paymentId ${current.paymentId}, ${current.result?.error?.code}); an operator must retry it from the dead-letter queue before the order takes another payment`
          : `already has a different payment in progress (paymentId ${current.paymentId}); repeat that payment's request to follow it, or wait until it finishes`,
      );
    }
    if (current?.result?.success && !current.result.cieloOrderId) {
      const invoice = current.result.invoice;
      return refuse(
        current,
        `was already paid (paymentId ${current.paymentId}${invoice ? `, NFC-e ${invoice.chave}` : ''}); repeat that payment's request for its answer, or push the order's new tab with PUT /orders/${request.orderKeyType}/${request.orderKey} before paying again`,
      );
    }
    const replaced = current ? { ...current.replaced, [current.fingerprint]: current.paymentId } : undefined;
    if (replaced && Object.keys(replaced).length > MAX_PAYMENTS_PER_TAB) {
      return refuse(
        current!,
        `has had ${MAX_PAYMENTS_PER_TAB} different payments fail for this tab; push the tab again with PUT /orders/${request.orderKeyType}/${request.orderKey} before paying`,
      );
    }

    const record = newRecord(payment, ref, print, correlationId, deps.now(), replaced);
    if (current) await deps.store.archive(current);
    if ((await deps.store.create(record, current?.paymentId)).written) {
      await sendJob(record, deps);
      return { kind: 'accepted', record };
    }
  }
  throw new Error(`payment slot ${ref} kept changing under ${MAX_ROUNDS} concurrent writes`);
}

/**
 * The contract's 200 answer for a finished payment: the stored outcome, with the nfeProc XML and
 * the receipt text read back from the fiscal bucket. Throws when the record is not finished.
 */
export async function answerFor(record: PaymentRecord, documents: DocumentReader): Promise<PaymentAnswer> {
  const { result } = record;
  if (record.status !== 'DONE' || !result) throw new Error(`payment ${record.paymentId} has no result yet`);
  const { invoice } = result;
  const [orderXML, receiptText] = invoice
    ? await Promise.all([invoiceXml(invoice, documents), invoice.receiptKey ? documents.get(invoice.receiptKey) : undefined])
    : [];
  return {
    integrationHubServiceId: record.integrationHubServiceId,
    success: result.success,
    orderKeyType: record.orderKeyType,
    orderKey: record.orderKey,
    paymentObject: record.request.paymentObject,
    invoiceDetails:
      invoice && orderXML !== undefined
        ? {
            orderXML,
            invoiceKey: invoice.chave,
            qrCode: invoice.qrCode,
            ...(receiptText !== undefined ? { receiptText } : {}),
            contingency: invoice.contingency === true,
          }
        : null,
    error: result.error,
  };
}

/** The nfeProc; for a contingency NFC-e not yet authorized, the signed NFe instead. */
async function invoiceXml(invoice: StoredInvoice, documents: DocumentReader): Promise<string> {
  if (!invoice.contingency || !invoice.signedKey) return documents.get(invoice.nfeProcKey);
  return (await documents.find(invoice.nfeProcKey)) ?? documents.get(invoice.signedKey);
}

/**
 * Re-sends the job of a payment the issuer has not started, once the claim of whoever sent it last
 * is stale (`enqueueStaleMs`: the send failed, its sender crashed, or the job is lost). The claim
 * makes concurrent pollers (and the sweep) send it once per stale period.
 */
export async function ensureQueued(record: PaymentRecord, deps: QueueingDeps): Promise<boolean> {
  if (record.enqueuePending !== PENDING) return false;
  const nowMs = deps.now().getTime();
  const claimed = await deps.store.claimEnqueue(record.pk, record.paymentId, nowMs, nowMs - deps.enqueueStaleMs);
  if (!claimed) return false;
  return sendJob(record, deps);
}

async function sendJob(record: PaymentRecord, deps: QueueingDeps): Promise<boolean> {
  try {
    await deps.queue.send({
      paymentId: record.paymentId,
      orderRef: record.pk,
      integrationHubServiceId: record.integrationHubServiceId,
      correlationId: record.correlationId,
    });
  } catch (error) {
    // The record is durable and still marked pending: the next poll or the sweep re-sends it.
    deps.onEnqueueFailure(error, record);
    return false;
  }
  // No write to say it was sent: the issuer's first write (startProcessing) clears the marker, so a
  // new payment costs one write and one send. Until then a stale claim re-sends it (a duplicate job
  // finds the payment started and is skipped).
  return true;
}

function newRecord(
  payment: ValidPayment,
  ref: string,
  print: string,
  correlationId: string,
  now: Date,
  replaced: Record<string, string> | undefined,
): PaymentRecord {
  const { request } = payment;
  const at = saoPauloIso(now);
  return {
    pk: ref,
    paymentId: randomUUID(),
    fingerprint: print,
    status: 'QUEUED',
    integrationHubServiceId: request.integrationHubServiceId,
    orderKeyType: request.orderKeyType,
    orderKey: request.orderKey,
    request,
    amounts: payment.amounts,
    customerDocument: request.paymentObject.documentInReceipt ? (payment.customer?.number ?? null) : null,
    ...(payment.integrated ? { integrated: payment.integrated } : {}),
    correlationId,
    createdAt: at,
    updatedAt: at,
    enqueuePending: PENDING,
    enqueueClaimedAtMs: now.getTime(),
    enqueueAttempts: 1,
    ...(replaced ? { replaced } : {}),
  };
}
