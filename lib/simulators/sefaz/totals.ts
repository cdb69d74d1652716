import type { NFeDocument } from './document.ts';
import { statuses, type Status } from './messages.ts';

type Item = NFeDocument['items'][number];
type Total = keyof NFeDocument['total'];

/** ICMSTot fields that must equal the sum of an item field (MOC rules W03-10 … W15-10). */
const sums: [Total, (item: Item) => bigint, Status][] = [
  ['vBC', (item) => item.vBC, statuses.totalBc],
  ['vICMS', (item) => item.vICMS, statuses.totalIcms],
  ['vBCST', (item) => item.vBCST, statuses.totalBcSt],
  ['vST', (item) => item.vICMSST, statuses.totalSt],
  // Only items that make up the total (indTot 1) count towards vProd.
  ['vProd', (item) => (item.indTot === '1' ? item.vProd : 0n), statuses.totalProducts],
  ['vFrete', (item) => item.vFrete, statuses.totalFreight],
  ['vSeg', (item) => item.vSeg, statuses.totalInsurance],
  ['vDesc', (item) => item.vDesc, statuses.totalDiscount],
  ['vOutro', (item) => item.vOutro, statuses.totalOther],
];

/** Item value and ICMSTot, in the MOC's order; every amount is exact, in centavos. */
export function checkTotals({ items, total }: NFeDocument): Status | undefined {
  // I11-10: vProd = qCom (10^-4) × vUnCom (10^-10), rounded half up from 10^-14 to centavos.
  if (items.some((item) => (item.qCom * item.vUnCom + 5n * 10n ** 11n) / 10n ** 12n !== item.vProd)) {
    return statuses.itemValue;
  }

  for (const [field, of, rejection] of sums) {
    if (items.reduce((sum, item) => sum + of(item), 0n) !== total[field]) return rejection;
  }

  // W16-10; its exception 3 also accepts a vNF from which vICMSDeson was not subtracted.
  const vNF =
    total.vProd -
    total.vDesc +
    total.vST +
    total.vFCPST +
    total.vFrete +
    total.vSeg +
    total.vOutro +
    total.vII +
    total.vIPI +
    total.vIPIDevol;
  if (total.vNF !== vNF - total.vICMSDeson && total.vNF !== vNF) return statuses.totalInvoice;
  return undefined;
}

/** tPag that need the card group on an NFC-e: credit and debit cards, and PIX (NT 2025.001). */
const CARD_REQUIRED = new Set(['03', '04', '17']);

/**
 * The payments: the card group where required (391), then YA03-10, YA03-20, YA09-10:
 * Σ vPag − vTroco = vNF (865 short, 866 over without change, 869 wrong change).
 */
export function checkPayments({ total, payments, vTroco }: NFeDocument): Status | undefined {
  if (payments.some((payment) => CARD_REQUIRED.has(payment.tPag) && !payment.card)) return statuses.cardMissing;
  const paid = payments.reduce((sum, { vPag }) => sum + vPag, 0n);
  if (paid < total.vNF) return statuses.paymentsShort;
  if (paid > total.vNF && vTroco === undefined) return statuses.changeMissing;
  if (vTroco !== undefined && vTroco !== paid - total.vNF) return statuses.changeWrong;
  return undefined;
}
