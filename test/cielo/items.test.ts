import { describe, expect, it } from 'vitest';
import { commercialUnit, nfceItems } from '../../functions/cielo/items.ts';
import type { CieloItem } from '../../functions/cielo/notification.ts';

/** A Cielo order's items as NFC-e items: centavos, ten-thousandths, the commercial unit, text the NFC-e can carry. */

const item = (fields: Partial<CieloItem> = {}): CieloItem => ({
  id: 'i-1',
  sku: '1',
  name: 'X-Salada',
  description: null,
  unit_price: 2500,
  quantity: 1,
  unit_of_measure: 'EACH',
  details: null,
  ...fields,
});

describe('commercialUnit', () => {
  it("maps each of Cielo's units of measure to the NFC-e's commercial unit", () => {
    expect(
      Object.fromEntries(
        ['EACH', 'HOURS', 'DAYS', 'SECONDS', 'CRATE_OF_12', 'SIX_PACK', 'GALLON', 'LITRE'].map((u) => [u, commercialUnit(u)]),
      ),
    ).toEqual({
      EACH: 'UN',
      HOURS: 'H',
      DAYS: 'DIA',
      SECONDS: 'S',
      CRATE_OF_12: 'CX12',
      SIX_PACK: 'PCT6',
      GALLON: 'GAL',
      LITRE: 'L',
    });
  });

  it('an unknown or missing unit is UN', () => {
    expect(commercialUnit(null)).toBe('UN');
    expect(commercialUnit('')).toBe('UN');
    expect(commercialUnit('KILOGRAM')).toBe('UN');
  });
});

describe('nfceItems', () => {
  it('maps prices, quantities, units and names exactly', () => {
    expect(
      nfceItems([
        item({ sku: '1', name: 'X-Salada', unit_price: 2500, quantity: 2, unit_of_measure: 'EACH' }),
        item({ sku: ' 7891000100103 ', name: '  Suco de laranja  ', unit_price: 990, quantity: 0.5, unit_of_measure: 'LITRE' }),
        item({
          sku: 'CX-1',
          name: null,
          description: 'Cerveja (caixa)',
          unit_price: 8990,
          quantity: 1.25,
          unit_of_measure: 'CRATE_OF_12',
        }),
        item({ sku: 'SRV-9', name: '   ', description: null, unit_price: 1, quantity: 0.0001, unit_of_measure: null }),
        item({ sku: 'LONG', name: 'A'.repeat(130), unit_price: 0, quantity: 9999, unit_of_measure: 'HOURS' }),
      ]),
    ).toEqual({
      items: [
        { sku: '1', name: 'X-Salada', quantity: 20_000, unitPrice: 2500, unit: 'UN' },
        { sku: '7891000100103', name: 'Suco de laranja', quantity: 5_000, unitPrice: 990, unit: 'L' },
        { sku: 'CX-1', name: 'Cerveja (caixa)', quantity: 12_500, unitPrice: 8990, unit: 'CX12' },
        // Neither a name nor a description: the sku names it.
        { sku: 'SRV-9', name: 'SRV-9', quantity: 1, unitPrice: 1, unit: 'UN' },
        { sku: 'LONG', name: 'A'.repeat(120), quantity: 99_990_000, unitPrice: 0, unit: 'H' },
      ],
    });
  });

  it('an order without items is a problem', () => {
    expect(nfceItems([])).toEqual({ problems: ['the order has no items'] });
  });

  it('names each item that cannot be carried, and why', () => {
    expect(
      nfceItems([
        item({ sku: null, name: null }),
        item({ sku: '7', unit_price: null }),
        item({ sku: 'A\tB' }),
        item({ sku: 'S'.repeat(61) }),
        item({ sku: '9', name: '🍔', description: null }),
        item({ sku: '10', quantity: 10_000 }),
        item({ sku: '11', quantity: 0.00004 }),
      ]),
    ).toEqual({
      problems: [
        'item 1: its sku is not an identifier an NFC-e can carry',
        'item 1: its name is not text an NFC-e can carry',
        'item 2 (sku 7): it has no unit_price',
        'item 3 (sku A\tB): its sku is not an identifier an NFC-e can carry',
        `item 4 (sku ${'S'.repeat(60)}): its sku is not an identifier an NFC-e can carry`,
        'item 5 (sku 9): its name is not text an NFC-e can carry',
        'item 6 (sku 10): its quantity must be between 0.0001 and 9999',
        'item 7 (sku 11): its quantity must be between 0.0001 and 9999',
      ],
    });
  });

  it('more than 500 items is a problem', () => {
    const many = Array.from({ length: 501 }, (_, i) => item({ sku: String(i + 1) }));
    expect(nfceItems(many)).toEqual({ problems: ['the order has 501 items; an NFC-e takes at most 500'] });
    expect(nfceItems(many.slice(0, 500))).toMatchObject({ items: expect.any(Array) });
    expect((nfceItems(many.slice(0, 500)) as { items: unknown[] }).items).toHaveLength(500);
  });
});
