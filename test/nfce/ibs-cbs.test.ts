import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDocument, type OrderItem } from '../../functions/nfce/document.ts';
import { catalogSchema } from '../../functions/nfce/fiscal.ts';
import { IBS_CBS_DEFAULTS, IbsCbsRateMissing, ibsCbsSettings, missingRateYears } from '../../functions/nfce/ibs-cbs.ts';
import { signNfce } from '../../functions/nfce/xml.ts';
import { validatePaymentRequest } from '../../functions/payments/request.ts';
import { fieldErrors } from '../../functions/shared/validation.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { inputFor, paymentFor, testCertificate } from '../support/nfce.ts';
import {
  catalogWith,
  child,
  emitterWith,
  ibsCbsOfXml,
  ibsCbsTotOfXml,
  parseNfe,
  RATES_2026,
  simplesCatalog,
  text,
  withSetup,
  type TestRates,
} from '../support/nfce-2026.ts';

const suco: OrderItem = { sku: '058', name: 'Suco de uva', quantity: 10_000, unitPrice: 6100, unit: 'UN' };
const NOV_2026 = '2026-11-22T12:30:00-03:00';

function seedValidPayment() {
  const v = validatePaymentRequest(seedPayment());
  if (!v.ok) throw new Error('seed payment must be valid');
  return v.payment;
}

/** The seed's order (suco 61.00 + fee 6.10, credit card) issued at `dhEmi`. */
const seedAt = (dhEmi: string) => inputFor([suco], seedValidPayment(), { nNF: 411244, cNF: '19459462', dhEmi });

describe('IBS/CBS of the seed’s order in November 2026 (CRT 3), exact values', () => {
  const doc = buildDocument(seedAt(NOV_2026));

  it('taxes each item on vProd − vDesc − vICMS − vPIS − vCOFINS at 0.10 % / 0 % / 0.90 %, half up per item', () => {
    // Suco: ICMS 20 → vICMS 9.66, PIS/COFINS 07 (none): base 61.00 − 9.66 = 51.34;
    //   IBS UF 51.34 × 0.1 % = 0.05134 → 0.05; IBS mun 0; CBS 51.34 × 0.9 % = 0.46206 → 0.46.
    // Fee: ICMS 00 at 3 % → vICMS 0.18: base 6.10 − 0.18 = 5.92; IBS UF 0.00592 → 0.01; CBS 0.05328 → 0.05.
    expect(doc.det.map((d) => d.ibsCbs)).toEqual([
      {
        cst: '000',
        cClassTrib: '000001',
        taxed: true,
        vBC: 5134,
        ibsUF: { rate: 0.1, value: 5 },
        ibsMun: { rate: 0, value: 0 },
        vIBS: 5,
        cbs: { rate: 0.9, value: 46 },
      },
      {
        cst: '000',
        cClassTrib: '000001',
        taxed: true,
        vBC: 592,
        ibsUF: { rate: 0.1, value: 1 },
        ibsMun: { rate: 0, value: 0 },
        vIBS: 1,
        cbs: { rate: 0.9, value: 5 },
      },
    ]);
  });

  it('totals are the sums of the items; vProd, vNF and the payments are those of the 2024 document', () => {
    expect(doc.totals.ibsCbs).toEqual({ vBCIBSCBS: 5726, vIBSUF: 6, vIBSMun: 0, vIBS: 6, vCBS: 51 });
    expect(doc.totals.vNFTot).toBe(6710);
    const in2024 = buildDocument(seedAt('2024-08-16T15:17:35-03:00'));
    const { ibsCbs, vNFTot, ...icmsTotals } = doc.totals;
    expect(icmsTotals).toEqual(in2024.totals);
    expect(doc.pag).toEqual(in2024.pag);
    expect(doc.vTroco).toBe(in2024.vTroco);
  });

  it('writes the groups in PL_010e’s order: IBSCBS last in imposto, IBSCBSTot then vNFTot after ICMSTot', () => {
    const xml = signNfce(doc, testCertificate()).nfeXml;
    expect(xml).toContain(
      '</COFINS><IBSCBS><CST>000</CST><cClassTrib>000001</cClassTrib><gIBSCBS><vBC>51.34</vBC>' +
        '<gIBSUF><pIBSUF>0.1000</pIBSUF><vIBSUF>0.05</vIBSUF></gIBSUF><gIBSMun><pIBSMun>0.0000</pIBSMun><vIBSMun>0.00</vIBSMun></gIBSMun>' +
        '<vIBS>0.05</vIBS><gCBS><pCBS>0.9000</pCBS><vCBS>0.46</vCBS></gCBS></gIBSCBS></IBSCBS></imposto>',
    );
    expect(xml).toContain(
      '<vTotTrib>21.44</vTotTrib></ICMSTot><IBSCBSTot><vBCIBSCBS>57.26</vBCIBSCBS><gIBS>' +
        '<gIBSUF><vDif>0.00</vDif><vDevTrib>0.00</vDevTrib><vIBSUF>0.06</vIBSUF></gIBSUF>' +
        '<gIBSMun><vDif>0.00</vDif><vDevTrib>0.00</vDevTrib><vIBSMun>0.00</vIBSMun></gIBSMun>' +
        '<vIBS>0.06</vIBS><vCredPres>0.00</vCredPres><vCredPresCondSus>0.00</vCredPresCondSus></gIBS>' +
        '<gCBS><vDif>0.00</vDif><vDevTrib>0.00</vDevTrib><vCBS>0.51</vCBS><vCredPres>0.00</vCredPres><vCredPresCondSus>0.00</vCredPresCondSus></gCBS>' +
        '</IBSCBSTot><vNFTot>67.10</vNFTot></total><transp>',
    );
    expect(xml).toContain('<vNF>67.10</vNF>');
  });
});

describe('rounding: half up to the centavo, per item', () => {
  // An item taxed by nothing else (ICMS 40, PIS/COFINS 07), so vBC = vProd.
  const catalog = catalogWith((raw) => {
    raw.items.PLAIN = { ...raw.items['303'], icms: { cst: '40' }, pis: { cst: '07' }, cofins: { cst: '07' } };
  });
  const at = (unitPrice: number) => {
    const items = [{ sku: 'PLAIN', name: 'Prato', quantity: 10_000, unitPrice, unit: 'UN' }];
    return buildDocument(withSetup(inputFor(items, paymentFor(items)), { catalog })).det[0]!.ibsCbs;
  };

  it('5.00: IBS UF 0.005 → 0.01, CBS 0.045 → 0.05; 4.99: 0.00499 → 0.00, 0.04491 → 0.04', () => {
    expect(at(500)).toMatchObject({ vBC: 500, ibsUF: { value: 1 }, cbs: { value: 5 } });
    expect(at(499)).toMatchObject({ vBC: 499, ibsUF: { value: 0 }, cbs: { value: 4 } });
  });
});

describe('when the groups are emitted: by the emitter’s CRT and dhEmi’s own date (configurable)', () => {
  const has = (crt: 1 | 3, dhEmi: string, config?: Record<string, unknown>) => {
    const catalog = crt === 1 ? simplesCatalog((raw) => (raw.ibsCbs = config)) : catalogWith((raw) => (raw.ibsCbs = config));
    const doc = buildDocument(withSetup(seedAt(dhEmi), { emitter: emitterWith({ crt }), catalog }));
    return doc.det.every((d) => d.ibsCbs) && doc.totals.ibsCbs !== undefined;
  };
  const cbs2027 = { rates: { '2027': { cbs: 0.9 } } };

  it('CRT 3 from 2026-08-03 (local date of dhEmi, whatever the host’s zone)', () => {
    expect(has(3, '2026-08-02T23:59:59-03:00')).toBe(false);
    expect(has(3, '2026-08-03T00:00:00-03:00')).toBe(true);
    expect(has(3, '2026-07-15T10:00:00-03:00')).toBe(false);
  });

  it('CRT 1 from 2027-01-04', () => {
    expect(has(1, '2026-11-22T12:30:00-03:00', cbs2027)).toBe(false);
    expect(has(1, '2027-01-03T23:59:59-03:00', cbs2027)).toBe(false);
    expect(has(1, '2027-01-04T08:00:00-03:00', cbs2027)).toBe(true);
  });

  it('the dates are configuration per CRT; null means never', () => {
    expect(has(1, NOV_2026, { emitFrom: { '1': '2026-07-01' } })).toBe(true);
    expect(has(3, NOV_2026, { emitFrom: { '3': null } })).toBe(false);
    expect(has(3, '2026-07-15T10:00:00-03:00', { emitFrom: { '3': '2026-07-01' } })).toBe(true);
  });

  it('warns, a year ahead, of a year whose rate is missing for the emitter’s CRT', () => {
    const now = new Date('2026-11-29T12:00:00-03:00');
    expect(missingRateYears(IBS_CBS_DEFAULTS, 3, now)).toEqual([2027]);
    expect(missingRateYears(ibsCbsSettings({ rates: { '2027': { cbs: 8.8 } } }), 3, now)).toEqual([]);
    // CRT 1 sends the groups from 2027-01-04 only: 2026 needs no rate, 2027 does.
    expect(missingRateYears(IBS_CBS_DEFAULTS, 1, now)).toEqual([2027]);
    expect(missingRateYears(ibsCbsSettings({ emitFrom: { '1': null } }), 1, now)).toEqual([]);
  });

  it('a year without a configured rate is refused with what to configure, not guessed', () => {
    // The demo catalog sets a 2027 CBS rate; a catalog without one:
    const input = withSetup(seedAt('2027-03-15T12:00:00-03:00'), { catalog: catalogWith((raw) => delete raw.ibsCbs) });
    expect(() => buildDocument(input)).toThrow(IbsCbsRateMissing);
    expect(() => buildDocument(input)).toThrow(
      'no IBS/CBS rate configured for 2027 (cbs): set catalog.ibsCbs.rates.2027 (percent) in the fiscal configuration',
    );
  });
});

describe('2027: IBS UF 0.05 %, IBS municipal 0.05 %, CBS as configured', () => {
  it('uses the default IBS rates and the configured CBS, in the XML too', () => {
    const catalog = catalogWith((raw) => (raw.ibsCbs = { rates: { '2027': { cbs: 8.8 } } }));
    const doc = buildDocument(withSetup(seedAt('2027-03-15T12:00:00-03:00'), { catalog }));
    // Suco base 51.34: UF and mun 0.02567 → 0.03 each; CBS 4.51792 → 4.52. Fee base 5.92: 0.00296 → 0.00; 0.52096 → 0.52.
    expect(doc.det.map((d) => d.ibsCbs)).toMatchObject([
      { vBC: 5134, ibsUF: { rate: 0.05, value: 3 }, ibsMun: { rate: 0.05, value: 3 }, vIBS: 6, cbs: { rate: 8.8, value: 452 } },
      { vBC: 592, ibsUF: { value: 0 }, ibsMun: { value: 0 }, vIBS: 0, cbs: { value: 52 } },
    ]);
    expect(doc.totals.ibsCbs).toEqual({ vBCIBSCBS: 5726, vIBSUF: 3, vIBSMun: 3, vIBS: 6, vCBS: 504 });
    const xml = signNfce(doc, testCertificate()).nfeXml;
    expect(xml).toContain('<pIBSUF>0.0500</pIBSUF><vIBSUF>0.03</vIBSUF>');
    expect(xml).toContain('<pCBS>8.8000</pCBS><vCBS>4.52</vCBS>');
  });
});

describe('configuration: classes, base formula, vNFTot', () => {
  const build = (change: (raw: Record<string, any>) => void) =>
    buildDocument(withSetup(seedAt(NOV_2026), { catalog: catalogWith(change) }));

  it('per catalog item, else the integration’s default, else 000 / 000001', () => {
    const doc = build((raw) => {
      raw.ibsCbs = { default: { cst: '000', cClassTrib: '000002' } };
      raw.items['058'].ibsCbs = { cst: '410', cClassTrib: '410999' };
    });
    // CST 410 (immunity / non-incidence): CST and cClassTrib only, out of the totals' base.
    expect(doc.det.map((d) => d.ibsCbs)).toMatchObject([
      { cst: '410', cClassTrib: '410999', taxed: false },
      { cst: '000', cClassTrib: '000002', taxed: true, vBC: 592 },
    ]);
    expect(doc.totals.ibsCbs).toEqual({ vBCIBSCBS: 592, vIBSUF: 1, vIBSMun: 0, vIBS: 1, vCBS: 5 });
    const xml = signNfce(doc, testCertificate()).nfeXml;
    expect(xml).toContain('<IBSCBS><CST>410</CST><cClassTrib>410999</cClassTrib></IBSCBS>');
  });

  it('CST 200 with a 60 % reduction: gRed with the effective rate, value = base × pAliqEfet', () => {
    const doc = build((raw) => (raw.items['058'].ibsCbs = { cst: '200', cClassTrib: '200003', pRedAliq: 60 }));
    // 0.10 × 40 % = 0.04 %: 51.34 → 0.020536 → 0.02; 0.90 × 40 % = 0.36 %: 0.184824 → 0.18.
    expect(doc.det[0]!.ibsCbs).toEqual({
      cst: '200',
      cClassTrib: '200003',
      taxed: true,
      vBC: 5134,
      ibsUF: { rate: 0.1, reduction: { pRedAliq: 60, pAliqEfet: 0.04 }, value: 2 },
      ibsMun: { rate: 0, reduction: { pRedAliq: 60, pAliqEfet: 0 }, value: 0 },
      vIBS: 2,
      cbs: { rate: 0.9, reduction: { pRedAliq: 60, pAliqEfet: 0.36 }, value: 18 },
    });
    expect(signNfce(doc, testCertificate()).nfeXml).toContain(
      '<gCBS><pCBS>0.9000</pCBS><gRed><pRedAliq>60.0000</pRedAliq><pAliqEfet>0.3600</pAliqEfet></gRed><vCBS>0.18</vCBS></gCBS>',
    );
  });

  it('the base formula: only the discount deducted, or nothing', () => {
    const items = [suco];
    const payment = paymentFor(items, { discounts: 100 });
    const at = (baseDeducts: string[]) =>
      buildDocument(
        withSetup(inputFor(items, payment, { nNF: 1, cNF: '27182818', dhEmi: NOV_2026 }), {
          catalog: catalogWith((raw) => (raw.ibsCbs = { baseDeducts })),
        }),
      ).det[0]!.ibsCbs;
    expect(at(['discount'])).toMatchObject({ vBC: 6000 }); // 61.00 − 1.00
    expect(at([])).toMatchObject({ vBC: 6100 });
    // The default: 61.00 − 1.00 − ICMS 20 on 60.00 (base 52.80 at 18 % = 9.50) = 50.50.
    expect(at(['discount', 'icms', 'pis', 'cofins'])).toMatchObject({ vBC: 5050 });
  });

  it('vNFTot: vNF by default, with IBS and CBS added, or left out', () => {
    expect(build(() => {}).totals.vNFTot).toBe(6710);
    expect(build((raw) => (raw.ibsCbs = { vNFTot: 'vNF+IBS+CBS' })).totals.vNFTot).toBe(6710 + 6 + 51);
    const omitted = build((raw) => (raw.ibsCbs = { vNFTot: 'omit' }));
    expect(omitted.totals.vNFTot).toBeUndefined();
    expect(signNfce(omitted, testCertificate()).nfeXml).not.toContain('vNFTot');
    expect(omitted.det.map((d) => d.vItem)).toEqual([undefined, undefined]);
  });

  it('det/vItem: each item’s share of vNFTot, after imposto; Σ vItem = vNFTot', () => {
    // The seed's order: the juice 61.00 and the fee 6.10, no discount.
    const porFora = build(() => {});
    expect(porFora.det.map((d) => d.vItem)).toEqual([6100, 610]);
    const xml = signNfce(porFora, testCertificate()).nfeXml;
    expect(xml.match(/<\/imposto><vItem>[0-9.]+<\/vItem><\/det>/g)).toEqual([
      '</imposto><vItem>61.00</vItem></det>',
      '</imposto><vItem>6.10</vItem></det>',
    ]);
    // IBS and CBS inside vNFTot: each item carries its own (0.05 + 0.46 and 0.01 + 0.05).
    const inside = build((raw) => (raw.ibsCbs = { vNFTot: 'vNF+IBS+CBS' }));
    expect(inside.det.map((d) => d.vItem)).toEqual([6100 + 5 + 46, 610 + 1 + 5]);
    expect(inside.det.reduce((sum, d) => sum + d.vItem!, 0)).toBe(inside.totals.vNFTot);
  });
});

describe('the catalog schema: backward compatible, and refusing what SEFAZ would refuse', () => {
  const errors = (raw: unknown) => {
    const parsed = catalogSchema.safeParse(raw, { reportInput: true });
    return parsed.success ? [] : fieldErrors(parsed.error, 'catalog').map((e) => e.message);
  };

  it('a stored catalog without the new fields parses, and takes the defaults', () => {
    const raw = fixture('nfce/demo-catalog.json');
    delete raw.items['202']; // the one ICMS-ST item, which now needs its CEST
    delete raw.ibsCbs; // the demo catalog's placeholder 2027 rate
    const catalog = catalogSchema.parse(raw);
    expect(catalog.ibsCbs).toBeUndefined();
    expect(catalog.items['058']!.ibsCbs).toBeUndefined();
    expect(ibsCbsSettings(catalog.ibsCbs)).toEqual(IBS_CBS_DEFAULTS);
    expect(IBS_CBS_DEFAULTS).toMatchObject({
      default: { cst: '000', cClassTrib: '000001' },
      rates: { '2026': { ibsUF: 0.1, ibsMun: 0, cbs: 0.9 }, '2027': { ibsUF: 0.05, ibsMun: 0.05 } },
      emitFrom: { 1: '2027-01-04', 2: '2027-01-04', 3: '2026-08-03', 4: '2027-01-04' },
      baseDeducts: ['discount', 'icms', 'pis', 'cofins'],
      vNFTot: 'vNF',
    });
  });

  it('merges a partial configuration over the defaults, per year and per tax', () => {
    const settings = ibsCbsSettings({ rates: { '2027': { cbs: 8.8 }, '2029': { ibsUF: 0.1 } }, emitFrom: { '1': null } });
    expect(settings.rates['2026']).toEqual({ ibsUF: 0.1, ibsMun: 0, cbs: 0.9 });
    expect(settings.rates['2027']).toEqual({ ibsUF: 0.05, ibsMun: 0.05, cbs: 8.8 });
    expect(settings.rates['2029']).toEqual({ ibsUF: 0.1 });
    expect(settings.emitFrom).toEqual({ 1: null, 2: '2027-01-04', 3: '2026-08-03', 4: '2027-01-04' });
  });

  it('refuses an ICMS-ST item without CEST when the catalog is parsed, naming it', () => {
    const raw = fixture('nfce/demo-catalog.json');
    delete raw.items['202'].cest;
    raw.serviceFee.icms = { cst: '500' };
    expect(errors(raw)).toEqual([
      'catalog.serviceFee.cest is required: ICMS 500 is a tax-substitution (ICMS-ST) code, and SEFAZ refuses such an item without its 7-digit CEST (rejection 806)',
      'catalog.items.202.cest is required: ICMS 60 is a tax-substitution (ICMS-ST) code, and SEFAZ refuses such an item without its 7-digit CEST (rejection 806)',
    ]);
    const dotted = fixture('nfce/demo-catalog.json');
    dotted.items['202'].cest = '03.021.00';
    expect(errors(dotted)).toEqual(['catalog.items.202.cest must be 7 digits']);
  });

  it('refuses IBS/CBS settings that cannot be right', () => {
    const raw = fixture('nfce/demo-catalog.json');
    raw.items['058'].ibsCbs = { cst: '000', cClassTrib: '200001' };
    raw.items['101'].ibsCbs = { cst: '200', cClassTrib: '200003' };
    raw.items['303'].ibsCbs = { cst: '620', cClassTrib: '620001' };
    raw.ibsCbs = { rates: { '2027': { cbs: 0.12345 } }, emitFrom: { '3': '03/08/2026' }, emitfrom: {} };
    // (Items in the record's own order: integer-like keys first.)
    expect(errors(raw)).toEqual([
      'catalog.items.101.ibsCbs.pRedAliq is required for CST 200 (alíquota reduzida)',
      'catalog.items.303.ibsCbs.cst must be one of 200, 410, 000',
      'catalog.items.058.ibsCbs.cClassTrib must start with its CST 000 (the first 3 digits of cClassTrib are the CST)',
      'catalog.ibsCbs.rates.2027.cbs must have at most 4 decimals',
      'catalog.ibsCbs.emitFrom.3 must be a date YYYY-MM-DD',
      'catalog.ibsCbs is invalid (Unrecognized key: "emitfrom")',
    ]);
  });
});

describe('property: IBS/CBS recomputed from the XML with the rates, totals are the sums, vNF untouched', () => {
  const SKUS = ['058', '101', '202', '303', 'NOVO'];
  const itemArb = fc.record({
    sku: fc.constantFrom(...SKUS),
    quantity: fc.integer({ min: 1, max: 50_000 }),
    unitPrice: fc.integer({ min: 1, max: 90_000 }),
  });
  const RATES_2027: TestRates = { ibsUF: '0.0500', ibsMun: '0.0500', cbs: '8.8000' };
  const catalog = catalogWith((raw) => (raw.ibsCbs = { rates: { '2027': { cbs: 8.8 } } }));
  const noGroups = catalogWith((raw) => (raw.ibsCbs = { rates: { '2027': { cbs: 8.8 } }, emitFrom: { '3': null } }));

  it('holds for random orders, fees, discounts and 2026 / 2027 dates', () => {
    fc.assert(
      fc.property(
        fc.array(itemArb, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        (raw, fees, discountShare, in2027) => {
          const items = raw.map((r, i) => ({ ...r, name: `Item ${i}`, unit: 'UN' }));
          const subtotal = items.reduce((sum, i) => sum + Math.round((i.quantity * i.unitPrice) / 10_000), 0) + fees;
          const discounts = Math.floor(subtotal * discountShare);
          if (subtotal - discounts <= 0) return;
          const payment = paymentFor(items, { fees, discounts });
          const dhEmi = in2027 ? '2027-05-02T19:45:00-03:00' : '2026-09-30T21:10:05-03:00';
          const input = withSetup(inputFor(items, payment, { nNF: 7, cNF: '11223344', dhEmi }), { catalog });
          const doc = buildDocument(input);
          const nfe = parseNfe(signNfce(doc, testCertificate()).nfeXml);
          const rates = in2027 ? RATES_2027 : RATES_2026;

          const lines = ibsCbsOfXml(nfe, rates);
          const sum = { vBC: 0n, vIBSUF: 0n, vIBSMun: 0n, vIBS: 0n, vCBS: 0n };
          for (const { expected, written } of lines) {
            expect(written).toBeDefined();
            expect(written!.values).toEqual(expected);
            expect([written!.CST, written!.cClassTrib]).toEqual(['000', '000001']);
            expect([written!.pIBSUF, written!.pIBSMun, written!.pCBS]).toEqual([rates.ibsUF, rates.ibsMun, rates.cbs]);
            for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += expected[k];
          }
          const tot = ibsCbsTotOfXml(nfe);
          expect(tot.present).toBe(true);
          expect([tot.vBCIBSCBS, tot.vIBSUF, tot.vIBSMun, tot.vIBS, tot.vCBS]).toEqual([
            sum.vBC,
            sum.vIBSUF,
            sum.vIBSMun,
            sum.vIBS,
            sum.vCBS,
          ]);
          // "Por fora": vNF is vProd − vDesc, and vNFTot = vNF.
          expect(tot.vNF).toBe(tot.vProd - tot.vDesc);
          expect(tot.vNFTot).toBe(text(child(nfe, 'infNFe', 'total', 'ICMSTot'), 'vNF'));
          // The same order without the groups: the same ICMS totals and payments.
          const without = buildDocument({ ...input, catalog: noGroups });
          const { ibsCbs, vNFTot, ...icmsTotals } = doc.totals;
          expect(without.totals).toEqual(icmsTotals);
          expect(without.pag).toEqual(doc.pag);
        },
      ),
      { numRuns: 150 },
    );
  });
});
