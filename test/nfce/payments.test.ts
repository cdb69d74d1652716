import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDocument, cardBrand, type OrderItem } from '../../functions/nfce/document.ts';
import { signNfce } from '../../functions/nfce/xml.ts';
import { BRANDS, CARD_METHODS, PAYMENT_METHODS, type PaymentMethod } from '../../functions/payments/request.ts';
import { inputFor, paymentFor, testCertificate } from '../support/nfce.ts';
import { cents, child, children, parseNfe, text } from '../support/nfce-2026.ts';

const suco: OrderItem = { sku: '058', name: 'Suco de uva', quantity: 10_000, unitPrice: 6100, unit: 'UN' };

const pay = (methods: Record<string, unknown>[], items = [suco]) => {
  const total = items.reduce((sum, i) => sum + Math.round((i.quantity * i.unitPrice) / 10_000), 0) / 100;
  return buildDocument(inputFor(items, paymentFor(items, { paymentObject: { total, methods: methods as never } })));
};
const one = (method: PaymentMethod, extra: Record<string, unknown> = {}) =>
  pay([{ value: 61, currency: 'BRL', type: 'OFFLINE', method, ...extra }]).pag[0];

describe('detPag per method (NT 2023.004 / NT 2025.001)', () => {
  it('PIX carries the card group, tpIntegra 2, no brand (rejection 391 otherwise)', () => {
    expect(one('PIX')).toEqual({ tPag: '17', vPag: 6100, card: { tpIntegra: 2 } });
    // A brand-looking methodInfo does not give a PIX a card brand.
    expect(one('PIX', { methodInfo: 'VISA' })).toEqual({ tPag: '17', vPag: 6100, card: { tpIntegra: 2 } });
    const xml = signNfce(pay([{ value: 61, currency: 'BRL', type: 'ONLINE', method: 'PIX' }]), testCertificate()).nfeXml;
    expect(xml).toContain(
      '<detPag><indPag>0</indPag><tPag>17</tPag><vPag>61.00</vPag><card><tpIntegra>2</tpIntegra></card></detPag>',
    );
  });

  it('every method: tPag, card where required, xPag with 99', () => {
    const expected: Record<PaymentMethod, string> = {
      CREDIT: '03 card',
      DEBIT: '04 card',
      MEAL_VOUCHER: '11 card',
      FOOD_VOUCHER: '10 card',
      DIGITAL_WALLET: '18',
      PIX: '17 card',
      CASH: '01',
      CREDIT_DEBIT: '03 card',
      COUPON: '99 Cupom',
      REDEEM: '19',
      PREPAID_REDEEM: '05',
      OTHER: '99 Outros',
    };
    for (const method of PAYMENT_METHODS) {
      const p = one(method, method === 'CASH' ? { changeFor: 61 } : {})!;
      expect([p.tPag, p.card ? 'card' : undefined, p.xPag].filter(Boolean).join(' '), method).toBe(expected[method]);
    }
  });
});

describe('tBand: only a brand known for sure', () => {
  it('maps every Order Mesa brand to the MOC’s table (99 for brands without a code of their own)', () => {
    const table: Record<(typeof BRANDS)[number], string> = {
      VISA: '01',
      MASTERCARD: '02',
      AMEX: '03',
      SOROCARD: '04',
      DINERS: '05',
      ELO: '06',
      HIPERCARD: '07',
      AURA: '08',
      CABAL: '09',
      BANESCARD: '11',
      DISCOVER: '14',
      GOOD_CARD: '15',
      GREEN_CARD: '16',
      JCB: '18',
      POLICARD: '21',
      SODEXO: '23',
      VALECARD: '24',
      VEROCHEQUE: '25',
      VR_BENEFICIOS: '26',
      TICKET: '27',
      AGICARD: '99',
      CREDSYSTEM: '99',
      AVISTA: '99',
      OTHER: '99',
    };
    for (const brand of BRANDS) expect(cardBrand({ brand }), brand).toBe(table[brand]);
    expect(one('DEBIT', { brand: 'ELO' })).toEqual({ tPag: '04', vPag: 6100, card: { tpIntegra: 2, tBand: '06' } });
  });

  it('reads methodInfo only when it is exactly a brand’s name', () => {
    const named: [string, string | undefined][] = [
      ['VISA', '01'],
      ['visa', '01'],
      [' Cartão Mastercard - Débito ', '02'],
      ['Master', '02'],
      ['American Express', '03'],
      ['Alelo Refeição', '10'],
      ['VR Benefícios', '26'],
      ['Good Card', '15'],
      ['Visa/Master', undefined],
      ['Ticket Restaurante', undefined],
      ['Outros', undefined],
      ['cartão', undefined],
      ['constructor', undefined],
      ['__proto__', undefined],
      ['', undefined],
    ];
    for (const [methodInfo, tBand] of named) expect(cardBrand({ methodInfo }), methodInfo).toBe(tBand);
    // brand wins over methodInfo; OTHER defers to a methodInfo that names a brand, else 99.
    expect(cardBrand({ brand: 'VISA', methodInfo: 'ELO' })).toBe('01');
    expect(cardBrand({ brand: 'OTHER', methodInfo: 'Alelo' })).toBe('10');
    expect(cardBrand({ brand: 'OTHER', methodInfo: 'Cartão da casa' })).toBe('99');
    expect(one('CREDIT', { methodInfo: 'Cartão da casa' })).toEqual({ tPag: '03', vPag: 6100, card: { tpIntegra: 2 } });
  });
});

describe('property: every mix of methods settles the NFC-e (865 / 866)', () => {
  const methodArb = fc.record({
    method: fc.constantFrom(...PAYMENT_METHODS),
    weight: fc.integer({ min: 1, max: 100 }),
    change: fc.integer({ min: 0, max: 10_000 }),
    brand: fc.option(fc.constantFrom(...BRANDS), { nil: undefined }),
    methodInfo: fc.option(fc.constantFrom('VISA', 'Master', 'PIX', 'Outros', 'Alelo'), { nil: undefined }),
  });

  it('Σ vPag − vTroco = vNF, change only with cash, card for 03 / 04 / 17, xPag for 99', () => {
    fc.assert(
      fc.property(
        fc.array(methodArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 500 }),
        (mix, count, fees) => {
          const items = Array.from({ length: count }, (_, i) => ({
            sku: ['058', '101', '202', '303'][i % 4]!,
            name: `Item ${i}`,
            quantity: 10_000 * ((i % 3) + 1),
            unitPrice: 199 + 71 * i,
            unit: 'UN',
          }));
          const total = items.reduce((sum, i) => sum + Math.round((i.quantity * i.unitPrice) / 10_000), 0) + fees;
          if (total < mix.length) return;
          // Split the total by the weights, to the centavo.
          const weights = mix.reduce((sum, m) => sum + m.weight, 0);
          const values = mix.map((m) => Math.floor((total * m.weight) / weights));
          values[0]! += total - values.reduce((a, b) => a + b, 0);
          if (values.some((v) => v <= 0)) return;
          const methods = mix.map((m, i) => ({
            value: values[i]! / 100,
            currency: 'BRL',
            type: 'OFFLINE',
            method: m.method,
            ...(m.brand && CARD_METHODS.includes(m.method) ? { brand: m.brand } : {}),
            ...(m.methodInfo ? { methodInfo: m.methodInfo } : {}),
            ...(m.method === 'CASH' ? { changeFor: (values[i]! + m.change) / 100 } : {}),
          }));
          const doc = buildDocument(
            inputFor(items, paymentFor(items, { fees, paymentObject: { total: total / 100, methods: methods as never } })),
          );
          const nfe = parseNfe(signNfce(doc, testCertificate()).nfeXml);
          const pag = child(nfe, 'infNFe', 'pag');
          const detPag = children(pag, 'detPag');
          const vNF = cents(text(child(nfe, 'infNFe', 'total', 'ICMSTot'), 'vNF'));
          const vTroco = cents(text(pag, 'vTroco'));
          const paid = detPag.reduce((sum, d) => sum + cents(text(d, 'vPag')), 0n);
          const cash = detPag.filter((d) => text(d, 'tPag') === '01').reduce((sum, d) => sum + cents(text(d, 'vPag')), 0n);
          expect(paid - vTroco).toBe(vNF);
          expect(vTroco).toBe(BigInt(mix.reduce((sum, m) => sum + (m.method === 'CASH' ? m.change : 0), 0)));
          expect(vTroco <= cash).toBe(true);
          for (const d of detPag) {
            const tPag = text(d, 'tPag')!;
            if (['03', '04', '17'].includes(tPag)) expect(text(d, 'card', 'tpIntegra')).toBe('2');
            if (tPag === '17') expect(text(d, 'card', 'tBand')).toBeUndefined();
            if (tPag === '99') expect(text(d, 'xPag')?.length).toBeGreaterThanOrEqual(2);
            if (!['03', '04', '10', '11'].includes(tPag)) expect(text(d, 'card', 'tBand')).toBeUndefined();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
