/**
 * Brazilian taxpayer documents. CPF: 11 digits. CNPJ: 14 characters, numeric or — from July 2026
 * (IN RFB 2.229/2024) — 12 alphanumeric characters plus 2 numeric check digits. Both use mod-11
 * check digits; for the alphanumeric CNPJ each character counts as its ASCII code minus 48.
 */
export type TaxDocument = { kind: 'CPF' | 'CNPJ'; number: string };

/** Strips the usual punctuation (`.`, `-`, `/`, spaces) and upper-cases letters. */
export function normalizeDocument(input: string): string {
  return input.replace(/[\s./-]/g, '').toUpperCase();
}

export function parseTaxDocument(input: string): TaxDocument | undefined {
  const value = normalizeDocument(input);
  if (/^\d{11}$/.test(value)) return validCpf(value) ? { kind: 'CPF', number: value } : undefined;
  if (/^[0-9A-Z]{12}\d{2}$/.test(value)) return validCnpj(value) ? { kind: 'CNPJ', number: value } : undefined;
  return undefined;
}

function validCpf(cpf: string): boolean {
  if (/^(\d)\1{10}$/.test(cpf)) return false;
  const digit = (length: number) => {
    let sum = 0;
    for (let i = 0; i < length; i++) sum += Number(cpf[i]) * (length + 1 - i);
    const rest = (sum * 10) % 11;
    return rest === 10 ? 0 : rest;
  };
  return digit(9) === Number(cpf[9]) && digit(10) === Number(cpf[10]);
}

function validCnpj(cnpj: string): boolean {
  if (/^(\d)\1{13}$/.test(cnpj)) return false;
  const digit = (length: number) => {
    let sum = 0;
    for (let i = 0; i < length; i++) {
      const weight = ((length - 1 - i) % 8) + 2;
      sum += (cnpj.charCodeAt(i) - 48) * weight;
    }
    const rest = sum % 11;
    return rest < 2 ? 0 : 11 - rest;
  };
  return digit(12) === Number(cnpj[12]) && digit(13) === Number(cnpj[13]);
}
