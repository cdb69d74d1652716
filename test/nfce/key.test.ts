import { describe, expect, it } from 'vitest';
import { ACCESS_KEY_PATTERN, accessKey, checkDigit, randomCNF } from '../../functions/nfce/key.ts';
import { qrCodeV2 } from '../../functions/nfce/qrcode.ts';
import { schemaText } from '../../functions/nfce/text.ts';

const SEED_KEY = '35240882373077000171650010004112441194594623';

describe('access key', () => {
  it('computes the seed key’s check digit (3)', () => {
    expect(checkDigit(SEED_KEY.slice(0, 43))).toBe(3);
  });

  it('rebuilds the seed key from its fields', () => {
    expect(
      accessKey({
        cUF: '35',
        yearMonth: '2408',
        cnpj: '82373077000171',
        model: '65',
        serie: 1,
        nNF: 411244,
        tpEmis: 1,
        cNF: '19459462',
      }),
    ).toBe(SEED_KEY);
  });

  it('puts an alphanumeric CNPJ (NT 2026.004) in positions 7–18, its letters counting ASCII − 48 in cDV', () => {
    // 35 2611 12ABC34501DE35 65 001 000001001 1 27182818: the weighted sum (weights 2..9 from the
    // right, A = 17, B = 18, C = 19, D = 20, E = 21) is 857 = 77 × 11 + 10, so cDV = 11 − 10 = 1.
    const key = accessKey({
      cUF: '35',
      yearMonth: '2611',
      cnpj: '12ABC34501DE35',
      model: '65',
      serie: 1,
      nNF: 1001,
      tpEmis: 1,
      cNF: '27182818',
    });
    expect(key).toBe('35261112ABC34501DE35650010000010011271828181');
    expect(key).toMatch(ACCESS_KEY_PATTERN);
    expect(checkDigit(key.slice(0, 43))).toBe(1);
    expect(ACCESS_KEY_PATTERN.test(SEED_KEY)).toBe(true);
    expect(ACCESS_KEY_PATTERN.test(`${key.slice(0, 20)}A${key.slice(21)}`)).toBe(false); // a letter outside the CNPJ
  });

  it('refuses fields that cannot make a key (lower case, letters outside the CNPJ)', () => {
    const fields = { cUF: '35', yearMonth: '2611', model: '65' as const, serie: 1, nNF: 1, tpEmis: 1, cNF: '27182818' };
    expect(() => accessKey({ ...fields, cnpj: '12abc34501de35' })).toThrow('access key fields are not a key');
    expect(() => accessKey({ ...fields, cnpj: '82373077000171', cNF: '2718281A' })).toThrow('access key fields are not a key');
  });

  it('gives 0 when the remainder is below 2', () => {
    // 43 zeros: sum 0, remainder 0 → 0; a single 1 in the last position weighs 2 → 11 − 2 = 9.
    expect(checkDigit('0'.repeat(43))).toBe(0);
    expect(checkDigit(`${'0'.repeat(42)}1`)).toBe(9);
  });

  it('draws a cNF of 8 digits that is never the nNF or a trivial sequence', () => {
    const draws = [0.00411244, 0.11111111, 0.12345678, 0.5];
    let i = 0;
    expect(randomCNF(411244, () => draws[i++]!)).toBe('50000000');
    expect(i).toBe(4);
  });
});

describe('QR code v2 (online)', () => {
  it('hashes the parameters and the CSC with SHA-1, upper case', () => {
    // Expected hashes computed with sha1sum over the same strings.
    expect(
      qrCodeV2('https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode', SEED_KEY, 2, '000003', 'DEMO-CSC-0123456789ABCDEF'),
    ).toBe(`https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode?p=${SEED_KEY}|2|2|3|4AFCDE39095AAC30A8C0B3E05F40A51AF19F39EA`);
    expect(qrCodeV2('https://www.nfce.fazenda.sp.gov.br/qrcode', SEED_KEY, 1, '12', 'TOKEN-TEST-000000000001')).toBe(
      `https://www.nfce.fazenda.sp.gov.br/qrcode?p=${SEED_KEY}|2|1|12|A41487F8DA14C030572BFFB477A12488006534DB`,
    );
  });
});

describe('QR code v2 of an alphanumeric key', () => {
  it('hashes the key’s letters as they are (sha1sum over the same string)', () => {
    const key = '35261112ABC34501DE35650010000010011271828181';
    expect(qrCodeV2('https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode', key, 2, '000003', 'DEMO-CSC-0123456789ABCDEF')).toBe(
      `https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode?p=${key}|2|2|3|C4CCBADE4316A542D9AFC50E0361059F3415BDC6`,
    );
  });
});

describe('schema text', () => {
  it('keeps Latin-1 (accents, & and <), maps typographic characters, drops the rest, trims and truncates', () => {
    expect(schemaText('  Suco “Uva” – 500ml 🍇 & <Açaí>\tnovo  ', 120)).toBe('Suco "Uva" - 500ml & <Açaí> novo');
    expect(schemaText('Pão de queijo', 8)).toBe('Pão de q');
    expect(schemaText('Bolo ', 5)).toBe('Bolo');
    expect(schemaText('🍕', 10)).toBe('');
  });
});
