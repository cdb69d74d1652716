import type { TaxDocument } from '../shared/documents.ts';
import { formatReais } from '../shared/money.ts';
import type { PaymentAmounts, PaymentRequest } from '../payments/request.ts';
import { UF_CODES, type Catalog, type Emitter, type IcmsRule, type PisCofinsRule, type TaxProfile } from './fiscal.ts';
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

export interface NfceInput {
  emitter: Emitter;
  catalog: Catalog;
  numbering: Numbering;
  order: { orderKeyType: PaymentRequest['orderKeyType']; orderKey: string; items: OrderItem[]; notes?: string };
  payment: { request: PaymentRequest; amounts: PaymentAmounts; customer: TaxDocument | null };
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
  vTotTrib: number;
  /** Unknown sku: the catalog's default profile was used. */
  defaulted: boolean;
}

export interface DetPag {
  tPag: string;
  xPag?: string;
  vPag: number;
  /** Card group: POS payments are not integrated with the store's system (tpIntegra 2). */
  card?: { tpIntegra: 2; tBand?: string };
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
  };
  pag: DetPag[];
  vTroco: number;
  infCpl: string;
  verProc: string;
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
    return {
      nItem: i + 1,
      cProd: requiredText(line.code, 60, `item ${i + 1}'s code`),
      xProd: homologationFirst ? HOMOLOGATION_FIRST_ITEM : requiredText(line.name, 120, `item ${i + 1}'s name`),
      ncm: line.profile.ncm,
      ...(line.profile.cBenef ? { cBenef: line.profile.cBenef } : {}),
      cfop: line.profile.cfop,
      unit: requiredText(line.unit, 6, `item ${i + 1}'s unit`),
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      vProd: line.vProd,
      vDesc,
      origin: line.profile.origin,
      icms: icmsLine(line.profile.icms, base),
      pis: pisCofinsLine(line.profile.pis, base),
      cofins: pisCofinsLine(line.profile.cofins, base),
      vTotTrib: federal + state + municipal,
      defaulted: line.defaulted,
    };
  });

  const sum = (pick: (d: Det) => number) => det.reduce((total, d) => total + pick(d), 0);
  const vProd = sum((d) => d.vProd);
  const vDesc = sum((d) => d.vDesc);
  const totals = {
    vBC: sum((d) => ('vBC' in d.icms ? d.icms.vBC : 0)),
    vICMS: sum((d) => ('vICMS' in d.icms ? d.icms.vICMS : 0)),
    vProd,
    vDesc,
    vPIS: sum((d) => ('value' in d.pis ? d.pis.value : 0)),
    vCOFINS: sum((d) => ('value' in d.cofins ? d.cofins.value : 0)),
    vNF: vProd - vDesc,
    vTotTrib: sum((d) => d.vTotTrib),
  };

  const { pag, vTroco } = payments(payment.request.paymentObject.methods, payment.amounts);
  const cUF = UF_CODES[emitter.address.uf];
  const yearMonth = numbering.dhEmi.slice(2, 4) + numbering.dhEmi.slice(5, 7);
  const chave = accessKey({
    cUF,
    yearMonth,
    cnpj: emitter.cnpj,
    model: '65',
    serie: emitter.serie,
    nNF: numbering.nNF,
    tpEmis: 1,
    cNF: numbering.cNF,
  });

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
  };
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

/** Order Mesa method → tPag (Manual de Orientação do Contribuinte, NT 2020.006 / 2023.004). */
const T_PAG: Record<PaymentRequest['paymentObject']['methods'][number]['method'], { tPag: string; xPag?: string; card?: true }> =
  {
    CASH: { tPag: '01' },
    CREDIT: { tPag: '03', card: true },
    DEBIT: { tPag: '04', card: true },
    CREDIT_DEBIT: { tPag: '03', card: true },
    FOOD_VOUCHER: { tPag: '10', card: true },
    MEAL_VOUCHER: { tPag: '11', card: true },
    PIX: { tPag: '17' },
    DIGITAL_WALLET: { tPag: '18' },
    REDEEM: { tPag: '19' },
    PREPAID_REDEEM: { tPag: '05' },
    COUPON: { tPag: '99', xPag: 'Cupom' },
    OTHER: { tPag: '99', xPag: 'Outros' },
  };

/** Card brand → tBand. */
const T_BAND: Record<string, string> = {
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

function payments(
  methods: PaymentRequest['paymentObject']['methods'],
  amounts: PaymentAmounts,
): { pag: DetPag[]; vTroco: number } {
  const pag = methods.map((method, i): DetPag => {
    const mapping = T_PAG[method.method];
    const { value, changeFor, change } = amounts.methods[i]!;
    // Cash: vPag is what the customer handed over; the change goes in vTroco.
    const vPag = method.method === 'CASH' && changeFor !== null ? value + change : value;
    // The seed's example sends the brand in methodInfo: read it from there when brand is absent.
    const brand = method.brand ?? method.methodInfo?.trim().toUpperCase();
    const tBand = brand ? T_BAND[brand] : undefined;
    return {
      tPag: mapping.tPag,
      ...(mapping.xPag ? { xPag: mapping.xPag } : {}),
      vPag,
      ...(mapping.card ? { card: { tpIntegra: 2 as const, ...(tBand ? { tBand } : {}) } } : {}),
    };
  });
  return { pag, vTroco: amounts.methods.reduce((sum, m) => sum + m.change, 0) };
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
