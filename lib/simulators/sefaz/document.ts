import type { Element } from '@xmldom/xmldom';
import * as z from 'zod';
import { NFE_NS, child, childElements, text } from './xml.ts';

const digits = (length: number) => z.string().regex(new RegExp(`^[0-9]{${length}}$`));

/** A decimal as an integer count of 10^-scale units, so sums and products are exact. */
export function scaled(value: string, scale: number): bigint {
  const [whole = '0', fraction = ''] = value.split('.');
  return BigInt(whole + fraction.padEnd(scale, '0'));
}

const decimal = (integerDigits: number, maxDecimals: number, scale: number) =>
  z
    .string()
    .regex(new RegExp(`^(0|[1-9][0-9]{0,${integerDigits - 1}})(\\.[0-9]{1,${maxDecimals}})?$`))
    .transform((value) => scaled(value, scale));

/** Money (TDec_1302) in centavos. */
const money = decimal(13, 2, 2);
const optionalMoney = money.optional().transform((value) => value ?? 0n);

/** A rate (TDec_0302_04RTC, percent) in 10^-4 units. */
const rate = decimal(3, 4, 4);

/** One tax of gIBSCBS (gIBSUF, gIBSMun, gCBS): its rate, the effective rate when reduced, what is deducted, its value. */
const taxSchema = z.object({
  rate,
  /** gRed/pAliqEfet, which replaces the rate in the recomputation. */
  effectiveRate: rate.optional(),
  /** gDif/vDif + gDevTrib/vDevTrib, subtracted from base × rate. */
  vDif: optionalMoney,
  vDevTrib: optionalMoney,
  value: money,
});

const ibsCbsSchema = z.object({
  CST: digits(3),
  /** Absent for the CSTs that take no gIBSCBS (immune, exempt…) or another group (monofásico…). */
  gIBSCBS: z
    .object({
      vBC: money,
      ibsUf: taxSchema,
      ibsMun: taxSchema,
      vIBS: money,
      cbs: taxSchema,
    })
    .optional(),
});

const itemSchema = z.object({
  /** det/@nItem, which rejections name. */
  nItem: z.string().regex(/^[1-9][0-9]{0,2}$/),
  /** qCom in 10^-4 units (TDec_1104v). */
  qCom: decimal(11, 4, 4),
  /** vUnCom in 10^-10 units (TDec_1110v). */
  vUnCom: decimal(11, 10, 10),
  vProd: money,
  vDesc: optionalMoney,
  vFrete: optionalMoney,
  vSeg: optionalMoney,
  vOutro: optionalMoney,
  indTot: z.enum(['0', '1']),
  CEST: digits(7).optional(),
  /** The ICMS group's name (ICMS00, ICMS60, ICMSPart, ICMSSN500…) and its CST or CSOSN. */
  icmsGroup: z.string().optional(),
  icmsCode: z.string().optional(),
  vBC: optionalMoney,
  vICMS: optionalMoney,
  vBCST: optionalMoney,
  /** Kept apart from 0: CST 90 / CSOSN 900 need a CEST only when they carry vICMSST. */
  hasVICMSST: z.boolean(),
  vICMSST: optionalMoney,
  ibsCbs: ibsCbsSchema.optional(),
});

/** total/IBSCBSTot: the base and the IBS/CBS values (gIBS and gCBS are optional: 0 when absent). */
const ibsCbsTotSchema = z.object({
  vBCIBSCBS: money,
  vIBSUF: optionalMoney,
  vIBSMun: optionalMoney,
  vIBS: optionalMoney,
  vCBS: optionalMoney,
});

const totalFields = [
  'vBC', 'vICMS', 'vICMSDeson', 'vBCST', 'vST', 'vFCPST', 'vProd', 'vFrete',
  'vSeg', 'vDesc', 'vII', 'vIPI', 'vIPIDevol', 'vOutro', 'vNF',
] as const; // prettier-ignore

/** TDateTimeUTC as far as the checks need it: seconds and an offset, so instants compare exactly. */
const dateTime = z.string().regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[-+][0-9]{2}:[0-9]{2}$/);

/** TString (no blank at either end, Latin-1 only), 15–256 characters: ide/xJust. */
const justification = z
  .string()
  .min(15)
  .max(256)
  .regex(/^[\u0021-\u00ff]([\u0020-\u00ff]*[\u0021-\u00ff])?$/);

/** TChNFe: letters only where an alphanumeric CNPJ sits (positions 7–18, NT 2026.004). */
const accessKey = z.string().regex(/^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/);

const documentSchema = z.object({
  chNFe: accessKey,
  ide: z.object({
    cUF: digits(2),
    cNF: digits(8),
    mod: digits(2),
    serie: z.string().regex(/^(0|[1-9][0-9]{0,2})$/),
    nNF: z.string().regex(/^[1-9][0-9]{0,8}$/),
    dhEmi: dateTime,
    /** The schema's values: 1 normal, 2–7 and 9 the contingencies (emission.ts decides which are served). */
    tpEmis: z.enum(['1', '2', '3', '4', '5', '6', '7', '9']),
    cDV: digits(1),
    tpAmb: z.enum(['1', '2']),
    /** Contingency only (MOC B28): when it began and why; the schema takes both or neither. */
    dhCont: dateTime.optional(),
    xJust: justification.optional(),
  }),
  /** TCnpj: numeric or alphanumeric (NT 2026.004). */
  cnpj: z.string().regex(/^[0-9A-Z]{12}[0-9]{2}$/),
  crt: z.enum(['1', '2', '3', '4']),
  items: z.array(itemSchema).min(1).max(990),
  total: z.object(
    Object.fromEntries(totalFields.map((field) => [field, money])) as Record<(typeof totalFields)[number], typeof money>,
  ),
  ibsCbsTot: ibsCbsTotSchema.optional(),
  payments: z
    .array(z.object({ tPag: digits(2), vPag: money, card: z.boolean() }))
    .min(1)
    .max(100),
  vTroco: money.optional(),
  qrCode: z.string().optional(),
});

/** What the checks read from one NFe, every field validated and money in centavos. */
export type NFeDocument = z.infer<typeof documentSchema> & { nfe: Element; infNFe: Element };

/** Reads the fields the checks need; undefined when any is missing or malformed (a schema failure). */
export function readDocument(nfe: Element): NFeDocument | undefined {
  const infNFe = child(nfe, 'infNFe');
  if (!infNFe) return undefined;
  const ide = (name: string) => text(infNFe, 'ide', name);
  const pag = child(infNFe, 'pag');
  const raw = {
    chNFe: /^NFe([0-9A-Z]{44})$/.exec(infNFe.getAttribute('Id') ?? '')?.[1],
    ide: Object.fromEntries(
      ['cUF', 'cNF', 'mod', 'serie', 'nNF', 'dhEmi', 'tpEmis', 'cDV', 'tpAmb', 'dhCont', 'xJust'].map((f) => [f, ide(f)]),
    ),
    cnpj: text(infNFe, 'emit', 'CNPJ'),
    crt: text(infNFe, 'emit', 'CRT'),
    items: childElements(infNFe, NFE_NS, 'det').map(readItem),
    total: Object.fromEntries(totalFields.map((field) => [field, text(infNFe, 'total', 'ICMSTot', field)])),
    ibsCbsTot: readIbsCbsTot(child(child(infNFe, 'total'), 'IBSCBSTot')),
    payments: pag
      ? childElements(pag, NFE_NS, 'detPag').map((detPag) => ({
          tPag: text(detPag, 'tPag'),
          vPag: text(detPag, 'vPag'),
          card: child(detPag, 'card') !== undefined,
        }))
      : [],
    vTroco: text(pag, 'vTroco'),
    qrCode: text(nfe, 'infNFeSupl', 'qrCode'),
  };
  const parsed = documentSchema.safeParse(raw);
  return parsed.success ? { ...parsed.data, nfe, infNFe } : undefined;
}

function readItem(det: Element) {
  const prod = child(det, 'prod');
  const imposto = child(det, 'imposto');
  const icms = child(imposto, 'ICMS');
  // ICMS holds exactly one group (ICMS00, ICMS20, ICMSSN102, …) whose vBC/vICMS feed the totals.
  const groups = icms ? childElements(icms, NFE_NS) : [];
  if (icms && groups.length !== 1) return undefined;
  const group = groups[0];
  return {
    nItem: det.getAttribute('nItem'),
    ...Object.fromEntries(
      ['qCom', 'vUnCom', 'vProd', 'vDesc', 'vFrete', 'vSeg', 'vOutro', 'indTot', 'CEST'].map((f) => [f, text(prod, f)]),
    ),
    icmsGroup: group?.localName,
    icmsCode: text(group, 'CST') ?? text(group, 'CSOSN'),
    ...Object.fromEntries(['vBC', 'vICMS', 'vBCST', 'vICMSST'].map((f) => [f, text(group, f)])),
    hasVICMSST: text(group, 'vICMSST') !== undefined,
    ibsCbs: readIbsCbs(child(imposto, 'IBSCBS')),
  };
}

function readIbsCbs(ibsCbs: Element | undefined) {
  if (!ibsCbs) return undefined;
  const g = child(ibsCbs, 'gIBSCBS');
  const tax = (name: string, rate: string, value: string) => {
    const group = child(g, name);
    if (!group) return undefined;
    return {
      rate: text(group, rate),
      effectiveRate: text(group, 'gRed', 'pAliqEfet'),
      vDif: text(group, 'gDif', 'vDif'),
      vDevTrib: text(group, 'gDevTrib', 'vDevTrib'),
      value: text(group, value),
    };
  };
  return {
    CST: text(ibsCbs, 'CST'),
    gIBSCBS: g && {
      vBC: text(g, 'vBC'),
      ibsUf: tax('gIBSUF', 'pIBSUF', 'vIBSUF'),
      ibsMun: tax('gIBSMun', 'pIBSMun', 'vIBSMun'),
      vIBS: text(g, 'vIBS'),
      cbs: tax('gCBS', 'pCBS', 'vCBS'),
    },
  };
}

function readIbsCbsTot(tot: Element | undefined) {
  if (!tot) return undefined;
  return {
    vBCIBSCBS: text(tot, 'vBCIBSCBS'),
    vIBSUF: text(tot, 'gIBS', 'gIBSUF', 'vIBSUF'),
    vIBSMun: text(tot, 'gIBS', 'gIBSMun', 'vIBSMun'),
    vIBS: text(tot, 'gIBS', 'vIBS'),
    vCBS: text(tot, 'gCBS', 'vCBS'),
  };
}
