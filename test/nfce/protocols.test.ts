import { describe, expect, it } from 'vitest';
import { invoiceSchema } from '../../functions/nfce/invoices.ts';
import { SefazUnavailable, parseAnswer } from '../../functions/nfce/sefaz.ts';

/**
 * PL_010 (NT 2025.002-RTC §5.1): cStat is 3 or 4 digits (TStat), nProt 15 or 17 (TProt); SEFAZ-SP
 * answers NFC-e with 17-digit protocols. Everything that parses or stores them takes both.
 */

const NFE_NS = 'http://www.portalfiscal.inf.br/nfe';
const KEY = '35261182373077000171650010000010011271828182';

function retEnviNFe(lot: { cStat: string; xMotivo: string }, prot?: { cStat: string; xMotivo: string; nProt?: string }): string {
  const infProt =
    prot &&
    `<protNFe versao="4.00"><infProt><tpAmb>2</tpAmb><verAplic>SP_NFCE_PL_010_V400</verAplic><chNFe>${KEY}</chNFe>` +
      `<dhRecbto>2026-11-22T12:30:02-03:00</dhRecbto>${prot.nProt ? `<nProt>${prot.nProt}</nProt>` : ''}` +
      `<digVal>MXavema7a33mkklhtGM9J06sZG0=</digVal><cStat>${prot.cStat}</cStat><xMotivo>${prot.xMotivo}</xMotivo></infProt></protNFe>`;
  return (
    '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>' +
    '<nfeResultMsg xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/NFeAutorizacao4">' +
    `<retEnviNFe versao="4.00" xmlns="${NFE_NS}"><tpAmb>2</tpAmb><verAplic>SP_NFCE_PL_010_V400</verAplic>` +
    `<cStat>${lot.cStat}</cStat><xMotivo>${lot.xMotivo}</xMotivo><cUF>35</cUF><dhRecbto>2026-11-22T12:30:02-03:00</dhRecbto>` +
    `${infProt ?? ''}</retEnviNFe></nfeResultMsg></soap:Body></soap:Envelope>`
  );
}

const LOT = { cStat: '104', xMotivo: 'Lote processado' };
const AUTHORIZED = { cStat: '100', xMotivo: 'Autorizado o uso da NF-e' };

describe('the SEFAZ client reads PL_010 protocols', () => {
  it('takes a 17-digit nProt', () => {
    const answer = parseAnswer(retEnviNFe(LOT, { ...AUTHORIZED, nProt: '13526000000012345' }), 'retEnviNFe');
    expect(answer).toMatchObject({ cStat: '104', protocol: { cStat: '100', nProt: '13526000000012345' } });
  });

  it('takes a 15-digit nProt', () => {
    const answer = parseAnswer(retEnviNFe(LOT, { ...AUTHORIZED, nProt: '135260000012345' }), 'retEnviNFe');
    expect(answer.protocol).toMatchObject({ cStat: '100', nProt: '135260000012345' });
  });

  it('takes a 4-digit cStat (a Reforma Tributária rejection) with its xMotivo', () => {
    const xMotivo = 'Rejeição: IBS/CBS não informado [nItem: 1]';
    const answer = parseAnswer(retEnviNFe(LOT, { cStat: '1115', xMotivo }), 'retEnviNFe');
    expect(answer).toMatchObject({ cStat: '104', xMotivo: 'Lote processado', protocol: { cStat: '1115', xMotivo } });
    expect(answer.protocol?.nProt).toBeUndefined();
  });

  it('takes a 4-digit cStat at lot level', () => {
    expect(parseAnswer(retEnviNFe({ cStat: '1004', xMotivo: 'Rejeição: x' }), 'retEnviNFe')).toEqual({
      cStat: '1004',
      xMotivo: 'Rejeição: x',
    });
  });

  it.each([
    ['a 16-digit nProt', { ...AUTHORIZED, nProt: '1352600000001234' }],
    ['an 18-digit nProt', { ...AUTHORIZED, nProt: '135260000000123456' }],
    ['a 5-digit cStat', { cStat: '10000', xMotivo: 'x' }],
    ['a 2-digit cStat', { cStat: '10', xMotivo: 'x' }],
  ])('refuses %s as no SEFAZ answer', (_, prot) => {
    expect(() => parseAnswer(retEnviNFe(LOT, prot), 'retEnviNFe')).toThrow(SefazUnavailable);
  });
});

describe('the invoice index stores PL_010 protocols', () => {
  const invoice = {
    chave: KEY,
    integrationHubServiceId: 'efdd6093-5539-4ac4-ad84-7423a8078dde',
    paymentId: 'p1',
    nfeProcKey: 'nfce/x-nfeproc.xml',
    signedKey: 'nfce/x-signed.xml',
  };

  it('takes 15- and 17-digit protocols and nothing else', () => {
    expect(invoiceSchema.parse({ ...invoice, nProt: '13526000000012345' }).nProt).toBe('13526000000012345');
    expect(invoiceSchema.parse({ ...invoice, nProt: '135260000012345' }).nProt).toBe('135260000012345');
    expect(invoiceSchema.safeParse({ ...invoice, nProt: '1352600000001234' }).success).toBe(false);
  });

  it('takes an access key with an alphanumeric CNPJ (positions 7–18) and no letters elsewhere', () => {
    const alphanumeric = '35261112ABC34501DE35650010000010011271828185';
    expect(invoiceSchema.parse({ ...invoice, chave: alphanumeric, nProt: '13526000000012345' }).chave).toBe(alphanumeric);
    const lettersElsewhere = `${alphanumeric.slice(0, 43)}A`;
    expect(invoiceSchema.safeParse({ ...invoice, chave: lettersElsewhere, nProt: '13526000000012345' }).success).toBe(false);
  });
});
