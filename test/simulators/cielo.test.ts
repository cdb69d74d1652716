import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startCieloSimulator,
  type CieloCredentials,
  type CieloOrder,
  type CieloSimulator,
  type CieloTransaction,
} from '../../lib/simulators/cielo/index.ts';

const START = '2026-03-02T12:00:00.000Z';
const T0 = '2026-03-02T12:00:00Z';
const MINUTE = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const A: CieloCredentials = { clientId: 'client-a', accessToken: 'token-a', merchantId: 'merchant-a' };
const B: CieloCredentials = { clientId: 'client-b', accessToken: 'token-b', merchantId: 'merchant-b' };

/** The docs' "POST /orders" example. */
const DOCS_ORDER = {
  number: '0992f1d5cee540d9a9648f4d6a9e4aa6',
  reference: 'PEDIDO #1234',
  status: 'DRAFT',
  items: [
    { sku: 'ede8f84a8b8645cb8e576a593c25c6ed', name: 'produto 1', unit_price: 500, quantity: 2, unit_of_measure: 'EACH' },
    { sku: 'c2f5fb9a5542406e8b7917892329cda8', name: 'produto 2', unit_price: 1500, quantity: 3, unit_of_measure: 'EACH' },
    { sku: 'b2j4bn6j93461385r5n90453407hjk0', name: 'produto 3', unit_price: 550, quantity: 3, unit_of_measure: 'EACH' },
    { sku: '55329cda842406e8cv2f5gdf96985152d', name: 'produto 4', unit_price: 2005, unit_of_measure: 'EACH' },
  ],
  notes: 'Mesa 1',
  price: 9155,
};

/** The partner's webhook: records every POST; answers 204, 500, or never. */
interface Receiver {
  url: string;
  mode: 'ok' | 'fail' | 'hang';
  received: { method: string; contentType: string | undefined; body: string }[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      receiver.received.push({ method: req.method ?? '', contentType: req.headers['content-type'], body });
      if (receiver.mode !== 'hang') res.writeHead(receiver.mode === 'ok' ? 204 : 500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cielo/notifications`,
    mode: 'ok',
    received: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return receiver;
}

let cielo: CieloSimulator;
let webhook: Receiver;

beforeEach(async () => {
  cielo = await startCieloSimulator({ clock: 'manual', now: () => new Date(START), merchants: [A, B], deliveryTimeoutMs: 200 });
  webhook = await startReceiver();
});
afterEach(async () => {
  await cielo.close();
  await webhook.close();
});

interface Reply {
  status: number;
  text: string;
  /** The parsed body; each test states the shape it expects. */
  json: any;
}

/** An API call as `credentials` (default A; null: no headers), with a JSON body or a raw one. */
async function call(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; credentials?: CieloCredentials | null } = {},
): Promise<Reply> {
  const credentials = options.credentials === undefined ? A : options.credentials;
  const headers: Record<string, string> = credentials
    ? { 'Client-Id': credentials.clientId, 'Access-Token': credentials.accessToken, 'Merchant-Id': credentials.merchantId }
    : {};
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(`${cielo.url}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, text, json: text ? JSON.parse(text) : undefined };
}

async function createOrder(order: object = DOCS_ORDER, credentials: CieloCredentials = A): Promise<string> {
  const reply = await call('POST', '/orders', { body: order, credentials });
  expect(reply.status).toBe(201);
  return reply.json.id;
}

const getOrder = async (id: string): Promise<CieloOrder> => (await call('GET', `/orders/${id}`)).json;
const operate = (id: string, operation: string) => call('PUT', `/orders/${id}?operation=${operation}`);
const error = (status: number, code: string, detail: string) => ({ status, json: { code, detail } });

/** One item of 2392 centavos, as in Cielo's notification example. */
const SMALL_ORDER = {
  number: '1078069',
  reference: 'REFERENCIA DO PEDIDO',
  status: 'ENTERED',
  items: [{ sku: '1', name: 'TESTE CALLBACK', description: 'TESTE CALLBACK', unit_price: 2392, unit_of_measure: 'EACH' }],
  notes: 'TESTE',
  price: 2392,
};

describe('authentication', () => {
  it('answers 401 without the three headers or with an unknown triple', async () => {
    const missing = { code: 'UNAUTHORIZED', detail: 'the Client-Id, Access-Token and Merchant-Id headers are required' };
    const unknown = { code: 'UNAUTHORIZED', detail: 'no access with these Client-Id, Access-Token and Merchant-Id' };
    expect(await call('GET', '/orders', { credentials: null })).toMatchObject({ status: 401, json: missing });
    expect(await call('GET', '/orders', { credentials: { ...A, accessToken: 'token-b' } })).toMatchObject({
      status: 401,
      json: unknown,
    });
    expect(await call('GET', '/orders', { credentials: { ...A, merchantId: 'merchant-b' } })).toMatchObject({
      status: 401,
      json: unknown,
    });
    expect(await call('POST', '/orders', { body: DOCS_ORDER, credentials: null })).toMatchObject({ status: 401, json: missing });
    expect(cielo.control.orders()).toEqual([]);
  });

  it('matches header names case-insensitively, as the SDK sends them in lower case', async () => {
    const get = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) =>
        request(`${cielo.url}/orders`, { headers }, (res) => resolve(res.resume().statusCode ?? 0))
          .on('error', reject)
          .end(),
      );
    expect(await get({ 'client-id': A.clientId, 'access-token': A.accessToken, 'merchant-id': A.merchantId })).toBe(200);
    expect(await get({ 'CLIENT-ID': A.clientId, 'Access-Token': A.accessToken, 'merchant-ID': A.merchantId })).toBe(200);
  });

  it('shows each merchant only its own orders, and accepts merchants added later', async () => {
    const id = await createOrder();
    expect(await call('GET', `/orders/${id}`, { credentials: B })).toMatchObject(
      error(404, 'NOT_FOUND', `order ${id} not found`),
    );
    expect((await call('PUT', `/orders/${id}?operation=place`, { credentials: B })).status).toBe(404);
    expect((await call('GET', '/orders', { credentials: B })).json).toEqual([]);
    const C = { clientId: 'client-c', accessToken: 'token-c', merchantId: 'merchant-a' };
    expect((await call('GET', '/orders', { credentials: C })).status).toBe(401);
    cielo.control.addMerchant(C);
    expect((await call('GET', '/orders', { credentials: C })).json.map((order: CieloOrder) => order.id)).toEqual([id]);
  });
});

describe('orders', () => {
  it('stores a created order as GET /orders/{id} answers it', async () => {
    const reply = await call('POST', '/orders', { body: DOCS_ORDER });
    expect(reply.status).toBe(201);
    expect(reply.json).toEqual({ id: expect.stringMatching(UUID) });
    const order = await getOrder(reply.json.id);
    expect(order).toEqual({
      id: reply.json.id,
      number: '0992f1d5cee540d9a9648f4d6a9e4aa6',
      reference: 'PEDIDO #1234',
      status: 'DRAFT',
      notes: 'Mesa 1',
      price: 9155,
      remaining: 9155,
      created_at: T0,
      updated_at: T0,
      order_type: 'PAYMENT',
      merchant: expect.stringMatching(/^0010\d{12}$/),
      source_id: expect.stringMatching(/^[0-9A-Za-z]{12}$/),
      items: DOCS_ORDER.items.map((item) => ({
        id: expect.stringMatching(UUID),
        description: null,
        details: null,
        sku_type: null,
        quantity: 1,
        ...item,
        created_at: T0,
        updated_at: T0,
      })),
      transactions: [],
    });
    expect(new Set(order.items.map((item) => item.id)).size).toBe(4);
    expect(cielo.control.orders()).toEqual([order]);
    expect(cielo.control.orders('merchant-b')).toEqual([]);

    const other = await getOrder(await createOrder({ ...DOCS_ORDER, status: 'ENTERED' }));
    expect(other).toMatchObject({ status: 'ENTERED', merchant: order.merchant, source_id: order.source_id });
    const ofB = await call('GET', `/orders/${await createOrder(DOCS_ORDER, B)}`, { credentials: B });
    expect(ofB.json.merchant).not.toBe(order.merchant);
  });

  it('answers 422 for a missing required field and 400 for an invalid one', async () => {
    const item = DOCS_ORDER.items[0]!;
    const post = (body: unknown) => call('POST', '/orders', { body });
    const { items: _items, ...withoutItems } = DOCS_ORDER;
    const { price: _price, ...withoutPrice } = DOCS_ORDER;
    expect(await post(withoutItems)).toMatchObject(error(422, 'REQUIRED_FIELD_MISSING', 'items is required'));
    expect(await post({ ...DOCS_ORDER, items: [] })).toMatchObject(error(422, 'REQUIRED_FIELD_MISSING', 'items is required'));
    expect(await post(withoutPrice)).toMatchObject(error(422, 'REQUIRED_FIELD_MISSING', 'price is required'));
    expect(await post({ ...DOCS_ORDER, items: [{ ...item, sku: undefined }] })).toMatchObject(
      error(422, 'REQUIRED_FIELD_MISSING', 'items.0.sku is required'),
    );
    expect(await post({ ...DOCS_ORDER, items: [{ ...item, unit_price: null }] })).toMatchObject(
      error(422, 'REQUIRED_FIELD_MISSING', 'items.0.unit_price is required'),
    );
    expect(await post({ ...DOCS_ORDER, items: [{ ...item, unit_of_measure: undefined }] })).toMatchObject(
      error(422, 'REQUIRED_FIELD_MISSING', 'items.0.unit_of_measure is required'),
    );
    expect((await post({ ...DOCS_ORDER, items: [{ ...item, unit_price: -1 }] })).json.code).toBe('INVALID_PARAMETER');
    expect((await post({ ...DOCS_ORDER, items: [{ ...item, unit_price: 5.5 }] })).status).toBe(400);
    expect((await post({ ...DOCS_ORDER, price: '9155' })).status).toBe(400);
    expect((await post({ ...DOCS_ORDER, status: 'PAID' })).json.code).toBe('INVALID_PARAMETER');
    expect((await post({ ...DOCS_ORDER, items: [{ ...item, unit_of_measure: 'BOX' }] })).status).toBe(400);
    expect(await call('POST', '/orders', { raw: '{"number": ' })).toMatchObject(
      error(400, 'INVALID_JSON', 'the body is not valid JSON'),
    );
    expect((await call('POST', '/orders', { raw: '' })).status).toBe(400);
    expect((await post([DOCS_ORDER])).status).toBe(400);
    expect(await post({ ...DOCS_ORDER, notes: 'x'.repeat(1024 * 1024) })).toMatchObject(
      error(413, 'PAYLOAD_TOO_LARGE', 'the body is over 1048576 bytes'),
    );
    expect(cielo.control.orders()).toEqual([]);
  });

  it('lists the merchant’s orders newest first, filtered and paged', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(await createOrder({ ...DOCS_ORDER, number: `N${i}`, reference: i % 2 ? 'odd' : 'even' }));
      await cielo.control.advance(i < 6 ? 1000 : 0); // the last ones share a created_at second
    }
    await createOrder(DOCS_ORDER, B);
    const newestFirst = [...ids].reverse();
    const list = async (query: string) => {
      const reply = await call('GET', `/orders${query}`);
      expect(reply.status).toBe(200);
      return (reply.json as CieloOrder[]).map((order) => order.id);
    };
    expect(await list('')).toEqual(newestFirst.slice(0, 10));
    expect(await list('/')).toEqual(newestFirst.slice(0, 10));
    expect(await list('/?page=1')).toEqual(newestFirst.slice(10));
    expect(await list('?page=2')).toEqual([]);
    expect(await list('?page_size=100')).toEqual(newestFirst);
    expect(await list('?page=1&page_size=5')).toEqual(newestFirst.slice(5, 10));
    expect(await list('/?reference=odd&page_size=3')).toEqual([ids[11], ids[9], ids[7]]);
    expect(await list('?number=N4')).toEqual([ids[4]]);
    expect(await list('?number=N4&reference=odd')).toEqual([]);

    await operate(ids[0]!, 'place');
    await operate(ids[1]!, 'place');
    await call('POST', `/orders/${ids[1]}/transactions`, { body: { amount: 100, terminal_number: '77102648' } });
    cielo.control.setStatus(ids[2]!, 'RE_ENTERED');
    expect(await list('?status=ENTERED')).toEqual([ids[1], ids[0]]);
    expect(await list('?status=RE-ENTERED')).toEqual([ids[2]]);
    expect(await list('?status=RE_ENTERED')).toEqual([ids[2]]);
    expect(await list('?terminal_number=77102648')).toEqual([ids[1]]);
    expect(await list('?terminal_number=1')).toEqual([]);

    const invalid = (detail: string) => error(400, 'INVALID_PARAMETER', detail);
    expect(await call('GET', '/orders?page_size=abc')).toMatchObject(invalid('page_size must be an integer ≥ 0, not "abc"'));
    expect(await call('GET', '/orders?page_size=1.5')).toMatchObject(invalid('page_size must be an integer ≥ 0, not "1.5"'));
    expect(await call('GET', '/orders?page=-1')).toMatchObject(invalid('page must be an integer ≥ 0, not "-1"'));
    expect(await call('GET', '/orders?page_size=101')).toMatchObject(invalid('page_size must be 1…100, not 101'));
    expect(await call('GET', '/orders?page_size=0')).toMatchObject(invalid('page_size must be 1…100, not 0'));
  });
});

describe('operations', () => {
  it('places, pays and closes, in any case, setting updated_at', async () => {
    const id = await createOrder();
    await cielo.control.advance(5 * MINUTE);
    expect(await operate(id, 'PLACE')).toMatchObject({ status: 200, text: '' });
    expect(await getOrder(id)).toMatchObject({ status: 'ENTERED', created_at: T0, updated_at: '2026-03-02T12:05:00Z' });
    await cielo.control.advance(MINUTE);
    expect((await operate(id, 'pay')).status).toBe(200);
    expect(await getOrder(id)).toMatchObject({ status: 'PAID', updated_at: '2026-03-02T12:06:00Z' });
    expect((await operate(id, 'Close')).status).toBe(200);
    expect((await getOrder(id)).status).toBe('CLOSED');
  });

  it('answers 400 naming the status when the operation does not apply', async () => {
    const id = await createOrder();
    const refused = (operation: string, status: string) =>
      error(400, 'INVALID_STATUS', `operation ${operation} is not allowed for an order in status ${status}`);
    expect(await operate(id, 'pay')).toMatchObject(refused('pay', 'DRAFT'));
    expect(await operate(id, 'close')).toMatchObject(refused('close', 'DRAFT'));
    await operate(id, 'place');
    expect(await operate(id, 'place')).toMatchObject(refused('place', 'ENTERED'));
    expect(await operate(id, 'close')).toMatchObject(refused('close', 'ENTERED'));
    expect(await operate(id, 'ship')).toMatchObject(
      error(400, 'INVALID_OPERATION', 'invalid operation "ship": use place, pay, close or cancel'),
    );
    expect((await call('PUT', `/orders/${id}`)).json.code).toBe('INVALID_OPERATION');
    await operate(id, 'pay');
    expect(await operate(id, 'cancel')).toMatchObject(refused('cancel', 'PAID'));
    await operate(id, 'close');
    expect(await operate(id, 'pay')).toMatchObject(refused('pay', 'CLOSED'));
    expect((await getOrder(id)).status).toBe('CLOSED');

    const reentered = await createOrder({ ...DOCS_ORDER, status: 'ENTERED' });
    cielo.control.setStatus(reentered, 'RE-ENTERED');
    expect((await operate(reentered, 'place')).status).toBe(200);
    expect((await getOrder(reentered)).status).toBe('RE-ENTERED');
    expect((await operate(reentered, 'pay')).status).toBe(200);
    expect((await getOrder(reentered)).status).toBe('PAID');

    const canceled = await createOrder();
    expect((await operate(canceled, 'CANCEL')).status).toBe(200);
    expect((await getOrder(canceled)).status).toBe('CANCELED');
    expect(await operate(canceled, 'place')).toMatchObject(refused('place', 'CANCELED'));
    expect(await operate('a5c3ddc0-0000-4000-8000-000000000000', 'place')).toMatchObject(
      error(404, 'NOT_FOUND', 'order a5c3ddc0-0000-4000-8000-000000000000 not found'),
    );
  });

  it('deletes DRAFT orders only', async () => {
    const draft = await createOrder();
    const entered = await createOrder({ ...DOCS_ORDER, status: 'ENTERED' });
    expect(await call('DELETE', `/orders/${entered}`)).toMatchObject(
      error(400, 'INVALID_STATUS', 'only DRAFT orders can be deleted; this one is ENTERED'),
    );
    expect(await call('DELETE', `/orders/${draft}`)).toMatchObject({ status: 200, text: '' });
    expect((await call('GET', `/orders/${draft}`)).status).toBe(404);
    expect((await call('DELETE', `/orders/${draft}`)).status).toBe(404);
    expect(cielo.control.orders().map((order) => order.id)).toEqual([entered]);
  });

  it('answers 404 for unknown routes', async () => {
    expect(await call('GET', '/payments')).toMatchObject(error(404, 'NOT_FOUND', 'no route GET /order-management/v1/payments'));
    expect((await call('PATCH', '/orders')).status).toBe(404);
    expect((await fetch(cielo.url.replace('/order-management/v1', '/orders'))).status).toBe(404);
  });
});

describe('items', () => {
  it('changes items only while DRAFT, keeping price and remaining as Σ unit_price × quantity', async () => {
    const id = await createOrder();
    await cielo.control.advance(MINUTE);
    const added = { sku: 'X1', name: 'Água', unit_price: 350, quantity: 2, unit_of_measure: 'EACH', sku_type: 'EAN' };
    expect(await call('POST', `/orders/${id}/items`, { body: added })).toMatchObject({ status: 200, text: '' });
    let items = (await call('GET', `/orders/${id}/items`)).json as CieloOrder['items'];
    expect(items).toHaveLength(5);
    const water = items[4]!;
    expect(water).toEqual({
      id: expect.stringMatching(UUID),
      ...added,
      description: null,
      details: null,
      created_at: '2026-03-02T12:01:00Z',
      updated_at: '2026-03-02T12:01:00Z',
    });
    expect(await getOrder(id)).toMatchObject({ price: 9155 + 700, remaining: 9155 + 700, updated_at: '2026-03-02T12:01:00Z' });

    await cielo.control.advance(MINUTE);
    expect((await call('PUT', `/orders/${id}/items/${water.id}`, { body: { quantity: 3, details: 'gelada' } })).status).toBe(200);
    items = (await call('GET', `/orders/${id}/items`)).json;
    expect(items[4]).toEqual({ ...water, quantity: 3, details: 'gelada', updated_at: '2026-03-02T12:02:00Z' });
    expect(await getOrder(id)).toMatchObject({ price: 9155 + 1050, remaining: 9155 + 1050 });
    expect((await call('PUT', `/orders/${id}/items/${water.id}`, { body: { quantity: 0 } })).status).toBe(400);
    expect((await call('POST', `/orders/${id}/items`, { body: { sku: 'X2', unit_price: 1 } })).json).toEqual({
      code: 'REQUIRED_FIELD_MISSING',
      detail: 'unit_of_measure is required',
    });

    const first = items[0]!;
    expect((await call('DELETE', `/orders/${id}/items/${first.id}`)).status).toBe(200);
    expect((await call('GET', `/orders/${id}/items`)).json.map((item: { id: string }) => item.id)).toEqual(
      items.slice(1).map((item) => item.id),
    );
    expect(await getOrder(id)).toMatchObject({ price: 9155 + 1050 - 1000, remaining: 9155 + 1050 - 1000 });
    expect(await call('DELETE', `/orders/${id}/items/${first.id}`)).toMatchObject(
      error(404, 'NOT_FOUND', `item ${first.id} not found in order ${id}`),
    );

    await operate(id, 'place');
    const refused = (what: string) => error(400, 'INVALID_STATUS', `only DRAFT orders can be ${what}; this one is ENTERED`);
    expect(await call('POST', `/orders/${id}/items`, { body: added })).toMatchObject(refused('given items'));
    expect(await call('PUT', `/orders/${id}/items/${water.id}`, { body: { quantity: 1 } })).toMatchObject(refused('changed'));
    expect(await call('DELETE', `/orders/${id}/items/${water.id}`)).toMatchObject(refused('changed'));
    expect((await getOrder(id)).items).toHaveLength(4);
  });
});

describe('sandbox transactions', () => {
  /** The docs' sandbox example, in camelCase. */
  const SANDBOX = {
    external_id: '0b37f0d8-017a-4b11-91b9-ec1bb3e8fed3',
    status: 'CONFIRMED',
    terminal_number: '12345678',
    authorization_code: '008619',
    number: '672836',
    amount: 2000,
    transaction_type: 'PAYMENT',
    paymentFields: { primaryProductName: 'CREDITO', secondaryProductName: 'A VISTA', numberOfQuotas: 0 },
    card: { brand: 'VISA', mask: '******5487' },
  };

  it('stores the camelCase payment in snake_case and lowers remaining, leaving the status', async () => {
    const id = await createOrder({ ...DOCS_ORDER, status: 'ENTERED' });
    await cielo.control.advance(MINUTE);
    const reply = await call('POST', `/orders/${id}/transactions`, { body: SANDBOX });
    expect(reply).toMatchObject({ status: 201, json: { id: expect.stringMatching(UUID) } });
    const payment: CieloTransaction = {
      id: reply.json.id,
      external_id: '0b37f0d8-017a-4b11-91b9-ec1bb3e8fed3',
      status: 'CONFIRMED',
      terminal_number: '12345678',
      authorization_code: '008619',
      number: '672836',
      amount: 2000,
      transaction_type: 'PAYMENT',
      payment_fields: { primary_product_name: 'CREDITO', secondary_product_name: 'A VISTA', number_of_quotas: 0 },
      card: { brand: 'VISA', mask: '******5487' },
      created_at: '2026-03-02T12:01:00Z',
      updated_at: '2026-03-02T12:01:00Z',
    };
    expect((await call('GET', `/orders/${id}/transactions`)).json).toEqual([payment]);
    expect(await getOrder(id)).toMatchObject({
      status: 'ENTERED',
      price: 9155,
      remaining: 7155,
      updated_at: '2026-03-02T12:01:00Z',
      transactions: [payment],
    });

    const cancellation = await call('POST', `/orders/${id}/transactions`, {
      body: {
        amount: 2000,
        transaction_type: 'CANCELLATION',
        payment_fields: { primary_product_name: 'CREDITO', secondary_product_name: 'A VISTA', number_of_quotas: '0' },
      },
    });
    expect(cancellation.status).toBe(201);
    const transactions = (await call('GET', `/orders/${id}/transactions`)).json;
    expect(transactions[1]).toEqual({
      id: cancellation.json.id,
      external_id: null,
      status: 'CONFIRMED',
      terminal_number: null,
      authorization_code: null,
      number: null,
      amount: 2000,
      transaction_type: 'CANCELLATION',
      payment_fields: { primary_product_name: 'CREDITO', secondary_product_name: 'A VISTA', number_of_quotas: 0 },
      card: { brand: null, mask: null },
      created_at: '2026-03-02T12:01:00Z',
      updated_at: '2026-03-02T12:01:00Z',
    });
    expect(await getOrder(id)).toMatchObject({ status: 'ENTERED', remaining: 9155 });

    await call('POST', `/orders/${id}/transactions`, { body: { ...SANDBOX, status: 'PENDING', amount: 9155 } });
    expect((await getOrder(id)).remaining).toBe(9155);
    await call('POST', `/orders/${id}/transactions`, { body: { ...SANDBOX, amount: 9155 } });
    expect(await getOrder(id)).toMatchObject({ status: 'ENTERED', remaining: 0 });
  });

  it('refuses transactions on DRAFT, CLOSED or CANCELED orders and invalid ones', async () => {
    const id = await createOrder();
    const post = (body: unknown) => call('POST', `/orders/${id}/transactions`, { body });
    expect(await post(SANDBOX)).toMatchObject(
      error(400, 'INVALID_STATUS', 'no transactions can be added to an order in status DRAFT'),
    );
    await operate(id, 'place');
    expect(await post({ ...SANDBOX, amount: undefined })).toMatchObject(
      error(422, 'REQUIRED_FIELD_MISSING', 'amount is required'),
    );
    expect((await post({ ...SANDBOX, amount: '2000' })).status).toBe(400);
    expect((await post({ ...SANDBOX, transaction_type: 'REFUND' })).status).toBe(400);
    expect(await post({ ...SANDBOX, amount: 9156 })).toMatchObject(
      error(400, 'INVALID_PARAMETER', 'amount 9156 leaves remaining -1 outside 0…9155'),
    );
    expect((await post({ ...SANDBOX, transaction_type: 'CANCELLATION' })).status).toBe(400);
    await operate(id, 'pay');
    await operate(id, 'close');
    expect((await post(SANDBOX)).json.detail).toBe('no transactions can be added to an order in status CLOSED');
    const canceled = await createOrder();
    await operate(canceled, 'cancel');
    expect((await call('POST', `/orders/${canceled}/transactions`, { body: SANDBOX })).status).toBe(400);
    expect((await getOrder(id)).transactions).toEqual([]);
  });
});

describe('notifications', () => {
  /** jsonb order: shorter keys first, then bytewise. */
  const STATUS_KEYS = [
    'id',
    'items',
    'notes',
    'price',
    'number',
    'status',
    'reference',
    'remaining',
    'created_at',
    'updated_at',
    'transactions',
  ];

  it('sends nothing without a webhook, nor on the manual clock before it moves', async () => {
    await createOrder();
    await cielo.control.advance(0);
    expect(webhook.received).toEqual([]);
    cielo.control.registerWebhook(A.merchantId, webhook.url);
    const id = await createOrder();
    await operate(id, 'place');
    expect(webhook.received).toEqual([]);
    await cielo.control.deliverDue();
    expect(webhook.received.map((post) => [post.method, post.contentType, JSON.parse(post.body).status])).toEqual([
      ['POST', 'application/json', 'DRAFT'],
      ['POST', 'application/json', 'ENTERED'],
    ]);
    expect(() => cielo.control.registerWebhook(A.merchantId, 'ftp://127.0.0.1/')).toThrow('not an http(s) webhook');
  });

  it('POSTs the transaction, then the whole order with camelCase payment fields, when the LIO pays', async () => {
    cielo.control.registerWebhook(A.merchantId, webhook.url);
    const id = await createOrder(SMALL_ORDER);
    await cielo.control.advance(34 * MINUTE);
    const transactionId = cielo.control.lioPays(id, {
      brand: 'MASTERCARD',
      primaryProductName: 'DEBITO',
      authorizationCode: '123562',
      terminalNumber: '238232',
    });
    await cielo.control.advance(0);
    const order = await getOrder(id);
    const [transaction] = order.transactions;
    const T1 = '2026-03-02T12:34:00Z';
    expect(order).toMatchObject({ status: 'PAID', remaining: 0, updated_at: T1 });
    expect(transaction).toEqual({
      id: transactionId,
      external_id: expect.stringMatching(UUID),
      status: 'CONFIRMED',
      terminal_number: '238232',
      authorization_code: '123562',
      number: expect.stringMatching(/^\d{6}$/),
      amount: 2392,
      transaction_type: 'PAYMENT',
      payment_fields: { primary_product_name: 'DEBITO', secondary_product_name: 'A VISTA', number_of_quotas: 0 },
      card: { brand: 'MASTERCARD', mask: expect.stringMatching(/^\*{12}\d{4}$/) },
      created_at: T1,
      updated_at: T1,
    });
    const t = transaction!;
    expect(webhook.received.map((post) => post.body)).toHaveLength(3);
    const [created, added, paid] = webhook.received.map((post) => post.body);
    expect(JSON.parse(created!)).toMatchObject({ id, status: 'ENTERED', transactions: [] });

    const notificationId = JSON.parse(added!).id;
    expect(notificationId).toMatch(UUID);
    expect(notificationId).not.toBe(transactionId);
    expect(added).toBe(
      JSON.stringify({
        id: notificationId,
        order_id: id,
        trasaction: {
          id: transactionId,
          external_id: t.external_id,
          description: '',
          status: 'CONFIRMED',
          terminal_number: '238232',
          authorization_code: '123562',
          number: t.number,
          amount: '2392',
          transaction_type: 'PAYMENT',
          payment_fields: { primary_product_name: 'DEBITO', secondary_product_name: 'A VISTA', number_of_quotas: '0' },
          card: { brand: 'MASTERCARD', mask: t.card.mask },
        },
      }),
    );

    const item = order.items[0]!;
    expect(Object.keys(JSON.parse(paid!))).toEqual(STATUS_KEYS);
    expect(JSON.parse(paid!)).toEqual({
      id,
      items: [
        {
          id: item.id,
          sku: '1',
          name: 'TESTE CALLBACK',
          uuid: item.id,
          details: null,
          order_id: id,
          quantity: 1,
          sku_type: null,
          reference: null,
          created_at: T0,
          unit_price: 2392,
          updated_at: T0,
          description: 'TESTE CALLBACK',
          unit_of_measure: 'EACH',
        },
      ],
      notes: 'TESTE',
      price: 2392,
      number: '1078069',
      status: 'PAID',
      reference: 'REFERENCIA DO PEDIDO',
      remaining: 0,
      created_at: T0,
      updated_at: T1,
      transactions: [
        {
          id: transactionId,
          card: { mask: t.card.mask, brand: 'MASTERCARD' },
          uuid: transactionId,
          amount: 2392,
          number: t.number,
          status: 'CONFIRMED',
          created_at: T1,
          updated_at: T1,
          description: '',
          external_id: t.external_id,
          payment_fields: {
            pan: t.card.mask,
            v40Code: 8,
            typeName: 'VENDA A DEBITO',
            productName: 'DEBITO A VISTA',
            requestDate: Date.parse(T1),
            merchantCode: order.merchant,
            applicationId: 'cielo.launcher',
            numberOfQuotas: 0,
            isExternalCall: true,
            applicationName: 'cielo.launcher.ORDER',
            primaryProductName: 'DEBITO',
            paymentTransactionId: transactionId,
            secondaryProductName: 'A VISTA',
            originalTransactionId: '0',
          },
          terminal_number: '238232',
          transaction_type: 'PAYMENT',
          authorization_code: '123562',
        },
      ],
    });
    expect(cielo.control.deliveries().map(({ kind, attempt, at, status }) => [kind, attempt, at, status])).toEqual([
      ['status', 1, START, 204],
      ['transaction', 1, '2026-03-02T12:34:00.000Z', 204],
      ['status', 1, '2026-03-02T12:34:00.000Z', 204],
    ]);
  });

  it('notifies a LIO cancellation and the order going back to RE-ENTERED', async () => {
    cielo.control.registerWebhook(A.merchantId, webhook.url);
    const id = await createOrder(SMALL_ORDER);
    const first = cielo.control.lioPays(id, {
      amount: 1000,
      primaryProductName: 'CREDITO',
      secondaryProductName: 'PARCELADO LOJA',
    });
    expect((await getOrder(id)).status).toBe('ENTERED');
    cielo.control.lioPays(id, { primaryProductName: 'PIX' });
    expect(await getOrder(id)).toMatchObject({ status: 'PAID', remaining: 0 });
    const cancellation = cielo.control.lioCancels(id, first);
    expect(await getOrder(id)).toMatchObject({ status: 'RE-ENTERED', remaining: 1000 });
    expect(() => cielo.control.lioCancels(id, first)).toThrow(`${first} is already cancelled`);
    expect(() => cielo.control.lioCancels(id, cancellation)).toThrow('is not a confirmed payment');
    expect(() => cielo.control.lioPays(id, { amount: 1001 })).toThrow('the LIO pays 1…1000 centavos of this order, not 1001');
    await cielo.control.advance(0);
    const bodies = webhook.received.map((post) => JSON.parse(post.body));
    expect(bodies.map((body) => body.trasaction?.transaction_type ?? body.status)).toEqual([
      'ENTERED',
      'PAYMENT',
      'PAYMENT',
      'PAID',
      'CANCELLATION',
      'RE-ENTERED',
    ]);
    const fields = bodies[5].transactions.map((transaction: { payment_fields: object }) => transaction.payment_fields);
    expect(fields).toMatchObject([
      { v40Code: 6, typeName: 'VENDA A CREDITO', productName: 'CREDITO PARCELADO LOJA', originalTransactionId: '0' },
      { v40Code: null, typeName: 'VENDA PIX', productName: 'PIX', secondaryProductName: null },
      { v40Code: 28, typeName: 'CANCELAMENTO DE VENDA', productName: 'CREDITO PARCELADO LOJA', originalTransactionId: first },
    ]);
    expect(bodies[4].trasaction).toMatchObject({ id: cancellation, amount: '1000', transaction_type: 'CANCELLATION' });
  });

  it('retries a failing notification every 15 minutes for 7 hours, then blocks that order only', async () => {
    cielo.control.registerWebhook(A.merchantId, webhook.url);
    const others = [await createOrder(), await createOrder(), await createOrder(), await createOrder()];
    await cielo.control.advance(0);
    webhook.mode = 'fail';
    webhook.received = [];
    const failing = await createOrder();
    await operate(failing, 'place'); // held back behind the failing creation notice
    await cielo.control.advance(7 * 60 * MINUTE);
    const attempts = cielo.control.deliveries().filter((delivery) => delivery.orderId === failing);
    expect(attempts).toHaveLength(29);
    expect(attempts.map((delivery) => [delivery.kind, delivery.attempt, delivery.status])).toEqual(
      Array.from({ length: 29 }, (_, i) => ['status', i + 1, 500]),
    );
    expect(attempts.map((delivery) => (Date.parse(delivery.at) - Date.parse(START)) / MINUTE)).toEqual(
      Array.from({ length: 29 }, (_, i) => i * 15),
    );
    expect(new Set(attempts.map((delivery) => JSON.parse(delivery.body).status))).toEqual(new Set(['DRAFT']));
    expect(cielo.control.blocks()).toEqual({ merchants: [], orders: [failing], dropped: 1 });

    webhook.mode = 'ok';
    webhook.received = [];
    cielo.control.setStatus(failing, 'CANCELED');
    cielo.control.setStatus(others[0]!, 'CANCELED');
    await cielo.control.advance(24 * 60 * MINUTE);
    expect(webhook.received.map((post) => JSON.parse(post.body).id)).toEqual([others[0]]);
    expect(cielo.control.blocks().dropped).toBe(2);
  });

  it('holds back an order’s later notifications while its first is retried, and times out a silent webhook', async () => {
    cielo.control.registerWebhook(A.merchantId, webhook.url);
    webhook.mode = 'hang';
    const id = await createOrder();
    await operate(id, 'place');
    const other = await createOrder();
    await cielo.control.advance(0);
    expect(cielo.control.deliveries().map(({ orderId, attempt, status }) => [orderId, attempt, status])).toEqual([
      [id, 1, 'timeout'],
      [other, 1, 'timeout'],
    ]);
    webhook.mode = 'ok';
    await cielo.control.advance(15 * MINUTE - 1);
    expect(cielo.control.deliveries()).toHaveLength(2);
    await cielo.control.advance(1);
    expect(cielo.control.deliveries().map(({ orderId, attempt, status, at }) => [orderId, attempt, status, at])).toEqual([
      [id, 1, 'timeout', START],
      [other, 1, 'timeout', START],
      [id, 2, 204, '2026-03-02T12:15:00.000Z'],
      [other, 2, 204, '2026-03-02T12:15:00.000Z'],
      [id, 1, 204, '2026-03-02T12:15:00.000Z'],
    ]);
    expect(webhook.received.slice(-3).map((post) => [JSON.parse(post.body).id, JSON.parse(post.body).status])).toEqual([
      [id, 'DRAFT'],
      [other, 'DRAFT'],
      [id, 'ENTERED'],
    ]);
  });

  it('blocks the merchant once 80 % of its recently notified orders are blocked, until support unblocks it', async () => {
    cielo.control.registerWebhook(A.merchantId, webhook.url);
    cielo.control.registerWebhook(B.merchantId, webhook.url);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createOrder());
    const ofB = await createOrder(DOCS_ORDER, B);
    await cielo.control.advance(0);
    const change = async (orderIds: string[], status: 'ENTERED' | 'PAID') => {
      for (const id of orderIds) cielo.control.setStatus(id, status);
      await cielo.control.advance(8 * 60 * MINUTE);
    };
    const sentTo = () => webhook.received.splice(0).map((post) => JSON.parse(post.body).id);

    webhook.mode = 'fail';
    await change(ids.slice(0, 3), 'ENTERED');
    expect(cielo.control.blocks()).toMatchObject({ merchants: [], orders: ids.slice(0, 3) });
    webhook.mode = 'ok';
    sentTo();
    await change([ids[4]!], 'ENTERED'); // 3 of 5: still notified
    expect(sentTo()).toEqual([ids[4]]);

    webhook.mode = 'fail';
    await change([ids[3]!], 'ENTERED'); // 4 of 5
    expect(cielo.control.blocks()).toEqual({ merchants: [A.merchantId], orders: ids.slice(0, 4), dropped: 0 });
    webhook.mode = 'ok';
    sentTo();
    await change([ids[4]!, ofB], 'PAID');
    expect(sentTo()).toEqual([ofB]);
    expect(cielo.control.blocks().dropped).toBe(1);

    cielo.control.unblock(A.merchantId);
    expect(cielo.control.blocks()).toEqual({ merchants: [], orders: [], dropped: 1 });
    await change([ids[4]!, ids[0]!], 'PAID');
    expect(sentTo()).toEqual([ids[4], ids[0]]);
  });

  it('holds notifications and releases them duplicated and shuffled, the same way for the same seed', async () => {
    cielo.control.registerWebhook(A.merchantId, webhook.url);
    cielo.control.hold(true);
    const ids = [await createOrder(), await createOrder(), await createOrder()];
    await cielo.control.advance(0);
    expect(webhook.received).toEqual([]);
    /** Releases the three orders' held notifications: how it went and the order received, as indexes into held(). */
    const release = async (options: { duplicates?: number; shuffle?: number }) => {
      const held = cielo.control.held();
      expect(held.map((notification) => [notification.kind, notification.orderId])).toEqual(ids.map((id) => ['status', id]));
      webhook.received = [];
      const result = await cielo.control.release(options);
      expect(cielo.control.held()).toEqual([]);
      return { result, order: webhook.received.map((post) => held.findIndex((notification) => notification.body === post.body)) };
    };
    const setAll = (status: 'ENTERED' | 'PAID') => ids.forEach((id) => cielo.control.setStatus(id, status));

    expect(cielo.control.held().map((notification) => JSON.parse(notification.body).status)).toEqual(['DRAFT', 'DRAFT', 'DRAFT']);
    const first = await release({ duplicates: 2, shuffle: 42 });
    expect(first.result).toEqual({ delivered: 6, failed: 0 });
    expect([...first.order].sort()).toEqual([0, 0, 1, 1, 2, 2]);
    expect(first.order).not.toEqual([0, 0, 1, 1, 2, 2]);
    setAll('ENTERED');
    expect((await release({ duplicates: 2, shuffle: 42 })).order).toEqual(first.order);
    setAll('ENTERED');
    expect((await release({ shuffle: 7 })).order).toEqual((setAll('ENTERED'), await release({ shuffle: 7 })).order);

    webhook.mode = 'fail';
    setAll('PAID');
    expect(await release({ duplicates: 2 })).toEqual({ result: { delivered: 0, failed: 6 }, order: [0, 0, 1, 1, 2, 2] });
    expect(
      cielo.control
        .deliveries()
        .slice(-6)
        .map(({ attempt, status }) => [attempt, status]),
    ).toEqual(Array.from({ length: 6 }, () => [1, 500]));

    webhook.mode = 'ok';
    webhook.received = [];
    cielo.control.hold(false);
    cielo.control.setStatus(ids[0]!, 'CANCELED');
    await cielo.control.advance(0);
    expect(webhook.received.map((post) => JSON.parse(post.body).status)).toEqual(['CANCELED']);
  });

  it('on the real clock, sends right after the change without being asked', async () => {
    const real = await startCieloSimulator({ merchants: [A] });
    try {
      real.control.registerWebhook(A.merchantId, webhook.url);
      await expect(real.control.advance(0)).rejects.toThrow('advance needs the manual clock');
      const before = Date.now();
      const reply = await fetch(`${real.url}/orders`, {
        method: 'POST',
        headers: { 'client-id': A.clientId, 'access-token': A.accessToken, 'merchant-id': A.merchantId },
        body: JSON.stringify(DOCS_ORDER),
      });
      expect(reply.status).toBe(201);
      await expect.poll(() => webhook.received.length).toBe(1);
      await real.control.deliverDue();
      expect(JSON.parse(webhook.received[0]!.body).status).toBe('DRAFT');
      expect(real.control.now().getTime()).toBeGreaterThanOrEqual(before);
    } finally {
      await real.close();
    }
  });
});

describe('API knobs', () => {
  it('answers 503 while down and 429/500 for the next calls when told, counting every call', async () => {
    cielo.control.down(true);
    expect(await call('GET', '/orders')).toMatchObject(error(503, 'SERVICE_UNAVAILABLE', 'the Order Manager is unavailable'));
    expect((await call('POST', '/orders', { body: DOCS_ORDER })).status).toBe(503);
    cielo.control.down(false);
    const id = await createOrder();

    cielo.control.failNext(429, 2);
    expect(await call('GET', `/orders/${id}`)).toMatchObject(error(429, 'TOO_MANY_REQUESTS', 'rate limit exceeded'));
    expect((await operate(id, 'place')).status).toBe(429);
    expect((await getOrder(id)).status).toBe('DRAFT');
    cielo.control.failNext(500, 1);
    expect(await call('GET', '/orders/')).toMatchObject(error(500, 'INTERNAL_SERVER_ERROR', 'internal server error'));
    expect((await call('GET', '/orders')).status).toBe(200);
    cielo.control.failNext(500, 5);
    cielo.control.failNext(500, 0);
    expect((await call('GET', `/orders/${id}/items`)).status).toBe(200);
    await call('GET', '/nowhere');

    expect(cielo.control.calls()).toEqual({
      'GET /orders': 3,
      'POST /orders': 2,
      'GET /orders/{id}': 2,
      'PUT /orders/{id}': 1,
      'GET /orders/{id}/items': 1,
    });
  });
});
