import { describe, expect, it } from 'vitest';
import { buildDocument, HOMOLOGATION_FIRST_ITEM, OrderAmountMismatch, percentOf, spread } from '../../functions/nfce/document.ts';
import { validatePaymentRequest } from '../../functions/payments/request.ts';
import { seedPayment } from '../support/fixtures.ts';
import { documentFor, inputFor, paymentFor } from '../support/nfce.ts';

const suco = { sku: '058', name: 'Suco de uva', quantity: 10_000, unitPrice: 6100, unit: 'UN' };

function seedValidPayment() {
  const v = validatePaymentRequest(seedPayment());
  if (!v.ok) throw new Error('seed payment must be valid');
  return v.payment;
}

describe('the seed’s NFC-e, rebuilt', () => {
  const document = buildDocument({
    ...inputFor([suco], seedValidPayment(), { nNF: 411244, cNF: '19459462', dhEmi: '2024-08-16T15:17:35-03:00' }),
  });

  it('has the seed’s key, cDV 3', () => {
    expect(document.chave).toBe('35240882373077000171650010004112441194594623');
  });

  it('taxes the items as the seed does: ICMS 20 with 12 % reduction, the fee at ICMS 00 3 %', () => {
    expect(document.det.map((d) => d.icms)).toEqual([
      { group: 'ICMS20', cst: '20', pRedBC: 12, vBC: 5368, pICMS: 18, vICMS: 966 },
      { group: 'ICMS00', cst: '00', vBC: 610, pICMS: 3, vICMS: 18 },
    ]);
    expect(document.totals).toEqual({
      vBC: 5978,
      vICMS: 984,
      vProd: 6710,
      vDesc: 0,
      vPIS: 0,
      vCOFINS: 0,
      vNF: 6710,
      vTotTrib: 2144,
    });
    // vTotTrib: 61.00 × (13.45 % + 18.5 %) = 8.20 + 11.29 (11.285 up); 6.10 × the same = 0.82 + 1.13.
  });

  it('puts the homologation text in the first item and keeps the fee item’s name', () => {
    expect(document.det.map((d) => [d.cProd, d.xProd])).toEqual([
      ['058', HOMOLOGATION_FIRST_ITEM],
      ['999', 'TAXA SERVICO'],
    ]);
  });

  it('pays by credit card, not integrated (POS), brand from methodInfo', () => {
    expect(document.pag).toEqual([{ tPag: '03', vPag: 6710, card: { tpIntegra: 2, tBand: '01' } }]);
    expect(document.vTroco).toBe(0);
  });

  it('has no IBS/CBS: a 2024 document predates NT 2025.002-RTC', () => {
    expect(document.det.filter((d) => d.ibsCbs !== undefined)).toEqual([]);
    expect(document.totals.ibsCbs).toBeUndefined();
    expect(document.totals.vNFTot).toBeUndefined();
  });

  it('writes the table, persons and approximate taxes in infCpl', () => {
    expect(document.infCpl).toBe(
      'Mesa: 7 | Pessoas: 1 | Valor aproximado dos tributos deste cupom: Federal R$ 9,02 Estadual R$ 12,42 Municipal R$ 0,00 Fonte: IBPT',
    );
  });
});

describe('money arithmetic', () => {
  it('rounds percentages half up, exactly', () => {
    expect(percentOf(5368, 18)).toBe(966); // 9.6624
    expect(percentOf(250, 1)).toBe(3); // 2.5 → 3
    expect(percentOf(6100, 12)).toBe(732);
    expect(percentOf(1005, 0.65)).toBe(7); // 6.5325
  });

  it('spreads a discount in proportion, summing exactly', () => {
    expect(spread(100, [1000, 1000, 1000])).toEqual([34, 33, 33]);
    expect(spread(710, [6100, 610])).toEqual([645, 65]);
    expect(spread(0, [10, 20])).toEqual([0, 0]);
    const weights = Array.from({ length: 100 }, (_, i) => 137 * (i + 1));
    const shares = spread(9_999, weights);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(9_999);
    shares.forEach((share, i) => expect(share).toBeLessThanOrEqual(weights[i]!));
  });
});

describe('building from payments', () => {
  it('spreads discounts over items (fee included) and totals to the centavo', () => {
    const items = [suco, { sku: '101', name: 'Pão', quantity: 35_000, unitPrice: 299, unit: 'UN' }];
    const doc = documentFor(items, paymentFor(items, { fees: 707, discounts: 333 }));
    // 3.33 over 78.54: 258.63, 44.39, 29.97 → floors 258, 44, 29; the 2 left go to .97 and .63.
    expect(doc.det.map((d) => [d.vProd, d.vDesc])).toEqual([
      [6100, 259],
      [1047, 44],
      [707, 30],
    ]);
    expect(doc.totals.vDesc).toBe(333);
    expect(doc.totals.vNF).toBe(6100 + 1047 + 707 - 333);
    // PIS/COFINS at rate on the discounted base of the sku 101.
    expect(doc.det[1]!.pis).toEqual({ kind: 'Aliq', cst: '01', vBC: 1003, rate: 1.65, value: 17 }); // 16.5495
    expect(doc.det[1]!.cofins).toEqual({ kind: 'Aliq', cst: '01', vBC: 1003, rate: 7.6, value: 76 }); // 76.228
  });

  it('drops the fee item when removeServiceFee is true', () => {
    const doc = documentFor([suco], paymentFor([suco], { fees: 610, paymentObject: { removeServiceFee: true } }));
    expect(doc.det).toHaveLength(1);
    expect(doc.totals.vNF).toBe(6100);
  });

  it('cash: vPag is what was handed over, the change in vTroco; other methods map to tPag', () => {
    const payment = paymentFor([suco], {
      paymentObject: {
        total: 61,
        methods: [
          { value: 20, currency: 'BRL', type: 'OFFLINE', method: 'CASH', changeFor: 50 },
          { value: 30, currency: 'BRL', type: 'ONLINE', method: 'PIX' },
          { value: 5, currency: 'BRL', type: 'OFFLINE', method: 'MEAL_VOUCHER', brand: 'TICKET' },
          { value: 6, currency: 'BRL', type: 'OFFLINE', method: 'COUPON' },
        ],
      },
    });
    const doc = documentFor([suco], payment);
    expect(doc.pag).toEqual([
      { tPag: '01', vPag: 5000 },
      { tPag: '17', vPag: 3000, card: { tpIntegra: 2 } }, // NT 2025.001: PIX carries card (391), no brand
      { tPag: '11', vPag: 500, card: { tpIntegra: 2, tBand: '27' } },
      { tPag: '99', xPag: 'Cupom', vPag: 600 },
    ]);
    expect(doc.vTroco).toBe(3000);
  });

  it('names the consumer only when documentInReceipt', () => {
    const withCpf = paymentFor([suco], { paymentObject: { documentInReceipt: true, customerDocument: '529.982.247-25' } });
    expect(documentFor([suco], withCpf).dest).toEqual({ kind: 'CPF', number: '52998224725' });
    const notOnReceipt = paymentFor([suco], { paymentObject: { documentInReceipt: false, customerDocument: '529.982.247-25' } });
    expect(documentFor([suco], notOnReceipt).dest).toBeNull();
  });

  it('gives the ICMS-ST beer (CST 60) its CEST and no other item one', () => {
    const items = [suco, { sku: '202', name: 'Cerveja 600ml', quantity: 20_000, unitPrice: 1490, unit: 'UN' }];
    const doc = documentFor(items);
    expect(doc.det.map((d) => [d.cProd, d.icms.group, d.cest])).toEqual([
      ['058', 'ICMS20', undefined],
      ['202', 'ICMS60', '0302100'],
    ]);
  });

  it('uses the catalog default for an unknown sku, and says so', () => {
    const items = [suco, { sku: 'NOVO-1', name: 'Prato do dia', quantity: 10_000, unitPrice: 3990, unit: 'UN' }];
    const doc = documentFor(items);
    expect(doc.det.map((d) => [d.cProd, d.defaulted, d.ncm, d.icms.group])).toEqual([
      ['058', false, '22021000', 'ICMS20'],
      ['NOVO-1', true, '21069090', 'ICMS00'],
    ]);
  });

  it('refuses an order whose items do not add up to orderAmount, naming both amounts', () => {
    const payment = paymentFor([suco]);
    const input = inputFor([{ ...suco, unitPrice: 5900 }], payment);
    expect(() => buildDocument(input)).toThrow(OrderAmountMismatch);
    expect(() => buildDocument(input)).toThrow("the order's items total R$ 59.00 but the payment's orderAmount is R$ 61.00");
  });
});
