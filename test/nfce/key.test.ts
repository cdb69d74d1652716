import { describe, expect, it } from 'vitest';
import { accessKey, checkDigit, randomCNF } from '../../functions/nfce/key.ts';
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

describe('schema text', () => {
  it('keeps Latin-1 (accents, & and <), maps typographic characters, drops the rest, trims and truncates', () => {
    expect(schemaText('  Suco “Uva” – 500ml 🍇 & <Açaí>\tnovo  ', 120)).toBe('Suco "Uva" - 500ml & <Açaí> novo');
    expect(schemaText('Pão de queijo', 8)).toBe('Pão de q');
    expect(schemaText('Bolo ', 5)).toBe('Bolo');
    expect(schemaText('🍕', 10)).toBe('');
  });
});
