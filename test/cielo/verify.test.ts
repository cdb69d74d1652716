import { describe, expect, it } from 'vitest';
import { CieloRefused, CieloUnavailable, type ApiOrder, type OrderManagerApi } from '../../functions/cielo/api.ts';
import { CieloSetupProblem, DEFAULT_TABLE_RULE, type CieloCredentials, type CieloSetup } from '../../functions/cielo/config.ts';
import { startLioSale, type LioSaleOutcome } from '../../functions/cielo/lio-sale.ts';
import { orderSnapshotSchema } from '../../functions/cielo/notification.ts';
import { receiveNotification, type VerificationJob } from '../../functions/cielo/notify.ts';
import {
  attentionOf,
  needsVerification,
  pendingNfceCancellation,
  type CieloOrderState,
} from '../../functions/cielo/order-state.ts';
import { verifyOrder, type VerifyDeps } from '../../functions/cielo/verify.ts';
import type { IntakeOutcome } from '../../functions/payments/intake.ts';
import type { PaymentRecord } from '../../functions/payments/record.ts';
import type { ValidPayment } from '../../functions/payments/request.ts';
import { saoPauloIso } from '../../functions/shared/time.ts';
import { MemoryCieloOrders } from '../support/memory-cielo.ts';

/**
 * Trust, but verify: a claim of money (PAID or CLOSED, a CONFIRMED payment) is settled by what the
 * Order Manager API says — confirmed at or past it, contradicted (kept, flagged, not acted on)
 * otherwise — and an API that cannot answer leaves it pending, never accepted.
 */

const INTEGRATION = 'efdd6093-5539-4ac4-ad84-7423a8078dde';
const ORDER = '943f2276-5e2b-44bb-a68a-fd9b6418afa4';
const CREDENTIALS: CieloCredentials = { clientId: 'client-1', accessToken: 'token-1', merchantId: '0010225646149400' };
const PAID_AT = '2026-03-02T14:59:00Z';
const CLAIM = 'PAID@2026-03-02T14:59:00.000Z';

const ITEMS = [{ id: 'i-1', sku: '1', name: 'X-Salada', unit_price: 2500, quantity: 1, unit_of_measure: 'EACH' }];

const transaction = (fields: Record<string, unknown> = {}) => ({
  id: 't-1',
  status: 'CONFIRMED',
  transaction_type: 'PAYMENT',
  amount: 2500,
  terminal_number: '238232',
  number: '044976',
  authorization_code: '123562',
  payment_fields: { primary_product_name: 'CREDITO', secondary_product_name: 'A VISTA', number_of_quotas: 0 },
  card: { brand: 'VISA', mask: '424242******4242' },
  ...fields,
});

/** A status change body, the whole order as Cielo sends it. */
const statusBody = (status: string, at: string, transactions: object[] = []) =>
  JSON.stringify({ id: ORDER, status, number: '17', notes: 'Mesa 6', price: 2500, updated_at: at, items: ITEMS, transactions });

const transactionBody = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 't-1', order_id: ORDER, trasaction: { ...transaction(fields), amount: String(fields.amount ?? 2500) } });

/** The API's answer for the order, read with the same schema as the real client. */
function apiOrder(status: string, transactions: object[] = [], at = '2026-03-02T15:00:00Z'): ApiOrder {
  const o = orderSnapshotSchema.parse({
    id: ORDER,
    status,
    number: '17',
    notes: 'Mesa 6',
    price: 2500,
    updated_at: at,
    items: ITEMS,
    transactions,
  });
  return { id: o.id, status: o.status, at: o.at, ...o.order };
}

function setup(options: { invoiceWhenPaid?: boolean } = {}) {
  const orders = new MemoryCieloOrders();
  let clock = Date.parse('2026-03-02T15:00:00.000Z');
  const jobs: VerificationJob[] = [];
  const apiCalls: { credentials: CieloCredentials; orderId: string }[] = [];
  const sales: { state: CieloOrderState; order: ApiOrder; correlationId: string }[] = [];
  const logs: { message: string; extra?: object }[] = [];
  const cancellations: { chave: string; integrationHubServiceId: string; justification: string }[] = [];
  const setupOf: CieloSetup = {
    settings: { invoiceWhenPaid: options.invoiceWhenPaid ?? false, tableRule: DEFAULT_TABLE_RULE },
    credentials: CREDENTIALS,
  };
  const fake = {
    /** What the API does for the next calls. */
    api: async (): Promise<ApiOrder | undefined> => apiOrder('PAID'),
    config: async (): Promise<CieloSetup> => setupOf,
    startLioSale: async (state: CieloOrderState): Promise<LioSaleOutcome> => {
      // As the real one, the order is claimed for the LIO sale.
      await orders.save({ ...state, invoice: { paymentId: 'pay-1', via: 'LIO', status: 'ISSUING', key: null, error: null } });
      return 'queued';
    },
    /** The NFC-e cancellation's outcome (cancellation.ts' through verify.handler's adapter). */
    cancelNfce: async (): Promise<{ protocol: string } | { refused: string }> => ({ protocol: '135260000000042' }),
  };
  const deps: VerifyDeps = {
    orders,
    config: { load: async () => fake.config() },
    api: (credentials): OrderManagerApi => ({
      async getOrder(orderId) {
        apiCalls.push({ credentials, orderId });
        return fake.api();
      },
      async findOrders() {
        throw new Error('verification never searches orders');
      },
    }),
    startLioSale: async (state, order, correlationId) => {
      sales.push({ state: structuredClone(state), order, correlationId });
      return fake.startLioSale(state);
    },
    cancelNfce: async (request) => {
      cancellations.push(request);
      return fake.cancelNfce();
    },
    now: () => new Date(clock),
    log: { info: (message, extra) => logs.push({ message, extra }), warn: (message, extra) => logs.push({ message, extra }) },
  };
  const receive = async (body: string) => {
    await receiveNotification(INTEGRATION, Buffer.from(body), 'corr-1', {
      archive: { put: async () => undefined },
      orders,
      verifications: { send: async (job) => void jobs.push(job) },
      now: () => new Date(clock),
      requeueAfterMs: 15 * 60_000,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
  };
  const job: VerificationJob = { integrationHubServiceId: INTEGRATION, orderId: ORDER, correlationId: 'corr-verify' };
  return {
    orders,
    jobs,
    apiCalls,
    sales,
    logs,
    cancellations,
    fake,
    deps,
    receive,
    job,
    verify: () => verifyOrder(job, deps),
    stored: async () => (await orders.get(INTEGRATION, ORDER))!,
    advance: (ms: number) => (clock += ms),
    nowIso: () => saoPauloIso(new Date(clock)),
  };
}

/** An order notified ENTERED then PAID (no transaction): a PAID claim waiting for the API. */
async function paidClaim(options: { invoiceWhenPaid?: boolean } = {}) {
  const t = setup(options);
  await t.receive(statusBody('ENTERED', '2026-03-02T14:50:00Z'));
  await t.receive(statusBody('PAID', PAID_AT));
  const queuedAt = t.nowIso();
  t.advance(5_000);
  expect((await t.stored()).verification.state).toBe('PENDING');
  return { ...t, queuedAt };
}

describe('verifyOrder: a PAID claim', () => {
  it('the API saying PAID confirms it', async () => {
    const t = await paidClaim();
    expect(await t.verify()).toBe('confirmed');
    expect(t.apiCalls).toEqual([{ credentials: CREDENTIALS, orderId: ORDER }]);
    const state = await t.stored();
    expect(state.verification).toEqual({
      state: 'CONFIRMED',
      claim: 'PAID@2026-03-02T14:59:00.000Z',
      confirmedStatus: 'PAID',
      // The confirmed claim's own time: a RE-ENTERED after it makes the next PAID a new claim.
      confirmedAt: '2026-03-02T14:59:00.000Z',
      apiStatus: 'PAID',
      pendingSince: null,
      queuedAt: t.queuedAt,
      checkedAt: t.nowIso(),
      attempts: 1,
      lastError: null,
      contradictions: [],
    });
    expect(attentionOf(state)).toEqual([]);
    expect(needsVerification(state)).toBe(false);
    expect(state.updatedAt).toBe(t.nowIso());
    // Nothing left to verify, no invoice wanted: the next job does nothing.
    expect(await t.verify()).toBe('nothing-to-verify');
    expect(t.apiCalls).toHaveLength(1);
    expect(t.sales).toEqual([]);
  });

  it('the API saying CLOSED confirms it (at or past the claim)', async () => {
    const t = await paidClaim();
    t.fake.api = async () => apiOrder('CLOSED');
    expect(await t.verify()).toBe('confirmed');
    const { verification } = await t.stored();
    expect([verification.state, verification.confirmedStatus, verification.apiStatus]).toEqual(['CONFIRMED', 'CLOSED', 'CLOSED']);
    expect(verification.contradictions).toEqual([]);
  });

  it('the API saying ENTERED contradicts it: kept, flagged with both sides, no LIO sale', async () => {
    const t = await paidClaim({ invoiceWhenPaid: true });
    t.fake.api = async () => apiOrder('ENTERED');
    expect(await t.verify()).toBe('contradicted');
    const state = await t.stored();
    expect(state.status).toBe('PAID');
    expect(state.verification.state).toBe('CONTRADICTED');
    expect(state.verification.confirmedStatus).toBeNull();
    expect(state.verification.apiStatus).toBe('ENTERED');
    expect(state.verification.contradictions).toEqual([{ claim: CLAIM, claimed: 'PAID', api: 'ENTERED', checkedAt: t.nowIso() }]);
    expect(attentionOf(state)).toEqual([`the Order Manager API contradicts a claim (${CLAIM}): nothing was done with it`]);
    expect(t.sales).toEqual([]);
    expect(t.logs.map((l) => l.message)).toContain('Cielo claim contradicted by the Order Manager API; flagged, not acted on');
    // Not asked again: the contradicted claim is settled.
    expect(needsVerification(state)).toBe(false);
    expect(await t.verify()).toBe('nothing-to-verify');
    expect(t.apiCalls).toHaveLength(1);
  });

  for (const apiStatus of ['DRAFT', 'RE-ENTERED', 'CANCELED']) {
    it(`the API saying ${apiStatus} contradicts it`, async () => {
      const t = await paidClaim();
      t.fake.api = async () => apiOrder(apiStatus);
      expect(await t.verify()).toBe('contradicted');
      expect((await t.stored()).verification.contradictions).toEqual([
        { claim: CLAIM, claimed: 'PAID', api: apiStatus, checkedAt: t.nowIso() },
      ]);
    });
  }

  it('the API not knowing the order (404) contradicts it', async () => {
    const t = await paidClaim({ invoiceWhenPaid: true });
    t.fake.api = async () => undefined;
    expect(await t.verify()).toBe('contradicted');
    const { verification } = await t.stored();
    expect(verification.state).toBe('CONTRADICTED');
    expect(verification.apiStatus).toBeNull();
    expect(verification.contradictions).toEqual([
      { claim: CLAIM, claimed: 'PAID', api: 'no such order (404)', checkedAt: t.nowIso() },
    ]);
    expect(t.sales).toEqual([]);
  });

  it('a CLOSED claim is not confirmed by the API saying only PAID', async () => {
    const t = setup();
    await t.receive(statusBody('CLOSED', PAID_AT));
    t.fake.api = async () => apiOrder('PAID');
    expect(await t.verify()).toBe('contradicted');
    const { verification } = await t.stored();
    expect(verification.confirmedStatus).toBe('PAID');
    expect(verification.contradictions).toEqual([
      { claim: 'CLOSED@2026-03-02T14:59:00.000Z', claimed: 'CLOSED', api: 'PAID', checkedAt: t.nowIso() },
    ]);
  });
});

describe('verifyOrder: a CONFIRMED payment transaction', () => {
  /** An ENTERED order with one CONFIRMED PAYMENT of R$ 25,00 notified. */
  async function paymentClaim() {
    const t = setup();
    await t.receive(statusBody('ENTERED', '2026-03-02T14:50:00Z'));
    await t.receive(transactionBody({ authorization_code: 'FROM-NOTIFICATION' }));
    expect((await t.stored()).transactions[0]!.verification).toEqual({ state: 'PENDING', claim: 'CONFIRMED|PAYMENT|2500' });
    return t;
  }

  it('is confirmed when the API lists the same id, CONFIRMED, of the same amount; cAut comes from the API', async () => {
    const t = await paymentClaim();
    t.fake.api = async () => apiOrder('ENTERED', [transaction({ authorization_code: 'FROM-API' })]);
    expect(await t.verify()).toBe('confirmed');
    const state = await t.stored();
    expect(state.transactions[0]!.verification).toEqual({
      state: 'CONFIRMED',
      claim: 'CONFIRMED|PAYMENT|2500',
      authorization_code: 'FROM-API',
    });
    // The claim as notified is kept as it was.
    expect(state.transactions[0]!.authorization_code).toBe('FROM-NOTIFICATION');
    expect(state.verification.state).toBe('CONFIRMED');
    expect(state.verification.contradictions).toEqual([]);
  });

  const contradictions: [string, object[], string][] = [
    ['another amount', [transaction({ amount: 2400 })], 'CONFIRMED|PAYMENT|2400'],
    ['still PENDING', [transaction({ status: 'PENDING' })], 'PENDING|PAYMENT|2500'],
    ['a CANCELLATION', [transaction({ transaction_type: 'CANCELLATION' })], 'CONFIRMED|CANCELLATION|2500'],
    ['not at all', [transaction({ id: 't-other' })], 'not on the order'],
  ];
  for (const [name, listed, api] of contradictions) {
    it(`is contradicted when the API lists it ${name}`, async () => {
      const t = await paymentClaim();
      t.fake.api = async () => apiOrder('ENTERED', listed);
      expect(await t.verify()).toBe('contradicted');
      const state = await t.stored();
      expect(state.transactions[0]!.verification).toEqual({ state: 'CONTRADICTED', claim: 'CONFIRMED|PAYMENT|2500' });
      expect(state.verification.state).toBe('CONTRADICTED');
      expect(state.verification.contradictions).toEqual([
        { claim: 'transaction t-1', claimed: 'CONFIRMED|PAYMENT|2500', api, checkedAt: t.nowIso() },
      ]);
      expect(attentionOf(state)).toContain('transaction t-1 is contradicted by the Order Manager API');
    });
  }

  it('is contradicted when the API does not know the order', async () => {
    const t = await paymentClaim();
    t.fake.api = async () => undefined;
    expect(await t.verify()).toBe('contradicted');
    expect((await t.stored()).verification.contradictions).toEqual([
      { claim: 'transaction t-1', claimed: 'CONFIRMED|PAYMENT|2500', api: 'no such order (404)', checkedAt: t.nowIso() },
    ]);
  });
});

describe('verifyOrder: no verdict', () => {
  it('the API down rejects the job and leaves the claim PENDING; the API back confirms it, nothing lost', async () => {
    const t = await paidClaim({ invoiceWhenPaid: true });
    t.fake.api = async () => {
      throw new CieloUnavailable('the Order Manager API answered 503');
    };
    await expect(t.verify()).rejects.toBeInstanceOf(CieloUnavailable);
    let state = await t.stored();
    expect(state.verification).toMatchObject({
      state: 'PENDING',
      confirmedStatus: null,
      attempts: 1,
      lastError: 'the Order Manager API answered 503',
      checkedAt: t.nowIso(),
      contradictions: [],
    });
    expect(state.updatedAt).toBe(t.nowIso());
    expect(needsVerification(state)).toBe(true);
    expect(t.sales).toEqual([]);

    t.advance(30_000);
    await expect(t.verify()).rejects.toThrow('the Order Manager API answered 503');
    expect((await t.stored()).verification).toMatchObject({ state: 'PENDING', attempts: 2 });

    t.advance(60_000);
    t.fake.api = async () => apiOrder('PAID', [transaction()]);
    expect(await t.verify()).toBe('confirmed');
    state = await t.stored();
    expect(state.verification).toMatchObject({
      state: 'CONFIRMED',
      confirmedStatus: 'PAID',
      attempts: 3,
      lastError: null,
      pendingSince: null,
      checkedAt: t.nowIso(),
    });
    expect(t.sales).toHaveLength(1);
    expect(t.sales[0]!.order).toEqual(apiOrder('PAID', [transaction()]));
  });

  it('the API refusing the credentials is `refused`: the claim stays PENDING with the reason', async () => {
    const t = await paidClaim();
    t.fake.api = async () => {
      throw new CieloRefused(401, 'the Order Manager API refused /orders/x with 401');
    };
    expect(await t.verify()).toBe('refused');
    expect((await t.stored()).verification).toMatchObject({
      state: 'PENDING',
      attempts: 1,
      lastError: 'the Order Manager API refused /orders/x with 401',
      checkedAt: t.nowIso(),
    });
  });

  it('an integration without a usable Cielo setup is `not-configured`: the claim stays PENDING, the API is not called', async () => {
    const t = await paidClaim();
    t.fake.config = async () => {
      throw new CieloSetupProblem(`integration ${INTEGRATION} has no Cielo Order Manager credentials`);
    };
    expect(await t.verify()).toBe('not-configured');
    expect(t.apiCalls).toEqual([]);
    expect((await t.stored()).verification).toMatchObject({
      state: 'PENDING',
      attempts: 1,
      lastError: `integration ${INTEGRATION} has no Cielo Order Manager credentials`,
    });
  });

  it('an order never notified has nothing to verify', async () => {
    const t = setup();
    expect(await t.verify()).toBe('nothing-to-verify');
    expect(t.apiCalls).toEqual([]);
    expect(t.orders.items.size).toBe(0);
  });
});

describe('verifyOrder: orders paid at the LIO', () => {
  it('invoiceWhenPaid: a confirmed PAID starts the LIO sale once, with the API order; not again once the invoice is set', async () => {
    const t = await paidClaim({ invoiceWhenPaid: true });
    const answer = apiOrder('PAID', [transaction()]);
    t.fake.api = async () => answer;
    expect(await t.verify()).toBe('confirmed');
    expect(t.sales).toHaveLength(1);
    const sale = t.sales[0]!;
    expect(sale.order).toEqual(answer);
    expect(sale.correlationId).toBe('corr-verify');
    expect(sale.state.id).toBe(ORDER);
    expect(sale.state.invoice).toBeNull();
    expect(sale.state.verification.confirmedStatus).toBe('PAID');

    // The sale claimed the order (invoice set): later jobs and notifications start nothing.
    expect((await t.stored()).invoice).toMatchObject({ via: 'LIO', status: 'ISSUING' });
    expect(await t.verify()).toBe('nothing-to-verify');
    await t.receive(statusBody('CLOSED', '2026-03-02T15:10:00Z', [transaction()]));
    t.fake.api = async () => apiOrder('CLOSED', [transaction()]);
    expect(await t.verify()).toBe('confirmed');
    expect(t.sales).toHaveLength(1);
  });

  it('without invoiceWhenPaid a confirmed PAID starts nothing', async () => {
    const t = await paidClaim({ invoiceWhenPaid: false });
    expect(await t.verify()).toBe('confirmed');
    expect(t.sales).toEqual([]);
  });

  it('an order the POS already invoiced (Order Mesa) gets no LIO sale', async () => {
    const t = await paidClaim({ invoiceWhenPaid: true });
    const state = await t.stored();
    await t.orders.save({
      ...state,
      invoice: { paymentId: 'pos-pay', via: 'ORDER_MESA', status: 'AUTHORIZED', key: '3526'.padEnd(44, '0'), error: null },
    });
    expect(await t.verify()).toBe('confirmed');
    expect(t.sales).toEqual([]);
  });

  it('a LIO sale interrupted after claiming the order is started again by the retried job (the NFC-e is not lost)', async () => {
    const t = await paidClaim({ invoiceWhenPaid: true });
    t.fake.api = async () => apiOrder('PAID', [transaction()]);
    const taken: ValidPayment[] = [];
    let intakeDown = true;
    const lioDeps = {
      orders: t.orders,
      tabs: { put: async () => true },
      takePayment: async (payment: ValidPayment): Promise<IntakeOutcome> => {
        if (intakeDown) throw new Error('DynamoDB throttled the payment intake');
        taken.push(payment);
        return { kind: 'accepted', record: { paymentId: 'pay-lio-1' } as PaymentRecord };
      },
      now: () => new Date(),
    };
    t.fake.startLioSale = (state) => startLioSale(state, apiOrder('PAID', [transaction()]), 'corr-verify', lioDeps);

    // The first attempt claims the order, then the intake fails: the job fails and is retried.
    await expect(t.verify()).rejects.toThrow('DynamoDB throttled the payment intake');
    expect((await t.stored()).invoice).toEqual({ paymentId: '', via: 'LIO', status: 'ISSUING', key: null, error: null });

    intakeDown = false;
    await t.verify();
    expect(taken).toHaveLength(1);
    expect((await t.stored()).invoice).toEqual({ paymentId: 'pay-lio-1', via: 'LIO', status: 'ISSUING', key: null, error: null });
  });
});

describe('verifyOrder: flags stay', () => {
  it('a contradicted status claim stays flagged when a later check confirms a transaction', async () => {
    const t = await paidClaim();
    t.fake.api = async () => apiOrder('ENTERED');
    expect(await t.verify()).toBe('contradicted');

    // A partial payment at the LIO: the API confirms it, and still says ENTERED.
    await t.receive(transactionBody({ amount: 1000 }));
    t.fake.api = async () => apiOrder('ENTERED', [transaction({ amount: 1000 })]);
    expect(await t.verify()).toBe('confirmed');
    const state = await t.stored();
    expect(state.status).toBe('PAID');
    expect(state.transactions[0]!.verification.state).toBe('CONFIRMED');
    expect(state.verification.confirmedStatus).toBeNull();
    // The order still claims PAID, which the API contradicted: the flag must not be lost.
    expect(state.verification.state).toBe('CONTRADICTED');
    expect(attentionOf(state)).toEqual([`the Order Manager API contradicts a claim (${CLAIM}): nothing was done with it`]);
  });
});

describe('verifyOrder: paid again after a cancellation', () => {
  it('a PAID after RE-ENTERED is a new claim, verified again (not covered by the first confirmation)', async () => {
    const t = setup();
    await t.receive(statusBody('ENTERED', '2026-03-02T14:58:00Z'));
    await t.receive(statusBody('PAID', PAID_AT));
    t.fake.api = async () => apiOrder('PAID');
    expect(await t.verify()).toBe('confirmed');
    // The payment is cancelled on the LIO (RE-ENTERED), then the order is paid again.
    await t.receive(statusBody('RE-ENTERED', '2026-03-02T15:10:00Z'));
    expect(needsVerification(await t.stored())).toBe(false);
    await t.receive(statusBody('PAID', '2026-03-02T15:20:00Z'));
    const reclaimed = await t.stored();
    expect(needsVerification(reclaimed)).toBe(true);
    expect(reclaimed.verification).toMatchObject({ state: 'PENDING', claim: 'PAID@2026-03-02T15:20:00.000Z' });
    // The API still says RE-ENTERED: the new claim is contradicted, the first confirmation stands.
    t.fake.api = async () => apiOrder('RE-ENTERED');
    expect(await t.verify()).toBe('contradicted');
    expect((await t.stored()).verification).toMatchObject({
      state: 'CONTRADICTED',
      confirmedStatus: 'PAID',
      confirmedAt: '2026-03-02T14:59:00.000Z',
      contradictions: [{ claim: 'PAID@2026-03-02T15:20:00.000Z', claimed: 'PAID', api: 'RE-ENTERED' }],
    });
    // Once the API says PAID, it is confirmed as of the new claim.
    await t.receive(statusBody('CLOSED', '2026-03-02T15:30:00Z'));
    t.fake.api = async () => apiOrder('CLOSED');
    expect(await t.verify()).toBe('confirmed');
    expect((await t.stored()).verification).toMatchObject({
      state: 'CONFIRMED',
      confirmedStatus: 'CLOSED',
      confirmedAt: '2026-03-02T15:30:00.000Z',
    });
    expect(attentionOf(await t.stored())).toEqual([]);
  });
});

describe('verifyOrder: a sale Cielo cancelled after its NFC-e', () => {
  const KEY = '35260382373077000171650010000000421123456781';
  /** An order paid through Order Mesa (NFC-e authorized), then its payment cancelled at the LIO. */
  async function cancelledAfterInvoice() {
    const t = setup();
    await t.receive(statusBody('PAID', PAID_AT));
    t.fake.api = async () => apiOrder('PAID');
    expect(await t.verify()).toBe('confirmed');
    await t.deps.orders.save({
      ...(await t.stored()),
      invoice: { paymentId: 'pay-1', via: 'ORDER_MESA', status: 'AUTHORIZED', key: KEY, error: null },
    });
    await t.receive(transactionBody({ transaction_type: 'CANCELLATION' }));
    t.fake.api = async () => apiOrder('PAID', [transaction({ transaction_type: 'CANCELLATION' })]);
    return t;
  }

  it('cancels the NFC-e once the API confirms the cancellation; the order says CANCELLED and needs no one', async () => {
    const t = await cancelledAfterInvoice();
    // A claim until the API confirms it: nothing is cancelled on Cielo's word alone.
    expect(pendingNfceCancellation(await t.stored())).toBeUndefined();
    expect(await t.verify()).toBe('confirmed');
    expect(t.cancellations).toEqual([
      { chave: KEY, integrationHubServiceId: INTEGRATION, justification: 'Venda cancelada na Cielo LIO (transacao t-1)' },
    ]);
    const state = await t.stored();
    expect(state.invoice).toMatchObject({ status: 'CANCELLED', key: KEY, cancellation: { protocol: '135260000000042' } });
    expect(attentionOf(state)).toEqual([]);
    // Nothing more to do: a later job does not cancel again.
    expect(await t.verify()).toBe('nothing-to-verify');
    expect(t.cancellations).toHaveLength(1);
  });

  it('past the 30 minutes (or refused by SEFAZ): kept on the order for an operator, never tried again', async () => {
    const t = await cancelledAfterInvoice();
    t.fake.cancelNfce = async () => ({ refused: 'the 30 minutes to cancel NFC-e … ended' });
    expect(await t.verify()).toBe('confirmed');
    const state = await t.stored();
    expect(state.invoice).toMatchObject({
      status: 'AUTHORIZED',
      cancellation: { refused: 'the 30 minutes to cancel NFC-e … ended' },
    });
    expect(attentionOf(state)).toEqual([
      `NFCE_CANCELLATION: transaction t-1 cancelled the sale whose NFC-e ${KEY} was authorized; it could not be cancelled (the 30 minutes to cancel NFC-e … ended): cancel or handle it by hand`,
    ]);
    expect(await t.verify()).toBe('nothing-to-verify');
    expect(t.cancellations).toHaveLength(1);
  });

  it('SEFAZ away: the job fails (and is retried), the order unchanged; the retry cancels it', async () => {
    const t = await cancelledAfterInvoice();
    t.fake.cancelNfce = async () => {
      throw new Error('SEFAZ did not answer');
    };
    await expect(t.verify()).rejects.toThrow('SEFAZ did not answer');
    expect((await t.stored()).invoice).toMatchObject({ status: 'AUTHORIZED' });
    expect((await t.stored()).invoice!.cancellation).toBeUndefined();
    t.fake.cancelNfce = async () => ({ protocol: '135260000000043' });
    expect(await t.verify()).toBe('nfce-cancelled');
    expect((await t.stored()).invoice).toMatchObject({ status: 'CANCELLED', cancellation: { protocol: '135260000000043' } });
  });
});
