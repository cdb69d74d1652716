import { saoPauloIso } from '../shared/time.ts';
import { notificationId, parseNotification } from './notification.ts';
import {
  applyNotification,
  emptyOrder,
  needsVerification,
  pendingStatusClaim,
  verdictOf,
  type CieloOrderState,
} from './order-state.ts';
import { updateOrder, type CieloOrders } from './store.ts';

/**
 * A notification from Cielo's Order Manager, from the raw body to the stored order state. Cielo
 * retries a failed delivery every 15 minutes for 7 hours, then blocks the order, and stops
 * notifying a merchant with 80 % of its orders blocked (spec §2): so every body is archived and
 * answered 200 — one that cannot be read is flagged for an operator, since a retry would not
 * repair it — and only infrastructure failing (S3, DynamoDB) makes the delivery fail, to be
 * retried. The verification with Cielo's API goes through a queue; nothing here acts on money.
 */

/** The verification queue's message: which order to check with the Order Manager API. */
export interface VerificationJob {
  integrationHubServiceId: string;
  orderId: string;
  correlationId: string;
}

export interface NotifyDeps {
  /** The partner archive bucket: raw bodies as received. */
  archive: { put(key: string, body: Buffer, contentType: string): Promise<void> };
  orders: Pick<CieloOrders, 'get' | 'save' | 'recordUnreadable'>;
  verifications: { send(job: VerificationJob): Promise<void> };
  now: () => Date;
  /**
   * A claim queued longer ago than this is queued again by the next notification (its job may
   * have been lost); the sweep does the same for orders no notification touches.
   */
  requeueAfterMs: number;
  log: {
    info(message: string, extra?: object): void;
    warn(message: string, extra?: object): void;
    error(message: string, extra?: object): void;
  };
}

export type NotifyOutcome =
  | { kind: 'applied' | 'duplicate'; notificationId: string; orderId: string; verification: 'queued' | 'not-queued' }
  | { kind: 'unreadable'; notificationId: string; reason: string };

/** The archive's key for a body: by integration and São Paulo day, named by the body's SHA-256. */
export function archiveKey(integrationHubServiceId: string, id: string, at: Date): string {
  const day = saoPauloIso(at).slice(0, 10).replaceAll('-', '/');
  return `cielo/notifications/${integrationHubServiceId}/${day}/${id}.json`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** DynamoDB items stop at 400 KB; the index attributes and the encoding take their share. */
export const MAX_RECORD_BYTES = 350_000;
const recordBytes = (state: CieloOrderState) => Buffer.byteLength(JSON.stringify(state));

/**
 * Archives, parses and applies one notification. Throws only when the archive or the order table
 * cannot be written (the delivery must then fail, so Cielo retries it); the verification job
 * failing to send is logged and left to the sweep.
 */
export async function receiveNotification(
  integrationHubServiceId: string,
  raw: Buffer,
  correlationId: string,
  deps: NotifyDeps,
): Promise<NotifyOutcome> {
  const id = notificationId(raw);
  const now = deps.now();
  const receivedAt = saoPauloIso(now);
  const key = archiveKey(integrationHubServiceId, id, now);
  let text: string | undefined;
  try {
    text = utf8.decode(raw);
  } catch {
    text = undefined;
  }
  const notification = text === undefined ? ({ kind: 'unreadable', reason: 'not UTF-8 text' } as const) : parseNotification(text);

  if (notification.kind === 'unreadable') {
    await deps.archive.put(key, raw, 'application/octet-stream');
    await deps.orders.recordUnreadable({
      integrationHubServiceId,
      notificationId: id,
      reason: notification.reason,
      archiveKey: key,
      receivedAt,
    });
    deps.log.warn('Cielo notification could not be read; archived and flagged for an operator', {
      notificationId: id,
      reason: notification.reason,
    });
    return { kind: 'unreadable', notificationId: id, reason: notification.reason };
  }

  let duplicate = false;
  let queue = false;
  let tooLarge = false;
  const apply = async () =>
    updateOrder(deps.orders, integrationHubServiceId, notification.orderId, (current) => {
      duplicate = current?.notificationIds.includes(id) ?? false;
      queue = false;
      tooLarge = false;
      const base = current ?? emptyOrder(integrationHubServiceId, notification.orderId, receivedAt);
      const next = duplicate ? structuredClone(base) : applyNotification(base, notification, id, new Date(now).toISOString());
      queue = markForVerification(next, now, deps.requeueAfterMs);
      if (duplicate && !queue) return undefined;
      next.updatedAt = receivedAt;
      if (recordBytes(next) > MAX_RECORD_BYTES) {
        // The items go first (the archive keeps them); an order still too large is not kept at all.
        next.itemsOmitted = next.items.length;
        next.items = [];
        if (recordBytes(next) > MAX_RECORD_BYTES) {
          tooLarge = true;
          return undefined;
        }
      }
      return next;
    });
  // Both before the 200: the body kept as received, the state durable.
  await Promise.all([deps.archive.put(key, raw, 'application/json'), apply()]);
  if (tooLarge) {
    const reason = `order ${notification.orderId} is too large to keep (over ${MAX_RECORD_BYTES / 1000} KB without its items)`;
    await deps.orders.recordUnreadable({ integrationHubServiceId, notificationId: id, reason, archiveKey: key, receivedAt });
    deps.log.warn('Cielo notification archived but its order is too large to keep; flagged for an operator', {
      notificationId: id,
    });
    return { kind: 'unreadable', notificationId: id, reason };
  }

  let verification: 'queued' | 'not-queued' = 'not-queued';
  if (queue) {
    try {
      await deps.verifications.send({ integrationHubServiceId, orderId: notification.orderId, correlationId });
      verification = 'queued';
    } catch (error) {
      // The order says PENDING since `queuedAt`: the sweep queues it again after requeueAfterMs.
      deps.log.error('verification job could not be queued; the sweep re-queues it', {
        orderId: notification.orderId,
        error: error as Error,
      });
    }
  }
  deps.log.info('Cielo notification applied', {
    notificationId: id,
    orderId: notification.orderId,
    kind: notification.kind,
    duplicate,
    verification,
  });
  return { kind: duplicate ? 'duplicate' : 'applied', notificationId: id, orderId: notification.orderId, verification };
}

/**
 * Verification bookkeeping after a change: a claim waiting for the API makes the order PENDING
 * (since now, unless it already was) and asks for a job when none was queued lately. A state
 * whose claims were all settled or withdrawn (RE-ENTERED after PAID) returns to its verdict.
 * Returns whether a job must be sent; changes `state`.
 */
export function markForVerification(state: CieloOrderState, now: Date, requeueAfterMs: number): boolean {
  const v = state.verification;
  const at = saoPauloIso(now);
  if (!needsVerification(state)) {
    if (v.state === 'PENDING') {
      v.state = verdictOf(state);
      v.pendingSince = null;
    }
    return false;
  }
  v.claim = pendingStatusClaim(state) ?? v.claim;
  if (v.state !== 'PENDING') {
    v.state = 'PENDING';
    v.pendingSince = at;
    v.queuedAt = null;
  }
  const stale = v.queuedAt === null || now.getTime() - Date.parse(v.queuedAt) >= requeueAfterMs;
  if (stale) v.queuedAt = at;
  return stale;
}
