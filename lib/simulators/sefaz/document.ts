import type { Element } from '@xmldom/xmldom';
import { z } from 'zod';
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

const itemSchema = z.object({
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
  vBC: optionalMoney,
  vICMS: optionalMoney,
  vBCST: optionalMoney,
  vICMSST: optionalMoney,
});

const totalFields = [
  'vBC', 'vICMS', 'vICMSDeson', 'vBCST', 'vST', 'vFCPST', 'vProd', 'vFrete',
  'vSeg', 'vDesc', 'vII', 'vIPI', 'vIPIDevol', 'vOutro', 'vNF',
] as const; // prettier-ignore

const documentSchema = z.object({
  chNFe: digits(44),
  ide: z.object({
    cUF: digits(2),
    cNF: digits(8),
    mod: digits(2),
    serie: z.string().regex(/^(0|[1-9][0-9]{0,2})$/),
    nNF: z.string().regex(/^[1-9][0-9]{0,8}$/),
    dhEmi: z.string().regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[-+][0-9]{2}:[0-9]{2}$/),
    tpEmis: digits(1),
    cDV: digits(1),
    tpAmb: z.enum(['1', '2']),
  }),
  cnpj: digits(14),
  items: z.array(itemSchema).min(1).max(990),
  total: z.object(
    Object.fromEntries(totalFields.map((field) => [field, money])) as Record<(typeof totalFields)[number], typeof money>,
  ),
  payments: z.array(money).min(1).max(100),
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
    chNFe: /^NFe([0-9]{44})$/.exec(infNFe.getAttribute('Id') ?? '')?.[1],
    ide: Object.fromEntries(['cUF', 'cNF', 'mod', 'serie', 'nNF', 'dhEmi', 'tpEmis', 'cDV', 'tpAmb'].map((f) => [f, ide(f)])),
    cnpj: text(infNFe, 'emit', 'CNPJ'),
    items: childElements(infNFe, NFE_NS, 'det').map(readItem),
    total: Object.fromEntries(totalFields.map((field) => [field, text(infNFe, 'total', 'ICMSTot', field)])),
    payments: pag ? childElements(pag, NFE_NS, 'detPag').map((detPag) => text(detPag, 'vPag')) : [],
    vTroco: text(pag, 'vTroco'),
    qrCode: text(nfe, 'infNFeSupl', 'qrCode'),
  };
  const parsed = documentSchema.safeParse(raw);
  return parsed.success ? { ...parsed.data, nfe, infNFe } : undefined;
}

function readItem(det: Element) {
  const prod = child(det, 'prod');
  const icms = child(child(det, 'imposto'), 'ICMS');
  // ICMS holds exactly one group (ICMS00, ICMS20, ICMSSN102, …) whose vBC/vICMS feed the totals.
  const groups = icms ? childElements(icms, NFE_NS) : [];
  if (icms && groups.length !== 1) return undefined;
  return {
    ...Object.fromEntries(
      ['qCom', 'vUnCom', 'vProd', 'vDesc', 'vFrete', 'vSeg', 'vOutro', 'indTot'].map((f) => [f, text(prod, f)]),
    ),
    ...Object.fromEntries(['vBC', 'vICMS', 'vBCST', 'vICMSST'].map((f) => [f, text(groups[0], f)])),
  };
}
