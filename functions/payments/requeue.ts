import { ensureQueued, type QueueingDeps } from './intake.ts';

/**
 * The sweep behind the schedule: payments recorded but whose job never reached the queue (the
 * sender crashed or SQS failed) and whose POS stopped polling. Same claim as a poll, so a payment
 * re-sent by a poll in the meantime is not sent twice.
 */
export async function requeuePending(deps: QueueingDeps, limit: number): Promise<{ examined: number; requeued: number }> {
  const pending = await deps.store.pendingEnqueue(limit);
  let requeued = 0;
  for (const record of pending) {
    if (await ensureQueued(record, deps)) requeued++;
  }
  return { examined: pending.length, requeued };
}
