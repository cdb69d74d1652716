import { resolve } from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { type A1Certificate } from '../../functions/nfce/certificate.ts';
import { createTestA1, openA1 } from '../../functions/nfce/pkcs12.ts';
import type { NfceInput } from '../../functions/nfce/document.ts';
import { catalogSchema, emitterSchema, type Catalog, type Emitter } from '../../functions/nfce/fiscal.ts';
import { fixture } from './fixtures.ts';

/**
 * Test material for the 2026 NFC-e (issue 11): emitters and catalogs beside the demo ones, and an
 * independent reading of the XML (IBS/CBS recomputed here with BigInt from the rates written in the
 * test, never with the builder's helpers).
 */

const NS = 'http://www.portalfiscal.inf.br/nfe';

/** The current schema package, named explicitly (not through test/support/nfce.ts `SCHEMAS`). */
export const PL_010E = resolve(import.meta.dirname, '../../../shared/nfe-schemas/PL_010e_v1.01');

/** The official example of an alphanumeric CNPJ (Receita Federal, IN RFB 2.229/2024): 12.ABC.345/01DE-35. */
export const ALPHANUMERIC_CNPJ = '12ABC34501DE35';
/** Another valid alphanumeric CNPJ (check digits computed by hand with the ASCII − 48 rule), for consumers. */
export const ALPHANUMERIC_CONSUMER = 'A1B2C3D4000193';

/** The demo emitter (ALBINO LTDA, CRT 3) with changes, through the real schema. */
export function emitterWith(changes: Partial<Emitter> = {}): Emitter {
  return emitterSchema.parse({ ...fixture<Record<string, unknown>>('nfce/demo-emitter.json'), ...changes });
}

/** The demo catalog (raw JSON) with changes, through the real schema. */
export function catalogWith(change: (raw: Record<string, any>) => void = () => {}): Catalog {
  const raw = fixture('nfce/demo-catalog.json');
  change(raw);
  return catalogSchema.parse(raw);
}

/**
 * A Simples Nacional (CRT 1) catalog: the demo's skus under CSOSN 102, the beer under CSOSN 500
 * (ICMS-ST already charged, so it needs its CEST), PIS/COFINS 49 and 99 as a Simples emitter writes them.
 */
export function simplesCatalog(change: (raw: Record<string, any>) => void = () => {}): Catalog {
  return catalogWith((raw) => {
    for (const profile of [raw.default, raw.serviceFee, ...Object.values(raw.items)] as Record<string, any>[]) {
      profile.icms = { cst: '102' };
      profile.pis = { cst: '49' };
      profile.cofins = { cst: '49' };
      delete profile.cBenef;
    }
    raw.items['202'].icms = { cst: '500' };
    raw.items['202'].pis = { cst: '99', rate: 0.65 };
    raw.items['202'].cofins = { cst: '99', rate: 3 };
    change(raw);
  });
}

const certificates = new Map<string, A1Certificate>();
/** A test A1 per CNPJ (RSA key generation takes a few hundred ms: one per process). */
export function certificateFor(cnpj: string, name = 'ALBINO LTDA'): A1Certificate {
  let certificate = certificates.get(cnpj);
  if (!certificate) {
    certificate = openA1(createTestA1({ name, cnpj, password: 'teste' }), 'teste');
    certificates.set(cnpj, certificate);
  }
  return certificate;
}

export function withSetup(input: NfceInput, setup: { emitter?: Emitter; catalog?: Catalog; dhEmi?: string }): NfceInput {
  return {
    ...input,
    ...(setup.emitter ? { emitter: setup.emitter } : {}),
    ...(setup.catalog ? { catalog: setup.catalog } : {}),
    numbering: { ...input.numbering, ...(setup.dhEmi ? { dhEmi: setup.dhEmi } : {}) },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the XML back, independently of the builder.

export function parseNfe(xml: string): Element {
  return new DOMParser().parseFromString(xml, 'text/xml').documentElement!;
}

export function children(parent: Element | undefined, name: string): Element[] {
  if (!parent) return [];
  return Array.from(parent.childNodes).filter(
    (n): n is Element => n.nodeType === n.ELEMENT_NODE && (n as Element).localName === name && (n as Element).namespaceURI === NS,
  );
}

export function child(parent: Element | undefined, ...path: string[]): Element | undefined {
  let here = parent;
  for (const name of path) here = children(here, name)[0];
  return here;
}

export function text(parent: Element | undefined, ...path: string[]): string | undefined {
  return child(parent, ...path)?.textContent ?? undefined;
}

/** Decimal text → integer units of 10^-scale, exactly (`"51.34"`, 2 → 5134n). */
export function units(value: string | undefined, scale: number): bigint {
  if (value === undefined) return 0n;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`not a decimal: ${value}`);
  const [whole = '0', fraction = ''] = value.split('.');
  if (fraction.length > scale) throw new Error(`${value} has more than ${scale} decimals`);
  return BigInt(whole + fraction.padEnd(scale, '0'));
}
export const cents = (value: string | undefined) => units(value, 2);

/** The child element of a group whose name starts with `prefix` (ICMS00, ICMSSN102, PISAliq…). */
function inner(group: Element | undefined): Element | undefined {
  return group ? Array.from(group.childNodes).find((n): n is Element => n.nodeType === n.ELEMENT_NODE) : undefined;
}

/** Rates as the test writes them: percent text with 4 decimals. */
export interface TestRates {
  ibsUF: string;
  ibsMun: string;
  cbs: string;
}
export const RATES_2026: TestRates = { ibsUF: '0.1000', ibsMun: '0.0000', cbs: '0.9000' };

/** base (centavos) × rate (percent text) / 100, half up to the centavo. */
export function taxOf(base: bigint, rate: string): bigint {
  return (base * units(rate, 4) + 500_000n) / 1_000_000n;
}

export interface ExpectedItem {
  vBC: bigint;
  vIBSUF: bigint;
  vIBSMun: bigint;
  vIBS: bigint;
  vCBS: bigint;
}

/**
 * What each item's gIBSCBS must hold, recomputed from the item's own prod and tax figures in the
 * XML: base = vProd − vDesc − vICMS − vPIS − vCOFINS (the default formula), each value base × rate
 * half up. Also returns what the XML says, for comparison.
 */
export function ibsCbsOfXml(nfe: Element, rates: TestRates) {
  const infNFe = child(nfe, 'infNFe');
  return children(infNFe, 'det').map((det) => {
    const prod = child(det, 'prod');
    const imposto = child(det, 'imposto');
    const vProd = cents(text(prod, 'vProd'));
    const vDesc = cents(text(prod, 'vDesc'));
    const vICMS = cents(text(inner(child(imposto, 'ICMS')), 'vICMS'));
    const vPIS = cents(text(inner(child(imposto, 'PIS')), 'vPIS'));
    const vCOFINS = cents(text(inner(child(imposto, 'COFINS')), 'vCOFINS'));
    const vBC = vProd - vDesc - vICMS - vPIS - vCOFINS;
    const vIBSUF = taxOf(vBC, rates.ibsUF);
    const vIBSMun = taxOf(vBC, rates.ibsMun);
    const expected: ExpectedItem = { vBC, vIBSUF, vIBSMun, vIBS: vIBSUF + vIBSMun, vCBS: taxOf(vBC, rates.cbs) };
    const group = child(imposto, 'IBSCBS');
    const g = child(group, 'gIBSCBS');
    const written = group && {
      CST: text(group, 'CST'),
      cClassTrib: text(group, 'cClassTrib'),
      pIBSUF: text(g, 'gIBSUF', 'pIBSUF'),
      pIBSMun: text(g, 'gIBSMun', 'pIBSMun'),
      pCBS: text(g, 'gCBS', 'pCBS'),
      values: {
        vBC: cents(text(g, 'vBC')),
        vIBSUF: cents(text(g, 'gIBSUF', 'vIBSUF')),
        vIBSMun: cents(text(g, 'gIBSMun', 'vIBSMun')),
        vIBS: cents(text(g, 'vIBS')),
        vCBS: cents(text(g, 'gCBS', 'vCBS')),
      },
    };
    return { expected, written, vProd, vDesc };
  });
}

/** IBSCBSTot and vNFTot as written. */
export function ibsCbsTotOfXml(nfe: Element) {
  const total = child(nfe, 'infNFe', 'total');
  const tot = child(total, 'IBSCBSTot');
  return {
    present: tot !== undefined,
    vBCIBSCBS: cents(text(tot, 'vBCIBSCBS')),
    vIBSUF: cents(text(tot, 'gIBS', 'gIBSUF', 'vIBSUF')),
    vIBSMun: cents(text(tot, 'gIBS', 'gIBSMun', 'vIBSMun')),
    vIBS: cents(text(tot, 'gIBS', 'vIBS')),
    vCBS: cents(text(tot, 'gCBS', 'vCBS')),
    vNFTot: text(total, 'vNFTot'),
    vNF: cents(text(total, 'ICMSTot', 'vNF')),
    vProd: cents(text(total, 'ICMSTot', 'vProd')),
    vDesc: cents(text(total, 'ICMSTot', 'vDesc')),
  };
}
