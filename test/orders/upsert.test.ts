import { describe, expect, it } from 'vitest';
import type { StoredOrder } from '../../functions/orders/order.ts';
import { pushTab, UNREAD_ANSWER_HOLD_MS, type TabDeps } from '../../functions/orders/upsert.ts';
import { orderRef, type PaymentRecord } from '../../functions/payments/record.ts';
import { ClientError } from '../../functions/shared/http.ts';
import { MemoryPaymentStore } from '../support/memory-payments.ts';
import { SEED_INTEGRATION } from '../support/runtime.ts';

/** pushTab with in-memory adapters: the tab's rules without DynamoDB. */
class MemoryOrders {
  readonly items = new Map<string, StoredOrder>();
  async put(order: StoredOrder, released?: string) {
    const current = this.items.get(order.pk);
    if (current?.lockedByPaymentId && current.lockedByPaymentId !== released) return undefined;
    this.items.set(order.pk, structuredClone(order));
    return current !== undefined;
  }
}

const ref = orderRef(SEED_INTEGRATION, 'TABLE', '7');
const body = {
  integrationHubServiceId: SEED_INTEGRATION,
  items: [{ sku: '058', name: 'Suco de uva', quantity: 2, unitPrice: 30.5, unit: 'UN' }],
  notes: 'Mesa 7',
};

function setup() {
  const payments = new MemoryPaymentStore();
  const orders = new MemoryOrders();
  const deps: TabDeps = { orders, payments, now: () => new Date('2026-11-29T15:00:00Z') };
  return { payments, orders, deps };
}

function payment(status: PaymentRecord['status'], result?: PaymentRecord['result']): PaymentRecord {
  return {
    pk: ref,
    paymentId: 'p-1',
    fingerprint: 'f',
    status,
    integrationHubServiceId: SEED_INTEGRATION,
    orderKeyType: 'TABLE',
    orderKey: '7',
    request: {} as PaymentRecord['request'],
    amounts: {} as PaymentRecord['amounts'],
    customerDocument: null,
    correlationId: 'c',
    createdAt: 'x',
    updatedAt: 'x',
    enqueueClaimedAtMs: 0,
    enqueueAttempts: 1,
    ...(result ? { result } : {}),
  };
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return { status: error.statusCode, errors: error.errors };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('pushTab', () => {
  it('stores the first tab (201) and replaces it whole on the next (200), in centavos and -03:00', async () => {
    const { deps, orders } = setup();
    const first = await pushTab('TABLE', '7', body, deps);
    expect(first).toMatchObject({ replaced: false, itemsTotal: 6100 });
    expect(orders.items.get(ref)).toEqual({
      pk: ref,
      integrationHubServiceId: SEED_INTEGRATION,
      orderKeyType: 'TABLE',
      orderKey: '7',
      items: [{ sku: '058', name: 'Suco de uva', quantity: 20000, unitPrice: 3050, unit: 'UN' }],
      notes: 'Mesa 7',
      source: 'POS',
      updatedAt: '2026-11-29T12:00:00.000-03:00',
    });
    expect((await pushTab('TABLE', '7', { ...body, notes: null }, deps)).replaced).toBe(true);
    expect(orders.items.get(ref)!.notes).toBeUndefined();
  });

  it('409 while a payment is in progress, naming it', async () => {
    const { deps, payments } = setup();
    await payments.create(payment('PROCESSING'));
    expect(await refusal(pushTab('TABLE', '7', body, deps))).toEqual({
      status: 409,
      errors: [
        {
          key: 'orderKey',
          message: 'path.orderKey TABLE 7 has a payment in progress (paymentId p-1); the order cannot change until it finishes',
        },
      ],
    });
  });

  it('409 while a finished payment holds the order (its NFC-e may exist at SEFAZ)', async () => {
    const { deps, payments } = setup();
    await payments.create(payment('DONE', { success: false, invoice: null, error: { code: 'SEFAZ_UNAVAILABLE', message: 'm' } }));
    expect((await refusal(pushTab('TABLE', '7', body, deps))).errors[0]!.message).toBe(
      'path.orderKey TABLE 7 has an NFC-e not yet confirmed by SEFAZ (paymentId p-1); the order cannot change until an operator settles it',
    );
  });

  it('a new tab archives the finished payment and frees the slot', async () => {
    const { deps, payments } = setup();
    await payments.create({ ...payment('DONE', { success: true, invoice: null, error: null }), answeredAt: 'read' });
    await pushTab('TABLE', '7', body, deps);
    expect(await payments.get(ref)).toBeUndefined();
    expect(await payments.getArchived('p-1')).toMatchObject({ status: 'DONE', pk: ref });
  });

  it('a finished payment whose answer no POS read keeps the tab for UNREAD_ANSWER_HOLD_MS, then lets it go', async () => {
    const { deps, payments } = setup();
    const finishedAt = '2026-11-29T11:59:00.000-03:00'; // a minute before deps.now()
    await payments.create({ ...payment('DONE', { success: true, invoice: null, error: null }), updatedAt: finishedAt });
    expect((await refusal(pushTab('TABLE', '7', body, deps))).errors[0]!.message).toBe(
      "path.orderKey TABLE 7 has a finished payment (paymentId p-1) whose answer no POS has read yet; repeat that payment's request first, or push the tab after 2026-11-29T12:01:00.000-03:00",
    );
    const later = { ...deps, now: () => new Date(Date.parse(finishedAt) + UNREAD_ANSWER_HOLD_MS) };
    expect((await pushTab('TABLE', '7', body, later)).replaced).toBe(false);
    expect(await payments.get(ref)).toBeUndefined();
  });

  it('409 when the issuer holds the tab (locked by a payment that is not the one released)', async () => {
    const { deps, orders } = setup();
    await pushTab('TABLE', '7', body, deps);
    orders.items.get(ref)!.lockedByPaymentId = 'p-9';
    expect((await refusal(pushTab('TABLE', '7', body, deps))).errors[0]!.message).toBe(
      'path.orderKey TABLE 7 has a payment being issued; the order cannot change until it finishes',
    );
  });
});
