import { createHash } from 'node:crypto';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDocument, type OrderItem } from '../../functions/nfce/document.ts';
import { PAYMENT_METHODS } from '../../functions/payments/request.ts';
import { signNfce, type SignedNfce } from '../../functions/nfce/xml.ts';
import {
  demoEmitter,
  inputFor,
  paymentFor,
  testCertificate,
  xmlsecMissing,
  xmlsecVerifies,
  itemsTotal,
  orderItem,
  orderItems,
} from '../support/nfce.ts';
import { schemasMissing, xsdFailures } from '../support/xsd.ts';

const NS = 'http://www.portalfiscal.inf.br/nfe';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const item = orderItem;
const items = orderItems;
const total = itemsTotal;

interface Scenario {
  name: string;
  items: OrderItem[];
  payment: ReturnType<typeof paymentFor>;
}

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  for (const method of PAYMENT_METHODS) {
    const order = items(3);
    const value = total(order) / 100;
    const card = ['CREDIT', 'DEBIT', 'CREDIT_DEBIT', 'MEAL_VOUCHER', 'FOOD_VOUCHER'].includes(method);
    list.push({
      name: `paid by ${method}`,
      items: order,
      payment: paymentFor(order, {
        paymentObject: {
          methods: [
            {
              value,
              currency: 'BRL',
              type: 'OFFLINE',
              method,
              ...(card ? { brand: 'MASTERCARD' as const } : {}),
              ...(method === 'CASH' ? { changeFor: Math.ceil(value / 50) * 50 } : {}),
            },
          ],
        },
      }),
    });
  }
  const two = items(2);
  list.push({ name: 'discount and fee', items: two, payment: paymentFor(two, { fees: 120, discounts: 233 }) });
  list.push({
    name: 'fee removed',
    items: two,
    payment: paymentFor(two, { fees: 120, paymentObject: { removeServiceFee: true } }),
  });
  list.push({
    name: 'CPF consumer',
    items: two,
    payment: paymentFor(two, { paymentObject: { documentInReceipt: true, customerDocument: '529.982.247-25' } }),
  });
  list.push({
    name: 'CNPJ consumer',
    items: two,
    payment: paymentFor(two, { paymentObject: { documentInReceipt: true, customerDocument: '11.222.333/0001-81' } }),
  });
  // The first item's name is replaced by the homologation text, so the tricky ones come after it.
  const tricky = [
    item(0),
    item(1, { name: 'Feijoada & Caipirinha <especial> "da casa" – açaí, pão, café' }),
    item(2, { name: `Porção ${'muito grande '.repeat(20)}` }),
    item(3, { name: 'Pizza 🍕 Margherita', unit: 'PORÇÃO' }),
  ];
  list.push({ name: 'escaping, accents and long names', items: tricky, payment: paymentFor(tricky, { fees: 99 }) });
  list.push({ name: 'one item', items: items(1), payment: paymentFor(items(1)) });
  const hundred = items(100);
  list.push({ name: 'a hundred items', items: hundred, payment: paymentFor(hundred, { fees: 1234, discounts: 999 }) });
  const weighed = [item(4, { quantity: 3_575, unitPrice: 5_990, unit: 'KG' })];
  list.push({ name: 'weighed item with 4-decimal quantity', items: weighed, payment: paymentFor(weighed) });
  return list;
}

const signed = new Map<string, SignedNfce>();
const xml = (name: string) => XML_DECLARATION + signed.get(name)!.nfeXml;

beforeAll(() => {
  const certificate = testCertificate();
  scenarios().forEach((s, i) => {
    const document = buildDocument(
      inputFor(s.items, s.payment, { nNF: 500 + i, cNF: String(31415926 + i), dhEmi: '2026-11-22T12:30:00-03:00' }),
    );
    signed.set(s.name, signNfce(document, certificate));
  });
});

const noSchemas = schemasMissing();
const noXmlsec = xmlsecMissing();
if (noSchemas) console.warn(`skipping the XSD checks: ${noSchemas}`);
if (noXmlsec) console.warn(`skipping the xmlsec1 checks: ${noXmlsec}`);

describe.skipIf(Boolean(noSchemas))('against the official XSD (PL_009_V4, nfe_v4.00.xsd)', () => {
  it('every generated NFC-e validates', () => {
    const documents = Object.fromEntries([...signed.keys()].map((name, i) => [`nfce-${i}`, xml(name)]));
    expect(Object.keys(documents)).toHaveLength(scenarios().length);
    expect(xsdFailures('nfe_v4.00.xsd', documents)).toEqual([]);
  });

  it('catches a broken document (the check can fail)', () => {
    const broken = xml('one item').replace('<natOp>VENDA</natOp>', '');
    expect(xsdFailures('nfe_v4.00.xsd', { broken }).join('\n')).toMatch(/natOp|mod/);
  });
});

describe.skipIf(Boolean(noXmlsec))('signatures, checked by xmlsec1', () => {
  it('every signature verifies', () => {
    const pem = testCertificate().certificatePem;
    const failed = [...signed.keys()].filter((name) => !xmlsecVerifies(xml(name), pem));
    expect(failed).toEqual([]);
  });

  it('a tampered document does not verify', () => {
    const tampered = xml('one item').replace('<vNF>', '<vNF>1');
    expect(xmlsecVerifies(tampered, testCertificate().certificatePem)).toBe(false);
  });
});

describe('the document, read back', () => {
  const parse = (name: string) => new DOMParser().parseFromString(xml(name), 'text/xml');
  const text = (parent: Element | Document, tag: string) =>
    Array.from(parent.getElementsByTagNameNS(NS, tag)).map((e) => e.textContent ?? '');
  const centavos = (values: string[]) => values.reduce((sum, v) => sum + Math.round(Number(v) * 100), 0);

  it('verifies with xml-crypto’s own verifier too, with the signature profile SEFAZ asks for', () => {
    for (const name of signed.keys()) {
      const verifier = new SignedXml({ publicCert: testCertificate().certificatePem, getCertFromKeyInfo: () => null });
      const doc = parse(name);
      verifier.loadSignature(doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0]!);
      expect(verifier.checkSignature(xml(name)), name).toBe(true);
    }
    const nfe = signed.get('one item')!.nfeXml;
    expect(nfe).toMatch(/^<NFe xmlns="http:\/\/www.portalfiscal.inf.br\/nfe"><infNFe versao="4.00" Id="NFe\d{44}">/);
    expect(nfe).toContain(
      '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/><SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/><Reference URI="#NFe',
    );
    expect(nfe).toContain(
      '<Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>',
    );
    expect(nfe.indexOf('</infNFe><infNFeSupl>')).toBeGreaterThan(0);
    expect(nfe.indexOf('</infNFeSupl><Signature')).toBeGreaterThan(0);
  });

  it('totals add up to the centavo in every document', () => {
    for (const name of signed.keys()) {
      const doc = parse(name);
      const tot = doc.getElementsByTagNameNS(NS, 'ICMSTot')[0]!;
      const prods = Array.from(doc.getElementsByTagNameNS(NS, 'prod'));
      expect(centavos(prods.map((p) => text(p, 'vProd')[0]!)), name).toBe(centavos(text(tot, 'vProd')));
      expect(centavos(prods.flatMap((p) => text(p, 'vDesc'))), name).toBe(centavos(text(tot, 'vDesc')));
      for (const p of prods) {
        const [q, u, v] = [text(p, 'qCom')[0]!, text(p, 'vUnCom')[0]!, text(p, 'vProd')[0]!];
        expect(Math.round(Number(q) * Number(u) * 100), name).toBe(Math.round(Number(v) * 100));
      }
      const vNF = centavos(text(tot, 'vNF'));
      expect(vNF).toBe(centavos(text(tot, 'vProd')) - centavos(text(tot, 'vDesc')));
      expect(centavos(text(doc, 'vPag')) - centavos(text(doc, 'vTroco')), name).toBe(vNF);
      const icmsItems = Array.from(doc.getElementsByTagNameNS(NS, 'ICMS'));
      expect(centavos(icmsItems.flatMap((i) => text(i, 'vICMS'))), name).toBe(centavos(text(tot, 'vICMS')));
    }
  });

  it('the QR code carries the key and the CSC hash, as SEFAZ recomputes it', () => {
    const { csc, urls } = demoEmitter();
    for (const { chave, qrCode } of signed.values()) {
      const hash = createHash('sha1').update(`${chave}|2|2|3${csc.token}`).digest('hex').toUpperCase();
      expect(qrCode).toBe(`${urls.qrCode}?p=${chave}|2|2|3|${hash}`);
    }
    expect(xml('one item')).toContain(
      `<qrCode><![CDATA[${signed.get('one item')!.qrCode}]]></qrCode><urlChave>${urls.urlChave}</urlChave>`,
    );
  });

  it('escapes & and <, keeps accents, maps or drops what the schema refuses, truncates to 120', () => {
    const raw = xml('escaping, accents and long names');
    expect(raw).toContain('<xProd>Feijoada &amp; Caipirinha &lt;especial&gt; "da casa" - açaí, pão, café</xProd>');
    const names = text(parse('escaping, accents and long names'), 'xProd');
    expect(names[1]).toBe('Feijoada & Caipirinha <especial> "da casa" - açaí, pão, café');
    expect(names[2]).toHaveLength(120);
    expect(names[3]).toBe('Pizza Margherita');
    expect(text(parse('escaping, accents and long names'), 'uCom')[3]).toBe('PORÇÃO');
  });

  it('writes the consumer only when asked, CPF or CNPJ', () => {
    expect(xml('CPF consumer')).toContain('<dest><CPF>52998224725</CPF><indIEDest>9</indIEDest></dest>');
    expect(xml('CNPJ consumer')).toContain('<dest><CNPJ>11222333000181</CNPJ><indIEDest>9</indIEDest></dest>');
    expect(xml('one item')).not.toContain('<dest>');
  });

  it('writes the payment groups', () => {
    expect(xml('paid by CASH')).toMatch(
      /<detPag><indPag>0<\/indPag><tPag>01<\/tPag><vPag>50.00<\/vPag><\/detPag><vTroco>\d+\.\d\d<\/vTroco>/,
    );
    expect(xml('paid by CREDIT')).toMatch(
      /<tPag>03<\/tPag><vPag>[\d.]+<\/vPag><card><tpIntegra>2<\/tpIntegra><tBand>02<\/tBand><\/card>/,
    );
    expect(xml('paid by OTHER')).toMatch(/<tPag>99<\/tPag><xPag>Outros<\/xPag>/);
    expect(xml('weighed item with 4-decimal quantity')).toContain(
      '<uCom>KG</uCom><qCom>0.3575</qCom><vUnCom>59.9000</vUnCom><vProd>21.41</vProd>',
    );
  });
});
