import * as z from 'zod';

/**
 * IBS and CBS of the Reforma Tributária (LC 214/2025) in the NFC-e 4.00, as NT 2025.002-RTC lays
 * them out (schema package PL_010e, `DFeTiposBasicos_v1.00.xsd`):
 *
 * - per item, `det/imposto/IBSCBS` (`TTribNFe`): `CST` (3 digits), `cClassTrib` (6 digits, the
 *   first 3 = CST) and, for a taxed item, `gIBSCBS` (`TCIBS_NFe`): `vBC`, `gIBSUF` {`pIBSUF`,
 *   `gRed`?, `vIBSUF`}, `gIBSMun` {`pIBSMun`, `gRed`?, `vIBSMun`}, `vIBS`, `gCBS` {`pCBS`, `gRed`?,
 *   `vCBS`};
 * - in the totals, `total/IBSCBSTot` (`TIBSCBSMonoTot`) and `total/vNFTot`.
 *
 * Money is integer centavos, rates are percentages with up to 4 decimals (`0.1` = 0.10 %), dates
 * are the local date of `dhEmi` (`2026-08-03`, in the document's own `-03:00` offset).
 *
 * What the public material does not settle (`../shared/specs/nfce-2026.md` §2) is configuration,
 * per integration, in the catalog's `ibsCbs` ({@link ibsCbsConfigSchema}); every field is
 * optional, and what a stored catalog leaves out takes the defaults below when the NFC-e is built
 * ({@link ibsCbsSettings}), so a default changed here reaches every integration that did not
 * override it (a default written into the stored configuration would freeze it).
 */

/** A percentage with at most 4 decimals (the schema's `TDec_0302_04RTC`). */
const rate = z
  .number()
  .min(0)
  .max(100)
  .refine((n) => Math.abs(n * 10_000 - Math.round(n * 10_000)) < 1e-6, { message: 'must have at most 4 decimals' });

/** CSTs of IBS/CBS this builder can lay out (NT 2025.002-RTC, table of CST / cClassTrib). */
export const IBS_CBS_CSTS = ['000', '200', '410'] as const;

/**
 * An item's IBS/CBS classification, per catalog item (`items.<sku>.ibsCbs`, `default.ibsCbs`,
 * `serviceFee.ibsCbs`) or for the whole integration (`ibsCbs.default`):
 * - `000` tributação integral (cClassTrib `000001` is the usual one): `gIBSCBS` at the year's rates;
 * - `200` alíquota reduzida: `gIBSCBS` with `gRed` in each tax, `pRedAliq` (the reduction, in
 *   percent, e.g. 60) required; the effective rate `pAliqEfet` = rate × (1 − pRedAliq / 100),
 *   rounded half up to 4 decimals, and the value = base × pAliqEfet (how SEFAZ recomputes a
 *   reduced rate is UNCONFIRMED);
 * - `410` imunidade / não incidência: `CST` and `cClassTrib` only, no `gIBSCBS` (and no base).
 *
 * Which cClassTrib a restaurant's sale takes (LC 214/2025 has a specific regime for bars and
 * restaurants) is UNCONFIRMED: the default is `000` / `000001` (spec §2).
 */
export const ibsCbsClassSchema = z
  .strictObject({
    cst: z.enum(IBS_CBS_CSTS),
    cClassTrib: z.string().regex(/^\d{6}$/, { message: 'must be 6 digits' }),
    pRedAliq: rate.refine((n) => n > 0 && n < 100, { message: 'must be above 0 and below 100' }).optional(),
  })
  .superRefine((c, ctx) => {
    if (!c.cClassTrib.startsWith(c.cst))
      ctx.addIssue({
        code: 'custom',
        path: ['cClassTrib'],
        message: `must start with its CST ${c.cst} (the first 3 digits of cClassTrib are the CST)`,
      });
    if (c.cst === '200' && c.pRedAliq === undefined)
      ctx.addIssue({ code: 'custom', path: ['pRedAliq'], message: 'is required for CST 200 (alíquota reduzida)' });
    if (c.cst !== '200' && c.pRedAliq !== undefined)
      ctx.addIssue({ code: 'custom', path: ['pRedAliq'], message: `applies to CST 200 only (CST is ${c.cst})` });
  });
export type IbsCbsClass = z.infer<typeof ibsCbsClassSchema>;

/** What the item's IBS/CBS base may be reduced by (see {@link ibsCbsConfigSchema} `baseDeducts`). */
export const BASE_DEDUCTIONS = ['discount', 'icms', 'pis', 'cofins'] as const;
export type BaseDeduction = (typeof BASE_DEDUCTIONS)[number];

const CRTS = ['1', '2', '3', '4'] as const;
const isoDate = z.iso.date({ message: 'must be a date YYYY-MM-DD' });

/**
 * The catalog's `ibsCbs` (all optional; defaults in {@link IBS_CBS_DEFAULTS}):
 * ```
 * {
 *   "default":  {"cst": "000", "cClassTrib": "000001"},          // items without their own ibsCbs
 *   "rates":    {"2027": {"cbs": 8.8}},                         // percent, per year of dhEmi, merged per field
 *   "emitFrom": {"1": "2027-01-04", "3": "2026-08-03"},         // per CRT; null = never
 *   "baseDeducts": ["discount", "icms", "pis", "cofins"],       // what vBC leaves out of vProd
 *   "vNFTot": "vNF"                                             // "vNF" | "vNF+IBS+CBS" | "omit"
 * }
 * ```
 * Unknown keys are refused, so a misspelt setting is a configuration error, not a silent default.
 */
export const ibsCbsConfigSchema = z.strictObject({
  default: ibsCbsClassSchema.optional(),
  rates: z
    .record(
      z.string().regex(/^20\d{2}$/, { message: 'must be a year such as 2027' }),
      z.strictObject({ ibsUF: rate.optional(), ibsMun: rate.optional(), cbs: rate.optional() }),
    )
    .optional(),
  emitFrom: z
    .strictObject({
      '1': isoDate.nullable().optional(),
      '2': isoDate.nullable().optional(),
      '3': isoDate.nullable().optional(),
      '4': isoDate.nullable().optional(),
    })
    .optional(),
  baseDeducts: z
    .array(z.enum(BASE_DEDUCTIONS))
    .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a deduction' })
    .optional(),
  vNFTot: z.enum(['vNF', 'vNF+IBS+CBS', 'omit']).optional(),
});
export type IbsCbsConfig = z.infer<typeof ibsCbsConfigSchema>;

export interface IbsCbsRates {
  /** IBS of the state (UF), percent. */
  ibsUF: number;
  /** IBS of the municipality, percent. */
  ibsMun: number;
  /** CBS (federal), percent. */
  cbs: number;
}

/** The settings in force: the catalog's `ibsCbs` over {@link IBS_CBS_DEFAULTS}. */
export interface IbsCbsSettings {
  default: IbsCbsClass;
  rates: Record<string, Partial<IbsCbsRates>>;
  emitFrom: Record<1 | 2 | 3 | 4, string | null>;
  baseDeducts: readonly BaseDeduction[];
  vNFTot: 'vNF' | 'vNF+IBS+CBS' | 'omit';
}

/**
 * The defaults, from `../shared/specs/nfce-2026.md` §2 (secondary sources, no NT PDF read):
 * - `default` CST `000` / cClassTrib `000001` (tributação integral); a restaurant's own class is
 *   UNCONFIRMED.
 * - `rates`: 2026, the test year, IBS UF 0.10 %, IBS municipal 0 %, CBS 0.90 % (SEFAZ rejects other
 *   rates with 1026 / 1036 / 1037); 2027 and 2028 IBS UF 0.05 %, IBS municipal 0.05 % and **no CBS
 *   default** (LC 214/2025 sets it from the reference rate, not yet fixed): an NFC-e that needs a
 *   rate nobody configured is not built ({@link IbsCbsRateMissing}) rather than built with a guess.
 * - `emitFrom` (when the groups go into the NFC-e, by dhEmi's local date; sources conflict, so
 *   these are configuration): CRT 3 (regime normal) from 2026-08-03, when SEFAZ production starts
 *   rejecting an NFC-e without them (1115; homologation since 2026-07-01); CRT 1, 2, 4 (Simples
 *   Nacional, MEI) from 2027-01-04 (reports that SP homologation already demands it of CRT 1/4
 *   are UNCONFIRMED).
 * - `baseDeducts`: the item's vBC = vProd less its discount (vDesc), own ICMS (vICMS), PIS and
 *   COFINS — LC 214/2025 art. 12 § 2 leaves these taxes out of the base during the transition,
 *   but whether SEFAZ computes the 2026 base this way is UNCONFIRMED; `[]` gives vProd, `["discount"]`
 *   vProd − vDesc.
 * - `vNFTot` = vNF: in 2026 IBS/CBS are "por fora" and do not add to what the consumer pays
 *   (NT 2025.002-RTC; NT 2026.008 moves them into vProd from 2027, not built here).
 */
export const IBS_CBS_DEFAULTS: IbsCbsSettings = {
  default: { cst: '000', cClassTrib: '000001' },
  rates: {
    '2026': { ibsUF: 0.1, ibsMun: 0, cbs: 0.9 },
    '2027': { ibsUF: 0.05, ibsMun: 0.05 },
    '2028': { ibsUF: 0.05, ibsMun: 0.05 },
  },
  emitFrom: { 1: '2027-01-04', 2: '2027-01-04', 3: '2026-08-03', 4: '2027-01-04' },
  baseDeducts: BASE_DEDUCTIONS,
  vNFTot: 'vNF',
};

/** The settings in force for a catalog's `ibsCbs` (absent: all defaults). Rates merge per year and per tax. */
export function ibsCbsSettings(config: IbsCbsConfig | undefined): IbsCbsSettings {
  const d = IBS_CBS_DEFAULTS;
  const rates: Record<string, Partial<IbsCbsRates>> = { ...d.rates };
  for (const [year, configured] of Object.entries(config?.rates ?? {})) {
    const defined = Object.fromEntries(Object.entries(configured).filter(([, v]) => v !== undefined));
    rates[year] = { ...rates[year], ...defined };
  }
  const emitFrom = { ...d.emitFrom };
  for (const crt of CRTS) {
    const value = config?.emitFrom?.[crt];
    if (value !== undefined) emitFrom[Number(crt) as 1 | 2 | 3 | 4] = value;
  }
  return {
    default: config?.default ?? d.default,
    rates,
    emitFrom,
    baseDeducts: config?.baseDeducts ?? d.baseDeducts,
    vNFTot: config?.vNFTot ?? d.vNFTot,
  };
}

/** The local date of an ISO date-time with offset: `2026-08-03T00:10:00-03:00` → `2026-08-03`. */
const localDate = (dhEmi: string) => dhEmi.slice(0, 10);

/**
 * Whether an NFC-e of an emitter of regime `crt` issued at `dhEmi` carries the IBS/CBS groups:
 * from the CRT's `emitFrom` date on (inclusive), compared with dhEmi's own local date, so
 * `2026-08-03T00:10:00-03:00` is on the 3rd whatever the host's time zone.
 */
export function ibsCbsApplies(settings: IbsCbsSettings, crt: 1 | 2 | 3 | 4, dhEmi: string): boolean {
  const from = settings.emitFrom[crt];
  return from !== null && localDate(dhEmi) >= from;
}

/** An NFC-e needs an IBS/CBS rate that no configuration gives: a fiscal setup to complete. */
export class IbsCbsRateMissing extends Error {
  override name = 'IbsCbsRateMissing';
  constructor(
    readonly year: string,
    readonly missing: (keyof IbsCbsRates)[],
  ) {
    super(
      `no IBS/CBS rate configured for ${year} (${missing.join(', ')}): set catalog.ibsCbs.rates.${year} (percent) in the fiscal configuration`,
    );
  }
}

/** The rates of dhEmi's year; throws {@link IbsCbsRateMissing} when one is not configured. */
export function ratesFor(settings: IbsCbsSettings, dhEmi: string): IbsCbsRates {
  const year = dhEmi.slice(0, 4);
  const r = settings.rates[year] ?? {};
  const missing = (['ibsUF', 'ibsMun', 'cbs'] as const).filter((k) => r[k] === undefined);
  if (missing.length > 0) throw new IbsCbsRateMissing(year, missing);
  return r as IbsCbsRates;
}

/** Ten-thousandths of a percent, the rates' exact integer form (`0.9` → 9000). */
const tenThousandths = (percent: number) => Math.round(percent * 10_000);

/**
 * `centavos` × `percent` %, rounded half up to the centavo, in integers only: `value = base × rate`
 * as SEFAZ recomputes it within R$ 0.01 (rejections 1041, 1052, 1069, 1150; spec §2).
 */
export function ratePart(centavos: number, percent: number): number {
  const numerator = centavos * tenThousandths(percent);
  const denominator = 1_000_000;
  return Math.floor((2 * numerator + denominator) / (2 * denominator));
}

/** The effective rate of CST 200: `percent` × (1 − pRedAliq / 100), half up to 4 decimals. */
export function reducedRate(percent: number, pRedAliq: number): number {
  const kept = 1_000_000 - tenThousandths(pRedAliq);
  return Math.floor((2 * tenThousandths(percent) * kept + 1_000_000) / 2_000_000) / 10_000;
}

/** One tax of `gIBSCBS`: the rate (`pIBSUF` / `pIBSMun` / `pCBS`), `gRed` for CST 200, the value. */
export interface IbsCbsPart {
  rate: number;
  reduction?: { pRedAliq: number; pAliqEfet: number };
  /** Centavos. */
  value: number;
}

/** An item's `IBSCBS`: the classification and, when taxed (CST 000, 200), `gIBSCBS`. */
export type IbsCbsLine =
  | { cst: string; cClassTrib: string; taxed: false }
  | {
      cst: string;
      cClassTrib: string;
      taxed: true;
      /** Centavos, the base of all three taxes. */
      vBC: number;
      ibsUF: IbsCbsPart;
      ibsMun: IbsCbsPart;
      /** vIBSUF + vIBSMun. */
      vIBS: number;
      cbs: IbsCbsPart;
    };

/** The item's IBS/CBS base (centavos) by the configured deductions, never below 0. */
export function ibsCbsBase(
  item: { vProd: number; vDesc: number; vICMS: number; vPIS: number; vCOFINS: number },
  deducts: readonly BaseDeduction[],
): number {
  const amount = { discount: item.vDesc, icms: item.vICMS, pis: item.vPIS, cofins: item.vCOFINS };
  return Math.max(
    0,
    deducts.reduce((base, d) => base - amount[d], item.vProd),
  );
}

export function ibsCbsLine(classification: IbsCbsClass, rates: IbsCbsRates, vBC: number): IbsCbsLine {
  const { cst, cClassTrib } = classification;
  if (cst === '410') return { cst, cClassTrib, taxed: false };
  const part = (percent: number): IbsCbsPart => {
    if (cst !== '200') return { rate: percent, value: ratePart(vBC, percent) };
    const pRedAliq = classification.pRedAliq!;
    const pAliqEfet = reducedRate(percent, pRedAliq);
    return { rate: percent, reduction: { pRedAliq, pAliqEfet }, value: ratePart(vBC, pAliqEfet) };
  };
  const ibsUF = part(rates.ibsUF);
  const ibsMun = part(rates.ibsMun);
  return { cst, cClassTrib, taxed: true, vBC, ibsUF, ibsMun, vIBS: ibsUF.value + ibsMun.value, cbs: part(rates.cbs) };
}

/** `IBSCBSTot`: sums of the items' values (centavos), so SEFAZ's total checks hold exactly. */
export interface IbsCbsTotals {
  vBCIBSCBS: number;
  vIBSUF: number;
  vIBSMun: number;
  vIBS: number;
  vCBS: number;
}

export function ibsCbsTotals(lines: IbsCbsLine[]): IbsCbsTotals {
  const totals = { vBCIBSCBS: 0, vIBSUF: 0, vIBSMun: 0, vIBS: 0, vCBS: 0 };
  for (const line of lines) {
    if (!line.taxed) continue;
    totals.vBCIBSCBS += line.vBC;
    totals.vIBSUF += line.ibsUF.value;
    totals.vIBSMun += line.ibsMun.value;
    totals.vIBS += line.vIBS;
    totals.vCBS += line.cbs.value;
  }
  return totals;
}

/**
 * The years (this one and the next, from `now`) in which `crt`'s NFC-e must carry IBS/CBS but a
 * rate is missing: every sale then fails until it is configured. For warnings when a catalog is
 * saved, long before the new year.
 */
export function missingRateYears(settings: IbsCbsSettings, crt: 1 | 2 | 3 | 4, now: Date): number[] {
  const year = Number(new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Sao_Paulo', year: 'numeric' }).format(now));
  return [year, year + 1].filter((y) => {
    const lastDay = `${y}-12-31T12:00:00-03:00`;
    if (!ibsCbsApplies(settings, crt, lastDay)) return false;
    try {
      ratesFor(settings, lastDay);
      return false;
    } catch (error) {
      if (error instanceof IbsCbsRateMissing) return true;
      throw error;
    }
  });
}
