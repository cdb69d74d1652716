import { randomUUID } from 'node:crypto';
import type { FieldError } from '../shared/http.ts';
import { saoPauloIso } from '../shared/time.ts';
import type { JobQueue } from './job.ts';
import { fingerprint, holdsOrder, orderRef, PENDING, type PaymentRecord } from './record.ts';
import type { ValidPayment } from './request.ts';
import type { PaymentStore } from './store.ts';

/**
 * The POST/poll protocol of seed 003: the first request queues the payment (202), the same request
 * again answers 208 while it is processed and 200 with the result once finished. A different
 * payment for an order whose payment is in flight is a 409.
 */
export interface IntakeDeps {
  store: PaymentStore;
  queue: JobQueue;
  now: () => Date;
  /** A claim to send the job older than this is presumed dead (its sender crashed or failed). */
  enqueueStaleMs: number;
  onEnqueueFailure: (error: unknown, record: PaymentRecord) => void;
}

export type IntakeOutcome =
  | { kind: 'accepted'; record: PaymentRecord }
  | { kind: 'processing'; record: PaymentRecord }
  | { kind: 'finished'; record: PaymentRecord }
  | { kind: 'conflict'; record: PaymentRecord; errors: FieldError[] };

/** Optimistic writes lose only to a concurrent writer; a few rounds always settle. */
const MAX_ROUNDS = 5;

export async function takePayment(payment: ValidPayment, correlationId: string, deps: IntakeDeps): Promise<IntakeOutcome> {
  const { request } = payment;
  const ref = orderRef(request.integrationHubServiceId, request.orderKeyType, request.orderKey);
  const print = fingerprint(request);

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const current = await deps.store.get(ref);

    if (current?.fingerprint === print) {
      if (current.status === 'DONE') return { kind: 'finished', record: current };
      await ensureQueued(current, deps);
      return { kind: 'processing', record: current };
    }
    if (current && holdsOrder(current)) {
      const why =
        current.status === 'DONE'
          ? `has an NFC-e not yet confirmed by SEFAZ (paymentId ${current.paymentId}, ${current.result?.error?.code}); an operator must retry it from the dead-letter queue before the order takes another payment`
          : `already has a different payment in progress (paymentId ${current.paymentId}); repeat that payment's request to follow it, or wait until it finishes`;
      const message = `body.orderKey ${request.orderKeyType} ${request.orderKey} ${why}`;
      return { kind: 'conflict', record: current, errors: [{ key: 'orderKey', message }] };
    }

    const record = newRecord(payment, ref, print, correlationId, deps.now());
    if (current) await deps.store.archive(current);
    if (await deps.store.create(record, current?.paymentId)) {
      await sendJob(record, deps);
      return { kind: 'accepted', record };
    }
  }
  throw new Error(`payment slot ${ref} kept changing under ${MAX_ROUNDS} concurrent writes`);
}

/**
 * Re-sends the job of an in-flight payment whose enqueue was never confirmed, once the claim of
 * whoever tried last is stale. The claim makes concurrent pollers (and the sweep) send it once.
 */
export async function ensureQueued(record: PaymentRecord, deps: IntakeDeps): Promise<boolean> {
  if (record.enqueuePending !== PENDING) return false;
  const nowMs = deps.now().getTime();
  const claimed = await deps.store.claimEnqueue(record.pk, record.paymentId, nowMs, nowMs - deps.enqueueStaleMs);
  if (!claimed) return false;
  return sendJob(record, deps);
}

async function sendJob(record: PaymentRecord, deps: IntakeDeps): Promise<boolean> {
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
  await deps.store.markEnqueued(record.pk, record.paymentId, saoPauloIso(deps.now()));
  return true;
}

function newRecord(payment: ValidPayment, ref: string, print: string, correlationId: string, now: Date): PaymentRecord {
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
    correlationId,
    createdAt: at,
    updatedAt: at,
    enqueuePending: PENDING,
    enqueueClaimedAtMs: now.getTime(),
    enqueueAttempts: 1,
  };
}
