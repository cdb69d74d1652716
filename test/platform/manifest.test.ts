import { describe, expect, it } from 'vitest';
import { assertFragments, fragments, functions, tables } from '../../lib/manifest.ts';

/** The aggregate of the capabilities' manifest fragments. */
describe('manifest fragments', () => {
  it('merge into the one manifest both runtimes read', () => {
    expect(Object.keys(fragments)).toEqual(['auth', 'payments', 'orders', 'nfce', 'operations', 'cielo', 'carat', 'sicoob']);
    expect(Object.keys(tables).sort()).toEqual([
      'boletos',
      'cieloOrders',
      'integrations',
      'invoices',
      'numbering',
      'orders',
      'payments',
      'recharges',
    ]);
    expect(Object.keys(functions).sort()).toEqual(
      Object.values(fragments)
        .flatMap((f) => Object.keys(f.functions))
        .sort(),
    );
    expect(() => assertFragments(fragments)).not.toThrow();
  });

  it('refuses a name two capabilities declare, and a grant naming nothing declared', () => {
    const rogue = {
      tables: { orders: { partitionKey: 'pk' } },
      queues: {},
      buckets: {},
      secrets: {},
      functions: {
        rogueFn: {
          ...functions.paymentRequeue,
          tables: { ledger: 'read' },
          sendsTo: ['refunds'],
          buckets: { archive: 'put' },
        },
      },
    } as never;
    expect(() => assertFragments({ ...fragments, rogue })).toThrow(
      "the manifest's fragments do not merge: tables orders is declared by both orders and rogue; rogueFn uses undeclared tables ledger; rogueFn uses undeclared buckets archive; rogueFn uses undeclared queues refunds",
    );
    const twice = { ...fragments.payments, tables: {} } as never;
    expect(() => assertFragments({ ...fragments, twice })).toThrow(
      'functions paymentIntake is declared by both payments and twice; functions paymentRequeue is declared by both payments and twice',
    );
  });
});
