/** Money inside the code is integer centavos; reais (JSON numbers) only at the edges. */

/**
 * True when a reais amount is a whole number of centavos: the shortest decimal that reads back as
 * this number — what the JSON said — has at most 2 decimals (`15.1`, `0.29`; not `10.0000000001`),
 * or it is dust below a millionth of a centavo (`5e-324`), which is 0.
 */
export function isWholeCentavos(reais: number): boolean {
  return /^-?\d+(\.\d{1,2})?$/.test(String(reais)) || Math.abs(reais * 100) < 1e-6;
}

export function toCentavos(reais: number): number {
  return Math.round(reais * 100);
}

/** `6710` → `"67.10"` */
export function formatReais(centavos: number): string {
  const sign = centavos < 0 ? '-' : '';
  const abs = Math.abs(centavos);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
