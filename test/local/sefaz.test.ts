import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestA1, openA1, type A1Certificate } from '../../functions/nfce/certificate.ts';
import { checkDigit } from '../../lib/simulators/sefaz/access-key.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import { xmlsecMissing } from '../support/nfce.ts';
import { sefazServices, startSefazSimulator, type SefazSimulator } from '../../lib/simulators/sefaz/index.ts';
import {
  HOMOLOGATION_QRCODE,
  NFE_NS,
  CONSULTATION_ACTION,
  SOAP_ACTION,
  authorizationEnvelope,
  brasiliaNow,
  consultationEnvelope,
  offlineQrCodeFor,
  qrCodeFor,
  removeElement,
  setText,
  signedNfce,
  statusEnvelope,
  withQrCode,
  type NfceOptions,
} from './sefaz-nfce.ts';

const projectRoot = resolve(import.meta.dirname, '../..');
const schemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_009_V4');
const schemasAbsent = existsSync(schemasDir) ? undefined : `${schemasDir} is absent`;
if (schemasAbsent) console.warn(`SEFAZ simulator tests run without XSD validation: ${schemasAbsent}`);
const noXmlsec = xmlsecMissing();
if (noXmlsec) console.warn(`skipping the xmlsec1 check of the simulator's test documents: ${noXmlsec}`);

const CNPJ = '82373077000171';
const OTHER_CNPJ = '11222333000181';
const CSC = { id: '000001', token: '0123456789ABCDEF0123456789ABCDEF0123' };
const STATUS_ACTION = 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeStatusServico4/nfeStatusServicoNF';

let sefaz: SefazSimulator;
/** Without schemas: for what the XSD would reject first (225) before the check under test. */
let lenient: SefazSimulator;
let a1: A1Certificate;
let otherA1: A1Certificate;
let expiredA1: A1Certificate;
let noCnpjA1: A1Certificate;
let nextNumber = 1000;

beforeAll(async () => {
  const a1For = (name: string, cnpj: string, validDays?: number) =>
    openA1(createTestA1({ name, cnpj, password: 'x', validDays }), 'x');
  a1 = a1For('ALBINO LTDA', CNPJ);
  otherA1 = a1For('OUTRA LTDA', OTHER_CNPJ);
  expiredA1 = a1For('ALBINO LTDA', CNPJ, -0.5);
  noCnpjA1 = a1For('ALBINO LTDA', '');
  sefaz = await startSefazSimulator({ port: 0, schemasDir: schemasAbsent ? undefined : schemasDir, csc: { [CNPJ]: CSC } });
  lenient = await startSefazSimulator({ csc: { [CNPJ]: CSC } });
});
afterAll(async () => {
  await sefaz?.close();
  await lenient?.close();
});
beforeEach(() => sefaz.control.reset());

const nfce = (options: Partial<NfceOptions> = {}) => signedNfce({ a1, cnpj: CNPJ, csc: CSC, nNF: nextNumber++, ...options });

interface Reply {
  httpStatus: number;
  contentType: string | null;
  body: string;
}

async function post(
  body: string,
  options: { path?: string; contentType?: string; signal?: AbortSignal; url?: string } = {},
): Promise<Reply> {
  const path = options.path ?? '/ws/NFeAutorizacao4.asmx';
  const action = path.includes('Status') ? STATUS_ACTION : path.includes('Consulta') ? CONSULTATION_ACTION : SOAP_ACTION;
  const response = await fetch(`${options.url ?? sefaz.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? `application/soap+xml;charset=utf-8;action="${action}"` },
    body,
    signal: options.signal,
  });
  return { httpStatus: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

const resultNamespaces = {
  retEnviNFe: 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeAutorizacao4',
  retConsStatServ: 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeStatusServico4',
  retConsSitNFe: 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeConsultaProtocolo4',
};

/** The answer's NF-e element (retEnviNFe, retConsStatServ, retConsSitNFe) and its fields. */
function answer(reply: Reply, root: keyof typeof resultNamespaces = 'retEnviNFe') {
  expect(reply.httpStatus).toBe(200);
  expect(reply.contentType).toBe('application/soap+xml; charset=utf-8');
  const doc = new DOMParser().parseFromString(reply.body, 'text/xml');
  const result = doc.getElementsByTagNameNS(resultNamespaces[root], 'nfeResultMsg')[0]!;
  const element = result.getElementsByTagNameNS(NFE_NS, root)[0]!;
  const field = (parent: Element | undefined, name: string) =>
    parent ? [...parent.childNodes].find((n) => n.nodeType === 1 && (n as Element).localName === name)?.textContent : undefined;
  const protNFe = element.getElementsByTagNameNS(NFE_NS, 'protNFe')[0];
  const infProt = element.getElementsByTagNameNS(NFE_NS, 'infProt')[0];
  return {
    xml: new XMLSerializer().serializeToString(element),
    /** protNFe as sent, to compare a consultation's with the authorization's. */
    protXml: protNFe && new XMLSerializer().serializeToString(protNFe),
    cStat: field(element, 'cStat'),
    xMotivo: field(element, 'xMotivo'),
    tpAmb: field(element, 'tpAmb'),
    cUF: field(element, 'cUF'),
    dhRecbto: field(element, 'dhRecbto'),
    chNFe: field(element, 'chNFe'),
    prot: infProt && {
      tpAmb: field(infProt, 'tpAmb'),
      verAplic: field(infProt, 'verAplic'),
      chNFe: field(infProt, 'chNFe'),
      dhRecbto: field(infProt, 'dhRecbto'),
      nProt: field(infProt, 'nProt'),
      digVal: field(infProt, 'digVal'),
      cStat: field(infProt, 'cStat'),
      xMotivo: field(infProt, 'xMotivo'),
    },
  };
}

const authorize = async (xml: string, url?: string) => answer(await post(authorizationEnvelope(xml), { url }));

/** The answer validates against the official schema (in process, as the simulator validates what it receives). */
function validates(xml: string, schema: string): void {
  expect(schemaValidator(schemasDir, schema).failures(xml)).toEqual([]);
}

describe('NFeAutorizacao4', () => {
  it('authorizes a valid NFC-e: lot 104, protocol 100 with a 15-digit nProt and the DigestValue', async () => {
    const document = nfce();
    const result = await authorize(document.xml);
    expect(result).toMatchObject({ cStat: '104', xMotivo: 'Lote processado', tpAmb: '2', cUF: '35' });
    expect(result.dhRecbto).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-03:00$/);
    expect(result.prot).toEqual({
      tpAmb: '2',
      verAplic: 'SP_NFCE_PL_009_V400',
      chNFe: document.chNFe,
      dhRecbto: result.dhRecbto,
      nProt: expect.stringMatching(new RegExp(`^135${brasiliaNow().slice(2, 4)}\\d{10}$`)),
      digVal: document.digestValue,
      cStat: '100',
      xMotivo: 'Autorizado o uso da NF-e',
    });
    expect(sefaz.control.authorized()).toEqual([expect.objectContaining({ chNFe: document.chNFe, nProt: result.prot!.nProt })]);
    if (!schemasAbsent) validates(result.xml, 'retEnviNFe_v4.00.xsd');
  });

  it('gives increasing protocol numbers', async () => {
    const first = await authorize(nfce().xml);
    const second = await authorize(nfce().xml);
    expect(BigInt(second.prot!.nProt!)).toBeGreaterThan(BigInt(first.prot!.nProt!));
  });

  it.skipIf(Boolean(noXmlsec))('signs test documents the standard way (xmlsec1 agrees with the simulator)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sefaz-'));
    writeFileSync(join(dir, 'cert.pem'), a1.certificatePem);
    const verify = (xml: string) => {
      writeFileSync(join(dir, 'nfe.xml'), xml);
      const args = ['--verify', '--id-attr:Id', 'infNFe', '--trusted-pem', join(dir, 'cert.pem'), join(dir, 'nfe.xml')];
      try {
        execFileSync('xmlsec1', args, { stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    };
    try {
      const document = nfce();
      expect(verify(document.xml)).toBe(true);
      expect(verify(document.xml.replace('<xProd>TAXA SERVICO</xProd>', '<xProd>TAXA SERVICO VIP</xProd>'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('answers 204 for a key already authorized', async () => {
    const document = nfce();
    expect((await authorize(document.xml)).prot?.cStat).toBe('100');
    const again = await authorize(document.xml);
    expect(again.cStat).toBe('104');
    expect(again.prot).toMatchObject({
      cStat: '204',
      xMotivo: `Rejeição: Duplicidade de NF-e [chNFe:${document.chNFe}]`,
      nProt: undefined,
    });
    if (!schemasAbsent) validates(again.xml, 'retEnviNFe_v4.00.xsd');
  });

  it('answers 539 for the same series and number under another key', async () => {
    const nNF = nextNumber++;
    const first = nfce({ nNF, cNF: '11111111' });
    const second = nfce({ nNF, cNF: '22222222' });
    expect((await authorize(first.xml)).prot?.cStat).toBe('100');
    const result = await authorize(second.xml);
    expect(result.prot?.cStat).toBe('539');
    expect(result.prot?.xMotivo).toMatch(
      new RegExp(
        `^Rejeição: Duplicidade de NF-e com diferença na Chave de Acesso \\[chNFe:${first.chNFe}\\]\\[nRec:35\\d{13}\\]$`,
      ),
    );
  });

  /** [what, cStat, xMotivo, document, whether the XSD would reject it first] */
  const rejections: [string, string, string, () => string, 'lenient'?][] = [
    [
      'a tampered item',
      '297',
      'Rejeição: Assinatura difere do calculado',
      () => nfce().xml.replace('<vProd>6.10</vProd>', '<vProd>6.20</vProd>'),
    ],
    [
      'a wrong check digit',
      '236',
      'Rejeição: Chave de Acesso com dígito verificador inválido',
      () =>
        nfce({
          afterKey: (infNFe) => {
            const key = infNFe.getAttribute('Id')!.slice(3, 46);
            const wrong = String((Number(checkDigit(key)) + 1) % 10);
            setText(infNFe, 'ide/cDV', wrong);
            infNFe.setAttribute('Id', `NFe${key}${wrong}`);
          },
        }).xml,
    ],
    [
      'an Id that is not the fields',
      '502',
      'Rejeição: Erro na Chave de Acesso - Campo Id não corresponde à concatenação dos campos correspondentes',
      () => nfce({ afterKey: (infNFe) => setText(infNFe, 'ide/nNF', '999999') }).xml,
    ],
    [
      'a non-standard signature (RSA-SHA256)',
      '298',
      'Rejeição: Assinatura difere do padrão do Sistema',
      () =>
        nfce().xml.replace('xmldsig#rsa-sha1', 'xmldsig-more#rsa-sha256').replace('2000/09/xmldsig-more', '2001/04/xmldsig-more'),
      'lenient',
    ],
    ['an expired certificate', '291', 'Rejeição: Certificado Assinatura Data Validade', () => nfce({ a1: expiredA1 }).xml],
    ['a certificate without a CNPJ', '292', 'Rejeição: Certificado Assinatura sem CNPJ', () => nfce({ a1: noCnpjA1 }).xml],
    [
      "another CNPJ's certificate",
      '213',
      'Rejeição: CNPJ-Base do Emitente difere do CNPJ-Base do Certificado Digital',
      () => nfce({ a1: otherA1 }).xml,
    ],
    [
      'a QR code hashed with another CSC',
      '464',
      'Rejeição: Código de Hash no QR-Code difere do calculado',
      () => nfce({ qrCode: (chNFe) => qrCodeFor(chNFe, '2', { id: CSC.id, token: 'WRONG-TOKEN' }) }).xml,
    ],
    [
      'a QR code with an unregistered CSC id',
      '462',
      'Rejeição: Código Identificador do CSC no QR-Code não cadastrado na SEFAZ',
      () => nfce({ qrCode: (chNFe) => qrCodeFor(chNFe, '2', { id: '2', token: CSC.token }) }).xml,
    ],
    [
      'no QR code',
      '394',
      'Rejeição: Nota Fiscal sem a informação do QR-Code',
      () => nfce().xml.replace(/<infNFeSupl>.*<\/infNFeSupl>/, ''),
    ],
    [
      'a QR code without its hash',
      '396',
      'Rejeição: Parâmetro do QR-Code inexistente',
      () => nfce({ qrCode: (chNFe) => qrCodeFor(chNFe, '2', CSC).replace(/\|[0-9A-F]{40}$/, '') }).xml,
      'lenient',
    ],
    [
      "a QR code with another document's key",
      '397',
      'Rejeição: Parâmetro do QR-Code divergente da Nota Fiscal',
      () => nfce({ qrCode: (chNFe) => qrCodeFor(`${chNFe.slice(0, 40)}0000`, '2', CSC) }).xml,
    ],
    [
      'a version 3 QR code',
      '398',
      'Rejeição: Parâmetro Versão informada no QR-Code diverge do previsto (“2”)',
      () => nfce({ qrCode: (chNFe) => `${HOMOLOGATION_QRCODE}?p=${chNFe}|3|2` }).xml,
      'lenient',
    ],
    [
      "another state's QR code address",
      '395',
      'Rejeição: Endereço do site da UF da Consulta via QR-Code diverge do previsto',
      () => nfce({ qrCode: (chNFe) => qrCodeFor(chNFe, '2', CSC, 'https://www.sefaz.rs.gov.br/NFCE/NFCE-COM.aspx') }).xml,
    ],
    [
      "another state's document",
      '226',
      'Rejeição: Código da UF do Emitente diverge da UF autorizadora',
      () => nfce({ edit: (infNFe) => setText(infNFe, 'ide/cUF', '41') }).xml,
    ],
    [
      'an NF-e (model 55)',
      '775',
      'Rejeição: Modelo da NFC-e diferente de 65',
      () => nfce({ edit: (infNFe) => setText(infNFe, 'ide/mod', '55') }).xml,
    ],
    [
      'a production document in homologation',
      '252',
      'Rejeição: Ambiente informado diverge do Ambiente de recebimento',
      () => nfce({ tpAmb: '1' }).xml,
    ],
    [
      'an item whose vProd is not qCom × vUnCom',
      '629',
      'Rejeição: Valor do Produto difere do produto Valor Unitário de Comercialização e Quantidade Comercial',
      () => nfce({ edit: (infNFe) => setText(infNFe, 'det/prod/vUnCom', '61.0100') }).xml,
    ],
    [
      'a vProd total off by a centavo',
      '564',
      'Rejeição: Total do Produto / Serviço difere do somatório dos itens',
      () => nfce({ edit: (infNFe) => setText(infNFe, 'total/ICMSTot/vProd', '67.11') }).xml,
    ],
    [
      'a vICMS total that is not the items’',
      '532',
      'Rejeição: Total do ICMS difere do somatório dos itens',
      () => nfce({ edit: (infNFe) => setText(infNFe, 'total/ICMSTot/vICMS', '9.85') }).xml,
    ],
    [
      'a vNF that is not vProd − vDesc + …',
      '610',
      'Rejeição: Total da NF difere do somatório dos Valores compõe o valor Total da NF.',
      () =>
        nfce({
          edit: (infNFe) => {
            setText(infNFe, 'total/ICMSTot/vNF', '70.00');
            setText(infNFe, 'pag/detPag/vPag', '70.00');
          },
        }).xml,
    ],
    [
      'a discount total that is not the items’',
      '537',
      'Rejeição: Total do Desconto difere do somatório dos itens',
      () => nfce({ edit: (infNFe) => setText(infNFe, 'total/ICMSTot/vDesc', '1.00') }).xml,
    ],
    [
      'payments short of vNF',
      '865',
      'Rejeição: Total dos pagamentos menor que o total da nota',
      () => nfce({ edit: (infNFe) => setText(infNFe, 'pag/detPag/vPag', '67.00') }).xml,
    ],
    [
      'payments over vNF without change',
      '866',
      'Rejeição: Ausência de troco quando o valor dos pagamentos informados for maior que o total da nota',
      () =>
        nfce({
          edit: (infNFe) => {
            setText(infNFe, 'pag/detPag/vPag', '70.00');
            removeElement(infNFe, 'pag/vTroco');
          },
        }).xml,
    ],
    [
      'a wrong change',
      '869',
      'Rejeição: Valor do troco incorreto',
      () =>
        nfce({
          edit: (infNFe) => {
            setText(infNFe, 'pag/detPag/vPag', '70.00');
            setText(infNFe, 'pag/vTroco', '2.00');
          },
        }).xml,
    ],
  ];

  it.each(rejections)('rejects %s with %s', async (_, cStat, xMotivo, xml, server) => {
    const result = await authorize(xml(), server && lenient.url);
    expect(result).toMatchObject({ cStat: '104', xMotivo: 'Lote processado' });
    expect(result.prot).toMatchObject({ cStat, xMotivo, nProt: undefined });
    expect(sefaz.control.authorized()).toEqual([]);
  });

  it('checks the offline QR code of a contingency NFC-e (tpEmis 9) against vNF and the DigestValue', async () => {
    const document = nfce({ tpEmis: '9' });
    expect((await authorize(withQrCode(document, offlineQrCodeFor(document, '67.10', CSC)))).prot?.cStat).toBe('100');

    const other = nfce({ tpEmis: '9' });
    const wrongTotal = await authorize(withQrCode(other, offlineQrCodeFor(other, '67.00', CSC)));
    expect(wrongTotal.prot).toMatchObject({ cStat: '397', xMotivo: 'Rejeição: Parâmetro do QR-Code divergente da Nota Fiscal' });
  });

  it('accepts change that closes Σ vPag − vTroco = vNF', async () => {
    const document = nfce({
      edit: (infNFe) => {
        setText(infNFe, 'pag/detPag/vPag', '100.00');
        setText(infNFe, 'pag/vTroco', '32.90');
      },
    });
    expect((await authorize(document.xml)).prot?.cStat).toBe('100');
  });

  it('answers 225 at lot level, without protNFe, for XML that does not parse', async () => {
    const broken = nfce().xml.replace('</infNFeSupl>', '');
    const result = answer(await post(authorizationEnvelope(broken)));
    expect(result).toMatchObject({ cStat: '225', xMotivo: 'Rejeição: Falha no Schema XML do lote de NFe', prot: undefined });
    if (!schemasAbsent) validates(result.xml, 'retEnviNFe_v4.00.xsd');
  });

  it('answers 225 for a document that fails the schema, and only when schemas are configured', async (context) => {
    if (schemasAbsent) return context.skip(schemasAbsent);
    const withoutNatOp = () => nfce({ edit: (infNFe) => removeElement(infNFe, 'ide/natOp') }).xml;
    const result = await authorize(withoutNatOp());
    expect(result).toMatchObject({ cStat: '225', xMotivo: 'Rejeição: Falha no Schema XML do lote de NFe', prot: undefined });

    expect((await authorize(withoutNatOp(), lenient.url)).prot?.cStat).toBe('100');
  });

  it('answers 764 for a synchronous lot with two NFC-e and 404 for a namespace prefix', async () => {
    const two = answer(await post(authorizationEnvelope(nfce().xml + nfce().xml)));
    expect(two).toMatchObject({
      cStat: '764',
      xMotivo: 'Rejeição: Solicitada resposta síncrona para Lote com mais de uma NF-e (indSinc=1)',
    });

    const prefixed = nfce()
      .xml.replace(/<(\/?)Signature/g, '<$1ds:Signature')
      .replace('xmlns="http://www.w3.org/2000/09/xmldsig#"', 'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"');
    const result = await authorize(prefixed, lenient.url);
    expect(result).toMatchObject({ cStat: '404', xMotivo: 'Rejeição: Uso de prefixo de namespace não permitido' });
  });

  it('answers 452 for an asynchronous lot of one NFC-e and 214 for a message over 500 KB', async () => {
    const asynchronous = answer(await post(authorizationEnvelope(nfce().xml, { indSinc: '0' })));
    expect(asynchronous).toMatchObject({
      cStat: '452',
      xMotivo: 'Rejeição: Solicitada resposta assíncrona para Lote com somente 1 (uma) NF-e',
    });
    const huge = answer(
      await post(authorizationEnvelope(nfce().xml).replace('<idLote>', `<!--${'x'.repeat(512_000)}--><idLote>`)),
    );
    expect(huge).toMatchObject({ cStat: '214', xMotivo: 'Rejeição: Tamanho da mensagem excedeu o limite estabelecido' });
  });

  it('answers SOAP faults for calls that are not SOAP 1.2 calls of the service', async () => {
    const body = authorizationEnvelope(nfce().xml);
    const wrongType = await post(body, { contentType: 'text/xml; charset=utf-8' });
    expect(wrongType.httpStatus).toBe(415);
    expect(wrongType.body).toContain('<soap:Value>soap:Sender</soap:Value>');
    const wrongAction = await post(body, { contentType: `application/soap+xml;charset=utf-8;action="${STATUS_ACTION}"` });
    expect(wrongAction.httpStatus).toBe(415);
    const notSoap = await post('<enviNFe/>');
    expect(notSoap.httpStatus).toBe(400);
    expect((await fetch(`${sefaz.url}/ws/NFeAutorizacao4.asmx`)).status).toBe(405);
    expect((await fetch(`${sefaz.url}/ws/Nope.asmx`, { method: 'POST' })).status).toBe(404);
  });
});

describe('schema validation', () => {
  it('runs in process: lots sent at once, with no program on PATH, each get their own verdict', async (context) => {
    if (schemasAbsent) return context.skip(schemasAbsent);
    // An empty PATH: a validator that spawned xmllint (or anything else) would fail every lot.
    const emptyBin = mkdtempSync(join(tmpdir(), 'no-tools-'));
    const savedPath = process.env.PATH;
    process.env.PATH = emptyBin;
    try {
      const lots = Array.from({ length: 12 }, (_, i) =>
        i % 3 === 2 ? nfce({ edit: (infNFe) => removeElement(infNFe, 'ide/natOp') }).xml : nfce().xml,
      );
      const results = await Promise.all(lots.map((xml) => authorize(xml)));
      expect(results.map((r) => r.prot?.cStat ?? r.cStat)).toEqual(lots.map((_, i) => (i % 3 === 2 ? '225' : '100')));
    } finally {
      process.env.PATH = savedPath;
      rmSync(emptyBin, { recursive: true });
    }
  });

  it('compiles each schema once per process and names what a document breaks', (context) => {
    if (schemasAbsent) return context.skip(schemasAbsent);
    const validator = schemaValidator(schemasDir, 'consStatServ_v4.00.xsd');
    expect(schemaValidator(`${schemasDir}/`, 'consStatServ_v4.00.xsd')).toBe(validator);
    expect(schemaValidator(schemasDir, 'consSitNFe_v4.00.xsd')).not.toBe(validator);
    const message = (content: string) => `<consStatServ xmlns="${NFE_NS}" versao="4.00">${content}</consStatServ>`;
    expect(validator.failures(message('<tpAmb>2</tpAmb><cUF>35</cUF><xServ>STATUS</xServ>'))).toEqual([]);
    expect(validator.failures(message('<tpAmb>2</tpAmb><xServ>STATUS</xServ>')).join('\n')).toMatch(/xServ.*cUF|cUF/);
    expect(validator.failures(message('<tpAmb>3</tpAmb><cUF>35</cUF><xServ>STATUS</xServ>')).join('\n')).toMatch(/tpAmb/);
    expect(validator.failures('<consStatServ versao="4.00"><tpAmb>2</tpAmb>').join('\n')).toMatch(/^line 1: /);
  });
});

describe('NFeStatusServico4', () => {
  it('answers 107 in operation, 108/109 when paused or stopped (and lots get the same)', async () => {
    const running = answer(await post(statusEnvelope(), { path: '/ws/NFeStatusServico4.asmx' }), 'retConsStatServ');
    expect(running).toMatchObject({ cStat: '107', xMotivo: 'Serviço em Operação', tpAmb: '2', cUF: '35' });
    if (!schemasAbsent) validates(running.xml, 'retConsStatServ_v4.00.xsd');

    sefaz.control.setServiceStatus('paused');
    const paused = answer(await post(statusEnvelope(), { path: '/ws/NFeStatusServico4.asmx' }), 'retConsStatServ');
    expect(paused).toMatchObject({ cStat: '108', xMotivo: 'Serviço Paralisado Momentaneamente (curto prazo)' });
    expect(await authorize(nfce().xml)).toMatchObject({ cStat: '108', prot: undefined });

    sefaz.control.setServiceStatus('stopped');
    const stopped = answer(await post(statusEnvelope(), { path: '/ws/NFeStatusServico4.asmx' }), 'retConsStatServ');
    expect(stopped).toMatchObject({ cStat: '109', xMotivo: 'Serviço Paralisado sem Previsão' });
    if (!schemasAbsent) validates(stopped.xml, 'retConsStatServ_v4.00.xsd');
  });

  it('answers 252 for another environment and 289 for another UF', async () => {
    const environment = answer(await post(statusEnvelope('1'), { path: '/ws/NFeStatusServico4.asmx' }), 'retConsStatServ');
    expect(environment).toMatchObject({
      cStat: '252',
      xMotivo: 'Rejeição: Ambiente informado diverge do Ambiente de recebimento',
    });
    const uf = answer(await post(statusEnvelope('2', '41'), { path: '/ws/NFeStatusServico4.asmx' }), 'retConsStatServ');
    expect(uf).toMatchObject({ cStat: '289', xMotivo: 'Rejeição: Código da UF informada diverge da UF solicitada' });
  });
});

describe('NFeConsultaProtocolo4', () => {
  const path = '/ws/NFeConsultaProtocolo4.asmx';
  const consult = async (chNFe: string, options: { tpAmb?: string; content?: string; url?: string } = {}) =>
    answer(await post(consultationEnvelope(chNFe, options), { path, url: options.url }), 'retConsSitNFe');
  const NOT_FOUND = 'Rejeição: NF-e não consta na base de dados da SEFAZ';

  it('is the service at sefazServices.consultation', () => {
    expect(sefazServices.consultation).toEqual({
      path: '/ws/NFeConsultaProtocolo4.asmx',
      wsdl: 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeConsultaProtocolo4',
      action: CONSULTATION_ACTION,
      payload: 'consSitNFe',
    });
  });

  it('answers 100 for an authorized key, with the protNFe its authorization answered', async () => {
    const document = nfce();
    const authorized = await authorize(document.xml);
    expect(authorized.prot?.cStat).toBe('100');

    const result = await consult(document.chNFe);
    expect(result).toMatchObject({
      cStat: '100',
      xMotivo: 'Autorizado o uso da NF-e',
      tpAmb: '2',
      cUF: '35',
      chNFe: document.chNFe,
    });
    expect(result.dhRecbto).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-03:00$/);
    expect(result.prot).toEqual({
      tpAmb: '2',
      verAplic: 'SP_NFCE_PL_009_V400',
      chNFe: document.chNFe,
      dhRecbto: authorized.prot!.dhRecbto,
      nProt: authorized.prot!.nProt,
      digVal: document.digestValue,
      cStat: '100',
      xMotivo: 'Autorizado o uso da NF-e',
    });
    expect(result.protXml).toBe(authorized.protXml);
    expect(sefaz.control.calls()).toEqual({ authorization: 1, status: 0, consultation: 1 });
    if (!schemasAbsent) validates(result.xml, 'retConsSitNFe_v4.00.xsd');
  });

  it("repeats the authorization's dhRecbto, not the consultation's", async () => {
    let clock = new Date();
    const clocked = await startSefazSimulator({ csc: { [CNPJ]: CSC }, now: () => clock });
    try {
      const document = nfce();
      const authorized = await authorize(document.xml, clocked.url);
      clock = new Date(clock.getTime() + 3_600_000);
      const result = await consult(document.chNFe, { url: clocked.url });
      expect(result.cStat).toBe('100');
      expect(result.dhRecbto).not.toBe(authorized.dhRecbto);
      expect(result.prot?.dhRecbto).toBe(authorized.dhRecbto);
      expect(result.protXml).toBe(authorized.protXml);
    } finally {
      await clocked.close();
    }
  });

  it('answers 217 without protNFe for a key never authorized (unknown or rejected)', async () => {
    const neverSent = nfce().chNFe;
    const unknown = await consult(neverSent);
    expect(unknown).toMatchObject({ cStat: '217', xMotivo: NOT_FOUND, tpAmb: '2', cUF: '35', chNFe: neverSent, prot: undefined });
    expect(unknown.xml).not.toContain('protNFe');
    if (!schemasAbsent) validates(unknown.xml, 'retConsSitNFe_v4.00.xsd');

    const document = nfce();
    const rejected = await authorize(document.xml.replace('<vProd>6.10</vProd>', '<vProd>6.20</vProd>'));
    expect(rejected.prot?.cStat).toBe('297');
    expect(await consult(document.chNFe)).toMatchObject({
      cStat: '217',
      xMotivo: NOT_FOUND,
      chNFe: document.chNFe,
      prot: undefined,
    });
  });

  it('answers 252 without protNFe for another environment, even for an authorized key', async () => {
    const document = nfce();
    expect((await authorize(document.xml)).prot?.cStat).toBe('100');
    const result = await consult(document.chNFe, { tpAmb: '1' });
    expect(result).toMatchObject({
      cStat: '252',
      xMotivo: 'Rejeição: Ambiente informado diverge do Ambiente de recebimento',
      tpAmb: '2',
      chNFe: document.chNFe,
      prot: undefined,
    });
    if (!schemasAbsent) validates(result.xml, 'retConsSitNFe_v4.00.xsd');
  });

  it('answers 215 for a message that is not a consSitNFe, with or without schemas', async () => {
    const SCHEMA = { cStat: '215', xMotivo: 'Rejeição: Falha no schema XML', prot: undefined };
    const chNFe = nfce().chNFe;
    for (const url of [sefaz.url, lenient.url]) {
      const wrongService = await consult(chNFe, { url, content: `<tpAmb>2</tpAmb><xServ>STATUS</xServ><chNFe>${chNFe}</chNFe>` });
      expect(wrongService).toMatchObject({ ...SCHEMA, chNFe });
      if (!schemasAbsent) validates(wrongService.xml, 'retConsSitNFe_v4.00.xsd');
      expect(await consult(chNFe.slice(1), { url })).toMatchObject({ ...SCHEMA, chNFe: undefined });
    }
    const statusMessage = statusEnvelope().replaceAll('NFeStatusServico4', 'NFeConsultaProtocolo4');
    expect(answer(await post(statusMessage, { path }), 'retConsSitNFe')).toMatchObject(SCHEMA);
  });

  it('answers 215 for elements out of order, only when schemas are configured', async (context) => {
    if (schemasAbsent) return context.skip(schemasAbsent);
    const document = nfce();
    expect((await authorize(document.xml)).prot?.cStat).toBe('100');
    const content = `<xServ>CONSULTAR</xServ><tpAmb>2</tpAmb><chNFe>${document.chNFe}</chNFe>`;
    const result = await consult(document.chNFe, { content });
    expect(result).toMatchObject({ cStat: '215', xMotivo: 'Rejeição: Falha no schema XML', chNFe: document.chNFe });
    validates(result.xml, 'retConsSitNFe_v4.00.xsd');

    const lenientDocument = nfce();
    expect((await authorize(lenientDocument.xml, lenient.url)).prot?.cStat).toBe('100');
    const lenientContent = `<xServ>CONSULTAR</xServ><tpAmb>2</tpAmb><chNFe>${lenientDocument.chNFe}</chNFe>`;
    expect((await consult(lenientDocument.chNFe, { url: lenient.url, content: lenientContent })).cStat).toBe('100');
  });

  it('answers 108/109 when the service is paused or stopped', async () => {
    const document = nfce();
    expect((await authorize(document.xml)).prot?.cStat).toBe('100');
    sefaz.control.setServiceStatus('paused');
    const paused = await consult(document.chNFe);
    expect(paused).toMatchObject({
      cStat: '108',
      xMotivo: 'Serviço Paralisado Momentaneamente (curto prazo)',
      chNFe: document.chNFe,
      prot: undefined,
    });
    if (!schemasAbsent) validates(paused.xml, 'retConsSitNFe_v4.00.xsd');
    sefaz.control.setServiceStatus('stopped');
    expect(await consult(document.chNFe)).toMatchObject({ cStat: '109', xMotivo: 'Serviço Paralisado sem Previsão' });
    sefaz.control.setServiceStatus('running');
    expect((await consult(document.chNFe)).cStat).toBe('100');
  });

  it('answers a SOAP fault for another operation’s action', async () => {
    const reply = await post(consultationEnvelope(nfce().chNFe), {
      path,
      contentType: `application/soap+xml;charset=utf-8;action="${STATUS_ACTION}"`,
    });
    expect(reply.httpStatus).toBe(415);
    expect(reply.body).toContain('<soap:Value>soap:Sender</soap:Value>');
  });

  it('fails with 503, answers late and goes down as told, counting every call', async () => {
    const chNFe = nfce().chNFe;
    sefaz.control.failWith(503, 1);
    const failed = await post(consultationEnvelope(chNFe), { path });
    expect(failed.httpStatus).toBe(503);
    expect(failed.body).toContain('<soap:Fault>');
    expect((await consult(chNFe)).cStat).toBe('217');

    sefaz.control.setDelay(150);
    const started = Date.now();
    expect((await consult(chNFe)).cStat).toBe('217');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    sefaz.control.setDelay(0);

    await sefaz.control.down();
    await expect(post(consultationEnvelope(chNFe), { path })).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await sefaz.control.up();
    expect((await consult(chNFe)).cStat).toBe('217');
    expect(sefaz.control.calls()).toEqual({ authorization: 0, status: 0, consultation: 4 });
  });
});

describe('control', () => {
  const status = () => post(statusEnvelope(), { path: '/ws/NFeStatusServico4.asmx' });

  it('answers late, having processed the lot first', async () => {
    sefaz.control.setDelay(250);
    const started = Date.now();
    expect(answer(await status(), 'retConsStatServ').cStat).toBe('107');
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);

    const document = nfce();
    await expect(post(authorizationEnvelope(document.xml), { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sefaz.control.authorized().map((a) => a.chNFe)).toEqual([document.chNFe]);
  });

  it('answers HTTP 500/503 with a SOAP fault for the next N calls, or always', async () => {
    sefaz.control.failWith(503, 2);
    for (let i = 0; i < 2; i++) {
      const reply = await status();
      expect(reply.httpStatus).toBe(503);
      expect(reply.body).toContain('<soap:Fault>');
    }
    expect((await status()).httpStatus).toBe(200);

    sefaz.control.failWith(500, 'always');
    expect((await post(authorizationEnvelope(nfce().xml))).httpStatus).toBe(500);
    expect((await status()).httpStatus).toBe(500);
    expect(sefaz.control.authorized()).toEqual([]);
    expect(sefaz.control.calls()).toEqual({ authorization: 1, status: 4, consultation: 0 });
  });

  it('goes down (refused or reset connections) and comes back up', async () => {
    await sefaz.control.down();
    await expect(status()).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await sefaz.control.up();
    expect((await status()).httpStatus).toBe(200);

    await sefaz.control.down('reset');
    await expect(status()).rejects.toThrow();
    await sefaz.control.up();
    expect((await status()).httpStatus).toBe(200);
  });

  it('rejects the next document as told, then checks again', async () => {
    sefaz.control.rejectNext('999', 'Rejeição: Erro não catalogado');
    expect((await authorize(nfce().xml)).prot).toMatchObject({ cStat: '999', xMotivo: 'Rejeição: Erro não catalogado' });
    expect((await authorize(nfce().xml)).prot?.cStat).toBe('100');
  });

  it('resets to an empty, healthy SEFAZ', async () => {
    await authorize(nfce().xml);
    sefaz.control.setServiceStatus('paused');
    await sefaz.control.down();
    await sefaz.control.reset();
    expect(sefaz.control.authorized()).toEqual([]);
    expect(sefaz.control.calls()).toEqual({ authorization: 0, status: 0, consultation: 0 });
    expect(answer(await status(), 'retConsStatServ').cStat).toBe('107');
  });
});

describe('access key', () => {
  it("computes the seed key's check digit", () => {
    expect(checkDigit('3524088237307700017165001000411244119459462')).toBe('3');
  });
});
