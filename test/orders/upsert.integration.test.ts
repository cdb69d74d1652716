import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderRef } from '../../functions/payments/record.ts';
import { envName } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import {
  functionsWithout,
  issueToken,
  OTHER_INTEGRATION,
  post,
  SEED_INTEGRATION,
  send,
  startTestRuntime,
} from '../support/runtime.ts';

/*
 * PUT /orders/{orderKeyType}/{orderKey} through the local API gateway, on the emulators. The NFC-e
 * issuer is left out so a queued payment stays in progress (the 409 case); nothing else needs it.
 */

let stack: LocalRuntime;
let token: string;
let otherToken: string;
let orderCounter = 0;

const WHOLE_CENTAVOS = 'must be an amount in reais with at most 2 decimal places (whole centavos)';
const ISO_SAO_PAULO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}-03:00$/;
const ordersTable = () => stack.env.TABLE_ORDERS!;
const paymentsTable = () => stack.env[envName.table('payments')]!;

/** The seed's open tab of table 2 (`fixtures/order-mesa/order-table-2.json`), safe to mutate. */
const tab = () => fixture('order-mesa/order-table-2.json');
/** A table of its own per test, so tests do not share order slots. */
const nextKey = () => `U${++orderCounter}`;
/** PUT as the seed integration unless another token is given. */
const put = (path: string, body: unknown, bearer: string = token) => send(stack, 'PUT', path, body, bearer);

async function stored(orderKeyType: string, orderKey: string) {
  const { Item } = await stack.documents.send(
    new GetCommand({
      TableName: ordersTable(),
      Key: { pk: `ORDER#${SEED_INTEGRATION}#${orderKeyType}#${orderKey}` },
      ConsistentRead: true,
    }),
  );
  return Item;
}

beforeAll(async () => {
  stack = await startTestRuntime({ functions: functionsWithout('nfceIssuer') });
  token = await issueToken(stack, SEED_INTEGRATION);
  otherToken = await issueToken(stack, OTHER_INTEGRATION);
});
afterAll(() => stack?.close());

describe('PUT /orders/{orderKeyType}/{orderKey}: the open tab', () => {
  it('201 with the echoed order on the first PUT, 200 on the next, which replaces the stored order whole', async () => {
    const key = nextKey();
    const first = await put(`/orders/TABLE/${key}`, tab());
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      integrationHubServiceId: SEED_INTEGRATION,
      orderKeyType: 'TABLE',
      orderKey: key,
      items: [{ sku: '058', name: 'Suco de uva', quantity: 2, unitPrice: 30.5, unit: 'UN' }],
      notes: 'Mesa 2',
      itemsTotal: 61,
      updatedAt: expect.stringMatching(ISO_SAO_PAULO),
    });
    expect(await stored('TABLE', key)).toEqual({
      pk: `ORDER#${SEED_INTEGRATION}#TABLE#${key}`,
      integrationHubServiceId: SEED_INTEGRATION,
      orderKeyType: 'TABLE',
      orderKey: key,
      items: [{ sku: '058', name: 'Suco de uva', quantity: 20_000, unitPrice: 3050, unit: 'UN' }],
      notes: 'Mesa 2',
      source: 'POS',
      updatedAt: first.body.updatedAt,
    });

    // The tab grows: a draught beer by volume, and the notes are gone.
    const items = [
      { sku: '058', name: 'Suco de uva', quantity: 2, unitPrice: 30.5, unit: 'UN' },
      { sku: '101', name: 'Chopp artesanal', quantity: 0.355, unitPrice: 30.5, unit: 'L' },
    ];
    const second = await put(`/orders/TABLE/${key}`, { integrationHubServiceId: SEED_INTEGRATION, items });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({
      integrationHubServiceId: SEED_INTEGRATION,
      orderKeyType: 'TABLE',
      orderKey: key,
      items,
      notes: null,
      // 61.00 + round(0.355 × 30.50 = 10.8275) = 71.83
      itemsTotal: 71.83,
      updatedAt: expect.stringMatching(ISO_SAO_PAULO),
    });
    expect(second.body.updatedAt >= first.body.updatedAt).toBe(true);
    expect(await stored('TABLE', key)).toEqual({
      pk: `ORDER#${SEED_INTEGRATION}#TABLE#${key}`,
      integrationHubServiceId: SEED_INTEGRATION,
      orderKeyType: 'TABLE',
      orderKey: key,
      items: [
        { sku: '058', name: 'Suco de uva', quantity: 20_000, unitPrice: 3050, unit: 'UN' },
        { sku: '101', name: 'Chopp artesanal', quantity: 3550, unitPrice: 3050, unit: 'L' },
      ],
      source: 'POS',
      updatedAt: second.body.updatedAt,
    });
  });

  it('each order key type is its own order', async () => {
    const key = nextKey();
    const card = await put(`/orders/CARD/${key}`, tab());
    const orderId = await put(`/orders/ORDER_ID/${key}`, tab());
    expect([card.status, orderId.status]).toEqual([201, 201]);
    expect(card.body.orderKeyType).toBe('CARD');
    expect(orderId.body.orderKeyType).toBe('ORDER_ID');
    expect((await stored('CARD', key))!.orderKeyType).toBe('CARD');
    expect((await stored('ORDER_ID', key))!.orderKeyType).toBe('ORDER_ID');
    expect(await stored('TABLE', key)).toBeUndefined();
  });
});

describe('400: every problem, in the contract’s words', () => {
  type Case = [label: string, change: (body: any) => void, errors: { key: string; message: string }[]];
  const cases: Case[] = [
    ['missing items', (b) => delete b.items, [{ key: 'items', message: 'body.items is required' }]],
    ['empty items', (b) => (b.items = []), [{ key: 'items', message: 'body.items must have at least 1 item' }]],
    ['an item without sku', (b) => delete b.items[0].sku, [{ key: 'items.0.sku', message: 'body.items.0.sku is required' }]],
    [
      'quantity 0',
      (b) => (b.items[0].quantity = 0),
      [{ key: 'items.0.quantity', message: 'body.items.0.quantity must be greater than 0' }],
    ],
    [
      'quantity with 5 decimals',
      (b) => (b.items[0].quantity = 0.35501),
      [{ key: 'items.0.quantity', message: 'body.items.0.quantity must have at most 4 decimal places' }],
    ],
    [
      'unitPrice with 3 decimals',
      (b) => (b.items[0].unitPrice = 30.505),
      [{ key: 'items.0.unitPrice', message: `body.items.0.unitPrice ${WHOLE_CENTAVOS}` }],
    ],
    [
      'negative unitPrice',
      (b) => (b.items[0].unitPrice = -1),
      [{ key: 'items.0.unitPrice', message: 'body.items.0.unitPrice must be at least 0' }],
    ],
    [
      'name over 120 characters',
      (b) => (b.items[0].name = 'x'.repeat(121)),
      [{ key: 'items.0.name', message: 'body.items.0.name must be at most 120 characters' }],
    ],
    [
      'unit over 6 characters',
      (b) => (b.items[0].unit = 'GARRAFA'),
      [{ key: 'items.0.unit', message: 'body.items.0.unit must be at most 6 characters' }],
    ],
    [
      'a bad GUID',
      (b) => (b.integrationHubServiceId = 'efdd6093-5539-4ac4-ad84-7423a8078ddE'),
      [{ key: 'integrationHubServiceId', message: 'body.integrationHubServiceId must be a valid GUID' }],
    ],
  ];

  it.each(cases)('%s', async (_label, change, errors) => {
    const key = nextKey();
    const body = tab();
    change(body);
    const answer = await put(`/orders/TABLE/${key}`, body);
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 400, body: { errors } });
    expect(await stored('TABLE', key)).toBeUndefined();
  });

  it('a body that is not JSON', async () => {
    const key = nextKey();
    const answer = await put(`/orders/TABLE/${key}`, '{"items": ');
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 400,
      body: { errors: [{ key: 'body', message: 'body is not valid JSON: Unexpected end of JSON input' }] },
    });
    expect(await stored('TABLE', key)).toBeUndefined();
  });

  it('a body that is not JSON and a bad path: both problems', async () => {
    const answer = await put(`/orders/MESA/${nextKey()}`, '{"items": ');
    expect(answer.body).toEqual({
      errors: [
        { key: 'orderKeyType', message: 'path.orderKeyType must be one of TABLE, CARD, ORDER_ID' },
        { key: 'body', message: 'body is not valid JSON: Unexpected end of JSON input' },
      ],
    });
  });

  it('amounts too large to total exactly are a 400, not a 500', async () => {
    const body = tab();
    body.items[0].unitPrice = 90071992547409.92;
    body.items[0].quantity = 10_000;
    const answer = await put(`/orders/TABLE/${nextKey()}`, body);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 400,
      body: {
        errors: [
          { key: 'items.0.quantity', message: 'body.items.0.quantity must be at most 9999' },
          { key: 'items.0.unitPrice', message: 'body.items.0.unitPrice must be at most 100000' },
        ],
      },
    });
  });

  it('a tab no payment could match (over 10,000,000 reais) is refused now, not when it is paid', async () => {
    const key = nextKey();
    const body = tab();
    body.items = [{ sku: 'X', name: 'Caro', quantity: 9999, unitPrice: 100_000, unit: 'UN' }];
    expect(await put(`/orders/TABLE/${key}`, body)).toMatchObject({
      status: 400,
      body: {
        errors: [
          {
            key: 'items',
            message: 'body.items must add up to at most 10000000 reais (the largest orderAmount a payment can have)',
          },
        ],
      },
    });
    body.items[0].quantity = 100;
    expect((await put(`/orders/TABLE/${key}`, body)).status).toBe(201);
  });

  it('orderKeyType MESA in the path', async () => {
    const key = nextKey();
    const answer = await put(`/orders/MESA/${key}`, tab());
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 400,
      body: { errors: [{ key: 'orderKeyType', message: 'path.orderKeyType must be one of TABLE, CARD, ORDER_ID' }] },
    });
    expect(await stored('MESA', key)).toBeUndefined();
  });

  it('path and body problems in one answer, path first, every issue of every item', async () => {
    const body = tab();
    body.items[0].quantity = 0;
    body.items.push({ name: 'Água com gás', quantity: 1.00001, unitPrice: -2.001, unit: 'GARRAFA' });
    const answer = await put(`/orders/MESA/${nextKey()}`, body);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 400,
      body: {
        errors: [
          { key: 'orderKeyType', message: 'path.orderKeyType must be one of TABLE, CARD, ORDER_ID' },
          { key: 'items.0.quantity', message: 'body.items.0.quantity must be greater than 0' },
          { key: 'items.1.sku', message: 'body.items.1.sku is required' },
          { key: 'items.1.quantity', message: 'body.items.1.quantity must have at most 4 decimal places' },
          { key: 'items.1.unitPrice', message: 'body.items.1.unitPrice must be at least 0' },
          { key: 'items.1.unitPrice', message: `body.items.1.unitPrice ${WHOLE_CENTAVOS}` },
          { key: 'items.1.unit', message: 'body.items.1.unit must be at most 6 characters' },
        ],
      },
    });
  });
});

describe('notes', () => {
  it('blank notes are stored as none and echoed as null', async () => {
    const key = nextKey();
    const body = { ...tab(), notes: '   ' };
    const answer = await put(`/orders/TABLE/${key}`, body);
    expect(answer.status).toBe(201);
    expect(answer.body.notes).toBeNull();
    expect((await stored('TABLE', key))!.notes).toBeUndefined();
  });
});

describe('who may call, and what is refused', () => {
  it('401 without a token, before looking at the path or the body', async () => {
    const answer = await send(stack, 'PUT', `/orders/MESA/${nextKey()}`, { not: 'valid' });
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 401,
      body: { errors: [{ key: 'authorization', message: 'missing or unknown bearer token' }] },
    });
  });

  it('403 when another integration’s token sends a valid order naming the seed integration', async () => {
    const key = nextKey();
    const answer = await put(`/orders/TABLE/${key}`, tab(), otherToken);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 403,
      body: {
        errors: [
          {
            key: 'integrationHubServiceId',
            message: 'body.integrationHubServiceId is not the integration this token belongs to',
          },
        ],
      },
    });
    expect(await stored('TABLE', key)).toBeUndefined();
  });

  it('415 for a tab sent as a form or as text; the order is not stored', async () => {
    const key = nextKey();
    for (const type of ['application/x-www-form-urlencoded', 'text/plain; charset=utf-8']) {
      const answer = await send(stack, 'PUT', `/orders/TABLE/${key}`, tab(), token, { 'content-type': type });
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 415,
        body: {
          errors: [
            { key: 'content-type', message: `content-type ${type} is not accepted; send the body as application/json in UTF-8` },
          ],
        },
      });
    }
    expect(await stored('TABLE', key)).toBeUndefined();
  });

  it('413 for a body over 512 KiB', async () => {
    const key = nextKey();
    const body = tab();
    body.padding = 'x'.repeat(512 * 1024);
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const answer = await put(`/orders/TABLE/${key}`, body);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 413,
      body: { errors: [{ key: 'body', message: `body is ${bytes} bytes; the limit is 524288 bytes` }] },
    });
    expect(await stored('TABLE', key)).toBeUndefined();
  });
});

describe('409 while a payment for the order is in flight', () => {
  it('refuses to change the order, naming the payment; accepts again once the payment is done', async () => {
    const key = nextKey();
    const path = `/orders/TABLE/${key}`;
    expect((await put(path, tab())).status).toBe(201);
    const before = await stored('TABLE', key);

    const payment = seedPayment();
    payment.orderKey = key;
    const accepted = await post(stack, '/order/payment', payment, token);
    expect(accepted.status).toBe(202);
    const { paymentId } = accepted.body;
    expect(paymentId).toMatch(/^[0-9a-f-]{36}$/);

    const changed = tab();
    changed.items[0].quantity = 3;
    const conflict = await put(path, changed);
    expect({ status: conflict.status, body: conflict.body }).toEqual({
      status: 409,
      body: {
        errors: [
          {
            key: 'orderKey',
            message: `path.orderKey TABLE ${key} has a payment in progress (paymentId ${paymentId}); the order cannot change until it finishes`,
          },
        ],
      },
    });
    expect(await stored('TABLE', key)).toEqual(before);

    // What the NFC-e issuer writes when it finishes the payment.
    await stack.documents.send(
      new UpdateCommand({
        TableName: paymentsTable(),
        Key: { pk: orderRef(SEED_INTEGRATION, 'TABLE', key) },
        UpdateExpression: 'SET #status = :done, #result = :result',
        ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
        ExpressionAttributeValues: { ':done': 'DONE', ':result': { success: true, invoice: null, error: null } },
      }),
    );
    // Finished, but the POS has not read its answer yet: the tab may not change under it.
    const unread = await put(path, changed);
    expect(unread.status).toBe(409);
    expect(unread.body.errors[0].message).toMatch(
      new RegExp(
        `^path\\.orderKey TABLE ${key} has a finished payment \\(paymentId ${paymentId}\\) whose answer no POS has read yet; repeat that payment's request first, or push the tab after \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}-03:00$`,
      ),
    );
    expect((await post(stack, '/order/payment', payment, token)).status).toBe(200);
    // Once read, the tab may change again.
    const after = await put(path, changed);
    expect(after.status).toBe(200);
    expect(after.body.itemsTotal).toBe(91.5);
    expect((await stored('TABLE', key))!.items).toEqual([
      { sku: '058', name: 'Suco de uva', quantity: 30_000, unitPrice: 3050, unit: 'UN' },
    ]);
  });
});
