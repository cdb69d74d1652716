import { scaled, type NFeDocument } from './document.ts';
import { itemStatuses, statuses, type Status } from './messages.ts';
import type { IbsCbsRates, SefazRules } from './rules.ts';

/**
 * The IBS/CBS rules of NT 2025.002-RTC (Reforma Tributária) that an ordinary restaurant sale meets.
 * Codes and texts: the spec (../shared/specs/nfce-2026.md, [sec]) and the NT's rule table (v1.31:
 * UB12-10, UB18-10, UB35-10, UB37-10, UB54-10, UB54a-10, UB56-10, UB67-10, W34-10/20, W35…W56),
 * read in a text conversion of the NT's PDF published in a public repository, not in the official
 * PDF itself: fairly sure of the code ↔ rule mapping, the texts as converted.
 *
 * Not simulated: the cClassTrib table (its "Tributação Regular" indicator, which makes the rates
 * 0), the CST indicator table (1021/1022…), the base's composition (UB16-10, 1104: "implementação
 * futura" in the NT) and vItem / vNFTot (future too).
 */

type Item = NFeDocument['items'][number];
type Tax = NonNullable<NonNullable<Item['ibsCbs']>['gIBSCBS']>['ibsUf'];

/** Whether an NFC-e of this CRT and dhEmi must carry det/imposto/IBSCBS (UB12-10, 1115). */
export function ibsCbsRequired(document: NFeDocument, rules: SefazRules): boolean {
  const from = rules.ibsCbsRequiredFrom[document.crt];
  // dhEmi's own date (its local time), compared as text: both are YYYY-MM-DD.
  return typeof from === 'string' && document.ide.dhEmi.slice(0, 10) >= from;
}

/**
 * Per item, in the NT's order: the group when required (1115), then each tax's rate for the year
 * (1026, 1036, 1037) and its value recomputed (1041, 1052, 1069), and vIBS = vIBSUF + vIBSMun (1150).
 */
export function checkIbsCbsItems(document: NFeDocument, rules: SefazRules): Status | undefined {
  const required = ibsCbsRequired(document, rules);
  const rates: IbsCbsRates = rules.ibsCbsRates[document.ide.dhEmi.slice(0, 4)] ?? {};
  for (const item of document.items) {
    const { nItem, ibsCbs } = item;
    if (!ibsCbs) {
      if (required) return itemStatuses.ibsCbsMissing(nItem);
      continue;
    }
    const g = ibsCbs.gIBSCBS;
    if (!g) continue;
    if (!rateIs(g.ibsUf, rates.ibsUf)) return itemStatuses.ibsUfRate(nItem);
    if (!valueMatches(g.vBC, g.ibsUf)) return itemStatuses.ibsUfValue(nItem);
    if (!rateIs(g.ibsMun, rates.ibsMun)) return itemStatuses.ibsMunRate(nItem);
    if (!valueMatches(g.vBC, g.ibsMun)) return itemStatuses.ibsMunValue(nItem);
    // UB54a-10 names no tolerance: the item's vIBS is exactly its two parts.
    if (g.vIBS !== g.ibsUf.value + g.ibsMun.value) return itemStatuses.ibsValue(nItem);
    if (!rateIs(g.cbs, rates.cbs)) return itemStatuses.cbsRate(nItem);
    if (!valueMatches(g.vBC, g.cbs)) return itemStatuses.cbsValue(nItem);
  }
  return undefined;
}

/** The rate as written (TDec_0302_04RTC: '0.10' and '0.1000' alike) against the year's; unset passes. */
function rateIs(tax: Tax, expected: string | undefined): boolean {
  return expected === undefined || tax.rate === scaled(expected, 4);
}

/**
 * value = vBC × rate / 100 − vDif − vDevTrib (the effective rate of gRed when given), the product
 * rounded half up to the centavo, then ±R$ 0.01 of tolerance ("aceitar uma tolerância de 0,01 a
 * mais ou a menos"). Whether SEFAZ rounds before applying the tolerance is not written: a value
 * rounded per item as the product does is within it either way.
 */
function valueMatches(vBC: bigint, tax: Tax): boolean {
  const rate = tax.effectiveRate ?? tax.rate;
  // centavos × 10^-4 % → centavos: ÷ (100 × 10^4), half up.
  const computed = (vBC * rate + 500_000n) / 1_000_000n - tax.vDif - tax.vDevTrib;
  const difference = tax.value - computed;
  return difference >= -1n && difference <= 1n;
}

/** W34: IBSCBSTot exactly when some item has IBSCBS (1118 / 1119), and its values the sums of the items'. */
export function checkIbsCbsTotals({ items, ibsCbsTot }: NFeDocument): Status | undefined {
  const anyItem = items.some((item) => item.ibsCbs);
  if (ibsCbsTot && !anyItem) return statuses.ibsCbsTotUnexpected;
  if (!ibsCbsTot && anyItem) return statuses.ibsCbsTotMissing;
  if (!ibsCbsTot) return undefined;

  const sum = (of: (g: NonNullable<NonNullable<Item['ibsCbs']>['gIBSCBS']>) => bigint) =>
    items.reduce((total, item) => total + (item.ibsCbs?.gIBSCBS ? of(item.ibsCbs.gIBSCBS) : 0n), 0n);
  // W35-10 … W56-10, in the NT's order; no tolerance is written for these sums.
  if (ibsCbsTot.vBCIBSCBS !== sum((g) => g.vBC)) return statuses.ibsCbsTotBase;
  if (ibsCbsTot.vIBSUF !== sum((g) => g.ibsUf.value)) return statuses.ibsCbsTotIbsUf;
  if (ibsCbsTot.vIBSMun !== sum((g) => g.ibsMun.value)) return statuses.ibsCbsTotIbsMun;
  if (ibsCbsTot.vIBS !== sum((g) => g.vIBS)) return statuses.ibsCbsTotIbs;
  if (ibsCbsTot.vCBS !== sum((g) => g.cbs.value)) return statuses.ibsCbsTotCbs;
  return undefined;
}
