import { DAY_MS } from './dates.ts';

/** Sicoob's bank code. */
export const BANCO_SICOOB = 756;
/** The cooperativa (4 digits) of every simulated beneficiary: in barcodes, file names and as receiving branch. */
export const COOPERATIVA = 3069;

/**
 * A boleto's 44-digit barcode in Sicoob's layout (FEBRABAN: bank 756, currency 9, check digit, due
 * factor, value in centavos over 10 digits; free field: carteira 1, cooperativa 4, modalidade 01,
 * cliente 7, nosso número 8 with its DV, parcela 001). Numbers longer than their slot keep their
 * last digits.
 */
export function codigoBarras(numeroCliente: number, nossoNumero: string, dataVencimento: string, valor: number): string {
  const free = `1${COOPERATIVA}01${lastDigits(String(numeroCliente), 7)}${lastDigits(nossoNumero, 8)}001`;
  const rest = `${dueFactor(dataVencimento)}${lastDigits(String(valor), 10)}${free}`;
  return `${BANCO_SICOOB}9${barcodeCheckDigit(`${BANCO_SICOOB}9${rest}`)}${rest}`;
}

/** The 47-digit "linha digitável" of a 44-digit barcode (three fields with their mod-10 digits, the barcode's DV, due factor and value). */
export function linhaDigitavel(barcode: string): string {
  const free = barcode.slice(19);
  const field = (digits: string) => `${digits}${mod10(digits)}`;
  return `${field(barcode.slice(0, 4) + free.slice(0, 5))}${field(free.slice(5, 15))}${field(free.slice(15))}${barcode[4]}${barcode.slice(5, 19)}`;
}

/** A valid CNPJ (14 digits) made from `seed`: the same seed always gives the same one. */
export function cnpj(seed: number): string {
  const base = `${lastDigits(String(seed), 8)}0001`;
  const first = cnpjDigit(base);
  return `${base}${first}${cnpjDigit(base + first)}`;
}

/** A valid CPF (11 digits) made from `seed`. */
export function cpf(seed: number): string {
  const base = lastDigits(String(seed + 100_000_000), 9);
  const first = cpfDigit(base);
  return `${base}${first}${cpfDigit(base + first)}`;
}

/** The FEBRABAN due factor: days since 1997-10-07, restarting at 1000 on 2025-02-22 (day 10,000). */
function dueFactor(day: string): string {
  const days = Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse('1997-10-07T00:00:00Z')) / DAY_MS);
  return String(days < 10_000 ? days : ((days - 10_000) % 9_000) + 1_000).padStart(4, '0');
}

/** Mod 11 over the 43 other digits, weights 2…9 from the right; 0, 10 and 11 become 1. */
function barcodeCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, weight = 2; i >= 0; i--, weight = weight === 9 ? 2 : weight + 1)
    sum += Number(digits[i]) * weight;
  const digit = 11 - (sum % 11);
  return digit === 0 || digit === 10 || digit === 11 ? 1 : digit;
}

/** Mod 10 of a linha digitável field, weights 2, 1, 2… from the right. */
function mod10(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, weight = 2; i >= 0; i--, weight = 3 - weight) {
    const product = Number(digits[i]) * weight;
    sum += product > 9 ? product - 9 : product;
  }
  return (10 - (sum % 10)) % 10;
}

function cnpjDigit(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, weight = 2; i >= 0; i--, weight = weight === 9 ? 2 : weight + 1)
    sum += Number(digits[i]) * weight;
  return sum % 11 < 2 ? 0 : 11 - (sum % 11);
}

function cpfDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (digits.length + 1 - i);
  return ((sum * 10) % 11) % 10;
}

/** The last `length` digits of `digits`, left-padded with zeros. */
function lastDigits(digits: string, length: number): string {
  return digits.slice(-length).padStart(length, '0');
}
