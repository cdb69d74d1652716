import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderStore, type StoredOrder } from '../../functions/orders/order.ts';
import { localName, tables } from '../../lib/manifest.ts';
import { startEmulators, type Emulators } from '../../lib/local/emulators.ts';
import { localClients, provision } from '../../lib/local/provision.ts';

let emulators: Emulators;
let orders: OrderStore;

const tab = (pk: string, sku: string): StoredOrder => ({
  pk,
  integrationHubServiceId: 'efdd6093-5539-4ac4-ad84-7423a8078dde',
  orderKeyType: 'TABLE',
  orderKey: pk,
  items: [{ sku, name: sku, quantity: 10_000, unitPrice: 100, unit: 'UN' }],
  source: 'POS',
  updatedAt: '2026-11-22T12:00:00.000-03:00',
});

beforeAll(async () => {
  emulators = await startEmulators();
  const clients = localClients(emulators);
  await provision(clients, { tables: { orders: tables.orders }, queues: {}, buckets: {} });
  orders = new OrderStore(DynamoDBDocumentClient.from(clients.dynamodb), localName.table('orders'));
});
afterAll(() => emulators?.close());

describe('the order lock between a PUT and the issuer', () => {
  it('a PUT cannot change an order a payment is issuing from; it can once that payment is released', async () => {
    expect(await orders.put(tab('A', 'first'))).toBe(false);
    const read = await orders.lockFor('A', 'payment-1');
    expect(read!.items[0]!.sku).toBe('first');
    expect(await orders.put(tab('A', 'second'))).toBeUndefined();
    expect(await orders.put(tab('A', 'second'), 'another-payment')).toBeUndefined();
    expect((await orders.get('A'))!.items[0]!.sku).toBe('first');

    await orders.markInvoiced('A', 'payment-1');
    expect(await orders.get('A')).toMatchObject({ lockedByPaymentId: 'payment-1', invoicedByPaymentId: 'payment-1' });
    // The PUT that released payment-1 replaces the tab whole: no lock, no invoice mark.
    expect(await orders.put(tab('A', 'second'), 'payment-1')).toBe(true);
    expect(await orders.get('A')).toEqual(tab('A', 'second'));
  });

  it('the issuer marks only the order it locked, and finds no order that was never pushed', async () => {
    await orders.put(tab('B', 'x'));
    await orders.lockFor('B', 'payment-2');
    await expect(orders.markInvoiced('B', 'payment-3')).rejects.toThrow(/conditional request failed/i);
    expect(await orders.lockFor('never-pushed', 'payment-4')).toBeUndefined();
  });

  it('a newer payment of the slot takes over the lock of a finished one', async () => {
    await orders.put(tab('C', 'x'));
    await orders.lockFor('C', 'finished-payment');
    expect((await orders.lockFor('C', 'next-payment'))!.lockedByPaymentId).toBe('next-payment');
  });
});
