/** The fields the 44-digit access key is made of, as read from ide and emit. */
export interface KeyFields {
  cUF: string;
  /** ide/dhEmi, whose local date gives AAMM. */
  dhEmi: string;
  cnpj: string;
  mod: string;
  serie: string;
  nNF: string;
  tpEmis: string;
  cNF: string;
  cDV: string;
}

/** `cUF AAMM CNPJ mod serie nNF tpEmis cNF cDV`, zero-padded to 2·4·14·2·3·9·1·8·1 characters. */
export function composeKey(fields: KeyFields): string {
  const aamm = fields.dhEmi.slice(2, 4) + fields.dhEmi.slice(5, 7);
  return [
    fields.cUF,
    aamm,
    fields.cnpj,
    fields.mod,
    fields.serie.padStart(3, '0'),
    fields.nNF.padStart(9, '0'),
    fields.tpEmis,
    fields.cNF.padStart(8, '0'),
    fields.cDV,
  ].join('');
}

/**
 * Modulo 11 over the first 43 characters, weights 2..9 from the right; remainders 0 and 1 give 0.
 * Each character counts as its ASCII code − 48 (NT 2026.004): a digit as itself, the letters of an
 * alphanumeric CNPJ as 17 (A) to 42 (Z).
 */
export function checkDigit(first43: string): string {
  let sum = 0;
  for (let i = 0; i < first43.length; i++) {
    sum += (first43.charCodeAt(first43.length - 1 - i) - 48) * ((i % 8) + 2);
  }
  const remainder = sum % 11;
  return String(remainder < 2 ? 0 : 11 - remainder);
}
