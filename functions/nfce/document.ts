import type { TaxDocument } from '../shared/documents.ts';
import { formatReais } from '../shared/money.ts';
import type { IntegratedPayment, PaymentAmounts, PaymentRequest } from '../payments/request.ts';
import { UF_CODES, type Catalog, type Emitter, type IcmsRule, type PisCofinsRule, type TaxProfile } from './fiscal.ts';
import {
  ibsCbsApplies,
  ibsCbsBase,
  ibsCbsLine,
  ibsCbsSettings,
  ibsCbsTotals,
  ratesFor,
  type IbsCbsLine,
  type IbsCbsTotals,
} from './ibs-cbs.ts';
import { accessKey } from './key.ts';
import { schemaText } from './text.ts';

/**
 * The NFC-e's content, computed from the payment, the order's items and the store's fiscal
 * configuration. Money is integer centavos; quantities are integer ten-thousandths (4 decimals).
 */

export const HOMOLOGATION_FIRST_ITEM = 'NOTA FISCAL EMITIDA EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL';

export interface OrderItem {
  sku: string;
  name: string;
  /** Ten-thousandths of a unit: 2 units = 20000, 0.350 kg = 3500. */
  quantity: number;
  /** Centavos per unit. */
  unitPrice: number;
  unit: string;
}

export interface Numbering {
  nNF: number;
  cNF: string;
  /** `2026-11-22T12:30:00-03:00`: fixed when the number is taken, so a retry rebuilds the same key. */
  dhEmi: string;
}

/**
 * Offline contingency (tpEmis 9): the NFC-e is issued and printed without SEFAZ and transmitted
 * later. `dhCont` is when the emitter entered contingency (TDateTimeUTC: `2026-11-22T12:29:00-03:00`,
 * no fractions, not after dhEmi); `xJust` why (15–256 characters once mapped to schema text).
 */
export interface Contingency {
  dhCont: string;
  xJust: string;
}

export interface NfceInput {
  emitter: Emitter;
  catalog: Catalog;
  numbering: Numbering;
  /** Present for an offline-contingency NFC-e (tpEmis 9, its own key); absent for normal emission (tpEmis 1). */
  contingency?: Contingency;
  order: { orderKeyType: PaymentRequest['orderKeyType']; orderKey: string; items: OrderItem[]; notes?: string };
  payment: { request: PaymentRequest; amounts: PaymentAmounts; customer: TaxDocument | null; integrated?: IntegratedPayment };
  verProc: string;
}

export type IcmsLine =
  | { group: 'ICMS00'; cst: '00'; vBC: number; pICMS: number; vICMS: number }
  | { group: 'ICMS20'; cst: '20'; pRedBC: number; vBC: number; pICMS: number; vICMS: number }
  | { group: 'ICMS40'; cst: '40' | '41' }
  | { group: 'ICMS60'; cst: '60' }
  | { group: 'ICMSSN102'; csosn: '102' }
  | { group: 'ICMSSN500'; csosn: '500' };

export type PisCofinsLine =
  | { kind: 'Aliq'; cst: string; vBC: number; rate: number; value: number }
  | { kind: 'NT'; cst: string }
  | { kind: 'Outr'; cst: string; vBC: number; rate: number; value: number };

export interface Det {
  nItem: number;
  cProd: string;
  xProd: string;
  ncm: string;
  /** 7 digits, for ICMS-ST items (and any item whose catalog entry has one). */
  cest?: string;
  cBenef?: string;
  cfop: string;
  unit: string;
  quantity: number;
  unitPrice: number;
  vProd: number;
  vDesc: number;
  origin: number;
  icms: IcmsLine;
  pis: PisCofinsLine;
  cofins: PisCofinsLine;
  /** `imposto/IBSCBS` (NT 2025.002-RTC): present when the emitter's CRT and dhEmi call for it (ibs-cbs.ts). */
  ibsCbs?: IbsCbsLine;
  /** `det/vItem` (centavos): the item's share of `vNFTot`, present with it. */
  vItem?: number;
  vTotTrib: number;
  /** Unknown sku: the catalog's default profile was used. */
  defaulted: boolean;
}

export interface DetPag {
  tPag: string;
  /** Always with tPag 99 (NT 2020.006 / 2023.004: "Outros" must be described). */
  xPag?: string;
  /** Centavos: for cash, what the customer handed over (the change is in vTroco). */
  vPag: number;
  /**
   * Card group: cards, vouchers and PIX (tPag 17, NT 2025.001; SEFAZ rejection 391 without it).
   * POS payments are not integrated with the store's system (tpIntegra 2), so no acquirer CNPJ or
   * cAut; a sale paid at the acquirer's terminal whose transactions the backend received (Cielo
   * LIO) is (tpIntegra 1, with the acquirer's CNPJ and cAut). tBand only when the brand is known.
   */
  card?: { tpIntegra: 1 | 2; CNPJ?: string; tBand?: string; cAut?: string };
}

export interface NfceDocument {
  chave: string;
  cUF: string;
  tpAmb: 1 | 2;
  numbering: Numbering;
  emitter: Emitter;
  dest: TaxDocument | null;
  det: Det[];
  totals: {
    vBC: number;
    vICMS: number;
    vProd: number;
    vDesc: number;
    vPIS: number;
    vCOFINS: number;
    vNF: number;
    vTotTrib: number;
    /** `IBSCBSTot`, the sums of the items' IBS/CBS: present exactly when the items carry `IBSCBS` (SEFAZ 1118 / 1119). */
    ibsCbs?: IbsCbsTotals;
    /** `vNFTot` (centavos), with `ibsCbs` unless configured `omit`: vNF while IBS/CBS are "por fora" (2026). */
    vNFTot?: number;
  };
  pag: DetPag[];
  vTroco: number;
  infCpl: string;
  verProc: string;
  /** Offline contingency (tpEmis 9): `ide/dhCont` and `ide/xJust` as written (xJust mapped to schema text). */
  contingency?: Contingency;
}

/** The order's items do not add up to the payment's `orderAmount`. */
export class OrderAmountMismatch extends Error {
  constructor(
    readonly itemsTotal: number,
    readonly orderAmount: number,
  ) {
    super(
      `the order's items total R$ ${formatReais(itemsTotal)} but the payment's orderAmount is R$ ${formatReais(orderAmount)}`,
    );
    this.name = 'OrderAmountMismatch';
  }
}

export function itemTotal(item: Pick<OrderItem, 'quantity' | 'unitPrice'>): number {
  return Math.round((item.quantity * item.unitPrice) / 10_000);
}

/**
 * The NFC-e's content. Throws {@link OrderAmountMismatch} when the items do not make the payment's
 * orderAmount, `IbsCbsRateMissing` (ibs-cbs.ts) when the NFC-e needs an IBS/CBS rate of dhEmi's
 * year that no configuration gives, and a plain Error for what would be a bug (text the NFC-e
 * cannot carry, payments that do not settle vNF, a contingency's dhCont or xJust the schema refuses).
 */
export function buildDocument(input: NfceInput): NfceDocument {
  const { emitter, catalog, numbering, order, payment } = input;
  const itemsTotal = order.items.reduce((sum, item) => sum + itemTotal(item), 0);
  if (itemsTotal !== payment.amounts.orderAmount) throw new OrderAmountMismatch(itemsTotal, payment.amounts.orderAmount);

  const lines: {
    code: string;
    name: string;
    unit: string;
    quantity: number;
    unitPrice: number;
    vProd: number;
    profile: TaxProfile;
    defaulted: boolean;
  }[] = order.items.map((item) => {
    // Own properties only: an sku such as `__proto__` or `constructor` is not in the catalog.
    const profile = Object.hasOwn(catalog.items, item.sku) ? catalog.items[item.sku] : undefined;
    return {
      code: item.sku,
      name: item.name,
      unit: item.unit,
      quantity: item.quantity,
      unitPrice: item.unitPrice,
      vProd: itemTotal(item),
      profile: profile ?? catalog.default,
      defaulted: !profile,
    };
  });
  if (payment.amounts.fees > 0) {
    const fee = catalog.serviceFee;
    lines.push({
      code: fee.code,
      name: fee.description,
      unit: 'UN',
      quantity: 10_000,
      unitPrice: payment.amounts.fees,
      vProd: payment.amounts.fees,
      profile: fee,
      defaulted: false,
    });
  }
  const discounts = spread(
    payment.amounts.discounts,
    lines.map((l) => l.vProd),
  );

  // IBS/CBS (NT 2025.002-RTC): by the emitter's CRT and dhEmi; the rates of dhEmi's year.
  const ibsCbs = ibsCbsSettings(catalog.ibsCbs);
  const withIbsCbs = ibsCbsApplies(ibsCbs, emitter.crt, numbering.dhEmi);
  const rates = withIbsCbs ? ratesFor(ibsCbs, numbering.dhEmi) : undefined;

  const tax = { federal: 0, state: 0, municipal: 0 };
  const det: Det[] = lines.map((line, i) => {
    const vDesc = discounts[i]!;
    const base = line.vProd - vDesc;
    const { approximateTax } = line.profile;
    const federal = percentOf(base, approximateTax.federal);
    const state = percentOf(base, approximateTax.state);
    const municipal = percentOf(base, approximateTax.municipal);
    tax.federal += federal;
    tax.state += state;
    tax.municipal += municipal;
    const homologationFirst = emitter.tpAmb === 2 && i === 0;
    const icms = icmsLine(line.profile.icms, base);
    const pis = pisCofinsLine(line.profile.pis, base);
    const cofins = pisCofinsLine(line.profile.cofins, base);
    const ibsCbsItem = rates
      ? ibsCbsLine(
          line.profile.ibsCbs ?? ibsCbs.default,
          rates,
          ibsCbsBase(
            {
              vProd: line.vProd,
              vDesc,
              vICMS: 'vICMS' in icms ? icms.vICMS : 0,
              vPIS: 'value' in pis ? pis.value : 0,
              vCOFINS: 'value' in cofins ? cofins.value : 0,
            },
            ibsCbs.baseDeducts,
          ),
        )
      : undefined;
    return {
      nItem: i + 1,
      cProd: requiredText(line.code, 60, `item ${i + 1}'s code`),
      xProd: homologationFirst ? HOMOLOGATION_FIRST_ITEM : requiredText(line.name, 120, `item ${i + 1}'s name`),
      ncm: line.profile.ncm,
      ...(line.profile.cest ? { cest: line.profile.cest } : {}),
      ...(line.profile.cBenef ? { cBenef: line.profile.cBenef } : {}),
      cfop: line.profile.cfop,
      unit: requiredText(line.unit, 6, `item ${i + 1}'s unit`),
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      vProd: line.vProd,
      vDesc,
      origin: line.profile.origin,
      icms,
      pis,
      cofins,
      ...(ibsCbsItem ? { ibsCbs: ibsCbsItem } : {}),
      vTotTrib: federal + state + municipal,
      defaulted: line.defaulted,
    };
  });

  const sum = (pick: (d: Det) => number) => det.reduce((total, d) => total + pick(d), 0);
  const vProd = sum((d) => d.vProd);
  const vDesc = sum((d) => d.vDesc);
  const vNF = vProd - vDesc;
  const ibsCbsTot = withIbsCbs ? ibsCbsTotals(det.map((d) => d.ibsCbs!)) : undefined;
  const totals: NfceDocument['totals'] = {
    vBC: sum((d) => ('vBC' in d.icms ? d.icms.vBC : 0)),
    vICMS: sum((d) => ('vICMS' in d.icms ? d.icms.vICMS : 0)),
    vProd,
    vDesc,
    vPIS: sum((d) => ('value' in d.pis ? d.pis.value : 0)),
    vCOFINS: sum((d) => ('value' in d.cofins ? d.cofins.value : 0)),
    // In 2026 IBS/CBS are "por fora": they enter neither vProd nor vNF (NT 2025.002-RTC).
    vNF,
    vTotTrib: sum((d) => d.vTotTrib),
    ...(ibsCbsTot ? { ibsCbs: ibsCbsTot } : {}),
    ...(ibsCbsTot && ibsCbs.vNFTot !== 'omit'
      ? { vNFTot: ibsCbs.vNFTot === 'vNF' ? vNF : vNF + ibsCbsTot.vIBS + ibsCbsTot.vCBS }
      : {}),
  };

  if (totals.vNFTot !== undefined) {
    // det/vItem: the item's share of vNFTot, so Σ vItem = vNFTot (NT 2025.002-RTC VB01-05 / W60-10,
    // announced as a future rejection 1137 when IBSCBS goes without it).
    const withTaxes = ibsCbs.vNFTot === 'vNF+IBS+CBS';
    for (const d of det) {
      const taxes = withTaxes && d.ibsCbs?.taxed ? d.ibsCbs.vIBS + d.ibsCbs.cbs.value : 0;
      d.vItem = d.vProd - d.vDesc + taxes;
    }
  }

  const { pag, vTroco } = payments(payment.request.paymentObject.methods, payment.amounts, vNF, payment.integrated);
  const cUF = UF_CODES[emitter.address.uf];
  const contingency = input.contingency ? contingencyOf(input.contingency, numbering.dhEmi) : undefined;
  // The key carries tpEmis: a contingency NFC-e never shares its key with an online attempt.
  const chave = documentKey(emitter, numbering, contingency ? 9 : 1);

  return {
    chave,
    cUF,
    tpAmb: emitter.tpAmb,
    numbering,
    emitter,
    dest: payment.request.paymentObject.documentInReceipt ? payment.customer : null,
    det,
    totals,
    pag,
    vTroco,
    infCpl: additionalInfo(order, payment.request, tax),
    verProc: input.verProc,
    ...(contingency ? { contingency } : {}),
  };
}

/**
 * The access key of the emitter's NFC-e under `numbering` (key.ts' layout: cUF, AAMM of dhEmi, CNPJ,
 * 65, série, nNF, tpEmis — 1 normal, 9 offline contingency — cNF, cDV).
 */
export function documentKey(emitter: Pick<Emitter, 'address' | 'cnpj' | 'serie'>, numbering: Numbering, tpEmis: 1 | 9): string {
  return accessKey({
    cUF: UF_CODES[emitter.address.uf],
    yearMonth: numbering.dhEmi.slice(2, 4) + numbering.dhEmi.slice(5, 7),
    cnpj: emitter.cnpj,
    model: '65',
    serie: emitter.serie,
    nNF: numbering.nNF,
    tpEmis,
    cNF: numbering.cNF,
  });
}

/** PL_010e's TDateTimeUTC (tiposBasico_v4.00.xsd; its stray commas left out): a real calendar date, no fractions, a whole-hour offset. */
const DATE_TIME_UTC =
  /^(((20(([02468][048])|([13579][26]))-02-29))|(20[0-9][0-9])-((((0[1-9])|(1[0-2]))-((0[1-9])|(1\d)|(2[0-8])))|((((0[13578])|(1[02]))-31)|(((0[13-9])|(1[0-2]))-(29|30)))))T(20|21|22|23|[0-1]\d):[0-5]\d:[0-5]\d([-+](0[0-9]|10|11):00|([+](12):00))$/;

/**
 * `ide/dhCont` and `ide/xJust` as the schema takes them: dhCont a TDateTimeUTC not after dhEmi (the
 * contingency began before the document was issued), xJust mapped to schema text and 15–256
 * characters long. Throws a plain Error otherwise: the caller builds both, so a bad one is a bug.
 */
function contingencyOf(contingency: Contingency, dhEmi: string): Contingency {
  const { dhCont } = contingency;
  if (!DATE_TIME_UTC.test(dhCont)) {
    throw new Error(`contingency dhCont ${JSON.stringify(dhCont)} is not a date-time such as 2026-11-22T12:29:00-03:00`);
  }
  if (Date.parse(dhCont) > Date.parse(dhEmi)) {
    throw new Error(`contingency dhCont ${dhCont} is after the NFC-e's dhEmi ${dhEmi}`);
  }
  const xJust = schemaText(contingency.xJust, Number.MAX_SAFE_INTEGER);
  if (xJust.length < 15 || xJust.length > 256) {
    throw new Error(
      `contingency xJust must be 15 to 256 characters of NFC-e text, got ${xJust.length}: ${JSON.stringify(contingency.xJust)}`,
    );
  }
  return { dhCont, xJust };
}

/**
 * A required TString (cProd, xProd, uCom): the order's validation refuses text of which nothing
 * is left once mapped (`identifier`, `nfceText` in shared/text.ts), and the catalog's service
 * fee is checked the same way, so an empty result here is a bug, not the POS's input.
 */
function requiredText(text: string, maxLength: number, what: string): string {
  const mapped = schemaText(text, maxLength);
  if (mapped === '') throw new Error(`${what} ${JSON.stringify(text)} has no character an NFC-e can carry`);
  return mapped;
}

/** `value` × `percent` %, rounded half up, exactly (integer arithmetic on 4-decimal rates). */
export function percentOf(centavos: number, percent: number): number {
  return Math.round((centavos * Math.round(percent * 10_000)) / 1_000_000);
}

/** Splits `amount` over `weights` in proportion, the rounding remainder to the largest fractions. */
export function spread(amount: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (amount === 0 || total === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (amount * w) / total);
  const shares = exact.map(Math.floor);
  let left = amount - shares.reduce((a, b) => a + b, 0);
  const byFraction = exact
    .map((x, i) => ({ i, fraction: x - Math.floor(x) }))
    .sort((a, b) => b.fraction - a.fraction || a.i - b.i);
  for (const { i } of byFraction) {
    if (left === 0) break;
    shares[i]! += 1;
    left--;
  }
  return shares;
}

function icmsLine(rule: IcmsRule, base: number): IcmsLine {
  switch (rule.cst) {
    case '00':
      return { group: 'ICMS00', cst: '00', vBC: base, pICMS: rule.pICMS, vICMS: percentOf(base, rule.pICMS) };
    case '20': {
      const vBC = base - percentOf(base, rule.pRedBC);
      return { group: 'ICMS20', cst: '20', pRedBC: rule.pRedBC, vBC, pICMS: rule.pICMS, vICMS: percentOf(vBC, rule.pICMS) };
    }
    case '40':
    case '41':
      return { group: 'ICMS40', cst: rule.cst };
    case '60':
      return { group: 'ICMS60', cst: '60' };
    case '102':
      return { group: 'ICMSSN102', csosn: '102' };
    case '500':
      return { group: 'ICMSSN500', csosn: '500' };
  }
}

function pisCofinsLine(rule: PisCofinsRule, base: number): PisCofinsLine {
  if (rule.cst === '01' || rule.cst === '02')
    return { kind: 'Aliq', cst: rule.cst, vBC: base, rate: rule.rate, value: percentOf(base, rule.rate) };
  if (rule.cst === '49' || rule.cst === '99')
    return { kind: 'Outr', cst: rule.cst, vBC: base, rate: rule.rate, value: percentOf(base, rule.rate) };
  return { kind: 'NT', cst: rule.cst };
}

type Method = PaymentRequest['paymentObject']['methods'][number];

/**
 * Order Mesa method → tPag (MOC 4.00 field YA02, tPag table of NT 2020.006 / NT 2023.004) and its
 * detPag's `card` group:
 * - `brand`: cards (03, 04) and meal / food vouchers (10, 11): `card` with `tBand` when the brand is
 *   known. NFC-e cards without `card` are rejected (391).
 * - `pix`: PIX (17): `card` too — NT 2025.001 extends rejection 391 to tPag 17 — with no tBand (a
 *   PIX has no card brand).
 * - tPag 99 always carries `xPag` (NT 2023.004: "99 - Outros" must be described).
 */
const T_PAG: Record<Method['method'], { tPag: string; xPag?: string; card?: 'brand' | 'pix' }> = {
  CASH: { tPag: '01' },
  CREDIT: { tPag: '03', card: 'brand' },
  DEBIT: { tPag: '04', card: 'brand' },
  CREDIT_DEBIT: { tPag: '03', card: 'brand' },
  FOOD_VOUCHER: { tPag: '10', card: 'brand' },
  MEAL_VOUCHER: { tPag: '11', card: 'brand' },
  PIX: { tPag: '17', card: 'pix' },
  DIGITAL_WALLET: { tPag: '18' },
  REDEEM: { tPag: '19' },
  PREPAID_REDEEM: { tPag: '05' },
  COUPON: { tPag: '99', xPag: 'Cupom' },
  OTHER: { tPag: '99', xPag: 'Outros' },
};

/**
 * Order Mesa `brand` → tBand (MOC 4.00 field YA06; table 01 Visa … 27 Ticket, 99 Outros). A brand
 * the table has no code for (Agicard, Credsystem, Avista) and `OTHER` are 99 "Outros", which is
 * what they are.
 */
const T_BAND: Record<NonNullable<Method['brand']>, string> = {
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

/**
 * Brand names the free-text `methodInfo` may hold (the seed sends `"VISA"`), normalized by
 * {@link brandName}: only a text that is exactly one of these names (give or take words such as
 * "Cartão", "Crédito", "Débito") gives a tBand; anything else ("Visa/Master", "Ticket Restaurante",
 * "Outros") gives none, never a guess.
 */
const BRAND_NAMES: Record<string, string> = {
  VISA: '01',
  'VISA ELECTRON': '01',
  MASTERCARD: '02',
  MASTER: '02',
  MAESTRO: '02',
  AMEX: '03',
  'AMERICAN EXPRESS': '03',
  SOROCRED: '04',
  SOROCARD: '04',
  DINERS: '05',
  'DINERS CLUB': '05',
  ELO: '06',
  HIPERCARD: '07',
  AURA: '08',
  CABAL: '09',
  ALELO: '10',
  BANESCARD: '11',
  'BANES CARD': '11',
  CALCARD: '12',
  CREDZ: '13',
  DISCOVER: '14',
  GOODCARD: '15',
  'GOOD CARD': '15',
  GREENCARD: '16',
  'GREEN CARD': '16',
  HIPER: '17',
  JCB: '18',
  MAIS: '19',
  MAXVAN: '20',
  POLICARD: '21',
  REDECOMPRAS: '22',
  'REDE COMPRAS': '22',
  SODEXO: '23',
  VALECARD: '24',
  'VALE CARD': '24',
  VEROCHEQUE: '25',
  VR: '26',
  'VR BENEFICIOS': '26',
  TICKET: '27',
  AGICARD: '99',
  CREDSYSTEM: '99',
  AVISTA: '99',
};

/** Words around a brand that do not change it: "Cartão Visa Crédito" is Visa. */
const GENERIC_WORDS = new Set(['CARTAO', 'CREDITO', 'DEBITO', 'CREDIT', 'DEBIT', 'DE', 'BANDEIRA', 'REFEICAO', 'ALIMENTACAO']);

/** `" Cartão  Mastercard - Débito"` → `"MASTERCARD"`: accents off, upper case, generic words out. */
function brandName(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((word) => word !== '' && !GENERIC_WORDS.has(word))
    .join(' ');
}

/** tBand of a card payment: its `brand` when it names one, else a brand `methodInfo` names exactly, else none. */
export function cardBrand(method: Pick<Method, 'brand' | 'methodInfo'>): string | undefined {
  if (method.brand && method.brand !== 'OTHER') return T_BAND[method.brand];
  const named = method.methodInfo ? brandName(method.methodInfo) : '';
  if (named && Object.hasOwn(BRAND_NAMES, named)) return BRAND_NAMES[named];
  return method.brand === 'OTHER' ? T_BAND.OTHER : undefined;
}

/**
 * The detPag list and vTroco. Cash: vPag is what the customer handed over (`changeFor`) and the
 * change goes in vTroco; the request's validation allows change only with cash and makes the
 * methods add up to the total, so Σ vPag − vTroco = vNF for every mix (SEFAZ 865: payments below
 * the total; 866: above it without change). Checked again here: a bug must not reach SEFAZ.
 */
function payments(
  methods: Method[],
  amounts: PaymentAmounts,
  vNF: number,
  integrated?: IntegratedPayment,
): { pag: DetPag[]; vTroco: number } {
  const pag = methods.map((method, i): DetPag => {
    const mapping = T_PAG[method.method];
    const { value, changeFor, change } = amounts.methods[i]!;
    const vPag = method.method === 'CASH' && changeFor !== null ? value + change : value;
    const tBand = mapping.card === 'brand' ? cardBrand(method) : undefined;
    return {
      tPag: mapping.tPag,
      ...(mapping.xPag ? { xPag: mapping.xPag } : {}),
      vPag,
      ...(mapping.card ? { card: cardGroup(tBand, integrated, i) } : {}),
    };
  });
  const vTroco = amounts.methods.reduce((sum, m) => sum + m.change, 0);
  const cash = pag.filter((p) => p.tPag === '01').reduce((sum, p) => sum + p.vPag, 0);
  const paid = pag.reduce((sum, p) => sum + p.vPag, 0);
  if (paid - vTroco !== vNF || vTroco > cash) {
    throw new Error(
      `the payments do not settle the NFC-e: Σ vPag ${formatReais(paid)} − vTroco ${formatReais(vTroco)} ≠ vNF ${formatReais(vNF)} or change beyond the cash handed over (${formatReais(cash)})`,
    );
  }
  return { pag, vTroco };
}

/** detPag/card: integrated (tpIntegra 1: CNPJ of the acquirer, cAut when known) or not (2). */
function cardGroup(
  tBand: string | undefined,
  integrated: IntegratedPayment | undefined,
  index: number,
): NonNullable<DetPag['card']> {
  const band = tBand ? { tBand } : {};
  if (!integrated) return { tpIntegra: 2, ...band };
  const cAut = integrated.cAut[index];
  return { tpIntegra: 1, CNPJ: integrated.acquirerCnpj, ...band, ...(cAut ? { cAut } : {}) };
}

const KEY_LABEL = { TABLE: 'Mesa', CARD: 'Comanda', ORDER_ID: 'Pedido' } as const;

function additionalInfo(
  order: NfceInput['order'],
  request: PaymentRequest,
  tax: { federal: number; state: number; municipal: number },
): string {
  const parts = [`${KEY_LABEL[order.orderKeyType]}: ${order.orderKey}`];
  const persons = request.paymentObject.numberPersons;
  if (persons) parts.push(`Pessoas: ${persons}`);
  const notes = order.notes ? schemaText(order.notes, 5000) : '';
  if (notes) parts.push(notes);
  const brl = (centavos: number) => formatReais(centavos).replace('.', ',');
  parts.push(
    `Valor aproximado dos tributos deste cupom: Federal R$ ${brl(tax.federal)} Estadual R$ ${brl(tax.state)} Municipal R$ ${brl(tax.municipal)} Fonte: IBPT`,
  );
  return schemaText(parts.join(' | '), 5000);
}
