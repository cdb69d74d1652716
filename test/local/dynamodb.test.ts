import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentRecord } from '../../functions/payments/record.ts';
import { DynamoPaymentStore } from '../../functions/payments/store.ts';
import { tables } from '../../lib/manifest.ts';
import { startEmulators, type Emulators } from '../../lib/local/emulators.ts';
import { localClients, provision } from '../../lib/local/provision.ts';

/** The local DynamoDB (dynalite, patched: lib/local/patches) answers a refused PutItem as DynamoDB does. */
let emulators: Emulators;
let store: DynamoPaymentStore;

beforeAll(async () => {
  emulators = await startEmulators();
  const clients = localClients(emulators);
  await provision(clients, { tables: { payments: tables.payments }, queues: {}, buckets: {} });
  store = new DynamoPaymentStore(DynamoDBDocumentClient.from(clients.dynamodb), 'checkout-payments');
});
afterAll(() => emulators?.close());

describe('a conditional PutItem refused with ReturnValuesOnConditionCheckFailure ALL_OLD', () => {
  it('carries the item that refused it, so a poll costs one call', async () => {
    const record = { pk: 'ORDER#x#TABLE#1', paymentId: 'p-1', status: 'QUEUED', enqueueAttempts: 1 } as unknown as PaymentRecord;
    expect(await store.create(record)).toEqual({ written: true });
    expect(await store.create({ ...record, paymentId: 'p-2' })).toEqual({ written: false, current: record });
    // Replacing a payment that is not finished is refused the same way.
    expect(await store.create({ ...record, paymentId: 'p-3' }, 'p-1')).toEqual({ written: false, current: record });
  });
});
