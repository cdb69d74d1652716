/**
 * The NFC-e access key (chave de acesso), 44 characters:
 * cUF(2) AAMM(4) CNPJ(14) mod(2) serie(3) nNF(9) tpEmis(1) cNF(8) cDV(1).
 * With an alphanumeric CNPJ (NT 2026.004) positions 7–18 may hold upper-case letters; everything
 * else stays numeric (PL_010e: infNFe/@Id `NFe[0-9]{6}[0-9A-Z]{12}[0-9]{26}`, `TChNFe`).
 */

/** A 44-character access key, numeric or with an alphanumeric CNPJ in positions 7–18. */
export const ACCESS_KEY_PATTERN = /^\d{6}[0-9A-Z]{12}\d{26}$/;
export interface KeyFields {
  cUF: string;
  /** Year and month of dhEmi, `AAMM`. */
  yearMonth: string;
  cnpj: string;
  model: '65';
  serie: number;
  nNF: number;
  tpEmis: number;
  cNF: string;
}

/**
 * cDV: mod 11 over the first 43 characters, weights 2..9 from the right, remainder 0 or 1 → 0,
 * else 11 − remainder (MOC 4.00, ide/cDV). Each character counts as its ASCII code − 48 (NT
 * 2026.004, the alphanumeric CNPJ's own rule): a digit keeps its value, `A` counts 17, `Z` 42, so
 * a numeric key's digit is unchanged.
 */
export function checkDigit(first43: string): number {
  let sum = 0;
  for (let i = first43.length - 1, weight = 2; i >= 0; i--, weight = weight === 9 ? 2 : weight + 1) {
    sum += (first43.charCodeAt(i) - 48) * weight;
  }
  const rest = sum % 11;
  return rest < 2 ? 0 : 11 - rest;
}

export function accessKey(fields: KeyFields): string {
  const first43 =
    fields.cUF.padStart(2, '0') +
    fields.yearMonth +
    fields.cnpj.padStart(14, '0') +
    fields.model +
    String(fields.serie).padStart(3, '0') +
    String(fields.nNF).padStart(9, '0') +
    String(fields.tpEmis) +
    fields.cNF.padStart(8, '0');
  if (first43.length !== 43) throw new Error(`access key fields make ${first43.length} characters, not 43`);
  if (!/^\d{6}[0-9A-Z]{12}\d{25}$/.test(first43)) throw new Error(`access key fields are not a key: ${first43}`);
  return first43 + String(checkDigit(first43));
}

/**
 * cNF: a random 8-digit code kept with the document (a retry reuses it). SEFAZ refuses a cNF equal
 * to nNF, and a few trivial sequences are refused too, so draw again when it hits one.
 */
export function randomCNF(nNF: number, random: () => number = Math.random): string {
  for (;;) {
    const cNF = String(Math.floor(random() * 100_000_000)).padStart(8, '0');
    if (Number(cNF) !== nNF && !/^(\d)\1{7}$/.test(cNF) && cNF !== '12345678' && cNF !== '23456789') return cNF;
  }
}
