import type { OrderItem } from '../nfce/document.ts';
import { identifier, nfceText } from '../shared/text.ts';
import type { CieloItem } from './notification.ts';

/**
 * Cielo's `unit_of_measure` (spec §1: EACH, HOURS, DAYS, SECONDS, CRATE_OF_12, SIX_PACK, GALLON,
 * LITRE) → the NFC-e's commercial unit (uCom, TString 1–6). An unknown unit is "UN".
 */
const UNITS: Record<string, string> = {
  EACH: 'UN',
  HOURS: 'H',
  DAYS: 'DIA',
  SECONDS: 'S',
  CRATE_OF_12: 'CX12',
  SIX_PACK: 'PCT6',
  GALLON: 'GAL',
  LITRE: 'L',
};

export function commercialUnit(unitOfMeasure: string | null): string {
  return unitOfMeasure && Object.hasOwn(UNITS, unitOfMeasure) ? UNITS[unitOfMeasure]! : 'UN';
}

const sku = identifier(60);
const name = nfceText({ max: 120, required: true });

/**
 * A Cielo order's items as NFC-e items: unit prices in centavos, quantity in ten-thousandths, the
 * unit mapped, the name (else the description, else the sku) under the same text rules as a POS
 * tab. Returns the reasons instead when an item cannot be carried (no sku or price, a quantity
 * that is not a number, text an NFC-e cannot hold) — the payment then ends saying which.
 */
export function nfceItems(items: readonly CieloItem[]): { items: OrderItem[] } | { problems: string[] } {
  const problems: string[] = [];
  if (items.length === 0) problems.push('the order has no items');
  const mapped = items.flatMap((item, index): OrderItem[] => {
    const label = `item ${index + 1}${item.sku ? ` (sku ${item.sku.slice(0, 60)})` : ''}`;
    const code = sku.safeParse(item.sku ?? '');
    const text = name.safeParse(((item.name ?? '').trim() || (item.description ?? '').trim() || (item.sku ?? '')).slice(0, 120));
    const quantity = Math.round(item.quantity * 10_000);
    if (!code.success) problems.push(`${label}: its sku is not an identifier an NFC-e can carry`);
    if (!text.success) problems.push(`${label}: its name is not text an NFC-e can carry`);
    if (item.unit_price === null) problems.push(`${label}: it has no unit_price`);
    if (!(quantity >= 1 && quantity <= 9_999 * 10_000)) problems.push(`${label}: its quantity must be between 0.0001 and 9999`);
    if (!code.success || !text.success || item.unit_price === null) return [];
    return [
      { sku: code.data, name: text.data, quantity, unitPrice: item.unit_price, unit: commercialUnit(item.unit_of_measure) },
    ];
  });
  if (items.length > 500) problems.push(`the order has ${items.length} items; an NFC-e takes at most 500`);
  return problems.length > 0 ? { problems } : { items: mapped };
}
