import { paymentJobSchema } from '../payments/job.ts';
import type { PaymentStore } from '../payments/store.ts';
import { saoPauloIso } from '../shared/time.ts';

/**
 * The operator's view of dead-lettered jobs and their redrive, so that nobody needs the AWS
 * console to settle a held order: a payment whose NFC-e may exist at SEFAZ keeps its order until
 * its job is redriven and settles it (authorized, or finished with SEFAZ's answer).
 */

/** A message as a dead-letter queue holds it. */
export interface DeadMessage {
  messageId: string;
  body: string;
  /** SQS's ApproximateReceiveCount: the queue's attempts, plus the operator's earlier looks. */
  receiveCount: number;
  /** Epoch ms the message was first sent (to the queue it served). */
  sentAtMs: number;
}

/** One queue's dead-letter queue: look without taking, move back to the queue it serves. */
export interface DeadLetterQueue {
  /** The manifest's queue name the DLQ serves. */
  queue: string;
  /** Up to `limit` messages, left in place. */
  peek(limit: number): Promise<DeadMessage[]>;
  /** Moves the messages `pick` selects back to the served queue; returns them. */
  redrive(pick: (message: DeadMessage) => boolean, limit: number): Promise<DeadMessage[]>;
}

export interface DeadLetter {
  queue: string;
  messageId: string;
  paymentId: string | null;
  orderRef: string | null;
  /** The payment's stored failure (`SEFAZ_UNAVAILABLE`, `ISSUE_INCOMPLETE`, …), null if none yet. */
  error: { code: string; message: string } | null;
  /** The issuer's attempts on the payment, as its record counts them. */
  attempts: number | null;
  receiveCount: number;
  ageSeconds: number;
}

export interface DeadLetterDeps {
  queues: DeadLetterQueue[];
  payments: Pick<PaymentStore, 'get' | 'getArchived' | 'reopen'>;
  now: () => Date;
}

/** Most messages listed or redriven per call; a larger backlog takes several calls. */
export const MAX_DEAD_LETTERS = 100;

/** Every dead-lettered job (up to MAX_DEAD_LETTERS), with its payment's state. */
export async function listDeadLetters(deps: DeadLetterDeps): Promise<DeadLetter[]> {
  const listed: DeadLetter[] = [];
  for (const dlq of deps.queues) {
    for (const message of await dlq.peek(MAX_DEAD_LETTERS - listed.length)) {
      listed.push(await describe(dlq.queue, message, deps));
    }
  }
  return listed;
}

/**
 * Moves dead-lettered jobs back to their queues: all of them, or those whose message ids are in
 * `ids`. A redriven payment job restarts its payment (the issuer is idempotent per payment), and
 * its finished failure is reopened, so the POS's next poll answers 208 until the job settles.
 */
export async function redriveDeadLetters(
  ids: readonly string[] | undefined,
  deps: DeadLetterDeps,
): Promise<{ redriven: { queue: string; messageId: string }[]; notFound: string[] }> {
  const wanted = ids ? new Set(ids) : undefined;
  const redriven: { queue: string; messageId: string }[] = [];
  for (const dlq of deps.queues) {
    const moved = await dlq.redrive((m) => !wanted || wanted.has(m.messageId), MAX_DEAD_LETTERS - redriven.length);
    for (const message of moved) {
      const job = parseJob(message.body);
      // After the send: if the issuer already took the job, its state wins (reopen finds no failure).
      if (job) await deps.payments.reopen(job.orderRef, job.paymentId, saoPauloIso(deps.now()));
      redriven.push({ queue: dlq.queue, messageId: message.messageId });
    }
  }
  const done = new Set(redriven.map((r) => r.messageId));
  return { redriven, notFound: ids ? ids.filter((id) => !done.has(id)) : [] };
}

async function describe(queue: string, message: DeadMessage, deps: DeadLetterDeps): Promise<DeadLetter> {
  const base = {
    queue,
    messageId: message.messageId,
    receiveCount: message.receiveCount,
    ageSeconds: Math.max(0, Math.round((deps.now().getTime() - message.sentAtMs) / 1000)),
  };
  const job = parseJob(message.body);
  if (!job) return { ...base, paymentId: null, orderRef: null, error: null, attempts: null };
  const record = await paymentOf(job.orderRef, job.paymentId, deps);
  return {
    ...base,
    paymentId: job.paymentId,
    orderRef: job.orderRef,
    error: record?.result?.error ?? null,
    attempts: record ? (record.processingAttempts ?? 0) : null,
  };
}

function parseJob(body: string) {
  try {
    const parsed = paymentJobSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The payment in its order's slot, or archived once a newer payment took the slot. */
async function paymentOf(orderRef: string, paymentId: string, deps: DeadLetterDeps) {
  const slot = await deps.payments.get(orderRef);
  return slot?.paymentId === paymentId ? slot : deps.payments.getArchived(paymentId);
}
