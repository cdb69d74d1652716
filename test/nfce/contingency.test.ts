import { createHash } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { describe, expect, it } from 'vitest';
import { buildDocument, type Contingency } from '../../functions/nfce/document.ts';
import { ACCESS_KEY_PATTERN, accessKey, checkDigit } from '../../functions/nfce/key.ts';
import { qrCodeV2, qrCodeV2Offline } from '../../functions/nfce/qrcode.ts';
import { renderReceipt } from '../../functions/nfce/receipt.ts';
import { nfeProc, signNfce } from '../../functions/nfce/xml.ts';
import {
  demoEmitter,
  inputFor,
  orderItems,
  paymentFor,
  testCertificate,
  xmlsecMissing,
  xmlsecVerifies,
} from '../support/nfce.ts';
import { schemasMissing, xsdFailures } from '../support/xsd.ts';

/**
 * Offline contingency (tpEmis 9), the document alone: ide's dhCont / xJust, the key with tpEmis 9,
 * the offline QR code v2 (it carries the DigestValue), the schema, the signature and the receipt
 * printed before SEFAZ has seen it. Issuing it (the issuer, SEFAZ, transmission) comes later.
 */

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

const numbering = { nNF: 1001, cNF: '27182818', dhEmi: '2026-11-22T12:30:00-03:00' };
const contingency: Contingency = {
  dhCont: '2026-11-22T12:29:41-03:00',
  xJust: 'SEFAZ sem resposta: emissao em contingencia offline',
};
const items = orderItems(3);
const payment = paymentFor(items);
const online = buildDocument(inputFor(items, payment, numbering));
const offline = buildDocument({ ...inputFor(items, payment, numbering), contingency });
const signedOnline = signNfce(online, testCertificate());
const signed = signNfce(offline, testCertificate());
const xml = XML_DECLARATION + signed.nfeXml;

const noSchemas = schemasMissing();
const noXmlsec = xmlsecMissing();
if (noSchemas) console.warn(`skipping the contingency XSD checks: ${noSchemas}`);
if (noXmlsec) console.warn(`skipping the contingency xmlsec1 checks: ${noXmlsec}`);

describe('the contingency NFC-e (tpEmis 9)', () => {
  it('writes tpEmis 9, then dhCont and xJust right after verProc', () => {
    expect(signed.nfeXml).toContain(
      '<tpImp>4</tpImp><tpEmis>9</tpEmis><cDV>6</cDV><tpAmb>2</tpAmb><finNFe>1</finNFe><indFinal>1</indFinal><indPres>1</indPres>' +
        '<procEmi>0</procEmi><verProc>checkout-test 1.0</verProc><dhCont>2026-11-22T12:29:41-03:00</dhCont>' +
        '<xJust>SEFAZ sem resposta: emissao em contingencia offline</xJust></ide>',
    );
    expect(offline.contingency).toEqual(contingency);
  });

  it('has a key with tpEmis 9 and a valid check digit, not the online key of the same nNF and cNF', () => {
    // 35 2611 82373077000171 65 001 000001001 9 27182818, cDV computed apart (mod 11, weights 2..9).
    expect(signed.chave).toBe('35261182373077000171650010000010019271828186');
    expect(signed.chave).toMatch(ACCESS_KEY_PATTERN);
    expect(signed.chave[34]).toBe('9');
    expect(Number(signed.chave[43])).toBe(checkDigit(signed.chave.slice(0, 43)));
    expect(signed.chave).toBe(
      accessKey({
        cUF: '35',
        yearMonth: '2611',
        cnpj: '82373077000171',
        model: '65',
        serie: 1,
        nNF: 1001,
        tpEmis: 9,
        cNF: '27182818',
      }),
    );
    expect(signed.nfeXml).toContain(`<infNFe versao="4.00" Id="NFe${signed.chave}">`);

    expect(signedOnline.chave).toBe('35261182373077000171650010000010011271828180');
    expect(signedOnline.chave).not.toBe(signed.chave);
    expect(signedOnline.chave.slice(0, 34)).toBe(signed.chave.slice(0, 34));
    expect(signedOnline.chave.slice(35, 43)).toBe(signed.chave.slice(35, 43));
  });

  it('leaves the online document as it was: tpEmis 1, no dhCont or xJust, the online QR code', () => {
    expect(online.contingency).toBeUndefined();
    expect(signedOnline.nfeXml).toContain('<tpEmis>1</tpEmis>');
    expect(signedOnline.nfeXml).toContain('<verProc>checkout-test 1.0</verProc></ide>');
    expect(signedOnline.nfeXml).not.toMatch(/dhCont|xJust/);
    const { urls, csc } = demoEmitter();
    expect(signedOnline.qrCode).toBe(qrCodeV2(urls.qrCode, signedOnline.chave, 2, csc.id, csc.token));
    // Same sale, same content but for ide and what depends on the key.
    const body = (x: string) => x.slice(x.indexOf('</ide>'), x.indexOf('</infNFe>'));
    expect(body(signed.nfeXml)).toBe(body(signedOnline.nfeXml));
  });

  it('maps xJust to schema text and takes 15 to 256 characters of it, refusing anything else', () => {
    const withJust = (xJust: string) =>
      buildDocument({ ...inputFor(items, payment, numbering), contingency: { ...contingency, xJust } });
    expect(withJust('x'.repeat(15)).contingency?.xJust).toBe('x'.repeat(15));
    expect(withJust('y'.repeat(256)).contingency?.xJust).toBe('y'.repeat(256));
    expect(withJust('  Sem  conexão\tcom a SEFAZ – 🚫 ').contingency?.xJust).toBe('Sem conexão com a SEFAZ -');
    expect(() => withJust('x'.repeat(14))).toThrow('contingency xJust must be 15 to 256 characters of NFC-e text, got 14');
    expect(() => withJust('y'.repeat(257))).toThrow('contingency xJust must be 15 to 256 characters of NFC-e text, got 257');
    // Long enough as typed, 10 characters once the emoji go.
    expect(() => withJust('SEFAZ caiu 🚫🚫🚫🚫🚫')).toThrow('got 10');
    expect(() => withJust('')).toThrow('got 0');
  });

  it('wants dhCont as a date-time with offset, no fractions, not after dhEmi', () => {
    const withCont = (dhCont: string) =>
      buildDocument({ ...inputFor(items, payment, numbering), contingency: { ...contingency, dhCont } });
    expect(withCont(numbering.dhEmi).contingency?.dhCont).toBe(numbering.dhEmi);
    expect(withCont('2026-11-22T15:29:59Z'.replace('Z', '+00:00')).contingency?.dhCont).toBe('2026-11-22T15:29:59+00:00');
    for (const bad of [
      '2026-11-22T12:29:41.000-03:00',
      '2026-11-22T12:29:41Z',
      '2026-11-22 12:29:41-03:00',
      '2026-02-30T12:00:00-03:00',
    ]) {
      expect(() => withCont(bad), bad).toThrow(`contingency dhCont "${bad}" is not a date-time`);
    }
    expect(() => withCont('2026-11-22T12:30:01-03:00')).toThrow(
      "contingency dhCont 2026-11-22T12:30:01-03:00 is after the NFC-e's dhEmi 2026-11-22T12:30:00-03:00",
    );
  });
});

describe('the offline QR code (v2, tpEmis 9)', () => {
  it('is exact for a fixed input: day of dhEmi, vNF, the DigestValue text in hex, cIdToken, SHA-1 with the CSC', () => {
    const url = 'https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode';
    const chave = '35261182373077000171650010000010019271828186';
    // The base64 DigestValue text, byte by byte as hex (written out apart from the code).
    const digestValue = 'ce2tc2Yvs/d9qtt1MwXM/QKu1Lo=';
    const digestHex = '6365327463325976732f6439717474314d77584d2f514b75314c6f3d';
    // 23:59 on the 5th in -03:00 is already the 6th in UTC: the day is dhEmi's own.
    const payload = `${chave}|2|2|05|67.10|${digestHex}|3`;
    const hash = createHash('sha1').update(`${payload}CSC-DE-TESTE`).digest('hex').toUpperCase();
    expect(
      qrCodeV2Offline(
        url,
        { chave, tpAmb: 2, dhEmi: '2026-11-05T23:59:59-03:00', vNF: 6710, digestValue },
        '000003',
        'CSC-DE-TESTE',
      ),
    ).toBe(`${url}?p=${payload}|${hash}`);
    expect(qrCodeV2Offline(url, { chave, tpAmb: 1, dhEmi: '2026-11-30T08:00:00-03:00', vNF: 5, digestValue }, '12', 'X')).toMatch(
      new RegExp(`\\?p=${chave}\\|2\\|1\\|30\\|0\\.05\\|${digestHex}\\|12\\|[0-9A-F]{40}$`),
    );
    expect(() => qrCodeV2Offline(url, { chave, tpAmb: 2, dhEmi: 'ontem', vNF: 1, digestValue }, '3', 'X')).toThrow(
      'not a date-time',
    );
    expect(() => qrCodeV2Offline(url, { chave, tpAmb: 2, dhEmi: numbering.dhEmi, vNF: 1, digestValue: 'abc' }, '3', 'X')).toThrow(
      'is not the base64 of a SHA-1',
    );
  });

  it('is what the signed document carries, built from its own DigestValue, day and vNF', () => {
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const digest = doc.getElementsByTagNameNS(DSIG, 'DigestValue')[0]!.textContent!;
    expect(digest).toBe(signed.digestValue);
    const vNF = /<vNF>([\d.]+)<\/vNF>/.exec(signed.nfeXml)![1]!;
    const { urls, csc } = demoEmitter();
    const payload = `${signed.chave}|2|2|22|${vNF}|${Buffer.from(digest).toString('hex')}|3`;
    const hash = createHash('sha1')
      .update(payload + csc.token)
      .digest('hex')
      .toUpperCase();
    expect(signed.qrCode).toBe(`${urls.qrCode}?p=${payload}|${hash}`);
    expect(signed.nfeXml).toContain(
      `<infNFeSupl><qrCode><![CDATA[${signed.qrCode}]]></qrCode><urlChave>${urls.urlChave}</urlChave></infNFeSupl><Signature`,
    );
  });
});

describe.skipIf(Boolean(noSchemas))('against the official XSD (PL_010e_v1.01, nfe_v4.00.xsd)', () => {
  it('the contingency NFC-e validates, and so does its online twin', () => {
    expect(xsdFailures('nfe_v4.00.xsd', { contingency: xml, online: XML_DECLARATION + signedOnline.nfeXml })).toEqual([]);
  });

  it('refuses a contingency NFC-e without its justification, or with an online QR code', () => {
    const withoutJust = xml.replace(/<xJust>.*<\/xJust>/, '');
    expect(xsdFailures('nfe_v4.00.xsd', { withoutJust }).join('\n')).toMatch(/xJust/);
    const onlineQr = xml.replace(signed.qrCode, qrCodeV2(demoEmitter().urls.qrCode, signed.chave, 2, '3', 'X'));
    expect(xsdFailures('nfe_v4.00.xsd', { onlineQr }).join('\n')).toMatch(/qrCode/);
  });
});

describe('the signature', () => {
  it('verifies with xml-crypto', () => {
    const verifier = new SignedXml({ publicCert: testCertificate().certificatePem, getCertFromKeyInfo: () => null });
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    verifier.loadSignature(doc.getElementsByTagNameNS(DSIG, 'Signature')[0]!);
    expect(verifier.checkSignature(xml)).toBe(true);
  });

  it.skipIf(Boolean(noXmlsec))('verifies with xmlsec1, and a changed xJust does not', () => {
    const pem = testCertificate().certificatePem;
    expect(xmlsecVerifies(xml, pem)).toBe(true);
    expect(xmlsecVerifies(xml.replace('<xJust>SEFAZ', '<xJust>Sefaz'), pem)).toBe(false);
  });
});

describe('the receipt of a contingency NFC-e', () => {
  it('prints from the signed NFe alone, before authorization: in contingency, pending, no protocol', () => {
    const text = renderReceipt(signed.nfeXml);
    expect(`\n${text}\n`).toContain(
      [
        '',
        '--------------------------------',
        '     EMITIDA EM AMBIENTE DE',
        ' HOMOLOGAÇÃO - SEM VALOR FISCAL',
        '    EMITIDA EM CONTINGÊNCIA',
        '    Pendente de autorização',
        '--------------------------------',
        '',
      ].join('\n'),
    );
    expect(text).toContain(signed.chave.match(/.{4}/g)!.slice(0, 6).join(' '));
    expect(text).toContain('NFC-e nº 1001 Série 1');
    expect(text).not.toMatch(/Protocolo|Data de autorização/);
    expect(renderReceipt(xml, { columns: 48 })).toContain('Pendente de autorização');
  });

  it('prints the protocol once authorized, still in contingency, no longer pending', () => {
    const proc = nfeProc(
      signed.nfeXml,
      `<protNFe versao="4.00"><infProt><tpAmb>2</tpAmb><verAplic>SP_NFCE_PL_010</verAplic><chNFe>${signed.chave}</chNFe>` +
        `<dhRecbto>2026-11-22T14:02:10-03:00</dhRecbto><nProt>13526000000012345</nProt><digVal>${signed.digestValue}</digVal>` +
        '<cStat>100</cStat><xMotivo>Autorizado o uso da NF-e</xMotivo></infProt></protNFe>',
    );
    const text = renderReceipt(proc);
    expect(text).toContain('EMITIDA EM CONTINGÊNCIA');
    expect(text).not.toContain('Pendente de autorização');
    expect(text).toContain('13526000000012345');
  });

  it('an online NFe without its protocol is still refused', () => {
    expect(() => renderReceipt(signedOnline.nfeXml)).toThrow('missing protNFe');
  });
});
