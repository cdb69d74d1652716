import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { orderRef, type PaymentResult } from '../../functions/payments/record.ts';
import { DynamoPaymentStore } from '../../functions/payments/store.ts';
import { envName, localName } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { seedPayment } from '../support/fixtures.ts';
import { functionsWithout, issueToken, OTHER_INTEGRATION, post, SEED_INTEGRATION, startTestRuntime } from '../support/runtime.ts';

let stack: LocalRuntime;
let token: string;
let otherToken: string;
let orderCounter = 0;
const paymentsTable = () => stack.env[envName.table('payments')]!;
const queueUrl = () => stack.queues.nfceRequests!.url;

/** The seed's payment for a table of its own, so tests do not share order slots. */
function payment() {
  const body = seedPayment();
  body.orderKey = `T${++orderCounter}`;
  return body;
}

async function queuedJobs(): Promise<any[]> {
  const jobs: any[] = [];
  for (;;) {
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl(), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) return jobs;
    jobs.push(...Messages.map((m) => JSON.parse(m.Body!)));
  }
}

async function slot(body: { orderKeyType: string; orderKey: string }) {
  const { Item } = await stack.documents.send(
    new GetCommand({ TableName: paymentsTable(), Key: { pk: orderRef(SEED_INTEGRATION, body.orderKeyType, body.orderKey) } }),
  );
  return Item;
}

/** The same order paid another way: a different request for the same tab. */
function differentPayment(body: ReturnType<typeof payment>) {
  const next = structuredClone(body);
  next.paymentObject.methods[0]!.method = 'PIX';
  delete next.paymentObject.methods[0]!.methodInfo;
  return next;
}

/** What the NFC-e issuer writes when it finishes the payment in the order's slot. */
async function finishAs(body: { orderKeyType: string; orderKey: string }, result: PaymentResult) {
  await stack.documents.send(
    new UpdateCommand({
      TableName: paymentsTable(),
      Key: { pk: orderRef(SEED_INTEGRATION, body.orderKeyType, body.orderKey) },
      UpdateExpression: 'SET #status = :done, #result = :result REMOVE enqueuePending',
      ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
      ExpressionAttributeValues: { ':done': 'DONE', ':result': result },
    }),
  );
}

/** The contract's 200 answer for a payment finished without an NFC-e. */
function answerOf(body: ReturnType<typeof payment>, outcome: Pick<PaymentResult, 'success' | 'error'>) {
  return {
    integrationHubServiceId: SEED_INTEGRATION,
    success: outcome.success,
    orderKeyType: body.orderKeyType,
    orderKey: body.orderKey,
    paymentObject: body.paymentObject,
    invoiceDetails: null,
    error: outcome.error,
  };
}

beforeAll(async () => {
  stack = await startTestRuntime({ functions: functionsWithout('nfceIssuer'), env: { ENQUEUE_STALE_SECONDS: '0.3' } });
  token = await issueToken(stack, SEED_INTEGRATION);
  otherToken = await issueToken(stack, OTHER_INTEGRATION);
});
afterAll(() => stack?.close());
beforeEach(async () => {
  await queuedJobs(); // drain what earlier tests queued
});

describe('POST /order/payment: the polling protocol', () => {
  it('202 on the first request, then 208 while in progress, one record and one job', async () => {
    const body = payment();
    const first = await post(stack, '/order/payment', body, token);
    expect(first.status).toBe(202);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(first.body).toMatchObject({
      integrationHubServiceId: SEED_INTEGRATION,
      orderKeyType: 'TABLE',
      orderKey: body.orderKey,
      status: 'QUEUED',
    });

    const second = await post(stack, '/order/payment', body, token);
    const third = await post(stack, '/order/payment', body, token);
    expect([second.status, third.status]).toEqual([208, 208]);
    expect(second.body.paymentId).toBe(first.body.paymentId);

    const record = await slot(body);
    expect(record).toMatchObject({
      paymentId: first.body.paymentId,
      status: 'QUEUED',
      amounts: { orderAmount: 6100, fees: 610, discounts: 0, total: 6710 },
      request: body,
      enqueueAttempts: 1,
    });
    // Pending until the issuer's first write confirms the job arrived: no write on the request path says so.
    expect(record!.enqueuePending).toBe('PENDING');
    expect(record!.createdAt).toMatch(/-03:00$/);

    const jobs = await queuedJobs();
    expect(jobs).toEqual([
      {
        paymentId: first.body.paymentId,
        orderRef: orderRef(SEED_INTEGRATION, 'TABLE', body.orderKey),
        integrationHubServiceId: SEED_INTEGRATION,
        correlationId: record!.correlationId,
      },
    ]);
  });

  it('the same payment with its keys in another order is the same request', async () => {
    const body = payment();
    expect((await post(stack, '/order/payment', body, token)).status).toBe(202);
    const reordered = {
      paymentObject: body.paymentObject,
      orderKey: body.orderKey,
      orderKeyType: body.orderKeyType,
      integrationHubServiceId: body.integrationHubServiceId,
    };
    expect((await post(stack, '/order/payment', reordered, token)).status).toBe(208);
  });

  it('carries the caller’s correlation id into the record and the job', async () => {
    const body = payment();
    await post(stack, '/order/payment', body, token, { 'x-correlation-id': 'pos-abc-12345' });
    expect((await slot(body))!.correlationId).toBe('pos-abc-12345');
    expect((await queuedJobs())[0].correlationId).toBe('pos-abc-12345');
  });

  it('409 for a different payment of an order whose payment is in flight', async () => {
    const body = payment();
    expect((await post(stack, '/order/payment', body, token)).status).toBe(202);
    const different = structuredClone(body);
    different.paymentObject.methods[0].method = 'DEBIT';
    const conflict = await post(stack, '/order/payment', different, token);
    expect(conflict.status).toBe(409);
    expect(conflict.body.errors).toHaveLength(1);
    expect(conflict.body.errors[0].key).toBe('orderKey');
    expect(conflict.body.errors[0].message).toContain(
      `body.orderKey TABLE ${body.orderKey} already has a different payment in progress`,
    );
    expect(await queuedJobs()).toHaveLength(1);
  });

  it('concurrent duplicates create one record and one job', async () => {
    const body = payment();
    const answers = await Promise.all(Array.from({ length: 12 }, () => post(stack, '/order/payment', body, token)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([202, ...Array(11).fill(208)]);
    expect(new Set(answers.map((a) => a.body.paymentId)).size).toBe(1);
    expect(await queuedJobs()).toHaveLength(1);
    const { Items = [] } = await stack.documents.send(new ScanCommand({ TableName: paymentsTable() }));
    expect(Items.filter((i) => i.orderKey === body.orderKey)).toHaveLength(1);
  });

  it('200 with the stored result once finished; a failed payment may be replaced by a different one', async () => {
    const body = payment();
    const accepted = await post(stack, '/order/payment', body, token);
    const rejection = { code: '539', message: 'Rejeição: Duplicidade de NF-e com diferença na Chave de Acesso' };
    await finishAs(body, { success: false, invoice: null, error: rejection });
    const finished = await post(stack, '/order/payment', body, token);
    expect(finished).toMatchObject({ status: 200, body: answerOf(body, { success: false, error: rejection }) });
    await queuedJobs();

    const next = differentPayment(body);
    const again = await post(stack, '/order/payment', next, token);
    expect(again.status).toBe(202);
    expect(again.body.paymentId).not.toBe(accepted.body.paymentId);
    const { Item: archived } = await stack.documents.send(
      new GetCommand({ TableName: paymentsTable(), Key: { pk: `PAYMENT#${accepted.body.paymentId}` } }),
    );
    expect(archived).toMatchObject({
      status: 'DONE',
      result: { success: false, invoice: null, error: rejection },
      orderRef: orderRef(SEED_INTEGRATION, 'TABLE', body.orderKey),
    });
    expect((await queuedJobs()).map((j) => j.paymentId)).toEqual([again.body.paymentId]);
  });
});

describe('the same request keeps its answer while the tab is unchanged', () => {
  it('a different payment for a paid tab is a 409 that says so, with no record and no job', async () => {
    const body = payment();
    const accepted = await post(stack, '/order/payment', body, token);
    await finishAs(body, { success: true, invoice: null, error: null });
    await queuedJobs();

    const conflict = await post(stack, '/order/payment', differentPayment(body), token);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({
      errors: [
        {
          key: 'orderKey',
          message: `body.orderKey TABLE ${body.orderKey} was already paid (paymentId ${accepted.body.paymentId}); repeat that payment's request for its answer, or push the order's new tab with PUT /orders/TABLE/${body.orderKey} before paying again`,
        },
      ],
    });
    expect((await slot(body))!.paymentId).toBe(accepted.body.paymentId);
    expect(await queuedJobs()).toEqual([]);
    expect(await post(stack, '/order/payment', body, token)).toMatchObject({
      status: 200,
      body: answerOf(body, { success: true, error: null }),
    });
  });

  it('two terminals polling never ping-pong: each request keeps its own answer and makes one payment', async () => {
    const a = payment();
    const b = differentPayment(a);
    const first = await post(stack, '/order/payment', a, token);
    expect(first.status).toBe(202);
    expect((await post(stack, '/order/payment', b, token)).status).toBe(409);
    const failure = { code: 'ORDER_AMOUNT_MISMATCH', message: 'orderAmount R$ 61.00 differs from the order’s items total' };
    await finishAs(a, { success: false, invoice: null, error: failure });

    const second = await post(stack, '/order/payment', b, token);
    expect(second.status).toBe(202);
    await finishAs(b, { success: true, invoice: null, error: null });
    for (let round = 0; round < 3; round++) {
      expect(await post(stack, '/order/payment', a, token)).toMatchObject({
        status: 200,
        body: answerOf(a, { success: false, error: failure }),
      });
      expect(await post(stack, '/order/payment', b, token)).toMatchObject({
        status: 200,
        body: answerOf(b, { success: true, error: null }),
      });
    }
    const { Items = [] } = await stack.documents.send(new ScanCommand({ TableName: paymentsTable() }));
    const payments = new Set(Items.filter((i) => i.orderKey === a.orderKey).map((i) => i.paymentId));
    expect(payments).toEqual(new Set([first.body.paymentId, second.body.paymentId]));
    expect((await queuedJobs()).map((j) => j.paymentId).sort()).toEqual([first.body.paymentId, second.body.paymentId].sort());
  });
});

describe('a job that never reached the queue', () => {
  async function withQueueDown<T>(action: () => Promise<T>): Promise<T> {
    const { Attributes } = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl(), AttributeNames: ['All'] }),
    );
    await stack.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl() }));
    try {
      return await action();
    } finally {
      await stack.clients.sqs.send(
        new CreateQueueCommand({
          QueueName: localName.queue('nfceRequests'),
          Attributes: {
            VisibilityTimeout: Attributes!.VisibilityTimeout!,
            MessageRetentionPeriod: Attributes!.MessageRetentionPeriod!,
            RedrivePolicy: Attributes!.RedrivePolicy!,
          },
        }),
      );
    }
  }

  it('is re-queued by a later poll of the same request', async () => {
    const body = payment();
    const accepted = await withQueueDown(() => post(stack, '/order/payment', body, token));
    // The payment is durable even though SQS failed: the POS is told it is accepted.
    expect(accepted.status).toBe(202);
    expect(await slot(body)).toMatchObject({ enqueuePending: 'PENDING', enqueueAttempts: 1 });
    expect(await queuedJobs()).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 400)); // past ENQUEUE_STALE_SECONDS
    const poll = await post(stack, '/order/payment', body, token);
    expect(poll.status).toBe(208);
    expect((await queuedJobs()).map((j) => j.paymentId)).toEqual([accepted.body.paymentId]);
    const record = await slot(body);
    expect(record).toMatchObject({ enqueuePending: 'PENDING', enqueueAttempts: 2 });

    // The issuer starting it confirms the job arrived: further polls send nothing more.
    const payments = new DynamoPaymentStore(stack.documents, stack.env[envName.table('payments')]!);
    expect(await payments.startProcessing(record!.pk, record!.paymentId, '2026-11-30T10:00:00.000-03:00')).toMatchObject({
      status: 'PROCESSING',
      processingAttempts: 1,
    });
    expect(await slot(body)).toMatchObject({ status: 'PROCESSING', enqueuedAt: '2026-11-30T10:00:00.000-03:00' });
    expect((await slot(body))!.enqueuePending).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await post(stack, '/order/payment', body, token)).status).toBe(208);
    expect(await queuedJobs()).toEqual([]);
  });

  it('a poll inside the stale window does not send a second job', async () => {
    const body = payment();
    await withQueueDown(() => post(stack, '/order/payment', body, token));
    expect((await post(stack, '/order/payment', body, token)).status).toBe(208);
    expect(await queuedJobs()).toEqual([]);
    expect((await slot(body))!.enqueueAttempts).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await post(stack, '/order/payment', body, token)).status).toBe(208);
    expect(await queuedJobs()).toHaveLength(1);
  });

  it('is re-queued by the scheduled sweep when the POS stops polling', async () => {
    const body = payment();
    const accepted = await withQueueDown(() => post(stack, '/order/payment', body, token));
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Other tests' payments, never started (no issuer here), are pending too and may go with it.
    const swept = (await stack.runSchedule('paymentRequeue')) as { examined: number; requeued: number };
    expect(swept.requeued).toBeGreaterThanOrEqual(1);
    const jobs = (await queuedJobs()).map((j) => j.paymentId);
    expect(jobs.filter((id) => id === accepted.body.paymentId)).toHaveLength(1);
    expect(jobs).toHaveLength(swept.requeued);
    // Just sent: a run inside the stale period sends nothing more.
    expect(await stack.runSchedule('paymentRequeue')).toMatchObject({ requeued: 0 });
  });
});

describe('who may call, and what is refused', () => {
  it('401 without a token or with an unknown one, before looking at the body', async () => {
    const missing = await post(stack, '/order/payment', { not: 'valid' });
    expect(missing).toMatchObject({
      status: 401,
      body: { errors: [{ key: 'authorization', message: 'missing or unknown bearer token' }] },
    });
    const unknown = await post(stack, '/order/payment', payment(), 'chk_this-token-was-never-issued-000000');
    expect(unknown.status).toBe(401);
    const notBearer = await post(stack, '/order/payment', payment(), undefined, { authorization: `Basic ${token}` });
    expect(notBearer.status).toBe(401);
  });

  it('400 for the body before 403 for the integration', async () => {
    const body = payment();
    body.integrationHubServiceId = '02990348-9d85-416d-a573-6dc83eee52eA';
    const answer = await post(stack, '/order/payment', body, otherToken);
    expect(answer).toEqual({
      status: 400,
      headers: answer.headers,
      body: { errors: [{ key: 'integrationHubServiceId', message: 'body.integrationHubServiceId must be a valid GUID' }] },
    });
  });

  it('403 when a valid body names another integration', async () => {
    const body = payment();
    const answer = await post(stack, '/order/payment', body, otherToken);
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({
      errors: [
        { key: 'integrationHubServiceId', message: 'body.integrationHubServiceId is not the integration this token belongs to' },
      ],
    });
    expect(await slot(body)).toBeUndefined();
  });

  it('400 for a body that is not JSON, naming the problem', async () => {
    const answer = await post(stack, '/order/payment', '{"orderKey": ', token);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors[0].key).toBe('body');
    expect(answer.body.errors[0].message).toMatch(/^body is not valid JSON: /);
  });

  it('413 for a body over 64 KiB', async () => {
    const body = payment();
    body.padding = 'x'.repeat(64 * 1024);
    const answer = await post(stack, '/order/payment', body, token);
    expect(answer.status).toBe(413);
    expect(answer.body.errors[0].message).toMatch(/^body is \d+ bytes; the limit is 65536 bytes$/);
  });

  it('400 for bytes that are not UTF-8 (a Latin-1 “José”), instead of turning them into U+FFFD', async () => {
    const body = payment();
    body.paymentObject.methods[0].methodInfo = 'José';
    const latin1 = Buffer.from(JSON.stringify(body), 'latin1');
    const response = await fetch(`${stack.baseUrl}/order/payment`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: latin1,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ key: 'body', message: 'body is not valid UTF-8 text; send JSON encoded as UTF-8' }],
    });
    expect(await slot(body)).toBeUndefined();
  });

  it('400 for a lone surrogate anywhere in the JSON, naming where', async () => {
    const body = payment();
    const text = JSON.stringify(body).replace('"methodInfo":"VISA"', '"methodInfo":"VI\\ud800SA"');
    expect(text).toContain('\\ud800');
    const answer = await post(stack, '/order/payment', text, token);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 400,
      body: {
        errors: [
          {
            key: 'paymentObject.methods.0.methodInfo',
            message: 'body.paymentObject.methods.0.methodInfo must be valid Unicode text (it contains a lone surrogate)',
          },
        ],
      },
    });
    expect(await slot(body)).toBeUndefined();
  });

  it('415 for a body sent as anything but JSON in UTF-8; JSON without a Content-Type is read', async () => {
    const refused = {
      errors: [
        {
          key: 'content-type',
          message: expect.stringMatching(/^content-type .+ is not accepted; send the body as application\/json in UTF-8$/),
        },
      ],
    };
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/json; charset=latin1',
    ]) {
      const answer = await post(stack, '/order/payment', payment(), token, { 'content-type': type });
      expect({ type, status: answer.status, body: answer.body }).toEqual({ type, status: 415, body: refused });
    }
    const utf8 = payment();
    expect((await post(stack, '/order/payment', utf8, token, { 'content-type': 'application/json; charset=UTF-8' })).status).toBe(
      202,
    );
    const bare = payment();
    const response = await fetch(`${stack.baseUrl}/order/payment`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: new TextEncoder().encode(JSON.stringify(bare)), // fetch adds no Content-Type to bytes
    });
    expect(response.status).toBe(202);
    expect((await slot(bare))!.status).toBe('QUEUED');
  });

  it('404 for a route that does not exist', async () => {
    expect((await post(stack, '/order/refund', payment(), token)).status).toBe(404);
  });

  it('429 past 40 requests in a burst, per integration', async () => {
    const throttledToken = await issueToken(stack, 'a2b3c4d5-e6f7-4a8b-9c0d-1e2f3a4b5c6d');
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => post(stack, '/order/payment', { probe: true }, throttledToken)),
    );
    const throttled = answers.filter((a) => a.status === 429);
    // 40 pass at once; a few more may refill at 20/s while the burst is in flight.
    expect(throttled.length).toBeGreaterThanOrEqual(10);
    expect(answers.filter((a) => a.status === 400).length).toBeGreaterThanOrEqual(40);
    expect(throttled[0]!.body).toEqual({
      errors: [
        {
          key: 'rate',
          message:
            'too many requests: at most 20 per second with bursts of 40 per integration (partner routes: 50 per second with bursts of 100 in all); retry after a pause',
        },
      ],
    });
    // Another integration is not throttled by it.
    expect((await post(stack, '/order/payment', { probe: true }, otherToken)).status).toBe(400);
  });
});
