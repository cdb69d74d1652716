import { existsSync } from 'node:fs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { archiveKey } from '../../functions/cielo/notify.ts';
import { applyNotification, emptyOrder, type CieloOrderState } from '../../functions/cielo/order-state.ts';
import { notificationId, parseNotification } from '../../functions/cielo/notification.ts';
import { CIELO_PARTNER } from '../../functions/cielo/partner.ts';
import { envName } from '../../lib/manifest.ts';
import { provisionCielo } from '../../lib/local/cielo.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { provisionDemoFiscal, SCHEMAS } from '../support/nfce.ts';
import { schemasMissing, xsdFailures } from '../support/xsd.ts';
import { issueToken, pollUntilFinished, post, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * Cielo LIO against the whole local stack: the Cielo simulator's notifier POSTs to the real
 * webhook route, the verifier consumes its queue and calls the simulator's Order Manager API, the
 * issuer authorizes at the SEFAZ simulator. The simulator's clock is in the test's hands (one
 * second between the LIO's steps, so each status has its own `updated_at`).
 */
let stack: LocalRuntime;
let token: string;
let admin: string;
let secret: string;
const credentials = { clientId: 'client-test', accessToken: 'token-test', merchantId: 'merchant-test' };

beforeAll(async () => {
  stack = await startTestRuntime({
    ...(existsSync(SCHEMAS) ? { schemasDir: SCHEMAS } : {}),
    cielo: { clock: 'manual', merchants: [credentials] },
    // The handlers are under test here, not the partner routes' throttle (its own tests cover it).
    partnerRateLimitPerSecond: 1e6,
    partnerBurstLimit: 1e6,
    env: { RETRY_BASE_SECONDS: '0.2', SEFAZ_TIMEOUT_SECONDS: '2', CIELO_RETRY_BASE_SECONDS: '0.2', CIELO_TIMEOUT_SECONDS: '2' },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
  const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  admin = await integrations.issueAdminToken('ops');
  secret = await integrations.issuePartnerSecret(await integrations.ensure(SEED_INTEGRATION, 'test'), CIELO_PARTNER);
  await provisionDemoFiscal(stack, SEED_INTEGRATION);
  await provisionCielo(stack.documents, stack.env, {
    integrationHubServiceId: SEED_INTEGRATION,
    credentials,
    settings: { invoiceWhenPaid: true },
  });
  stack.cielo.control.registerWebhook(credentials.merchantId, `${stack.baseUrl}/cielo/notifications/${secret}`);
});
afterAll(() => stack?.close());

/** Calls the Order Manager API as the POS's own system would. */
async function cieloApi(method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.partnerUrls.cielo}${path}`, {
    method,
    headers: {
      'Client-Id': credentials.clientId,
      'Access-Token': credentials.accessToken,
      'Merchant-Id': credentials.merchantId,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const ITEMS = [
  { sku: '0000001', name: 'Suco Detox', unit_price: 800, quantity: 1, unit_of_measure: 'EACH' },
  { sku: '0000010', name: 'Suco de Uva', unit_price: 450, quantity: 5, unit_of_measure: 'EACH' },
  { sku: '0000100', name: 'Agua mineral', unit_price: 250, quantity: 2, unit_of_measure: 'LITRE' },
];
const PRICE = 800 + 450 * 5 + 250 * 2;
let orders = 0;

/** A DRAFT order, then placed (ENTERED): the LIO shows it. One second of Cielo time per step. */
async function placedOrder(notes: string, items = ITEMS): Promise<string> {
  const n = ++orders;
  const { id } = await cieloApi('POST', '/orders', {
    number: `N${n}-${Date.now()}`,
    reference: `REF ${n}`,
    status: 'DRAFT',
    notes,
    items,
    price: items.reduce((sum, i) => sum + i.unit_price * i.quantity, 0),
  });
  await stack.cielo.control.advance(1000);
  await cieloApi('PUT', `/orders/${id}?operation=place`);
  await stack.cielo.control.advance(1000);
  return id as string;
}

/** The LIO takes the payment (PAID), then the POS closes the order (CLOSED). */
async function paidAndClosed(id: string, authorizationCode: string): Promise<string> {
  const transactionId = stack.cielo.control.lioPays(id, { authorizationCode, brand: 'MASTERCARD', primaryProductName: 'DEBITO' });
  await stack.cielo.control.advance(1000);
  await cieloApi('PUT', `/orders/${id}?operation=close`);
  await stack.cielo.control.advance(1000);
  return transactionId;
}

const getOrder = (id: string, bearer = token) => send(stack, 'GET', `/cielo/orders/${id}`, undefined, bearer);

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value).slice(0, 600)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const order = async (id: string) => (await getOrder(id)).body;

/** Payments in the payments table for a LIO sale's slot (`ORDER_ID CIELO-<id>`), archived ones included. */
async function lioPayments(id: string) {
  const { Items = [] } = await stack.documents.send(new ScanCommand({ TableName: stack.env[envName.table('payments')]! }));
  return Items.filter((item) => item.orderKey === `CIELO-${id}`);
}

describe('an order placed, paid and closed at the LIO', () => {
  it('keeps status, previous status and history, verifies the payment with the API, and gets exactly one NFC-e', async () => {
    const id = await placedOrder('Mesa 7');
    const transactionId = await paidAndClosed(id, '123562');

    const settled = await waitFor(
      () => order(id),
      (o) => o.invoice?.status === 'AUTHORIZED',
      'the LIO sale NFC-e',
    );
    expect(settled).toMatchObject({
      id,
      notes: 'Mesa 7',
      status: 'CLOSED',
      previousStatus: 'PAID',
      price: PRICE,
      remaining: 0,
      source: 'NOTIFICATIONS',
      verification: { state: 'CONFIRMED', confirmedStatus: 'CLOSED', apiStatus: 'CLOSED', contradictions: [] },
      invoice: { status: 'AUTHORIZED', via: 'LIO', error: null },
      attention: [],
    });
    expect(settled.history.map((h: { status: string }) => h.status)).toEqual(['DRAFT', 'ENTERED', 'PAID', 'CLOSED']);
    const times = settled.history.map((h: { updatedAt: string }) => h.updatedAt);
    expect([...times].sort()).toEqual(times);
    expect(new Set(times).size).toBe(4);
    expect(settled.items).toEqual(ITEMS.map((i) => ({ id: expect.any(String), description: null, details: null, ...i })));
    expect(settled.transactions).toEqual([
      expect.objectContaining({
        id: transactionId,
        status: 'CONFIRMED',
        transaction_type: 'PAYMENT',
        amount: PRICE,
        authorization_code: '123562',
        card: { brand: 'MASTERCARD', mask: expect.stringMatching(/^\*{12}\d{4}$/) },
        payment_fields: expect.objectContaining({ primary_product_name: 'DEBITO' }),
        verification: { state: 'CONFIRMED', claim: `CONFIRMED|PAYMENT|${PRICE}`, authorization_code: '123562' },
      }),
    ]);

    // One sale, one NFC-e: however many notifications and verifications, one payment for the slot.
    // The Cielo order says AUTHORIZED just before the payment's own result is written.
    const payments = await waitFor(
      () => lioPayments(id),
      (p) => p[0]?.status === 'DONE',
      'the LIO sale finished',
    );
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ status: 'DONE', result: { success: true, invoice: { chave: settled.invoice.key } } });

    const receipt = await send(stack, 'GET', `/invoices/${settled.invoice.key}/receipt`, undefined, token);
    expect(receipt.status).toBe(200);
    expect(receipt.body).toContain('Suco de Uva');
    const xml = await send(stack, 'GET', `/invoices/${settled.invoice.key}`, undefined, token);
    expect(xml.status).toBe(200);
    // Integrated payment: Cielo's CNPJ and the verified authorization code; debit (04), Mastercard (02).
    expect(xml.body).toContain(
      `<detPag><indPag>0</indPag><tPag>04</tPag><vPag>${(PRICE / 100).toFixed(2)}</vPag><card><tpIntegra>1</tpIntegra><CNPJ>01027058000191</CNPJ><tBand>02</tBand><cAut>123562</cAut></card></detPag>`,
    );
    expect(xml.body.match(/<det nItem=/g)).toHaveLength(3);
    const noSchemas = schemasMissing();
    if (noSchemas) console.warn(`skipping the XSD check of the LIO sale's NFC-e: ${noSchemas}`);
    else expect(xsdFailures('procNFe_v4.00.xsd', { nfeProc: xml.body })).toEqual([]);

    // A later notification of the same order (Cielo retrying) changes nothing and issues nothing.
    stack.cielo.control.setStatus(id, 'CLOSED');
    await stack.cielo.control.advance(0);
    expect(await lioPayments(id)).toHaveLength(1);
  });

  it('archives each raw body in S3 before answering', async () => {
    const id = await placedOrder('Mesa 70');
    const delivered = stack.cielo.control.deliveries().filter((d) => d.orderId === id);
    expect(delivered.map((d) => d.status)).toEqual([200, 200]);
    for (const d of delivered) {
      const key = archiveKey(SEED_INTEGRATION, notificationId(Buffer.from(d.body)), new Date());
      const object = await stack.clients.s3.send(
        new GetObjectCommand({ Bucket: stack.env[envName.bucket('partnerArchive')]!, Key: key }),
      );
      expect(await object.Body!.transformToString()).toBe(d.body);
    }
  });
});

describe('a sale cancelled at the LIO after its NFC-e', () => {
  it('records the CANCELLATION and, once the API confirms it, cancels the NFC-e (110111); the order is payable again', async () => {
    const id = await placedOrder('Mesa 75');
    const payment = stack.cielo.control.lioPays(id, { authorizationCode: '424242' });
    await stack.cielo.control.advance(1000);
    const invoiced = await waitFor(
      () => order(id),
      (o) => o.invoice?.status === 'AUTHORIZED',
      'the LIO sale NFC-e',
    );
    const cancellation = stack.cielo.control.lioCancels(id, payment);
    await stack.cielo.control.advance(1000);
    const cancelled = await waitFor(
      () => order(id),
      (o) => o.invoice?.status === 'CANCELLED',
      'the NFC-e cancelled',
    );
    expect(cancelled).toMatchObject({
      status: 'RE-ENTERED',
      previousStatus: 'PAID',
      invoice: {
        key: invoiced.invoice.key,
        status: 'CANCELLED',
        via: 'LIO',
        cancellation: { protocol: expect.stringMatching(/^\d{15}$/) },
      },
      attention: [],
    });
    const nfce = await send(stack, 'GET', `/invoices/${invoiced.invoice.key}/cancellation`, undefined, token);
    expect(nfce.headers.get('invoice-status')).toBe('CANCELLED');
    expect(nfce.body).toContain(`<xJust>Venda cancelada na Cielo LIO (transacao ${cancellation})</xJust>`);
    expect(cancelled.transactions.find((t: { id: string }) => t.id === cancellation)).toMatchObject({
      transaction_type: 'CANCELLATION',
      status: 'CONFIRMED',
      amount: PRICE,
      // A cancellation moves money too: the flag stands only once the API confirmed it.
      verification: { state: 'CONFIRMED' },
    });
    // Nothing left for an operator.
    const listed = await send(stack, 'GET', '/admin/cielo/attention', undefined, admin);
    expect(listed.body.attention.find((a: { order?: { id: string } }) => a.order?.id === id)).toBeUndefined();
    expect(await lioPayments(id)).toHaveLength(1);
  });
});

describe('notifications delivered three times, shuffled', () => {
  it('leave the same state and history as delivered once in order', async () => {
    stack.cielo.control.hold(true);
    const id = await placedOrder('Mesa 71');
    await paidAndClosed(id, '777001');
    stack.cielo.control.hold(false);
    const held = stack.cielo.control.held().filter((h) => h.orderId === id);
    expect(held.map((h) => h.kind)).toEqual(['status', 'status', 'transaction', 'status', 'status']);

    // What applying them once, in order, gives (the same pure merge, in process).
    let expected: CieloOrderState = emptyOrder(SEED_INTEGRATION, id, 'x');
    for (const h of held) {
      const parsed = parseNotification(h.body);
      if (parsed.kind === 'unreadable') throw new Error(parsed.reason);
      expected = applyNotification(expected, parsed, notificationId(Buffer.from(h.body)), 'x');
    }

    const released = await stack.cielo.control.release({ duplicates: 3, shuffle: 20261130 });
    expect(released).toEqual({ delivered: 15, failed: 0 });
    const kept = await waitFor(
      () => order(id),
      (o) => o.invoice?.status === 'AUTHORIZED',
      'the shuffled order settles',
    );
    expect({
      status: kept.status,
      previousStatus: kept.previousStatus,
      history: kept.history,
      items: kept.items,
      price: kept.price,
    }).toEqual({
      status: expected.status,
      previousStatus: expected.previousStatus,
      history: expected.history,
      items: expected.items,
      price: expected.price,
    });
    expect(kept.history.map((h: { status: string }) => h.status)).toEqual(['DRAFT', 'ENTERED', 'PAID', 'CLOSED']);
    expect(kept.transactions.map(({ verification: _, ...t }: { verification: unknown }) => t)).toEqual(
      expected.transactions.map(({ verification: _, ...t }) => t),
    );
    expect(await lioPayments(id)).toHaveLength(1);
  });
});

describe('forged notifications', () => {
  it('a wrong secret gets 401 and stores nothing', async () => {
    const body = JSON.stringify({
      id: 'forged-1',
      status: 'PAID',
      updated_at: '2026-11-30T10:00:00Z',
      items: [],
      transactions: [],
    });
    const answer = await send(stack, 'POST', `/cielo/notifications/ps_not-a-real-secret`, body);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ errors: [{ key: 'secret', message: 'missing or unknown partner secret' }] });
    expect((await getOrder('forged-1')).status).toBe(404);
  });

  it('a PAID claim the API contradicts (it says ENTERED) is kept, flagged, and touches no money or fiscal document', async () => {
    const id = await placedOrder('Mesa 72');
    const claim = await cieloApi('GET', `/orders/${id}`);
    const forged = JSON.stringify({ ...claim, status: 'PAID', updated_at: '2099-01-01T00:00:00Z' });
    expect((await post(stack, `/cielo/notifications/${secret}`, forged)).status).toBe(200);

    const flagged = await waitFor(
      () => order(id),
      (o) => o.verification.state === 'CONTRADICTED',
      'the contradiction',
    );
    expect(flagged).toMatchObject({
      status: 'PAID',
      previousStatus: 'ENTERED',
      invoice: null,
      verification: {
        confirmedStatus: null,
        apiStatus: 'ENTERED',
        contradictions: [{ claim: 'PAID@2099-01-01T00:00:00.000Z', claimed: 'PAID', api: 'ENTERED' }],
      },
    });
    expect(flagged.attention).toEqual([expect.stringContaining('contradicts a claim (PAID@2099-01-01T00:00:00.000Z)')]);
    expect(await lioPayments(id)).toEqual([]);
    const listed = await send(stack, 'GET', '/admin/cielo/attention', undefined, admin);
    expect(listed.status).toBe(200);
    expect(listed.body.attention.map((a: { order?: { id: string } }) => a.order?.id)).toContain(id);
    // POS tokens cannot read the operators' list; nor can other integrations read the order.
    expect((await send(stack, 'GET', '/admin/cielo/attention', undefined, token)).status).toBe(403);
  });

  it('other integrations get 404 for the order', async () => {
    const id = await placedOrder('Mesa 73');
    const other = await issueToken(stack, '3f1b6c2e-8d4a-4e7b-9c1d-2a5e6f708192');
    expect((await getOrder(id, other)).status).toBe(404);
    expect((await getOrder(id)).status).toBe(200);
  });
});

describe('bodies Cielo should not send', () => {
  it('are archived, answered 200 and flagged for an operator; PUT works like POST', async () => {
    for (const body of ['{"id": 0101010101}', 'not json at all', '[]']) {
      const answer = await send(stack, 'POST', `/cielo/notifications/${secret}`, body, undefined, {
        'content-type': 'text/plain',
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ received: true, outcome: 'unreadable' });
    }
    const listed = await send(stack, 'GET', '/admin/cielo/attention', undefined, admin);
    expect(
      listed.body.attention.filter((a: { kind: string }) => a.kind === 'unreadable').map((a: { reason: string }) => a.reason),
    ).toEqual(expect.arrayContaining([expect.stringContaining('not JSON'), 'not a JSON object']));
    const put = await send(
      stack,
      'PUT',
      `/cielo/notifications/${secret}`,
      '{"id":"put-1","order_id":"put-order","type":"STATUS_CHANGED","status":{"old":"ENTERED","new_status":"RE_ENTERED"}}',
    );
    expect(put.status).toBe(200);
    expect(await order('put-order')).toMatchObject({ status: 'RE-ENTERED', previousStatus: 'ENTERED' });
  });
});

describe('generated bodies through the local gateway', () => {
  it('300 of them: each answered 200 (applied or flagged), never a 5xx', async () => {
    const status = fixture('cielo/status-change.json') as Record<string, unknown>;
    const transaction = fixture('cielo/transaction.json') as Record<string, unknown>;
    const near = (base: Record<string, unknown>) =>
      fc
        .dictionary(fc.constantFrom(...Object.keys(base), 'type', 'status', 'transaction'), fc.jsonValue(), { maxKeys: 3 })
        .map((changes) => JSON.stringify({ ...base, ...changes }));
    const bodies = fc.sample(fc.oneof(near(status), near(transaction), fc.json(), fc.string({ unit: 'binary' })), {
      numRuns: 300,
      seed: 20261130,
    });
    const answers = await Promise.all(
      bodies.map(async (body) => {
        const response = await fetch(`${stack.baseUrl}/cielo/notifications/${secret}`, { method: 'POST', body });
        return response.status;
      }),
    );
    expect(answers.filter((code) => code !== 200)).toEqual([]);
  });
});

describe('the Order Manager API down during verification', () => {
  it('leaves the claim pending, then verifies it when the API is back: nothing lost', async () => {
    stack.cielo.control.hold(true);
    const id = await placedOrder('Mesa 74');
    await paidAndClosed(id, '555444');
    stack.cielo.control.hold(false);
    stack.cielo.control.down(true);
    try {
      const held = stack.cielo.control.held().filter((h) => h.orderId === id);
      for (const h of held) expect((await post(stack, `/cielo/notifications/${secret}`, h.body)).status).toBe(200);
      const pending = await waitFor(
        () => order(id),
        (o) => o.verification.attempts >= 2,
        'failed verification attempts',
      );
      expect(pending).toMatchObject({
        status: 'CLOSED',
        invoice: null,
        verification: { state: 'PENDING', lastError: 'the Order Manager API answered 503' },
      });
    } finally {
      stack.cielo.control.down(false);
    }
    const verified = await waitFor(
      () => order(id),
      (o) => o.invoice?.status === 'AUTHORIZED',
      'verified once the API is back',
    );
    expect(verified.verification).toMatchObject({ state: 'CONFIRMED', confirmedStatus: 'CLOSED', lastError: null });
    expect(await lioPayments(id)).toHaveLength(1);
  });
});

describe('Order Mesa payments for orders known from Cielo', () => {
  const payment = (table: string) => {
    const body = seedPayment();
    body.orderKey = table;
    body.paymentObject.orderAmount = PRICE / 100;
    body.paymentObject.fees = 0;
    body.paymentObject.total = PRICE / 100;
    body.paymentObject.methods[0].value = PRICE / 100;
    return body;
  };

  it('a table known only from notifications gets an NFC-e with the Cielo order’s items, and the LIO paying it later issues none', async () => {
    const id = await placedOrder('Mesa 8 - varanda');
    const body = payment('08');
    expect((await post(stack, '/order/payment', body, token)).status).toBe(202);
    const { body: answer } = await pollUntilFinished(stack, body, token);
    expect(answer.success).toBe(true);
    const xProd = [...answer.invoiceDetails.orderXML.matchAll(/<xProd>([^<]*)<\/xProd>/g)].map((m) => m[1]);
    // Homologation: the first item's xProd is SEFAZ's fixed text (NT 2011.004), the others the order's.
    expect(xProd).toEqual(['NOTA FISCAL EMITIDA EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL', 'Suco de Uva', 'Agua mineral']);
    expect(answer.invoiceDetails.orderXML).toContain('<cProd>0000001</cProd>');
    expect(answer.invoiceDetails.orderXML).toContain('<uCom>L</uCom>');
    expect(await order(id)).toMatchObject({
      invoice: { key: answer.invoiceDetails.invoiceKey, status: 'AUTHORIZED', via: 'ORDER_MESA' },
    });

    // The LIO then pays the same order: verified, but its NFC-e exists — one NFC-e per sale.
    await paidAndClosed(id, '999000');
    const closed = await waitFor(
      () => order(id),
      (o) => o.verification.state === 'CONFIRMED' && o.status === 'CLOSED',
      'the LIO payment verified',
    );
    expect(closed.invoice).toMatchObject({ key: answer.invoiceDetails.invoiceKey, via: 'ORDER_MESA' });
    expect(await lioPayments(id)).toEqual([]);
  });

  it("a table paid through its Cielo tab takes the table's next Cielo order: the paid one is no candidate", async () => {
    const first = await placedOrder('Mesa 20');
    const body = payment('20');
    await post(stack, '/order/payment', body, token);
    expect((await pollUntilFinished(stack, body, token)).body.success).toBe(true);
    // The next customers at table 20; the first order is still ENTERED at Cielo (the POS paid it).
    const items = [{ sku: '0000100', name: 'Agua mineral', unit_price: 250, quantity: 4, unit_of_measure: 'EACH' }];
    const second = await placedOrder('Mesa 20', items);
    const next = payment('20');
    next.paymentObject.orderAmount = 10;
    next.paymentObject.total = 10;
    next.paymentObject.methods[0].value = 10;
    expect((await post(stack, '/order/payment', next, token)).status).toBe(202);
    const { body: answer } = await pollUntilFinished(stack, next, token);
    expect(answer).toMatchObject({ success: true, error: null });
    expect(await order(second)).toMatchObject({ invoice: { key: answer.invoiceDetails.invoiceKey, status: 'AUTHORIZED' } });
    expect((await order(first)).invoice.key).not.toBe(answer.invoiceDetails.invoiceKey);
    // The first payment's request still gets its own answer.
    expect((await post(stack, '/order/payment', body, token)).body).toMatchObject({ success: true });
  });

  it('an ORDER_ID that is the Cielo order id, no notification brought it: looked up with the API by id', async () => {
    stack.cielo.control.hold(true);
    const id = await placedOrder('balcão 2');
    stack.cielo.control.hold(false);
    const body = { ...payment('x'), orderKeyType: 'ORDER_ID', orderKey: id };
    await post(stack, '/order/payment', body, token);
    expect((await pollUntilFinished(stack, body, token)).body.success).toBe(true);
    expect(await order(id)).toMatchObject({ source: 'API', invoice: { status: 'AUTHORIZED', via: 'ORDER_MESA' } });
  });

  it('two open Cielo orders naming the same table: the payment ends success false naming both', async () => {
    const first = await placedOrder('Mesa 9');
    const second = await placedOrder('mesa 09');
    const body = payment('9');
    await post(stack, '/order/payment', body, token);
    const { body: answer } = await pollUntilFinished(stack, body, token);
    expect(answer).toMatchObject({ success: false, invoiceDetails: null, error: { code: 'CIELO_ORDER_AMBIGUOUS' } });
    expect(answer.error.message).toContain(first);
    expect(answer.error.message).toContain(second);
  });

  it('an ORDER_ID no notification brought is looked up with the API by reference', async () => {
    stack.cielo.control.hold(true);
    const id = await placedOrder('balcão');
    stack.cielo.control.hold(false);
    const { reference } = await cieloApi('GET', `/orders/${id}`);
    const body = { ...payment('x'), orderKeyType: 'ORDER_ID', orderKey: reference };
    await post(stack, '/order/payment', body, token);
    const { body: answer } = await pollUntilFinished(stack, body, token);
    expect(answer.success).toBe(true);
    expect(await order(id)).toMatchObject({
      source: 'API',
      status: 'ENTERED',
      invoice: { status: 'AUTHORIZED', via: 'ORDER_MESA' },
    });
  });
});
