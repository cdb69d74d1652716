/**
 * The simulator's configurable rules: what changed in 2026 and is known only with some doubt
 * (../shared/specs/nfce-2026.md marks how sure each fact is), so tests and the local stack can set
 * them as they need. Defaults are today's best knowledge.
 */

export type Crt = '1' | '2' | '3' | '4';

/** The year's IBS/CBS rates in percent ('0.10' is 0.10 %); an absent rate is not checked. */
export interface IbsCbsRates {
  ibsUf?: string;
  ibsMun?: string;
  cbs?: string;
}

export interface SefazRules {
  /**
   * nProt length: 17 (what SEFAZ-SP issues for NFC-e under PL_010, the default) or 15 (the older
   * TProt). Both are `[0-9]{15}|[0-9]{17}` in PL_010e's tiposBasico.
   */
  protocolDigits: 15 | 17;
  /**
   * From which dhEmi date (YYYY-MM-DD, the emitter's local date) an NFC-e of each CRT without
   * det/imposto/IBSCBS is rejected with 1115; null (or absent) never. Defaults: CRT 3 from
   * 2026-08-03, CRT 1, 2, 4 from 2027-01-04 (spec: [sec], conflicting sources).
   */
  ibsCbsRequiredFrom: Partial<Record<Crt, string | null>>;
  /**
   * Rates by the year of dhEmi (1026 / 1036 / 1037 when an item's differ). A year absent is not
   * checked; so is an absent rate (the CBS of 2027 is set by later legislation).
   */
  ibsCbsRates: Record<string, IbsCbsRates>;
  /**
   * The Receita Federal register NT 2026.007 checks the emitter's CRT against: CNPJ → CRT. An
   * emitter absent from it is not checked (180 when present and different).
   */
  receitaRegister: Record<string, Crt>;
}

const RATES_2025_2026: IbsCbsRates = { ibsUf: '0.10', ibsMun: '0', cbs: '0.90' };
const RATES_2027_2028: IbsCbsRates = { ibsUf: '0.05', ibsMun: '0.05' };

export const defaultRules = (): SefazRules => ({
  protocolDigits: 17,
  ibsCbsRequiredFrom: { '1': '2027-01-04', '2': '2027-01-04', '3': '2026-08-03', '4': '2027-01-04' },
  ibsCbsRates: { '2025': RATES_2025_2026, '2026': RATES_2025_2026, '2027': RATES_2027_2028, '2028': RATES_2027_2028 },
  receitaRegister: {},
});

/** What `configure` and the options take: any rule, the dates and rates merged per CRT and per year. */
export interface SefazRulesPatch {
  protocolDigits?: 15 | 17;
  ibsCbsRequiredFrom?: Partial<Record<Crt, string | null>>;
  /** Merged into the year's rates field by field (`{ '2027': { cbs: '0.90' } }` sets the 2027 CBS only). */
  ibsCbsRates?: Record<string, IbsCbsRates>;
  /** Replaces the whole register. */
  receitaRegister?: Record<string, Crt>;
}

/** `base` with `patch` on top. */
export function applyRules(base: SefazRules, patch: SefazRulesPatch = {}): SefazRules {
  const rates = { ...base.ibsCbsRates };
  for (const [year, yearRates] of Object.entries(patch.ibsCbsRates ?? {})) rates[year] = { ...rates[year], ...yearRates };
  return {
    protocolDigits: patch.protocolDigits ?? base.protocolDigits,
    ibsCbsRequiredFrom: { ...base.ibsCbsRequiredFrom, ...patch.ibsCbsRequiredFrom },
    ibsCbsRates: rates,
    receitaRegister: patch.receitaRegister ?? base.receitaRegister,
  };
}
