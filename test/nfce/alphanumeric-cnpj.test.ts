import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cnpjOf } from '../../functions/nfce/certificate.ts';
import { buildDocument, type OrderItem } from '../../functions/nfce/document.ts';
import { emitterSchema } from '../../functions/nfce/fiscal.ts';
import { renderReceipt } from '../../functions/nfce/receipt.ts';
import { nfeProc, signNfce } from '../../functions/nfce/xml.ts';
import { parseTaxDocument } from '../../functions/shared/documents.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import { fixture } from '../support/fixtures.ts';
import { inputFor, paymentFor } from '../support/nfce.ts';
import {
  ALPHANUMERIC_CNPJ,
  ALPHANUMERIC_CONSUMER,
  certificateFor,
  emitterWith,
  PL_010E,
  withSetup,
} from '../support/nfce-2026.ts';

const suco: OrderItem = { sku: '058', name: 'Suco de uva', quantity: 10_000, unitPrice: 6100, unit: 'UN' };
const noSchemas = existsSync(PL_010E) ? undefined : `${PL_010E} is absent`;
if (noSchemas) console.warn(`skipping the XSD checks: ${noSchemas}`);

describe('the emitter’s CNPJ (NT 2026.004)', () => {
  const parse = (cnpj: string) =>
    emitterSchema.safeParse({ ...fixture<Record<string, unknown>>('nfce/demo-emitter.json'), cnpj });

  it('accepts a numeric or an alphanumeric CNPJ with right check digits, as shared/documents.ts does', () => {
    expect(parseTaxDocument('12.ABC.345/01DE-35')).toEqual({ kind: 'CNPJ', number: ALPHANUMERIC_CNPJ });
    expect(parseTaxDocument(ALPHANUMERIC_CONSUMER)).toEqual({ kind: 'CNPJ', number: ALPHANUMERIC_CONSUMER });
    expect(parse(ALPHANUMERIC_CNPJ).success).toBe(true);
    expect(parse('82373077000171').success).toBe(true);
  });

  it('refuses wrong check digits, lower case and punctuation', () => {
    const message = (cnpj: string) => {
      const result = parse(cnpj);
      return result.success ? undefined : result.error.issues.map((i) => i.message).join('; ');
    };
    expect(message('12ABC34501DE36')).toBe('has wrong check digits');
    expect(message('12abc34501de35')).toMatch(/^must be 14 characters/);
    expect(message('12.ABC.345/01DE-35')).toMatch(/^must be 14 characters/);
  });

  it('matches the A1 certificate’s CN, letters included', () => {
    expect(cnpjOf(`ALFA RESTAURANTE LTDA:${ALPHANUMERIC_CNPJ}`)).toBe(ALPHANUMERIC_CNPJ);
    expect(certificateFor(ALPHANUMERIC_CNPJ).cnpj).toBe(ALPHANUMERIC_CNPJ);
  });
});

describe('an NFC-e of an alphanumeric-CNPJ emitter to an alphanumeric-CNPJ consumer', () => {
  const emitter = emitterWith({ cnpj: ALPHANUMERIC_CNPJ, name: 'ALFA RESTAURANTE LTDA', tradeName: 'ALFA' });
  const payment = paymentFor([suco], {
    paymentObject: { documentInReceipt: true, customerDocument: 'A1.B2C.3D4/0001-93' },
  });
  const document = buildDocument(
    withSetup(inputFor([suco], payment, { nNF: 1001, cNF: '27182818', dhEmi: '2026-11-22T12:30:00-03:00' }), { emitter }),
  );
  const signed = signNfce(document, certificateFor(ALPHANUMERIC_CNPJ));
  const proc = nfeProc(
    signed.nfeXml,
    `<protNFe versao="4.00"><infProt><tpAmb>2</tpAmb><verAplic>SP_NFCE_PL_010</verAplic><chNFe>${signed.chave}</chNFe>` +
      `<dhRecbto>2026-11-22T12:30:02-03:00</dhRecbto><nProt>13526000000012345</nProt><digVal>${signed.digestValue}</digVal>` +
      '<cStat>100</cStat><xMotivo>Autorizado o uso da NF-e</xMotivo></infProt></protNFe>',
  );

  it('has the key with the CNPJ’s letters, the cDV of the ASCII − 48 rule, emit and dest with the CNPJs', () => {
    expect(signed.chave).toBe('35261112ABC34501DE35650010000010011271828181');
    expect(signed.nfeXml).toContain('<cDV>1</cDV>');
    expect(signed.nfeXml).toContain(`<emit><CNPJ>${ALPHANUMERIC_CNPJ}</CNPJ>`);
    expect(signed.nfeXml).toContain(`<dest><CNPJ>${ALPHANUMERIC_CONSUMER}</CNPJ><indIEDest>9</indIEDest></dest>`);
    expect(signed.qrCode).toMatch(/\?p=35261112ABC34501DE35650010000010011271828181\|2\|2\|3\|[0-9A-F]{40}$/);
  });

  it.skipIf(Boolean(noSchemas))('validates against PL_010e, alone and as an nfeProc', () => {
    expect(schemaValidator(PL_010E, 'nfe_v4.00.xsd').failures(signed.nfeXml)).toEqual([]);
    expect(schemaValidator(PL_010E, 'procNFe_v4.00.xsd').failures(proc)).toEqual([]);
  });

  it('prints: the emitter’s and the consumer’s CNPJ in the usual positions, the key in groups of 4', () => {
    const receipt = renderReceipt(proc);
    const lines = receipt.split('\n');
    expect(lines).toContain('    CNPJ: 12.ABC.345/01DE-35');
    expect(lines).toContain(' 3526 1112 ABC3 4501 DE35 6500');
    expect(lines).toContain('    1000 0010 0112 7182 8181');
    expect(receipt.replace(/\s+/g, ' ')).toContain('CONSUMIDOR CNPJ: A1.B2C.3D4/0001-93');
    expect(lines).toContain('[QRCODE]');
  });
});

describe('the seed’s own authorized NFC-e (2024, no IBS/CBS)', () => {
  const seed = readFileSync(resolve(import.meta.dirname, '../../fixtures/nfce/seed-nfeproc.xml'), 'utf8');

  it.skipIf(Boolean(noSchemas))('still validates against PL_010e (procNFe_v4.00.xsd)', () => {
    expect(schemaValidator(PL_010E, 'procNFe_v4.00.xsd').failures(seed)).toEqual([]);
    expect(seed).not.toContain('IBSCBS');
  });

  it('still parses and prints, with every section', () => {
    const receipt = renderReceipt(seed).replace(/\s+/g, ' ');
    for (const section of [
      'BOTECO DO ALBINO',
      'CNPJ: 82.373.077/0001-71',
      'Documento Auxiliar da Nota Fiscal de Consumidor Eletrônica',
      'Valor a Pagar R$ 67,10',
      'Cartão de Crédito 67,10',
      '3524 0882 3730 7700 0171 6500',
      'CONSUMIDOR NÃO IDENTIFICADO',
      'NFC-e nº 411244 Série 1 16/08/2024 15:17:35',
      'Protocolo de autorização: 135240002154737',
      '[QRCODE]',
    ]) {
      expect(receipt).toContain(section);
    }
  });
});
