import { describe, expect, it } from 'vitest';
import type { ApiOrder } from '../../functions/cielo/api.ts';
import { CIELO_CNPJ, lioPayment, startLioSale, type LioSaleDeps } from '../../functions/cielo/lio-sale.ts';
import { orderSnapshotSchema, parseNotification } from '../../functions/cielo/notification.ts';
import {
  applyNotification,
  emptyOrder,
  type CieloOrderState,
  type InvoiceLink,
  attentionOf,
} from '../../functions/cielo/order-state.ts';
import type { StoredOrder } from '../../functions/orders/order.ts';
import type { IntakeOutcome } from '../../functions/payments/intake.ts';
import type { PaymentRecord } from '../../functions/payments/record.ts';
import type { ValidPayment } from '../../functions/payments/request.ts';
import { saoPauloIso } from '../../functions/shared/time.ts';
import { MemoryCieloOrders } from '../support/memory-cielo.ts';

/**
 * An order paid at the LIO as an Order Mesa payment: its methods from the API's CONFIRMED
 * payments (integrated: Cielo's CNPJ and each cAut), its items as the tab, claimed once so one
 * NFC-e is issued whichever path pays the order.
 */

const INTEGRATION = 'efdd6093-5539-4ac4-ad84-7423a8078dde';
const ORDER = '943f2276-5e2b-44bb-a68a-fd9b6418afa4';
const NOW = new Date('2026-03-02T15:00:00.000Z');

const ITEMS = [
  { id: 'i-1', sku: '1', name: 'X-Salada', unit_price: 2500, quantity: 2, unit_of_measure: 'EACH' },
  { id: 'i-2', sku: '2', name: 'Suco de laranja', unit_price: 800, quantity: 1, unit_of_measure: 'LITRE' },
];

const payment = (
  id: string,
  amount: number,
  primary: string | null,
  brand: string | null,
  auth: string | null,
  extra: object = {},
) => ({
  id,
  status: 'CONFIRMED',
  transaction_type: 'PAYMENT',
  amount,
  authorization_code: auth,
  payment_fields: { primary_product_name: primary, secondary_product_name: 'A VISTA', number_of_quotas: 0 },
  card: { brand, mask: '************3026' },
  ...extra,
});

/** The API's order, read with the API client's schema. */
function apiOrder(transactions: object[], items: object[] = ITEMS, notes: string | null = 'Mesa 6'): ApiOrder {
  const o = orderSnapshotSchema.parse({
    id: ORDER,
    status: 'PAID',
    number: '17',
    notes,
    updated_at: '2026-03-02T14:59:00Z',
    items,
    transactions,
  });
  return { id: o.id, status: o.status, at: o.at, ...o.order };
}

/** The methods part of the expected request, with the common fields. */
const method = (value: number, kind: string, brand: string | null, methodInfo: string | null = null) => ({
  value,
  currency: 'BRL',
  type: 'ONLINE',
  method: kind,
  brand,
  methodInfo,
  changeFor: null,
});

function expectedPayment(
  methods: ReturnType<typeof method>[],
  amounts: { orderAmount: number; fees: number; total: number },
  cAut: (string | null)[],
): ValidPayment {
  return {
    request: {
      integrationHubServiceId: INTEGRATION,
      orderKeyType: 'ORDER_ID',
      orderKey: `CIELO-${ORDER}`,
      paymentObject: {
        printOrderAtPos: false,
        generateInvoice: true,
        printInvoiceAtPos: true,
        sendInvoiceEmail: false,
        summaryExtract: false,
        customerDocument: null,
        documentInReceipt: false,
        numberPersons: null,
        removeServiceFee: false,
        methods: methods as ValidPayment['request']['paymentObject']['methods'],
        orderAmount: amounts.orderAmount / 100,
        discounts: 0,
        fees: amounts.fees / 100,
        total: amounts.total / 100,
      },
    },
    amounts: {
      orderAmount: amounts.orderAmount,
      fees: amounts.fees,
      discounts: 0,
      total: amounts.total,
      methods: methods.map((m) => ({ value: Math.round(m.value * 100), changeFor: null, change: 0 })),
    },
    customer: null,
    integrated: { acquirerCnpj: '01027058000191', cAut },
  };
}

describe('lioPayment', () => {
  it("Cielo's CNPJ is 01.027.058/0001-91", () => {
    expect(CIELO_CNPJ).toBe('01027058000191');
  });

  it('takes the CONFIRMED payments as integrated methods: CREDITO, DEBITO, PIX; MASTER is MASTERCARD; what was paid above the items is fees', () => {
    const order = apiOrder([
      payment('t-1', 4000, 'CREDITO', 'MASTERCARD', 'A1'),
      payment('t-2', 1000, 'DEBITO', 'MASTER', 'A2'),
      payment('t-3', 1000, 'PIX', null, null, { payment_fields: { primary_product_name: 'PIX' } }),
      // Neither a pending payment nor one that did not go through is paid.
      payment('t-4', 9999, 'CREDITO', 'VISA', null, { status: 'PENDING' }),
      payment('t-5', 9999, 'CREDITO', 'VISA', null, { status: 'CANCELLED' }),
    ]);
    expect(lioPayment(INTEGRATION, order)).toEqual({
      payment: expectedPayment(
        [method(40, 'CREDIT', 'MASTERCARD'), method(10, 'DEBIT', 'MASTERCARD'), method(10, 'PIX', null)],
        { orderAmount: 5800, fees: 200, total: 6000 },
        ['A1', 'A2', null],
      ),
    });
  });

  it('paid exactly the items: no fees', () => {
    const order = apiOrder([payment('t-1', 5800, 'CREDITO', 'VISA', '008619')]);
    expect(lioPayment(INTEGRATION, order)).toEqual({
      payment: expectedPayment([method(58, 'CREDIT', 'VISA')], { orderAmount: 5800, fees: 0, total: 5800 }, ['008619']),
    });
  });

  it('an unknown brand is kept as methodInfo; vouchers and unknown products are mapped', () => {
    const order = apiOrder([
      payment('t-1', 2000, 'CREDITO', 'NOVABANDEIRA', 'A1'),
      payment('t-2', 1800, 'VOUCHER REFEICAO', 'TICKET', 'A2'),
      payment('t-3', 1000, 'VOUCHER ALIMENTACAO', 'SODEXO', 'A3'),
      payment('t-4', 1000, 'CREDIARIO', 'VISA', 'A4'),
    ]);
    expect(lioPayment(INTEGRATION, order)).toEqual({
      payment: expectedPayment(
        [
          method(20, 'CREDIT', null, 'NOVABANDEIRA'),
          method(18, 'MEAL_VOUCHER', 'TICKET'),
          method(10, 'FOOD_VOUCHER', 'SODEXO'),
          method(10, 'OTHER', null),
        ],
        { orderAmount: 5800, fees: 0, total: 5800 },
        ['A1', 'A2', 'A3', 'A4'],
      ),
    });
  });

  it('payments that do not cover the items are a problem', () => {
    expect(lioPayment(INTEGRATION, apiOrder([payment('t-1', 5000, 'CREDITO', 'VISA', 'A1')]))).toEqual({
      problems: ['the payments (R$ 50.00) do not cover the items (R$ 58.00)'],
    });
  });

  it('a cancellation at the LIO is a problem', () => {
    const order = apiOrder([
      payment('t-1', 5800, 'CREDITO', 'VISA', 'A1'),
      payment('t-2', 5800, 'CREDITO', 'VISA', 'A1', { transaction_type: 'CANCELLATION' }),
    ]);
    expect(lioPayment(INTEGRATION, order)).toEqual({
      problems: ['a payment of this order was cancelled at the LIO; its NFC-e must be issued by hand'],
    });
  });

  it('an order without items is a problem', () => {
    expect(lioPayment(INTEGRATION, apiOrder([payment('t-1', 5800, 'CREDITO', 'VISA', 'A1')], []))).toEqual({
      problems: ['the order has no items'],
    });
  });

  it('an order without a CONFIRMED payment is a problem', () => {
    expect(lioPayment(INTEGRATION, apiOrder([payment('t-1', 5800, 'CREDITO', 'VISA', null, { status: 'PENDING' })]))).toEqual({
      problems: ['the Order Manager API lists no CONFIRMED payment for this order'],
    });
  });

  it('more than 20 payments is a problem', () => {
    const many = Array.from({ length: 21 }, (_, i) => payment(`t-${i}`, 300, 'CREDITO', 'VISA', null));
    expect(lioPayment(INTEGRATION, apiOrder(many))).toEqual({
      problems: ['the order has 21 payments; an NFC-e takes at most 20'],
    });
  });
});

// ---------------------------------------------------------------------------------------------

function setup(invoice: InvoiceLink | null = null) {
  const orders = new MemoryCieloOrders();
  const body = JSON.stringify({ id: ORDER, status: 'PAID', notes: 'Mesa 6', updated_at: '2026-03-02T14:59:00Z', items: ITEMS });
  const parsed = parseNotification(body);
  if (parsed.kind === 'unreadable') throw new Error(parsed.reason);
  const state: CieloOrderState = {
    ...applyNotification(emptyOrder(INTEGRATION, ORDER, saoPauloIso(NOW)), parsed, 'n-1', NOW.toISOString()),
    invoice,
  };
  const tabs: { tab: StoredOrder; released: string | undefined }[] = [];
  const taken: { payment: ValidPayment; correlationId: string }[] = [];
  const deps: LioSaleDeps = {
    orders,
    tabs: {
      async put(tab, released) {
        tabs.push({ tab: structuredClone(tab), released });
        return true;
      },
    },
    async takePayment(p, correlationId): Promise<IntakeOutcome> {
      taken.push({ payment: structuredClone(p), correlationId });
      return { kind: 'accepted', record: { paymentId: 'pay-lio-1' } as PaymentRecord };
    },
    now: () => NOW,
  };
  return {
    orders,
    tabs,
    taken,
    deps,
    save: () => orders.save(state),
    stored: async () => (await orders.get(INTEGRATION, ORDER))!,
  };
}

const PAID_ORDER = apiOrder([payment('t-1', 4000, 'CREDITO', 'MASTERCARD', 'A1'), payment('t-2', 1800, 'DEBITO', 'VISA', 'A2')]);

const TAB: StoredOrder = {
  pk: `ORDER#${INTEGRATION}#ORDER_ID#CIELO-${ORDER}`,
  integrationHubServiceId: INTEGRATION,
  orderKeyType: 'ORDER_ID',
  orderKey: `CIELO-${ORDER}`,
  items: [
    { sku: '1', name: 'X-Salada', quantity: 20_000, unitPrice: 2500, unit: 'UN' },
    { sku: '2', name: 'Suco de laranja', quantity: 10_000, unitPrice: 800, unit: 'L' },
  ],
  notes: 'Mesa 6',
  source: 'CIELO',
  cieloOrderId: ORDER,
  updatedAt: saoPauloIso(NOW),
};

describe('startLioSale', () => {
  it('claims the order, stores its tab and hands the payment to the intake, once', async () => {
    const t = setup();
    await t.save();
    expect(await startLioSale(await t.stored(), PAID_ORDER, 'corr-1', t.deps)).toBe('queued');
    expect(t.tabs).toEqual([{ tab: TAB, released: undefined }]);
    const built = lioPayment(INTEGRATION, PAID_ORDER) as { payment: ValidPayment };
    expect(t.taken).toEqual([{ payment: built.payment, correlationId: 'corr-1' }]);
    expect(t.taken[0]!.payment.integrated).toEqual({ acquirerCnpj: '01027058000191', cAut: ['A1', 'A2'] });
    expect((await t.stored()).invoice).toEqual({ paymentId: 'pay-lio-1', via: 'LIO', status: 'ISSUING', key: null, error: null });
  });

  it('again with its claim in place (a retried job): the same request to the intake, the claim unchanged', async () => {
    const t = setup();
    await t.save();
    expect(await startLioSale(await t.stored(), PAID_ORDER, 'corr-1', t.deps)).toBe('queued');
    const claimed = (await t.stored()).invoice;
    expect(await startLioSale(await t.stored(), PAID_ORDER, 'corr-2', t.deps)).toBe('queued');
    expect(t.taken).toHaveLength(2);
    expect(t.taken[1]!.payment).toEqual(t.taken[0]!.payment);
    // The tab is rewritten under the lock of its own payment.
    expect(t.tabs.map((w) => w.released)).toEqual([undefined, 'pay-lio-1']);
    expect(t.tabs[1]!.tab).toEqual(TAB);
    expect((await t.stored()).invoice).toEqual(claimed);
  });

  for (const status of ['ISSUING', 'AUTHORIZED'] as const) {
    it(`an Order Mesa payment whose NFC-e is ${status} keeps the order: already invoiced, nothing taken`, async () => {
      const invoice: InvoiceLink = {
        paymentId: 'pos-pay-1',
        via: 'ORDER_MESA',
        status,
        key: status === 'AUTHORIZED' ? '35260301027058000191650010000000011000000011' : null,
        error: null,
      };
      const t = setup(invoice);
      await t.save();
      expect(await startLioSale(await t.stored(), PAID_ORDER, 'corr-1', t.deps)).toBe('already-invoiced');
      expect(t.taken).toEqual([]);
      expect(t.tabs).toEqual([]);
      expect((await t.stored()).invoice).toEqual(invoice);
    });
  }

  it('an Order Mesa payment that FAILED leaves the order to the LIO sale', async () => {
    const t = setup({ paymentId: 'pos-pay-1', via: 'ORDER_MESA', status: 'FAILED', key: null, error: 'ORDER_AMOUNT_MISMATCH' });
    await t.save();
    expect(await startLioSale(await t.stored(), PAID_ORDER, 'corr-1', t.deps)).toBe('queued');
    expect(t.taken).toHaveLength(1);
    expect(t.tabs).toEqual([{ tab: TAB, released: undefined }]);
    expect((await t.stored()).invoice).toEqual({ paymentId: 'pay-lio-1', via: 'LIO', status: 'ISSUING', key: null, error: null });
  });

  it('a LIO sale already authorized is not started again', async () => {
    const invoice: InvoiceLink = {
      paymentId: 'pay-lio-1',
      via: 'LIO',
      status: 'AUTHORIZED',
      key: '35260301027058000191650010000000011000000011',
      error: null,
    };
    const t = setup(invoice);
    await t.save();
    expect(await startLioSale(await t.stored(), PAID_ORDER, 'corr-1', t.deps)).toBe('already-invoiced');
    expect(t.taken).toEqual([]);
    expect((await t.stored()).invoice).toEqual(invoice);
  });

  it('an order that cannot be a payment fails its LIO sale with the reason, flagged for an operator', async () => {
    const t = setup();
    await t.save();
    const underpaid = apiOrder([payment('t-1', 5000, 'CREDITO', 'VISA', 'A1')]);
    expect(await startLioSale(await t.stored(), underpaid, 'corr-1', t.deps)).toBe('failed');
    expect(t.taken).toEqual([]);
    expect(t.tabs).toEqual([]);
    const stored = await t.stored();
    const error = 'the NFC-e of this LIO sale cannot be issued: the payments (R$ 50.00) do not cover the items (R$ 58.00)';
    expect(stored.invoice).toEqual({ paymentId: '', via: 'LIO', status: 'FAILED', key: null, error });
    expect(attentionOf(stored)).toEqual([`the NFC-e of this order failed: ${error}`]);
  });
});
