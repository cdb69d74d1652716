import { randomUUID } from 'node:crypto';
import { saoPauloIso } from '../shared/time.ts';
import type { VerificationJob } from './notify.ts';
import { needsVerification } from './order-state.ts';
import { updateOrder, type CieloOrders } from './store.ts';

/**
 * The sweep over claims left PENDING (their job lost, dead-lettered after the API stayed down, or
 * never sent): each one whose job was queued longer ago than `requeueAfterMs` is queued again.
 * It also measures the oldest pending claim, which the alarm watches (pending more than an hour).
 */
export interface SweepDeps {
  orders: Pick<CieloOrders, 'get' | 'save' | 'pendingVerifications'>;
  verifications: { send(job: VerificationJob): Promise<void> };
  now: () => Date;
  requeueAfterMs: number;
}

export interface SweepOutcome {
  pending: number;
  requeued: number;
  /** Seconds since the oldest pending claim became pending (0 when none). */
  oldestPendingSeconds: number;
}

export async function sweepPendingVerifications(deps: SweepDeps, limit: number): Promise<SweepOutcome> {
  const now = deps.now();
  const pending = await deps.orders.pendingVerifications(limit);
  let requeued = 0;
  let oldest = now.getTime();
  for (const order of pending) {
    const since = Date.parse(order.verification.pendingSince ?? order.updatedAt);
    if (!Number.isNaN(since)) oldest = Math.min(oldest, since);
    let claimed = false;
    await updateOrder(deps.orders, order.integrationHubServiceId, order.id, (current) => {
      claimed = false;
      const queuedAt = current?.verification.queuedAt;
      if (!current || !needsVerification(current)) return undefined;
      if (queuedAt && now.getTime() - Date.parse(queuedAt) < deps.requeueAfterMs) return undefined;
      const next = structuredClone(current);
      next.verification.queuedAt = saoPauloIso(now);
      claimed = true;
      return next;
    });
    if (!claimed) continue;
    await deps.verifications.send({
      integrationHubServiceId: order.integrationHubServiceId,
      orderId: order.id,
      correlationId: randomUUID(),
    });
    requeued++;
  }
  return { pending: pending.length, requeued, oldestPendingSeconds: Math.round((now.getTime() - oldest) / 1000) };
}
