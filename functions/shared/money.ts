/** Money inside the code is integer centavos; reais (JSON numbers) only at the edges. */

/** True when a reais amount is a whole number of centavos (tolerating binary float noise). */
export function isWholeCentavos(reais: number): boolean {
  return Math.abs(reais * 100 - Math.round(reais * 100)) < 1e-6;
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
