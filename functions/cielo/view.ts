import { attentionOf, type CieloOrderState } from './order-state.ts';

/**
 * A Cielo order as the API shows it: `{id, number, reference, notes, status, previousStatus,
 * price, remaining, items, transactions, history, verification, invoice}` plus `source` and
 * `attention`; money in centavos, Cielo's field names in items and transactions.
 */
export function orderView(order: CieloOrderState) {
  const { verification, invoice } = order;
  return {
    id: order.id,
    number: order.number,
    reference: order.reference,
    notes: order.notes,
    status: order.status,
    previousStatus: order.previousStatus,
    price: order.price,
    remaining: order.remaining,
    items: order.items,
    transactions: order.transactions,
    history: order.history,
    verification: {
      state: verification.state,
      claim: verification.claim,
      confirmedStatus: verification.confirmedStatus,
      apiStatus: verification.apiStatus,
      pendingSince: verification.pendingSince,
      checkedAt: verification.checkedAt,
      attempts: verification.attempts,
      lastError: verification.lastError,
      contradictions: verification.contradictions,
    },
    invoice: invoice
      ? {
          key: invoice.key,
          status: invoice.status,
          via: invoice.via,
          error: invoice.error,
          ...(invoice.cancellation ? { cancellation: invoice.cancellation } : {}),
        }
      : null,
    source: order.source,
    attention: attentionOf(order),
    updatedAt: order.updatedAt,
  };
}
