import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cieloTime, parseNotification } from '../../functions/cielo/notification.ts';
import { SEED_STATUS_ITEM, SEED_STATUS_TRANSACTION, SEED_TRANSACTION } from '../support/cielo.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/cielo/${name}`, import.meta.url), 'utf8');

describe('Cielo notification parser', () => {
  it("reads the seed's status change (the whole order, camelCase payment fields) as the order it is", () => {
    expect(parseNotification(fixture('status-change.json'))).toEqual({
      kind: 'status',
      orderId: '943f2276-5e2b-44bb-a68a-fd9b6418afa4',
      status: 'CLOSED',
      at: '2023-04-04T16:19:37.000Z',
      previousStatus: null,
      order: {
        number: '1078069',
        reference: 'REFERENCIA DO PEDIDO',
        notes: 'TESTE',
        price: 2898,
        remaining: null,
        items: [SEED_STATUS_ITEM],
        transactions: [SEED_STATUS_TRANSACTION],
      },
    });
  });

  it("reads the seed's transaction notification: key `trasaction`, amount and quotas as strings", () => {
    expect(parseNotification(fixture('transaction.json'))).toEqual({
      kind: 'transaction',
      orderId: 'f0f0f0f0-f0f0-f0f0-f0f0-f0f0f0f0f0f0',
      transaction: SEED_TRANSACTION,
    });
  });

  it('takes `transaction` as well as `trasaction`, lower-case types, new brands and nulls', () => {
    const body = JSON.parse(fixture('transaction.json')) as Record<string, Record<string, unknown>>;
    const transaction = {
      ...body.trasaction,
      transaction_type: 'payment',
      card: { brand: 'NOVABANDEIRA', mask: null },
      payment_fields: null,
      extra: { a: 1 },
    };
    const parsed = parseNotification(JSON.stringify({ id: 'n1', order_id: 'o1', transaction, unknown: [1, 2] }));
    expect(parsed).toMatchObject({
      kind: 'transaction',
      orderId: 'o1',
      transaction: {
        transaction_type: 'PAYMENT',
        card: { brand: 'NOVABANDEIRA', mask: null },
        payment_fields: { primary_product_name: null, secondary_product_name: null, number_of_quotas: null },
      },
    });
  });

  it('reads the legacy STATUS_CHANGED (with the previous status) and TRANSACTION_ADDED shapes', () => {
    expect(
      parseNotification('{"id":"n-1","order_id":"o-1","type":"STATUS_CHANGED","status":{"old":"ENTERED","new_status":"PAID"}}'),
    ).toEqual({ kind: 'status', orderId: 'o-1', status: 'PAID', at: null, previousStatus: 'ENTERED', order: null });
    const legacy = {
      id: 'n-2',
      order_id: 'o-1',
      type: 'TRANSACTION_ADDED',
      transaction: {
        id: 't-1',
        transaction_type: 'PAYMENT',
        status: 'CONFIRMED',
        terminal_number: '77102648',
        card: { brand: 'VISA', bin: '424242', last: '4242' },
        number: '672836',
        authorization_code: '008619',
        payment_product: { number: 1, name: 'CREDITO', sub: { number: 1, name: 'A VISTA' } },
        amount: 2000,
        created_at: '20151020T13:13:29.000Z',
        updated_at: '20151020T13:13:29.000Z',
      },
    };
    expect(parseNotification(JSON.stringify(legacy))).toEqual({
      kind: 'transaction',
      orderId: 'o-1',
      transaction: {
        id: 't-1',
        external_id: null,
        status: 'CONFIRMED',
        terminal_number: '77102648',
        authorization_code: '008619',
        number: '672836',
        amount: 2000,
        transaction_type: 'PAYMENT',
        payment_fields: { primary_product_name: 'CREDITO', secondary_product_name: 'A VISTA', number_of_quotas: null },
        card: { brand: 'VISA', mask: '424242******4242' },
        updated_at: '2015-10-20T13:13:29.000Z',
      },
    });
  });

  it('spells RE_ENTERED as the docs do, keeps unknown statuses, and reads numeric strings as centavos', () => {
    const order = (status: string, extra: object = {}) =>
      parseNotification(JSON.stringify({ id: 'o', status, updated_at: '2026-11-30T10:00:00Z', ...extra }));
    expect(order('RE_ENTERED')).toMatchObject({ status: 'RE-ENTERED' });
    expect(order('re-entered')).toMatchObject({ status: 'RE-ENTERED' });
    expect(order('APPROVED')).toMatchObject({ status: 'APPROVED' });
    expect(order('PAID', { price: '5250', remaining: '0', items: [{ sku: 1, unit_price: '800', quantity: '2' }] })).toMatchObject(
      {
        order: { price: 5250, remaining: 0, items: [{ sku: '1', unit_price: 800, quantity: 2 }] },
      },
    );
    // A price that is not whole centavos is not guessed at.
    expect(order('PAID', { price: '52.50', remaining: -1 })).toMatchObject({ order: { price: null, remaining: null } });
  });

  it('says why a body is unreadable instead of throwing', () => {
    expect(parseNotification('{"id": 0101010101}')).toEqual({ kind: 'unreadable', reason: 'not JSON' });
    expect(parseNotification('[]')).toEqual({ kind: 'unreadable', reason: 'not a JSON object' });
    expect(parseNotification('{}')).toEqual({ kind: 'unreadable', reason: expect.stringMatching(/^status change: /) });
    expect(parseNotification('{"order_id":"o"}')).toEqual({
      kind: 'unreadable',
      reason: expect.stringMatching(/^transaction: /),
    });
    expect(parseNotification('{"id":"a b","status":"PAID"}')).toMatchObject({ kind: 'unreadable' });
    expect(parseNotification('{"type":"STATUS_CHANGED","order_id":"o","status":{}}')).toMatchObject({ kind: 'unreadable' });
  });

  it('reads Cielo times in both formats, and nothing else', () => {
    expect(cieloTime('2016-09-06T19:09:49Z')).toBe('2016-09-06T19:09:49.000Z');
    expect(cieloTime('20151020T13:13:29.000Z')).toBe('2015-10-20T13:13:29.000Z');
    expect(cieloTime('2026-11-30T10:00:00-03:00')).toBe('2026-11-30T13:00:00.000Z');
    expect(cieloTime('2026-13-40T99:00:00Z')).toBeNull();
    expect(cieloTime('yesterday')).toBeNull();
    expect(cieloTime(1680618831267)).toBeNull();
  });

  it('never throws, and returns one of the three kinds, for 10,000 generated bodies', () => {
    const seedStatus = JSON.parse(fixture('status-change.json')) as Record<string, unknown>;
    const seedTransaction = JSON.parse(fixture('transaction.json')) as Record<string, unknown>;
    // Bodies near the real ones (fields replaced by anything) and bodies of any JSON at all.
    const mutated = (base: Record<string, unknown>) =>
      fc
        .dictionary(fc.constantFrom(...Object.keys(base), 'type', 'transaction', 'status'), fc.jsonValue(), { maxKeys: 4 })
        .map((changes) => JSON.stringify({ ...base, ...changes }));
    const body = fc.oneof(
      mutated(seedStatus),
      mutated(seedTransaction),
      fc.json(),
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(body, (text) => {
        const parsed = parseNotification(text);
        expect(['status', 'transaction', 'unreadable']).toContain(parsed.kind);
        if (parsed.kind !== 'unreadable') expect(parsed.orderId).toMatch(/^[\x21-\x7e]{1,100}$/);
      }),
      { numRuns: 10_000 },
    );
  });
});
