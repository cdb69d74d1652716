import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReceipt } from '../../functions/nfce/receipt.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/nfce');
const seed = readFileSync(resolve(fixtures, 'seed-nfeproc.xml'), 'utf8');
const golden = (name: string) => readFileSync(resolve(fixtures, 'receipts', name), 'utf8');

/** The seed with one edit; fails loudly when the text to replace is not there (a test that edits nothing proves nothing). */
function edit(xml: string, from: string, to: string): string {
  if (!xml.includes(from)) throw new Error(`the fixture has no ${from}`);
  return xml.replace(from, to);
}

/** Every line fits the paper (in characters, not bytes) and none ends in a blank. */
function expectFits(text: string, columns: number) {
  for (const line of text.split('\n')) {
    expect([...line].length, line).toBeLessThanOrEqual(columns);
    expect(line, 'trailing blank').toBe(line.trimEnd());
  }
}

/** `lines` appear in the receipt as whole, consecutive lines. */
function expectLines(text: string, lines: string[]) {
  expect(`\n${text}\n`).toContain(`\n${lines.join('\n')}\n`);
}

const afterEmit = (xml: string, dest: string) => edit(xml, '</emit>', `</emit>${dest}`);

describe('renderReceipt: the seed NFC-e', () => {
  it('prints the golden 32-column receipt', () => {
    const text = renderReceipt(seed);
    expect(`${text}\n`).toBe(golden('seed-32.txt'));
    expect(renderReceipt(seed, { columns: 32 })).toBe(text);
    expectFits(text, 32);
  });

  it('prints the golden 48-column receipt', () => {
    const text = renderReceipt(seed, { columns: 48 });
    expect(`${text}\n`).toBe(golden('seed-48.txt'));
    expectFits(text, 48);
  });

  it('keeps accents, the unidentified consumer, the key in groups of 4 and the QR placeholder', () => {
    for (const columns of [32, 48] as const) {
      const text = renderReceipt(seed, { columns });
      const lines = text.split('\n').map((line) => line.trim());
      expect(lines).toContain('CONSUMIDOR NÃO IDENTIFICADO');
      expect(text).toContain('Eletrônica');
      expect(text).toContain('HOMOLOGAÇÃO');
      expect(text).toContain('Cartão de Crédito');
      expect(lines.filter((line) => /^(\d{4} )*\d{4}$/.test(line)).join(' ')).toBe(
        '3524 0882 3730 7700 0171 6500 1000 4112 4411 9459 4623',
      );
      expect(text.split('\n').filter((line) => line === '[QRCODE]')).toHaveLength(1);
    }
    expectLines(renderReceipt(seed), [' 3524 0882 3730 7700 0171 6500', '    1000 4112 4411 9459 4623']);
  });
});

describe('renderReceipt: variants of the seed', () => {
  it('identifies a consumer by CPF', () => {
    const text = renderReceipt(afterEmit(seed, '<dest><CPF>52998224725</CPF></dest>'));
    expectLines(text, [
      '--------------------------------',
      ' CONSUMIDOR CPF: 529.982.247-25',
      '--------------------------------',
    ]);
    expect(text).not.toContain('NÃO IDENTIFICADO');
  });

  it('identifies a consumer by CNPJ, with the name', () => {
    const xml = afterEmit(
      seed,
      '<dest><CNPJ>11222333000181</CNPJ><xNome>Padaria Pão &amp; Cia</xNome><indIEDest>9</indIEDest></dest>',
    );
    expectLines(renderReceipt(xml), ['           CONSUMIDOR', '    CNPJ: 11.222.333/0001-81', '       Padaria Pão & Cia']);
    expectLines(renderReceipt(xml, { columns: 48 }), [
      '      CONSUMIDOR CNPJ: 11.222.333/0001-81',
      '               Padaria Pão & Cia',
    ]);
  });

  it('identifies a foreign consumer, and prints a dest without any document as not identified', () => {
    const foreign = afterEmit(seed, '<dest><idEstrangeiro>AB123456</idEstrangeiro><xNome>John Smith</xNome></dest>');
    expectLines(renderReceipt(foreign), ['           CONSUMIDOR', '   Id. Estrangeiro: AB123456', '           John Smith']);
    const anonymous = afterEmit(seed, '<dest><idEstrangeiro/><xNome>John Smith</xNome></dest>');
    expectLines(renderReceipt(anonymous), ['  CONSUMIDOR NÃO IDENTIFICADO']);
  });

  it('formats an alphanumeric CNPJ in the same positions', () => {
    const xml = edit(seed, '<emit><CNPJ>82373077000171</CNPJ>', '<emit><CNPJ>12ABC34501DE35</CNPJ>');
    expectLines(renderReceipt(xml), ['    CNPJ: 12.ABC.345/01DE-35', '        IE: 128571670117']);
  });

  it('prints cash with change', () => {
    const xml = edit(
      seed,
      '<detPag><indPag>0</indPag><tPag>03</tPag><vPag>67.10</vPag><card><tpIntegra>2</tpIntegra></card></detPag><vTroco>0.00</vTroco>',
      '<detPag><tPag>01</tPag><vPag>100.00</vPag></detPag><vTroco>32.90</vTroco>',
    );
    expectLines(renderReceipt(xml), [
      'FORMA PAGAMENTO    VALOR PAGO R$',
      'Dinheiro                  100,00',
      'Troco R$                   32,90',
    ]);
  });

  it('names every payment, wrapping long names and using xPag for "99 Outros"', () => {
    const xml = edit(
      seed,
      '<detPag><indPag>0</indPag><tPag>03</tPag><vPag>67.10</vPag><card><tpIntegra>2</tpIntegra></card></detPag><vTroco>0.00</vTroco>',
      '<detPag><tPag>17</tPag><vPag>10.00</vPag></detPag><detPag><tPag>18</tPag><vPag>1234.00</vPag></detPag>' +
        '<detPag><tPag>99</tPag><xPag>Vale da casa</xPag><vPag>3.10</vPag></detPag><detPag><tPag>04</tPag><vPag>0.50</vPag></detPag>',
    );
    const text = renderReceipt(xml);
    expectLines(text, [
      'FORMA PAGAMENTO    VALOR PAGO R$',
      'Pagamento Instantâneo',
      '(PIX)                      10,00',
      'Transferência bancária,',
      'Carteira Digital        1.234,00',
      'Vale da casa                3,10',
      'Cartão de Débito            0,50',
      '--------------------------------',
    ]);
    expectFits(text, 32);
  });

  it('prints the discount and the surcharge between the total and the amount to pay', () => {
    const xml = edit(
      edit(edit(seed, '<vDesc>0.00</vDesc>', '<vDesc>7.10</vDesc>'), '<vOutro>0.00</vOutro>', '<vOutro>2.00</vOutro>'),
      '<vNF>67.10</vNF>',
      '<vNF>62.00</vNF>',
    );
    expectLines(renderReceipt(xml), [
      'Qtde. total de itens           2',
      'Valor total R$             67,10',
      'Desconto R$                 7,10',
      'Acréscimos R$               2,00',
      'Valor a Pagar R$           62,00',
    ]);
  });

  it('decodes entities, keeps accents and wraps long descriptions; formats big numbers the Brazilian way', () => {
    const xml = edit(
      seed,
      '<xProd>TAXA SERVICO</xProd><NCM>22021000</NCM><CFOP>5102</CFOP><uCom>UN</uCom><qCom>6.1000</qCom><vUnCom>1.0000</vUnCom><vProd>6.10</vProd>',
      '<xProd>PÃO DE QUEIJO &amp; CAFÉ &lt;PROMOÇÃO&gt; SUPERCALIFRAGILISTICEXPIALIDOCIOSO</xProd><NCM>22021000</NCM>' +
        '<CFOP>5102</CFOP><uCom>KG</uCom><qCom>1234.5000</qCom><vUnCom>5.8790000000</vUnCom><vProd>7257.63</vProd>',
    );
    const text = renderReceipt(xml);
    expectLines(text, [
      'Código Descrição',
      '        Qtde UN Vl.Unit Vl.Total',
      '058 NOTA FISCAL EMITIDA EM',
      'AMBIENTE DE HOMOLOGACAO - SEM',
      'VALOR FISCAL',
      '           1 UN   61,00    61,00',
      '999 PÃO DE QUEIJO & CAFÉ',
      '<PROMOÇÃO>',
      'SUPERCALIFRAGILISTICEXPIALIDOCIO',
      'SO',
      '     1.234,5 KG   5,879 7.257,63',
      '--------------------------------',
    ]);
    expect(text).not.toMatch(/&amp;|&lt;|&gt;/);
    expectFits(text, 32);
  });

  it('prints the issue date in its own offset, whatever the host time zone', () => {
    const xml = edit(seed, '<dhEmi>2024-08-16T15:17:35-03:00</dhEmi>', '<dhEmi>2024-08-16T23:59:59-05:00</dhEmi>');
    expectLines(renderReceipt(xml, { columns: 48 }), ['  NFC-e nº 411244 Série 1 16/08/2024 23:59:59']);
  });

  it('prints an offline-contingency NFe that has no protocol yet', () => {
    const nfe = /<NFe>.*<\/NFe>/s.exec(seed)?.[0] ?? '';
    const xml = edit(
      edit(nfe, '<NFe>', '<NFe xmlns="http://www.portalfiscal.inf.br/nfe">'),
      '<tpEmis>1</tpEmis>',
      '<tpEmis>9</tpEmis>',
    );
    const text = renderReceipt(xml);
    expectLines(text, [
      'Fiscal de Consumidor Eletrônica',
      '--------------------------------',
      '     EMITIDA EM AMBIENTE DE',
      ' HOMOLOGAÇÃO - SEM VALOR FISCAL',
      '    EMITIDA EM CONTINGÊNCIA',
      '    Pendente de autorização',
      '--------------------------------',
    ]);
    expectLines(text, [
      '--------------------------------',
      '    NFC-e nº 411244 Série 1',
      '      16/08/2024 15:17:35',
      '--------------------------------',
    ]);
    expect(text).not.toContain('autorização:');
    expectFits(text, 32);
  });

  it('prints a contingency NFC-e authorized later with its protocol, no longer pending', () => {
    const text = renderReceipt(edit(seed, '<tpEmis>1</tpEmis>', '<tpEmis>9</tpEmis>'));
    expect(text).toContain('EMITIDA EM CONTINGÊNCIA');
    expect(text).not.toContain('Pendente de autorização');
    expect(text).toContain('135240002154737');
  });
});

describe('renderReceipt: documents it cannot print', () => {
  it('names a missing infNFeSupl', () => {
    const xml = seed.replace(/<infNFeSupl>.*<\/infNFeSupl>/s, '');
    expect(() => renderReceipt(xml)).toThrow('cannot print the DANFE NFC-e: missing NFe/infNFeSupl');
  });

  it('names every missing or malformed part at once', () => {
    const xml = edit(
      edit(edit(seed, '<IE>128571670117</IE>', ''), '<vNF>67.10</vNF>', '<vNF>67,10</vNF>'),
      '<xMun>POA</xMun>',
      '',
    );
    expect(() => renderReceipt(xml)).toThrow(
      'cannot print the DANFE NFC-e: missing NFe/infNFe/emit/IE; missing NFe/infNFe/emit/enderEmit/xMun; NFe/infNFe/total/ICMSTot/vNF is not an amount: "67,10"',
    );
  });

  it('wants the authorization protocol unless the NFC-e was issued in offline contingency', () => {
    const xml = seed.replace(/<protNFe.*<\/protNFe>/s, '');
    expect(() => renderReceipt(xml)).toThrow('cannot print the DANFE NFC-e: missing protNFe');
    const denied = edit(seed, '<cStat>100</cStat>', '<cStat>302</cStat>');
    expect(() => renderReceipt(denied)).toThrow('protNFe/infProt/cStat 302 is not an authorization');
  });

  it('rejects what is not an NFC-e XML', () => {
    expect(() => renderReceipt('<nfeProc')).toThrow('the XML does not parse');
    expect(() => renderReceipt('<nfeProc versao="4.00"/>')).toThrow('expected <nfeProc> or <NFe>');
    expect(() => renderReceipt(edit(seed, '<mod>65</mod>', '<mod>55</mod>'))).toThrow('mod 55 is not an NFC-e');
  });
});
