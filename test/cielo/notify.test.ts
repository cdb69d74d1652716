import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notificationId } from '../../functions/cielo/notification.ts';
import {
  archiveKey,
  MAX_RECORD_BYTES,
  receiveNotification,
  type NotifyDeps,
  type VerificationJob,
} from '../../functions/cielo/notify.ts';
import { orderPk, attentionOf } from '../../functions/cielo/order-state.ts';
import { saoPauloIso } from '../../functions/shared/time.ts';
import { SEED_STATUS_ITEM, SEED_STATUS_TRANSACTION, SEED_TRANSACTION } from '../support/cielo.ts';
import { MemoryCieloOrders } from '../support/memory-cielo.ts';

/**
 * The webhook's use case: every body archived as received and answered; the readable ones applied
 * to the order, a claim of money queued once for the Order Manager API; only the archive or the
 * table failing fails the delivery (so Cielo retries it).
 */

const INTEGRATION = 'efdd6093-5539-4ac4-ad84-7423a8078dde';
const REQUEUE_AFTER_MS = 15 * 60_000;
const START = Date.parse('2026-03-02T15:00:00.000Z');

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/cielo/${name}`, import.meta.url));
const STATUS_ORDER = '943f2276-5e2b-44bb-a68a-fd9b6418afa4';
const TRANSACTION_ORDER = 'f0f0f0f0-f0f0-f0f0-f0f0-f0f0f0f0f0f0';

interface Archived {
  body: Buffer;
  contentType: string;
}

function setup() {
  const orders = new MemoryCieloOrders();
  const archive = new Map<string, Archived>();
  const jobs: VerificationJob[] = [];
  const logs: { level: string; message: string; extra?: object }[] = [];
  let clock = START;
  const failures = { archive: false, queue: false };
  const deps: NotifyDeps = {
    archive: {
      async put(key, body, contentType) {
        if (failures.archive) throw new Error('S3 is down');
        archive.set(key, { body: Buffer.from(body), contentType });
      },
    },
    orders,
    verifications: {
      async send(job) {
        if (failures.queue) throw new Error('SQS is down');
        jobs.push(job);
      },
    },
    now: () => new Date(clock),
    requeueAfterMs: REQUEUE_AFTER_MS,
    log: {
      info: (message, extra) => logs.push({ level: 'info', message, extra }),
      warn: (message, extra) => logs.push({ level: 'warn', message, extra }),
      error: (message, extra) => logs.push({ level: 'error', message, extra }),
    },
  };
  return {
    orders,
    archive,
    jobs,
    logs,
    failures,
    deps,
    advance: (ms: number) => (clock += ms),
    now: () => new Date(clock),
    receive: (raw: Buffer | string, correlationId = 'corr-1', integration = INTEGRATION) =>
      receiveNotification(integration, Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'), correlationId, deps),
  };
}

const paidBody = (at: string, orderId = 'order-1') =>
  JSON.stringify({
    id: orderId,
    status: 'PAID',
    number: '17',
    notes: 'Mesa 6',
    price: 2500,
    updated_at: at,
    items: [],
    transactions: [],
  });

describe('receiveNotification: the seed notifications', () => {
  it('archives the status change byte for byte, applies it and queues its verification once', async () => {
    const t = setup();
    const raw = fixture('status-change.json');
    const id = notificationId(raw);
    const outcome = await t.receive(raw, 'corr-status');
    expect(outcome).toEqual({ kind: 'applied', notificationId: id, orderId: STATUS_ORDER, verification: 'queued' });

    const key = archiveKey(INTEGRATION, id, t.now());
    expect(key).toBe(`cielo/notifications/${INTEGRATION}/2026/03/02/${id}.json`);
    expect([...t.archive.keys()]).toEqual([key]);
    expect(t.archive.get(key)!.body.equals(raw)).toBe(true);
    expect(t.archive.get(key)!.contentType).toBe('application/json');

    const state = (await t.orders.get(INTEGRATION, STATUS_ORDER))!;
    expect(state.pk).toBe(orderPk(INTEGRATION, STATUS_ORDER));
    expect(state.status).toBe('CLOSED');
    expect(state.previousStatus).toBeNull();
    expect(state.history).toEqual([{ status: 'CLOSED', updatedAt: '2023-04-04T16:19:37.000Z', notificationId: id }]);
    expect([state.number, state.reference, state.notes, state.price, state.remaining]).toEqual([
      '1078069',
      'REFERENCIA DO PEDIDO',
      'TESTE',
      2898,
      null,
    ]);
    expect(state.items).toEqual([SEED_STATUS_ITEM]);
    expect(state.transactions).toEqual([
      { ...SEED_STATUS_TRANSACTION, verification: { state: 'PENDING', claim: 'CONFIRMED|PAYMENT|2392' } },
    ]);
    const receivedAt = saoPauloIso(t.now());
    expect(state.verification).toEqual({
      state: 'PENDING',
      claim: 'CLOSED@2023-04-04T16:19:37.000Z',
      confirmedStatus: null,
      confirmedAt: null,
      apiStatus: null,
      pendingSince: receivedAt,
      queuedAt: receivedAt,
      checkedAt: null,
      attempts: 0,
      lastError: null,
      contradictions: [],
    });
    expect(state.notificationIds).toEqual([id]);
    expect(state.source).toBe('NOTIFICATIONS');
    expect([state.createdAt, state.updatedAt, state.version]).toEqual([receivedAt, receivedAt, 1]);
    expect(t.jobs).toEqual([{ integrationHubServiceId: INTEGRATION, orderId: STATUS_ORDER, correlationId: 'corr-status' }]);
  });

  it('archives the transaction notification byte for byte and applies its `trasaction` with the string amount', async () => {
    const t = setup();
    const raw = fixture('transaction.json');
    const id = notificationId(raw);
    expect(await t.receive(raw)).toEqual({
      kind: 'applied',
      notificationId: id,
      orderId: TRANSACTION_ORDER,
      verification: 'queued',
    });
    const stored = t.archive.get(archiveKey(INTEGRATION, id, t.now()))!;
    expect(stored.body.equals(raw)).toBe(true);
    expect(stored.contentType).toBe('application/json');

    const state = (await t.orders.get(INTEGRATION, TRANSACTION_ORDER))!;
    expect(state.status).toBeNull();
    expect(state.history).toEqual([]);
    expect(state.transactions).toEqual([
      { ...SEED_TRANSACTION, verification: { state: 'PENDING', claim: 'CONFIRMED|PAYMENT|1' } },
    ]);
    expect(state.verification.state).toBe('PENDING');
    expect(t.jobs).toEqual([{ integrationHubServiceId: INTEGRATION, orderId: TRANSACTION_ORDER, correlationId: 'corr-1' }]);
  });

  it('a duplicate body is `duplicate`: archived again, the order unchanged, no second verification job', async () => {
    const t = setup();
    const raw = fixture('status-change.json');
    const id = notificationId(raw);
    await t.receive(raw);
    const before = await t.orders.get(INTEGRATION, STATUS_ORDER);
    t.advance(60_000);
    expect(await t.receive(raw)).toEqual({
      kind: 'duplicate',
      notificationId: id,
      orderId: STATUS_ORDER,
      verification: 'not-queued',
    });
    expect(await t.orders.get(INTEGRATION, STATUS_ORDER)).toEqual(before);
    expect(t.jobs).toHaveLength(1);
    expect(t.archive.get(archiveKey(INTEGRATION, id, t.now()))!.body.equals(raw)).toBe(true);
  });
});

describe('receiveNotification: the verification job', () => {
  it('a PAID status queues exactly one job until requeueAfterMs passes, then one more', async () => {
    const t = setup();
    expect(await t.receive(paidBody('2026-03-02T14:59:00Z'), 'c-1')).toMatchObject({ kind: 'applied', verification: 'queued' });
    expect(t.jobs).toEqual([{ integrationHubServiceId: INTEGRATION, orderId: 'order-1', correlationId: 'c-1' }]);
    const firstQueuedAt = saoPauloIso(t.now());

    // Other notifications of the same order, and the same one again, within requeueAfterMs: no job.
    t.advance(REQUEUE_AFTER_MS - 1);
    const transaction = JSON.stringify({
      id: 't-1',
      order_id: 'order-1',
      trasaction: { id: 't-1', status: 'CONFIRMED', transaction_type: 'PAYMENT', amount: '2500' },
    });
    expect(await t.receive(transaction, 'c-2')).toMatchObject({ kind: 'applied', verification: 'not-queued' });
    expect(await t.receive(paidBody('2026-03-02T14:59:00Z'), 'c-3')).toMatchObject({
      kind: 'duplicate',
      verification: 'not-queued',
    });
    expect(t.jobs).toHaveLength(1);
    let state = (await t.orders.get(INTEGRATION, 'order-1'))!;
    expect([state.verification.state, state.verification.pendingSince, state.verification.queuedAt]).toEqual([
      'PENDING',
      firstQueuedAt,
      firstQueuedAt,
    ]);

    // Once requeueAfterMs has passed, the next notification (a duplicate too) queues it again.
    t.advance(1);
    expect(await t.receive(paidBody('2026-03-02T14:59:00Z'), 'c-4')).toMatchObject({ kind: 'duplicate', verification: 'queued' });
    expect(t.jobs.map((j) => j.correlationId)).toEqual(['c-1', 'c-4']);
    state = (await t.orders.get(INTEGRATION, 'order-1'))!;
    expect([state.verification.pendingSince, state.verification.queuedAt]).toEqual([firstQueuedAt, saoPauloIso(t.now())]);
  });

  it('RE-ENTERED after a pending PAID claim withdraws it: the order is back to NONE, nothing queued', async () => {
    const t = setup();
    await t.receive(paidBody('2026-03-02T14:59:00Z'));
    t.advance(60_000);
    const reEntered = JSON.stringify({ id: 'order-1', status: 'RE_ENTERED', updated_at: '2026-03-02T15:00:30Z', items: [] });
    expect(await t.receive(reEntered)).toMatchObject({ kind: 'applied', verification: 'not-queued' });
    const state = (await t.orders.get(INTEGRATION, 'order-1'))!;
    expect([state.status, state.previousStatus]).toEqual(['RE-ENTERED', 'PAID']);
    expect([state.verification.state, state.verification.pendingSince]).toEqual(['NONE', null]);
    expect(t.jobs).toHaveLength(1);
  });

  it('an ENTERED order with no confirmed payment queues nothing', async () => {
    const t = setup();
    const entered = JSON.stringify({ id: 'order-2', status: 'ENTERED', updated_at: '2026-03-02T14:00:00Z', items: [] });
    expect(await t.receive(entered)).toMatchObject({ kind: 'applied', orderId: 'order-2', verification: 'not-queued' });
    expect(t.jobs).toEqual([]);
    expect((await t.orders.get(INTEGRATION, 'order-2'))!.verification.state).toBe('NONE');
  });

  it('the queue failing does not fail the delivery: the order stays PENDING for the sweep', async () => {
    const t = setup();
    t.failures.queue = true;
    const body = paidBody('2026-03-02T14:59:00Z');
    expect(await t.receive(body)).toEqual({
      kind: 'applied',
      notificationId: notificationId(Buffer.from(body)),
      orderId: 'order-1',
      verification: 'not-queued',
    });
    const state = (await t.orders.get(INTEGRATION, 'order-1'))!;
    expect(state.status).toBe('PAID');
    expect(state.verification.state).toBe('PENDING');
    expect(state.verification.queuedAt).toBe(saoPauloIso(t.now()));
    expect(t.jobs).toEqual([]);
    expect(t.logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      'verification job could not be queued; the sweep re-queues it',
    ]);
  });
});

describe('receiveNotification: bodies that cannot be read', () => {
  const cases: [string, Buffer, string | RegExp][] = [
    ['not JSON', Buffer.from('{"id": 0101010101}'), /^not JSON$/],
    ['invalid UTF-8 bytes', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'not UTF-8 text'],
    ['a JSON array', Buffer.from('[]'), 'not a JSON object'],
    ['an empty body', Buffer.alloc(0), /^not JSON$/],
    ['an object without an order', Buffer.from('{}'), /^status change: /],
  ];
  for (const [name, raw, reason] of cases) {
    it(`${name}: archived raw, recorded for an operator with the reason, answered`, async () => {
      const t = setup();
      const id = notificationId(raw);
      const outcome = await t.receive(raw);
      expect(outcome).toEqual({ kind: 'unreadable', notificationId: id, reason: expect.stringMatching(reason) });
      const key = archiveKey(INTEGRATION, id, t.now());
      expect([...t.archive.keys()]).toEqual([key]);
      expect(t.archive.get(key)!.body.equals(raw)).toBe(true);
      expect(t.archive.get(key)!.contentType).toBe('application/octet-stream');
      expect(t.orders.unreadable).toEqual([
        {
          integrationHubServiceId: INTEGRATION,
          notificationId: id,
          reason: (outcome as { reason: string }).reason,
          archiveKey: key,
          receivedAt: saoPauloIso(t.now()),
        },
      ]);
      expect(t.orders.items.size).toBe(0);
      expect(t.jobs).toEqual([]);
      expect(await t.orders.needingAttention(10)).toEqual([{ kind: 'unreadable', ...t.orders.unreadable[0]! }]);
    });
  }
});

describe('receiveNotification: infrastructure failing', () => {
  it('the archive failing fails the delivery (Cielo retries it), for a readable body and an unreadable one', async () => {
    const t = setup();
    t.failures.archive = true;
    await expect(t.receive(paidBody('2026-03-02T14:59:00Z'))).rejects.toThrow('S3 is down');
    await expect(t.receive('not json')).rejects.toThrow('S3 is down');
    expect(t.archive.size).toBe(0);
    expect(t.orders.unreadable).toEqual([]);
    expect(t.jobs).toEqual([]);
  });

  it("Cielo's retry after the archive failed is archived and applied, and queues the verification once requeueAfterMs passed", async () => {
    const t = setup();
    const body = paidBody('2026-03-02T14:59:00Z');
    t.failures.archive = true;
    await expect(t.receive(body)).rejects.toThrow('S3 is down');
    t.failures.archive = false;
    t.advance(REQUEUE_AFTER_MS); // Cielo retries every 15 minutes
    const outcome = await t.receive(body, 'retry');
    expect(outcome).toMatchObject({ orderId: 'order-1', verification: 'queued' });
    expect(t.archive.get(archiveKey(INTEGRATION, notificationId(Buffer.from(body)), t.now()))!.body.toString()).toBe(body);
    const state = (await t.orders.get(INTEGRATION, 'order-1'))!;
    expect(state.status).toBe('PAID');
    expect(state.history).toHaveLength(1);
    expect(t.jobs).toEqual([{ integrationHubServiceId: INTEGRATION, orderId: 'order-1', correlationId: 'retry' }]);
  });

  it('the order table failing fails the delivery', async () => {
    const t = setup();
    t.orders.beforeSave = () => {
      throw new Error('DynamoDB is down');
    };
    await expect(t.receive(paidBody('2026-03-02T14:59:00Z'))).rejects.toThrow('DynamoDB is down');
    expect(t.jobs).toEqual([]);
  });
});

describe('receiveNotification: 10,000 generated bodies', () => {
  it('never throws and always archives the body as received', async () => {
    const t = setup();
    const seedStatus = JSON.parse(fixture('status-change.json').toString('utf8')) as Record<string, unknown>;
    const seedTransaction = JSON.parse(fixture('transaction.json').toString('utf8')) as Record<string, unknown>;
    const seedTransactionInner = seedTransaction.trasaction as Record<string, unknown>;
    const orderIds = fc.constantFrom('o-1', 'o-2', 'o-3', STATUS_ORDER, TRANSACTION_ORDER);
    const mutated = (base: Record<string, unknown>, idKey: 'id' | 'order_id') =>
      fc
        .record({
          changes: fc.dictionary(
            fc.constantFrom(...Object.keys(base), 'type', 'transaction', 'status', 'order_id'),
            fc.jsonValue(),
            {
              maxKeys: 4,
            },
          ),
          orderId: orderIds,
        })
        .map(({ changes, orderId }) => Buffer.from(JSON.stringify({ ...base, [idKey]: orderId, ...changes })));
    const mutatedTransaction = fc
      .record({
        changes: fc.dictionary(fc.constantFrom(...Object.keys(seedTransactionInner), 'payment_fields', 'card'), fc.jsonValue(), {
          maxKeys: 4,
        }),
        orderId: orderIds,
        key: fc.constantFrom('trasaction', 'transaction'),
      })
      .map(({ changes, orderId, key }) =>
        Buffer.from(JSON.stringify({ id: 'n', order_id: orderId, [key]: { ...seedTransactionInner, ...changes } })),
      );
    const body = fc.oneof(
      mutated(seedStatus, 'id'),
      mutated(seedTransaction, 'order_id'),
      mutatedTransaction,
      fc.json().map((text) => Buffer.from(text)),
      fc.string({ unit: 'binary' }).map((text) => Buffer.from(text)),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    );
    const integration = fc.constantFrom(INTEGRATION, 'integration-2', 'integration-3');
    const kinds = { applied: 0, duplicate: 0, unreadable: 0 };

    await fc.assert(
      fc.asyncProperty(body, integration, async (raw, integrationHubServiceId) => {
        t.advance(1_000);
        const outcome = await t.receive(raw, 'fuzz', integrationHubServiceId);
        kinds[outcome.kind]++;
        const id = notificationId(raw);
        expect(outcome.notificationId).toBe(id);
        const archived = t.archive.get(archiveKey(integrationHubServiceId, id, t.now()));
        expect(archived?.body.equals(raw)).toBe(true);
        if (outcome.kind === 'unreadable') {
          expect(t.orders.unreadable.at(-1)).toMatchObject({
            integrationHubServiceId,
            notificationId: id,
            reason: outcome.reason,
          });
        } else {
          const state = await t.orders.get(integrationHubServiceId, outcome.orderId);
          expect(state?.notificationIds).toContain(id);
        }
      }),
      { numRuns: 10_000 },
    );
    // The run reached all three outcomes, the readable ones in quantity.
    expect(kinds.applied).toBeGreaterThan(1_000);
    expect(kinds.duplicate).toBeGreaterThan(0);
    expect(kinds.unreadable).toBeGreaterThan(1_000);
  });
});

describe('receiveNotification: orders larger than one record holds', () => {
  const longText = (i: number) => `${String(i).padStart(4, '0')} ${'x'.repeat(400)}`;

  it('keeps the status and transactions, leaves the items out and flags it (the archive has them)', async () => {
    const t = setup();
    const items = Array.from({ length: 1000 }, (_, i) => ({
      sku: `S${i}`,
      name: longText(i),
      unit_price: 100,
      quantity: 1,
      unit_of_measure: 'EACH',
    }));
    const body = JSON.stringify({
      id: 'big-1',
      status: 'ENTERED',
      updated_at: '2026-03-02T13:00:00Z',
      notes: 'Mesa 9',
      price: 100_000,
      items,
    });
    expect(await t.receive(body)).toMatchObject({ kind: 'applied', orderId: 'big-1' });
    const state = (await t.orders.get(INTEGRATION, 'big-1'))!;
    expect(state).toMatchObject({ status: 'ENTERED', notes: 'Mesa 9', price: 100_000, items: [], itemsOmitted: 1000 });
    expect(attentionOf(state)).toEqual([
      '1000 items were not kept (the order exceeds what one record holds); the archived notification has them',
    ]);
    expect(Buffer.byteLength(JSON.stringify(state))).toBeLessThan(MAX_RECORD_BYTES);
    expect([...t.archive.values()].map((a) => a.body.toString())).toEqual([body]);
  });

  it('an order still too large without its items is archived and flagged, never a failure', async () => {
    const t = setup();
    const transactions = Array.from({ length: 800 }, (_, i) => ({
      id: `t-${i}`,
      status: 'PENDING',
      amount: 1,
      description: longText(i),
      external_id: longText(i),
      number: longText(i),
    }));
    const body = JSON.stringify({ id: 'big-2', status: 'ENTERED', updated_at: '2026-03-02T13:00:00Z', transactions });
    const outcome = await t.receive(body);
    expect(outcome).toEqual({
      kind: 'unreadable',
      notificationId: expect.any(String),
      reason: 'order big-2 is too large to keep (over 350 KB without its items)',
    });
    expect(t.orders.unreadable.map((u) => u.reason)).toEqual([outcome.kind === 'unreadable' ? outcome.reason : '']);
    expect(await t.orders.get(INTEGRATION, 'big-2')).toBeUndefined();
    expect(t.archive.size).toBe(1);
  });
});
