import type { Document, Element } from '@xmldom/xmldom';

/**
 * Test-only IBS/CBS (NT 2025.002-RTC) for NFC-e test documents, computed here independently of the
 * product's code: `det/imposto/IBSCBS` per item and `total/IBSCBSTot`, in PL_010e's element order
 * (DFeTiposBasicos_v1.00.xsd: TTribNFe, TCIBS_NFe, TIBSCBSMonoTot; leiauteNFe_v4.00.xsd: IBSCBS last in
 * `imposto`, IBSCBSTot after ICMSTot/ISSQNtot/retTrib/ISTot and before vNFTot in `total`).
 *
 *   addIbsCbs(infNFe);                                  // 2026 rates, CST 000 / cClassTrib 000001
 *   addIbsCbs(infNFe, { rates: RATES_2027 });
 *   ibsCbsValues(5134n, RATES_2026);                    // { vIBSUF: 5n, vIBSMun: 0n, vIBS: 5n, vCBS: 46n }
 */

const NFE_NS = 'http://www.portalfiscal.inf.br/nfe';

/** Rates in percent with 4 decimals, as pIBSUF / pIBSMun / pCBS are written. */
export interface Rates {
  ibsUf: string;
  ibsMun: string;
  cbs: string;
}

/** 2026, the test year: IBS UF 0.10 %, IBS municipal 0 %, CBS 0.90 % (LC 214/2025 arts. 343, 346). */
export const RATES_2026: Rates = { ibsUf: '0.1000', ibsMun: '0.0000', cbs: '0.9000' };
/** 2027: IBS UF 0.05 %, IBS municipal 0.05 %; the CBS is set by later legislation (0.90 % here, a placeholder). */
export const RATES_2027: Rates = { ibsUf: '0.0500', ibsMun: '0.0500', cbs: '0.9000' };

export interface IbsCbsValues {
  vIBSUF: bigint;
  vIBSMun: bigint;
  vIBS: bigint;
  vCBS: bigint;
}

/** A decimal text as an integer count of 10^-scale units. */
function units(value: string, scale: number): bigint {
  const [whole = '0', fraction = ''] = value.split('.');
  return BigInt(whole + fraction.padEnd(scale, '0').slice(0, scale));
}

/** Centavos as reais text ("51.34"). */
export const reais = (centavos: bigint): string =>
  `${centavos < 0n ? '-' : ''}${(centavos < 0n ? -centavos : centavos) / 100n}.${String((centavos < 0n ? -centavos : centavos) % 100n).padStart(2, '0')}`;

/** base × rate / 100, rounded half up to the centavo (base in centavos, rate in percent text). */
export function taxOf(baseCentavos: bigint, ratePercent: string): bigint {
  return (baseCentavos * units(ratePercent, 4) + 500_000n) / 1_000_000n;
}

/** One item's values: each tax on the base rounded per item, vIBS their sum. */
export function ibsCbsValues(baseCentavos: bigint, rates: Rates): IbsCbsValues {
  const vIBSUF = taxOf(baseCentavos, rates.ibsUf);
  const vIBSMun = taxOf(baseCentavos, rates.ibsMun);
  return { vIBSUF, vIBSMun, vIBS: vIBSUF + vIBSMun, vCBS: taxOf(baseCentavos, rates.cbs) };
}

export interface IbsCbsOptions {
  rates?: Rates;
  CST?: string;
  cClassTrib?: string;
  /**
   * The item's base in centavos; by default vProd − vDesc − vICMS − vPIS − vCOFINS read from the
   * det (the product's default formula, UNCONFIRMED; SEFAZ does not check it yet: UB16-10 is future).
   */
  base?: (det: Element, index: number) => bigint;
  /** Also add total/IBSCBSTot (default true). */
  totals?: boolean;
  /** Also add total/vNFTot = ICMSTot/vNF (default true; the amounts are "por fora" in 2026). */
  vNFTot?: boolean;
}

const first = (parent: Element, name: string): Element | undefined => parent.getElementsByTagNameNS(NFE_NS, name)[0];
const centavosAt = (parent: Element | undefined, name: string): bigint => {
  const found = parent && first(parent, name);
  return found ? units(found.textContent ?? '0', 2) : 0n;
};

/** vProd − vDesc − vICMS (the ICMS group's) − vPIS − vCOFINS of one det. */
export function defaultBase(det: Element): bigint {
  const prod = first(det, 'prod')!;
  const imposto = first(det, 'imposto');
  const tax = (group: string) => {
    const element = imposto && first(imposto, group);
    return centavosAt(element, group === 'ICMS' ? 'vICMS' : `v${group}`);
  };
  return centavosAt(prod, 'vProd') - centavosAt(prod, 'vDesc') - tax('ICMS') - tax('PIS') - tax('COFINS');
}

/** Element builder: `el(doc, 'gCBS', [el(doc, 'pCBS', '0.9000'), …])`. */
function el(doc: Document, name: string, content: string | Element[]): Element {
  const element = doc.createElementNS(NFE_NS, name);
  if (typeof content === 'string') element.appendChild(doc.createTextNode(content));
  else for (const childElement of content) element.appendChild(childElement);
  return element;
}

/**
 * Adds IBSCBS to every det of `infNFe` (last child of its imposto) and, unless told not to,
 * IBSCBSTot (+ vNFTot) to its total. Returns each item's base and values, and their sums.
 */
export function addIbsCbs(infNFe: Element, options: IbsCbsOptions = {}) {
  const doc = infNFe.ownerDocument!;
  const rates = options.rates ?? RATES_2026;
  const dets = [...infNFe.getElementsByTagNameNS(NFE_NS, 'det')];
  const items = dets.map((det, index) => {
    const base = options.base ? options.base(det, index) : defaultBase(det);
    const values = ibsCbsValues(base, rates);
    first(det, 'imposto')!.appendChild(
      el(doc, 'IBSCBS', [
        el(doc, 'CST', options.CST ?? '000'),
        el(doc, 'cClassTrib', options.cClassTrib ?? '000001'),
        el(doc, 'gIBSCBS', [
          el(doc, 'vBC', reais(base)),
          el(doc, 'gIBSUF', [el(doc, 'pIBSUF', rates.ibsUf), el(doc, 'vIBSUF', reais(values.vIBSUF))]),
          el(doc, 'gIBSMun', [el(doc, 'pIBSMun', rates.ibsMun), el(doc, 'vIBSMun', reais(values.vIBSMun))]),
          el(doc, 'vIBS', reais(values.vIBS)),
          el(doc, 'gCBS', [el(doc, 'pCBS', rates.cbs), el(doc, 'vCBS', reais(values.vCBS))]),
        ]),
      ]),
    );
    return { base, ...values };
  });
  const sum = (of: (item: (typeof items)[number]) => bigint) => items.reduce((total, item) => total + of(item), 0n);
  const totals = {
    vBCIBSCBS: sum((i) => i.base),
    vIBSUF: sum((i) => i.vIBSUF),
    vIBSMun: sum((i) => i.vIBSMun),
    vIBS: sum((i) => i.vIBS),
    vCBS: sum((i) => i.vCBS),
  };

  if (options.totals ?? true) {
    const total = first(infNFe, 'total')!;
    const zero = '0.00';
    const tot = el(doc, 'IBSCBSTot', [
      el(doc, 'vBCIBSCBS', reais(totals.vBCIBSCBS)),
      el(doc, 'gIBS', [
        el(doc, 'gIBSUF', [el(doc, 'vDif', zero), el(doc, 'vDevTrib', zero), el(doc, 'vIBSUF', reais(totals.vIBSUF))]),
        el(doc, 'gIBSMun', [el(doc, 'vDif', zero), el(doc, 'vDevTrib', zero), el(doc, 'vIBSMun', reais(totals.vIBSMun))]),
        el(doc, 'vIBS', reais(totals.vIBS)),
        el(doc, 'vCredPres', zero),
        el(doc, 'vCredPresCondSus', zero),
      ]),
      el(doc, 'gCBS', [
        el(doc, 'vDif', zero),
        el(doc, 'vDevTrib', zero),
        el(doc, 'vCBS', reais(totals.vCBS)),
        el(doc, 'vCredPres', zero),
        el(doc, 'vCredPresCondSus', zero),
      ]),
    ]);
    const vNFTot = first(total, 'vNFTot');
    total.insertBefore(tot, vNFTot ?? null);
    if ((options.vNFTot ?? true) && !vNFTot) {
      total.appendChild(el(doc, 'vNFTot', first(first(total, 'ICMSTot')!, 'vNF')!.textContent ?? '0.00'));
    }
  }
  return { items, totals };
}
