import { itemTotal } from '../nfce/document.ts';
import { holdsOrder, orderRef } from '../payments/record.ts';
import type { PaymentStore } from '../payments/store.ts';
import { ClientError } from '../shared/http.ts';
import { saoPauloIso } from '../shared/time.ts';
import { toOrderItems, type OrderBody, type OrderStore, type StoredOrder } from './order.ts';

/**
 * PUT /orders/{orderKeyType}/{orderKey}: the POS pushes an order's whole tab. A new tab replaces
 * the old one and archives the order's finished payments, so the next payment starts afresh; it is
 * refused (409) while a payment is in flight or holds the order (an NFC-e whose fate at SEFAZ is
 * unknown), and while the issuer reads the tab.
 */
export interface TabDeps {
  orders: Pick<OrderStore, 'put'>;
  payments: Pick<PaymentStore, 'get' | 'release'>;
  now: () => Date;
}

export interface PushedTab {
  /** True when the order had a tab before (200), false for its first (201). */
  replaced: boolean;
  order: StoredOrder;
  /** Σ items, centavos. */
  itemsTotal: number;
}

/**
 * How long a finished payment whose answer no POS has read yet keeps its tab from being replaced:
 * long enough for a polling POS (it polls every second), short enough that a POS that died does
 * not block the table for long.
 */
export const UNREAD_ANSWER_HOLD_MS = 2 * 60_000;

/** Stores the tab; throws ClientError 409 (key `orderKey`, naming the payment) when it may not change. */
export async function pushTab(
  orderKeyType: StoredOrder['orderKeyType'],
  orderKey: string,
  body: OrderBody,
  deps: TabDeps,
): Promise<PushedTab> {
  const ref = orderRef(body.integrationHubServiceId, orderKeyType, orderKey);
  const refuse = (why: string) =>
    new ClientError(409, [{ key: 'orderKey', message: `path.orderKey ${orderKeyType} ${orderKey} ${why}` }]);

  const payment = await deps.payments.get(ref);
  if (payment && holdsOrder(payment)) {
    throw refuse(
      payment.status === 'DONE'
        ? `has an NFC-e not yet confirmed by SEFAZ (paymentId ${payment.paymentId}); the order cannot change until an operator settles it`
        : `has a payment in progress (paymentId ${payment.paymentId}); the order cannot change until it finishes`,
    );
  }
  if (payment && !payment.answeredAt && deps.now().getTime() - Date.parse(payment.updatedAt) < UNREAD_ANSWER_HOLD_MS) {
    const until = saoPauloIso(new Date(Date.parse(payment.updatedAt) + UNREAD_ANSWER_HOLD_MS));
    throw refuse(
      `has a finished payment (paymentId ${payment.paymentId}) whose answer no POS has read yet; repeat that payment's request first, or push the tab after ${until}`,
    );
  }
  if (payment && !(await deps.payments.release(payment))) throw refuse('has a new payment in progress; retry');

  const notes = body.notes || undefined;
  const order: StoredOrder = {
    pk: ref,
    integrationHubServiceId: body.integrationHubServiceId,
    orderKeyType,
    orderKey,
    items: toOrderItems(body),
    ...(notes ? { notes } : {}),
    source: 'POS',
    updatedAt: saoPauloIso(deps.now()),
  };
  const replaced = await deps.orders.put(order, payment?.paymentId);
  if (replaced === undefined) throw refuse('has a payment being issued; the order cannot change until it finishes');
  return { replaced, order, itemsTotal: order.items.reduce((sum, item) => sum + itemTotal(item), 0) };
}
