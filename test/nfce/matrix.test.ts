import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDocument, type NfceDocument, type OrderItem } from '../../functions/nfce/document.ts';
import type { Catalog, Emitter } from '../../functions/nfce/fiscal.ts';
import { renderReceipt } from '../../functions/nfce/receipt.ts';
import { nfeProc, signNfce, type SignedNfce } from '../../functions/nfce/xml.ts';
import { PAYMENT_METHODS } from '../../functions/payments/request.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import { inputFor, paymentFor, xmlsecMissing, xmlsecVerifies, itemsTotal, orderItem, orderItems } from '../support/nfce.ts';
import {
  ALPHANUMERIC_CNPJ,
  ALPHANUMERIC_CONSUMER,
  catalogWith,
  certificateFor,
  child,
  children,
  emitterWith,
  ibsCbsOfXml,
  ibsCbsTotOfXml,
  parseNfe,
  PL_010E,
  RATES_2026,
  simplesCatalog,
  text,
  withSetup,
  type TestRates,
} from '../support/nfce-2026.ts';

/**
 * The generated matrix of issue 11: every payment method and mixes, discounts, the fee removed,
 * CPF / CNPJ / alphanumeric-CNPJ consumers, 1–100 items, CRT 3 and CRT 1 emitters (numeric and
 * alphanumeric CNPJ), a 2026 and a 2027 dhEmi — each NFC-e built, signed and checked against
 * PL_010e (libxml2 in process, and xmllint and xmlsec1 where installed), its IBS/CBS recomputed
 * from the rates written here, ST items with CEST, PIX with card, and printed as a receipt.
 */

const RATES_2027: TestRates = { ibsUF: '0.0500', ibsMun: '0.0500', cbs: '0.9000' };
/** CBS 2027 has no default (ibs-cbs.ts): the matrix configures 0.90 % as a placeholder. */
const ibsCbs2027 = { rates: { '2027': { cbs: 0.9 } } };

interface Setup {
  name: string;
  emitter: Emitter;
  catalog: Catalog;
}
const setups = (): Setup[] => [
  {
    name: 'CRT 3 ALBINO (numeric CNPJ)',
    emitter: emitterWith(),
    catalog: catalogWith((raw) => (raw.ibsCbs = ibsCbs2027)),
  },
  {
    name: 'CRT 1 Simples Nacional',
    emitter: emitterWith({ cnpj: '11222333000181', crt: 1, name: 'PADARIA SIMPLES LTDA' }),
    catalog: simplesCatalog((raw) => (raw.ibsCbs = ibsCbs2027)),
  },
  {
    name: 'CRT 3 alphanumeric CNPJ',
    emitter: emitterWith({ cnpj: ALPHANUMERIC_CNPJ, name: 'ALFA RESTAURANTE LTDA' }),
    catalog: catalogWith((raw) => (raw.ibsCbs = ibsCbs2027)),
  },
];
const DATES = ['2026-11-22T12:30:00-03:00', '2027-02-10T20:15:30-03:00'];

const item = orderItem;
const items = orderItems;
const totalOf = itemsTotal;

const method = (name: (typeof PAYMENT_METHODS)[number], centavos: number, extra: Record<string, unknown> = {}) => ({
  value: centavos / 100,
  currency: 'BRL',
  type: 'OFFLINE',
  method: name,
  ...(name === 'CASH' ? { changeFor: Math.ceil(centavos / 5000) * 50 } : {}),
  ...extra,
});

interface Scenario {
  name: string;
  items: OrderItem[];
  payment: ReturnType<typeof paymentFor>;
}

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  const three = items(3);
  for (const m of PAYMENT_METHODS) {
    const brand = ['CREDIT', 'DEBIT', 'CREDIT_DEBIT', 'MEAL_VOUCHER', 'FOOD_VOUCHER'].includes(m) ? { brand: 'ELO' } : {};
    list.push({
      name: `paid by ${m}`,
      items: three,
      payment: paymentFor(three, { paymentObject: { methods: [method(m, totalOf(three), brand)] as never } }),
    });
  }
  // Mixes: cash with change beside a card and PIX; every method at once; two cash payments.
  const five = items(5);
  const t5 = totalOf(five);
  list.push({
    name: 'cash + credit + PIX',
    items: five,
    payment: paymentFor(five, {
      paymentObject: {
        methods: [
          method('CASH', Math.floor(t5 / 4)),
          method('CREDIT', Math.floor(t5 / 3), { methodInfo: 'VISA' }),
          method('PIX', t5 - Math.floor(t5 / 4) - Math.floor(t5 / 3)),
        ] as never,
      },
    }),
  });
  const twelve = items(12);
  const t12 = totalOf(twelve);
  const share = Math.floor(t12 / PAYMENT_METHODS.length);
  list.push({
    name: 'every method at once',
    items: twelve,
    payment: paymentFor(twelve, {
      paymentObject: {
        methods: PAYMENT_METHODS.map((m, i) =>
          method(m, i === 0 ? t12 - share * (PAYMENT_METHODS.length - 1) : share, m === 'OTHER' ? { methodInfo: 'x' } : {}),
        ) as never,
      },
    }),
  });
  list.push({
    name: 'two cash payments',
    items: three,
    payment: paymentFor(three, {
      paymentObject: { methods: [method('CASH', 100), method('CASH', totalOf(three) - 100)] as never },
    }),
  });
  const two = items(2);
  list.push({ name: 'discount and fee', items: two, payment: paymentFor(two, { fees: 120, discounts: 233 }) });
  list.push({
    name: 'fee removed, discount',
    items: two,
    payment: paymentFor(two, { fees: 120, discounts: 50, paymentObject: { removeServiceFee: true } }),
  });
  const consumer = (document: string) => ({ documentInReceipt: true, customerDocument: document });
  list.push({ name: 'CPF consumer', items: two, payment: paymentFor(two, { paymentObject: consumer('529.982.247-25') }) });
  list.push({ name: 'CNPJ consumer', items: two, payment: paymentFor(two, { paymentObject: consumer('11.222.333/0001-81') }) });
  list.push({
    name: 'alphanumeric CNPJ consumer',
    items: two,
    payment: paymentFor(two, { paymentObject: consumer('a1.b2c.3d4/0001-93') }),
  });
  list.push({ name: 'one item', items: items(1), payment: paymentFor(items(1)) });
  const hundred = items(100);
  list.push({
    name: 'a hundred items, fee, discount, PIX',
    items: hundred,
    payment: paymentFor(hundred, {
      fees: 1234,
      discounts: 999,
      paymentObject: { methods: [method('PIX', totalOf(hundred) + 1234 - 999)] as never },
    }),
  });
  const weighed = [item(4, { quantity: 3_575, unitPrice: 5_990, unit: 'KG' }), item(2)];
  list.push({ name: 'weighed item, beer', items: weighed, payment: paymentFor(weighed) });
  return list;
}

interface Built {
  name: string;
  setup: Setup;
  dhEmi: string;
  document: NfceDocument;
  signed: SignedNfce;
  xml: string;
}
const built: Built[] = [];
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

beforeAll(() => {
  let nNF = 900;
  for (const setup of setups()) {
    const certificate = certificateFor(setup.emitter.cnpj, setup.emitter.name);
    for (const dhEmi of DATES) {
      for (const s of scenarios()) {
        const input = withSetup(inputFor(s.items, s.payment, { nNF: nNF++, cNF: String(31_415_926 + nNF), dhEmi }), setup);
        const document = buildDocument(input);
        const signed = signNfce(document, certificate);
        built.push({
          name: `${setup.name} / ${dhEmi.slice(0, 4)} / ${s.name}`,
          setup,
          dhEmi,
          document,
          signed,
          xml: signed.nfeXml,
        });
      }
    }
  }
});

const noSchemas = existsSync(PL_010E) ? undefined : `${PL_010E} is absent`;
const noXmlsec = xmlsecMissing();
const noXmllint = (() => {
  try {
    execFileSync('xmllint', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'xmllint is not installed (Debian: libxml2-utils)';
  }
})();
for (const reason of [noSchemas, noXmlsec, noXmllint]) if (reason) console.warn(`skipping: ${reason}`);

/** Whether this NFC-e must carry IBS/CBS: CRT 3 from 2026-08-03, CRT 1 from 2027-01-04 (the defaults). */
const expectsIbsCbs = (b: Built) => b.setup.emitter.crt === 3 || b.dhEmi >= '2027-01-04';

describe('the matrix', () => {
  it('covers every dimension', () => {
    expect(built).toHaveLength(setups().length * DATES.length * scenarios().length);
    const all = built.map((b) => b.xml).join('');
    for (const tPag of ['01', '03', '04', '05', '10', '11', '17', '18', '19', '99'])
      expect(all).toContain(`<tPag>${tPag}</tPag>`);
    expect(all).toContain(`<dest><CNPJ>${ALPHANUMERIC_CONSUMER}</CNPJ><indIEDest>9</indIEDest></dest>`);
    expect(all).toContain(`<emit><CNPJ>${ALPHANUMERIC_CNPJ}</CNPJ>`);
    expect(built.filter((b) => b.document.det.length === 101)).not.toHaveLength(0); // 100 items + the fee
    expect(built.filter((b) => expectsIbsCbs(b))).not.toHaveLength(0);
    expect(built.filter((b) => !expectsIbsCbs(b))).not.toHaveLength(0);
  });
});

describe.skipIf(Boolean(noSchemas))('against PL_010e (nfe_v4.00.xsd), in process', () => {
  it('every NFC-e of the matrix validates', () => {
    const checker = schemaValidator(PL_010E, 'nfe_v4.00.xsd');
    const failures = built.flatMap((b) => checker.failures(XML_DECLARATION + b.xml).map((f) => `${b.name}: ${f}`));
    expect(failures).toEqual([]);
  });

  it('and so does each as an nfeProc with a 17-digit protocol (procNFe_v4.00.xsd)', () => {
    const checker = schemaValidator(PL_010E, 'procNFe_v4.00.xsd');
    const failures = built.flatMap((b) => checker.failures(proc(b)).map((f) => `${b.name}: ${f}`));
    expect(failures).toEqual([]);
  });

  it('catches what would be wrong (the check can fail)', () => {
    const checker = schemaValidator(PL_010E, 'nfe_v4.00.xsd');
    const sample = built.find((b) => expectsIbsCbs(b))!.xml;
    expect(checker.failures(XML_DECLARATION + sample.replace('<cClassTrib>000001</cClassTrib>', '')).join()).toMatch(
      /cClassTrib|gIBSCBS/,
    );
    expect(checker.failures(XML_DECLARATION + sample.replace('<CEST>0302100</CEST>', '<CEST>03.021.00</CEST>')).join()).toMatch(
      /CEST/,
    );
  });
});

describe.skipIf(Boolean(noSchemas) || Boolean(noXmllint))('against PL_010e, by xmllint', () => {
  it('every NFC-e of the matrix validates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfce-matrix-'));
    try {
      const files = built.map((b, i) => {
        const file = join(dir, `nfce-${i}.xml`);
        writeFileSync(file, XML_DECLARATION + b.xml);
        return file;
      });
      // Exit status 0: every file validated.
      execFileSync('xmllint', ['--noout', '--schema', join(PL_010E, 'nfe_v4.00.xsd'), ...files], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(Boolean(noXmlsec))('signatures, by xmlsec1', () => {
  it('every signature of the matrix verifies', () => {
    const failed = built.filter(
      (b) => !xmlsecVerifies(XML_DECLARATION + b.xml, certificateFor(b.setup.emitter.cnpj).certificatePem),
    );
    expect(failed.map((b) => b.name)).toEqual([]);
  });
});

describe('what SEFAZ checks beyond the schema', () => {
  it('IBS/CBS where due, recomputed from the rates, totals the sums, vNF = vProd − vDesc = vNFTot', () => {
    for (const b of built) {
      const nfe = parseNfe(b.xml);
      const tot = ibsCbsTotOfXml(nfe);
      expect(tot.vNF, b.name).toBe(tot.vProd - tot.vDesc);
      if (!expectsIbsCbs(b)) {
        expect(b.xml, b.name).not.toContain('IBSCBS');
        expect(tot.vNFTot, b.name).toBeUndefined();
        continue;
      }
      const rates = b.dhEmi.startsWith('2026') ? RATES_2026 : RATES_2027;
      const lines = ibsCbsOfXml(nfe, rates);
      for (const { expected, written } of lines) {
        expect(written?.values, b.name).toEqual(expected);
        expect([written!.pIBSUF, written!.pIBSMun, written!.pCBS], b.name).toEqual([rates.ibsUF, rates.ibsMun, rates.cbs]);
      }
      const sum = (k: 'vBC' | 'vIBSUF' | 'vIBSMun' | 'vIBS' | 'vCBS') => lines.reduce((s, l) => s + l.expected[k], 0n);
      expect([tot.vBCIBSCBS, tot.vIBSUF, tot.vIBSMun, tot.vIBS, tot.vCBS], b.name).toEqual([
        sum('vBC'),
        sum('vIBSUF'),
        sum('vIBSMun'),
        sum('vIBS'),
        sum('vCBS'),
      ]);
      expect(tot.vNFTot, b.name).toBe(text(child(nfe, 'infNFe', 'total', 'ICMSTot'), 'vNF'));
    }
  });

  it('ST items (ICMS 60, CSOSN 500) carry CEST right after NCM; PIX carries card; 99 carries xPag; payments settle', () => {
    let stItems = 0;
    for (const b of built) {
      const nfe = parseNfe(b.xml);
      for (const det of children(child(nfe, 'infNFe'), 'det')) {
        const icms = child(det, 'imposto', 'ICMS')!;
        const group = Array.from(icms.childNodes).find((n) => n.nodeType === n.ELEMENT_NODE) as unknown as { localName: string };
        if (['ICMS60', 'ICMSSN500'].includes(group.localName)) {
          stItems++;
          const names = Array.from(child(det, 'prod')!.childNodes).map((n) => (n as unknown as { localName: string }).localName);
          expect(names[names.indexOf('NCM') + 1], b.name).toBe('CEST');
          expect(text(det, 'prod', 'CEST'), b.name).toBe('0302100');
        }
      }
      const pag = child(nfe, 'infNFe', 'pag');
      let paid = 0n;
      for (const d of children(pag, 'detPag')) {
        if (['03', '04', '17'].includes(text(d, 'tPag')!)) expect(text(d, 'card', 'tpIntegra'), b.name).toBe('2');
        if (text(d, 'tPag') === '99') expect(text(d, 'xPag'), b.name).toMatch(/^.{2,60}$/);
        paid += BigInt(Math.round(Number(text(d, 'vPag')) * 100));
      }
      const vTroco = BigInt(Math.round(Number(text(pag, 'vTroco')) * 100));
      expect(paid - vTroco, b.name).toBe(ibsCbsTotOfXml(nfe).vNF);
    }
    expect(stItems).toBeGreaterThan(0);
  });

  it('keys: the emitter’s CNPJ (letters included) in positions 7–18, cDV by mod 11 over ASCII − 48; QR code v2 over it', () => {
    for (const b of built) {
      const { chave, qrCode } = b.signed;
      expect(chave, b.name).toMatch(/^\d{6}[0-9A-Z]{12}\d{26}$/);
      expect(chave.slice(6, 20), b.name).toBe(b.setup.emitter.cnpj);
      expect(chave.slice(2, 6), b.name).toBe(b.dhEmi.slice(2, 4) + b.dhEmi.slice(5, 7));
      expect(Number(chave[43]), b.name).toBe(independentCheckDigit(chave.slice(0, 43)));
      expect(b.xml, b.name).toContain(`Id="NFe${chave}"`);
      expect(text(child(parseNfe(b.xml), 'infNFe', 'ide'), 'cDV')).toBe(chave[43]);
      const { csc, urls } = b.setup.emitter;
      const hash = createHash('sha1').update(`${chave}|2|2|3${csc.token}`).digest('hex').toUpperCase();
      expect(qrCode, b.name).toBe(`${urls.qrCode}?p=${chave}|2|2|3|${hash}`);
    }
    expect(built.some((b) => /[A-Z]/.test(b.signed.chave))).toBe(true);
  });
});

describe('the receipt (DANFE NFC-e text) of every NFC-e of the matrix', () => {
  it('prints every mandatory section, the key in groups of 4 (letters included), within the paper', () => {
    for (const b of built) {
      for (const columns of [32, 48] as const) {
        const receipt = renderReceipt(proc(b), { columns });
        for (const line of receipt.split('\n')) expect([...line].length, b.name).toBeLessThanOrEqual(columns);
        const flat = receipt.replace(/\s+/g, ' ');
        for (const section of [
          b.setup.emitter.name,
          'Documento Auxiliar da Nota Fiscal de Consumidor Eletrônica',
          'EMITIDA EM AMBIENTE DE HOMOLOGAÇÃO - SEM VALOR FISCAL',
          'Código Descrição',
          `Qtde. total de itens ${b.document.det.length}`,
          'Valor a Pagar R$',
          'FORMA PAGAMENTO VALOR PAGO R$',
          'Consulte pela Chave de Acesso em',
          `NFC-e nº ${b.document.numbering.nNF} Série 1`,
          'Protocolo de autorização: 13526000000012345',
          'Consulta via leitor de QR Code',
          'Tributos Totais Incidentes (Lei Federal 12.741/2012)',
        ]) {
          expect(flat, `${b.name}: ${section}`).toContain(section);
        }
        expect(receipt.split('\n'), b.name).toContain('[QRCODE]');
        expect(flat, b.name).toContain(b.signed.chave.match(/.{4}/g)!.join(' ').slice(0, 29));
        expect(flat, b.name).toContain(
          b.document.dest
            ? `CONSUMIDOR ${b.document.dest.kind}: ${b.document.dest.number.slice(0, 2)}`
            : 'CONSUMIDOR NÃO IDENTIFICADO',
        );
      }
    }
  });
});

/** An nfeProc as SEFAZ-SP answers NFC-e now: a 17-digit nProt. */
function proc(b: Built): string {
  const protNFe =
    `<protNFe versao="4.00"><infProt><tpAmb>2</tpAmb><verAplic>SP_NFCE_PL_010</verAplic><chNFe>${b.signed.chave}</chNFe>` +
    `<dhRecbto>${b.dhEmi}</dhRecbto><nProt>13526000000012345</nProt><digVal>${b.signed.digestValue}</digVal>` +
    '<cStat>100</cStat><xMotivo>Autorizado o uso da NF-e</xMotivo></infProt></protNFe>';
  return nfeProc(b.xml, protNFe);
}

/** The key's check digit, written here from the MOC's rule and NT 2026.004 (not the product's function). */
function independentCheckDigit(first43: string): number {
  const values = [...first43].map((ch) => ch.charCodeAt(0) - '0'.charCodeAt(0)).reverse();
  const sum = values.reduce((total, value, i) => total + value * (2 + (i % 8)), 0);
  return sum % 11 < 2 ? 0 : 11 - (sum % 11);
}
