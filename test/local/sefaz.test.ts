import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type A1Certificate } from '../../functions/nfce/certificate.ts';
import { createTestA1, openA1 } from '../../functions/nfce/pkcs12.ts';
import { checkDigit } from '../../lib/simulators/sefaz/access-key.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import { RATES_2027, reais } from '../support/ibscbs.ts';
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
  qrCodeFor,
  removeElement,
  setText,
  signedNfce,
  statusEnvelope,
  type NfceOptions,
} from './sefaz-nfce.ts';

const projectRoot = resolve(import.meta.dirname, '../..');
const schemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_010e_v1.01');
const schemasAbsent = existsSync(schemasDir) ? undefined : `${schemasDir} is absent`;
if (schemasAbsent) console.warn(`SEFAZ simulator tests run without XSD validation: ${schemasAbsent}`);
const noXmlsec = xmlsecMissing();
if (noXmlsec) console.warn(`skipping the xmlsec1 check of the simulator's test documents: ${noXmlsec}`);

const CNPJ = '82373077000171';
const OTHER_CNPJ = '11222333000181';
const CSC = { id: '000001', token: '0123456789ABCDEF0123456789ABCDEF0123' };
const STATUS_ACTION = 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeStatusServico4/nfeStatusServicoNF';

let sefaz: SefazSimulator;
/** `sefaz`'s clock: the real one, unless a test has SEFAZ receive a document at its fixed dhEmi. */
let clock: Date | undefined;
const simulatorNow = () => clock ?? new Date();
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
  // Issued as of 2026-01-02 for two years (createTestA1 dates it from the clock): valid at every
  // fixed dhEmi the IBS/CBS tests have SEFAZ receive their documents at, and today.
  vi.useFakeTimers({ now: Date.parse('2026-01-02T00:00:00Z'), toFake: ['Date'] });
  a1 = a1For('ALBINO LTDA', CNPJ, 730);
  vi.useRealTimers();
  otherA1 = a1For('OUTRA LTDA', OTHER_CNPJ);
  expiredA1 = a1For('ALBINO LTDA', CNPJ, -0.5);
  noCnpjA1 = a1For('ALBINO LTDA', '');
  sefaz = await startSefazSimulator({
    port: 0,
    schemasDir: schemasAbsent ? undefined : schemasDir,
    csc: { [CNPJ]: CSC },
    now: simulatorNow,
  });
  lenient = await startSefazSimulator({ csc: { [CNPJ]: CSC } });
});
afterAll(async () => {
  await sefaz?.close();
  await lenient?.close();
});
beforeEach(() => {
  clock = undefined;
  return sefaz.control.reset();
});

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
  it('authorizes a valid NFC-e: lot 104, protocol 100 with a 17-digit nProt and the DigestValue', async () => {
    const document = nfce();
    const result = await authorize(document.xml);
    expect(result).toMatchObject({ cStat: '104', xMotivo: 'Lote processado', tpAmb: '2', cUF: '35' });
    expect(result.dhRecbto).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-03:00$/);
    expect(result.prot).toEqual({
      tpAmb: '2',
      verAplic: 'SP_NFCE_PL_010_V400',
      chNFe: document.chNFe,
      dhRecbto: result.dhRecbto,
      nProt: expect.stringMatching(new RegExp(`^135${brasiliaNow().slice(2, 4)}\\d{12}$`)),
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
      verAplic: 'SP_NFCE_PL_010_V400',
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

/** Every element `name` below `parent`, in document order. */
const all = (parent: Element, name: string): Element[] => [...parent.getElementsByTagNameNS(NFE_NS, name)];
/** The text of the first `path` below `parent` (each step the first descendant of that name). */
const textAt = (parent: Element, path: string): string =>
  path.split('/').reduce((element, name) => all(element, name)[0]!, parent).textContent ?? '';
/** Elements in the NF-e namespace from `xml`, to insert with `parent.insertBefore`. */
function fragment(parent: Element, xml: string): Element[] {
  const wrapper = new DOMParser().parseFromString(`<x xmlns="${NFE_NS}">${xml}</x>`, 'text/xml').documentElement!;
  return [...wrapper.childNodes]
    .filter((node) => node.nodeType === 1)
    .map((node) => parent.ownerDocument!.importNode(node, true) as Element);
}
/** Replaces det `index`'s ICMS group by `xml` (e.g. `<ICMS60>…</ICMS60>`). */
function replaceIcms(infNFe: Element, index: number, xml: string): void {
  const icms = all(all(infNFe, 'det')[index]!, 'ICMS')[0]!;
  while (icms.firstChild) icms.removeChild(icms.firstChild);
  for (const element of fragment(icms, xml)) icms.appendChild(element);
}
/** Item 2 (TAXA SERVICO) leaves ICMS00 (vBC 6.10, vICMS 0.18): ICMSTot without them. */
function withoutItem2Icms(infNFe: Element): void {
  setText(infNFe, 'total/ICMSTot/vBC', '53.68');
  setText(infNFe, 'total/ICMSTot/vICMS', '9.66');
}
/** Adds a CEST after det `index`'s NCM. */
function addCest(infNFe: Element, index: number, cest = '0300700'): void {
  const ncm = all(all(infNFe, 'det')[index]!, 'NCM')[0]!;
  ncm.parentNode!.insertBefore(fragment(ncm, `<CEST>${cest}</CEST>`)[0]!, ncm.nextSibling);
}
/** Sets a money text to its value plus `centavos` (e.g. shifting an IBS value and the totals along). */
function shift(parent: Element, path: string, centavos: number): void {
  const [whole = '0', fraction = ''] = textAt(parent, path).split('.');
  setText(parent, path, reais(BigInt(whole + fraction.padEnd(2, '0')) + BigInt(centavos)));
}

describe('NT 2025.002-RTC: IBS / CBS', () => {
  /** SEFAZ receives `xml` at its dhEmi, a fixed date of the rule under test (else 703 / 704 first). */
  const atDhEmi = (xml: string) => {
    clock = new Date(Date.parse(/<dhEmi>([^<]+)<\/dhEmi>/.exec(xml)![1]!));
    return xml;
  };
  const expectRejection = async (xml: string, cStat: string, xMotivo: string) => {
    const result = await authorize(atDhEmi(xml));
    expect(result).toMatchObject({ cStat: '104', xMotivo: 'Lote processado' });
    expect(result.prot).toMatchObject({ cStat, xMotivo, nProt: undefined });
    // PL_010e's TStat takes the 4-digit codes of the Reforma Tributária.
    if (!schemasAbsent) validates(result.xml, 'retEnviNFe_v4.00.xsd');
  };
  const authorized = async (xml: string) => expect((await authorize(atDhEmi(xml))).prot).toMatchObject({ cStat: '100' });
  const MISSING = 'Rejeição: IBS/CBS não informado';

  it('authorizes a 2026 NFC-e whose items carry IBSCBS at 0.10 % / 0 % / 0.90 % and whose IBSCBSTot sums them', async () => {
    // The seed's items: 61.00 − ICMS 9.66 = 51.34 → IBS UF 0.05, CBS 0.46; 6.10 − 0.18 = 5.92 → 0.01, 0.05.
    const document = nfce({ dhEmi: '2026-11-20T12:00:00-03:00' });
    expect(textAt(new DOMParser().parseFromString(document.xml, 'text/xml').documentElement!, 'IBSCBSTot/vCBS')).toBe('0.51');
    await authorized(document.xml);
  });

  it('1115: a CRT 3 NFC-e without IBSCBS from 2026-08-03 (dhEmi), not before', async () => {
    const without = (dhEmi: string) => nfce({ dhEmi, ibsCbs: false }).xml;
    await expectRejection(without('2026-11-20T12:00:00-03:00'), '1115', `${MISSING} [nItem: 1]`);
    await expectRejection(without('2026-08-03T00:00:00-03:00'), '1115', `${MISSING} [nItem: 1]`);
    await authorized(without('2026-08-02T23:59:59-03:00'));
  });

  it('1115: a CRT 1 (or 2, 4) NFC-e without IBSCBS from 2027-01-04, not in 2026', async () => {
    await authorized(nfce({ crt: '1', dhEmi: '2026-07-15T12:00:00-03:00', ibsCbs: false }).xml);
    await authorized(nfce({ crt: '4', dhEmi: '2027-01-03T23:00:00-03:00', ibsCbs: false }).xml);
    await expectRejection(
      nfce({ crt: '1', dhEmi: '2027-01-04T08:00:00-03:00', ibsCbs: false }).xml,
      '1115',
      `${MISSING} [nItem: 1]`,
    );
    await expectRejection(
      nfce({ crt: '2', dhEmi: '2027-02-01T08:00:00-03:00', ibsCbs: false }).xml,
      '1115',
      `${MISSING} [nItem: 1]`,
    );
  });

  it('1115 names the first item without the group', async () => {
    const xml = nfce({ edit: (infNFe) => removeElement(all(infNFe, 'det')[1]!, 'IBSCBS') }).xml;
    await expectRejection(xml, '1115', `${MISSING} [nItem: 2]`);
  });

  it('takes the dates per CRT from its options and from control.configure', async () => {
    sefaz.control.configure({ ibsCbsRequiredFrom: { '1': '2026-07-01', '3': null } });
    await expectRejection(
      nfce({ crt: '1', dhEmi: '2026-07-15T12:00:00-03:00', ibsCbs: false }).xml,
      '1115',
      `${MISSING} [nItem: 1]`,
    );
    await authorized(nfce({ dhEmi: '2026-11-20T12:00:00-03:00', ibsCbs: false }).xml);
    await sefaz.control.reset();
    await expectRejection(nfce({ ibsCbs: false }).xml, '1115', `${MISSING} [nItem: 1]`);

    const strict = await startSefazSimulator({
      csc: { [CNPJ]: CSC },
      rules: { ibsCbsRequiredFrom: { '1': '2026-01-01' } },
      now: simulatorNow,
    });
    try {
      const xml = atDhEmi(nfce({ crt: '1', dhEmi: '2026-03-01T12:00:00-03:00', ibsCbs: false }).xml);
      const result = await authorize(xml, strict.url);
      expect(result.prot).toMatchObject({ cStat: '1115', xMotivo: `${MISSING} [nItem: 1]` });
    } finally {
      await strict.close();
    }
  });

  it('1119: items with IBSCBS and no IBSCBSTot; 1118: IBSCBSTot and no item with IBSCBS', async () => {
    await expectRejection(nfce({ ibsCbs: { totals: false } }).xml, '1119', 'Rejeição: Total de IBS e CBS não informado');
    const totalsOnly = nfce({
      crt: '1',
      dhEmi: '2026-07-15T12:00:00-03:00',
      edit: (infNFe) => all(infNFe, 'det').forEach((det) => removeElement(det, 'IBSCBS')),
    }).xml;
    await expectRejection(totalsOnly, '1118', 'Rejeição: Total de IBS e CBS informado indevidamente');
  });

  /** [rule, cStat, xMotivo, change to a valid 2026 document] */
  const itemRules: [string, string, string, (infNFe: Element) => void][] = [
    [
      'an IBS UF rate other than 0.10 % in 2026',
      '1026',
      'Rejeição: Alíquota do IBS da UF inválida [nItem: 1]',
      (infNFe) => setText(infNFe, 'gIBSUF/pIBSUF', '0.1500'),
    ],
    [
      'a municipal IBS rate other than 0 % in 2026',
      '1036',
      'Rejeição: Alíquota do IBS do Município inválida [nItem: 1]',
      (infNFe) => setText(infNFe, 'gIBSMun/pIBSMun', '0.0500'),
    ],
    [
      'a CBS rate other than 0.90 % in 2026',
      '1037',
      'Rejeição: Alíquota da CBS inválida [nItem: 1]',
      (infNFe) => setText(infNFe, 'gCBS/pCBS', '0.8000'),
    ],
    [
      'a vIBSUF 0.02 off base × rate (item 2)',
      '1041',
      'Rejeição: Valor do IBS da UF difere do calculado [nItem: 2]',
      (infNFe) => shift(all(infNFe, 'det')[1]!, 'gIBSUF/vIBSUF', 2),
    ],
    [
      'a vIBSMun 0.02 off base × rate',
      '1052',
      'Rejeição: Valor do IBS Municipal difere do calculado [nItem: 1]',
      (infNFe) => shift(infNFe, 'gIBSMun/vIBSMun', 2),
    ],
    [
      'a vIBS that is not vIBSUF + vIBSMun',
      '1150',
      'Rejeição: Valor do IBS do Item (vIBS) difere do calculado [nItem: 1]',
      (infNFe) => shift(infNFe, 'gIBSCBS/vIBS', 1),
    ],
    [
      'a vCBS 0.02 off base × rate',
      '1069',
      'Rejeição: Valor da CBS difere do calculado [nItem: 1]',
      (infNFe) => shift(infNFe, 'gCBS/vCBS', -2),
    ],
    [
      'a vBCIBSCBS that is not the items’ bases',
      '1076',
      'Rejeição: Total da BC do IBS e da CBS difere da soma dos itens',
      (infNFe) => shift(infNFe, 'IBSCBSTot/vBCIBSCBS', 1),
    ],
    [
      'a total vIBSUF that is not the items’',
      '1080',
      'Rejeição: Total de IBS UF difere da soma dos itens',
      (infNFe) => shift(infNFe, 'IBSCBSTot/gIBSUF/vIBSUF', 1),
    ],
    [
      'a total vIBSMun that is not the items’',
      '1084',
      'Rejeição: Total de IBS Municipal difere da soma dos itens',
      (infNFe) => shift(infNFe, 'IBSCBSTot/gIBSMun/vIBSMun', 1),
    ],
    [
      'a total vIBS that is not the items’',
      '1085',
      'Rejeição: Total do IBS difere da soma do vIBS dos itens',
      (infNFe) => shift(infNFe, 'IBSCBSTot/gIBS/vIBS', 1),
    ],
    [
      'a total vCBS that is not the items’',
      '1091',
      'Rejeição: Total de CBS difere da soma dos itens',
      (infNFe) => shift(infNFe, 'IBSCBSTot/gCBS/vCBS', -1),
    ],
  ];

  it.each(itemRules)('rejects %s with %s', async (_, cStat, xMotivo, edit) => {
    await expectRejection(nfce({ dhEmi: '2026-11-20T12:00:00-03:00', edit }).xml, cStat, xMotivo);
    expect(sefaz.control.authorized()).toEqual([]);
  });

  it('accepts each value ±0.01 off base × rate (the totals following), and rates written with 2 decimals', async () => {
    /** Item 1's value at `path` shifted, with item 1's vIBS and the totals shifted alike. */
    const off = (centavos: number, tax: 'IBSUF' | 'CBS') => (infNFe: Element) => {
      shift(infNFe, `g${tax}/v${tax}`, centavos);
      shift(infNFe, `IBSCBSTot/g${tax}/v${tax}`, centavos);
      if (tax === 'IBSUF') {
        shift(infNFe, 'gIBSCBS/vIBS', centavos);
        shift(infNFe, 'IBSCBSTot/gIBS/vIBS', centavos);
      }
    };
    await authorized(nfce({ edit: off(1, 'IBSUF') }).xml);
    await authorized(nfce({ edit: off(-1, 'IBSUF') }).xml);
    await authorized(nfce({ edit: off(1, 'CBS') }).xml);
    await authorized(nfce({ edit: off(-1, 'CBS') }).xml);
    await authorized(
      nfce({
        edit: (infNFe) => {
          for (const [name, value] of [
            ['pIBSUF', '0.10'],
            ['pIBSMun', '0'],
            ['pCBS', '0.90'],
          ] as const)
            all(infNFe, name).forEach((element) => (element.textContent = value));
        },
      }).xml,
    );
  });

  it('checks 2027 at 0.05 % / 0.05 %, the CBS only once configured', async () => {
    const dhEmi = '2027-02-10T12:00:00-03:00';
    await authorized(nfce({ dhEmi, ibsCbs: { rates: RATES_2027 } }).xml);
    // The 2026 rates in 2027.
    await expectRejection(nfce({ dhEmi }).xml, '1026', 'Rejeição: Alíquota do IBS da UF inválida [nItem: 1]');
    await expectRejection(
      nfce({ dhEmi, ibsCbs: { rates: { ...RATES_2027, ibsMun: '0.0000' } } }).xml,
      '1036',
      'Rejeição: Alíquota do IBS do Município inválida [nItem: 1]',
    );
    const cbs080 = () => nfce({ dhEmi, ibsCbs: { rates: { ...RATES_2027, cbs: '0.8000' } } }).xml;
    await authorized(cbs080());
    sefaz.control.configure({ ibsCbsRates: { '2027': { cbs: '0.90' } } });
    await authorized(nfce({ dhEmi, ibsCbs: { rates: RATES_2027 } }).xml);
    await expectRejection(cbs080(), '1037', 'Rejeição: Alíquota da CBS inválida [nItem: 1]');
  });

  it('recomputes with gRed’s effective rate and subtracts gDif’s vDif', async () => {
    // Item 1 (base 51.34): CBS reduced 60 % → effective 0.36 % → 0.18; the IBS UF 100 % deferred → 0.00.
    const edit = (infNFe: Element) => {
      const gCBS = all(infNFe, 'gCBS')[0]!;
      const vCBS = all(gCBS, 'vCBS')[0]!;
      gCBS.insertBefore(fragment(gCBS, '<gRed><pRedAliq>60.0000</pRedAliq><pAliqEfet>0.3600</pAliqEfet></gRed>')[0]!, vCBS);
      vCBS.textContent = '0.18';
      shift(infNFe, 'IBSCBSTot/gCBS/vCBS', 18 - 46);
      const gIBSUF = all(infNFe, 'gIBSUF')[0]!;
      const vIBSUF = all(gIBSUF, 'vIBSUF')[0]!;
      gIBSUF.insertBefore(fragment(gIBSUF, '<gDif><pDif>100.0000</pDif><vDif>0.05</vDif></gDif>')[0]!, vIBSUF);
      vIBSUF.textContent = '0.00';
      setText(infNFe, 'gIBSCBS/vIBS', '0.00');
      shift(infNFe, 'IBSCBSTot/gIBSUF/vIBSUF', -5);
      shift(infNFe, 'IBSCBSTot/gIBS/vIBS', -5);
    };
    // CST 000 takes neither group at the real SEFAZ (CST table, not simulated); the arithmetic is what is checked here.
    await authorized(nfce({ edit }).xml);
    await expectRejection(
      nfce({ edit: (infNFe) => (edit(infNFe), setText(infNFe, 'gCBS/vCBS', '0.46'), shift(infNFe, 'IBSCBSTot/gCBS/vCBS', 28)) })
        .xml,
      '1069',
      'Rejeição: Valor da CBS difere do calculado [nItem: 1]',
    );
  });
});

describe('payments, CEST and the Receita register', () => {
  const rejected = async (xml: string, cStat: string, xMotivo: string) =>
    expect((await authorize(xml)).prot).toMatchObject({ cStat, xMotivo, nProt: undefined });
  const authorized = async (xml: string) => expect((await authorize(xml)).prot).toMatchObject({ cStat: '100' });
  const CARD = 'Rejeição: Não informados os dados do cartão de crédito / débito nas Formas de Pagamento da Nota Fiscal';
  const CEST = 'Rejeição: Operação com ICMS-ST sem informação do CEST';

  it('391: PIX (tPag 17) and cards (03, 04) without the card group; cash needs none', async () => {
    await authorized(nfce({ edit: (infNFe) => setText(infNFe, 'detPag/tPag', '17') }).xml);
    for (const tPag of ['17', '03', '04']) {
      const xml = nfce({ edit: (infNFe) => (setText(infNFe, 'detPag/tPag', tPag), removeElement(infNFe, 'detPag/card')) }).xml;
      await rejected(xml, '391', CARD);
    }
    await authorized(
      nfce({ edit: (infNFe) => (setText(infNFe, 'detPag/tPag', '01'), removeElement(infNFe, 'detPag/card')) }).xml,
    );
  });

  it('865 / 866 over a mix of methods: cash and PIX', async () => {
    /** Cash `cash`, then PIX with its card group for `pix`, and vTroco when given. */
    const mixed = (cash: string, pix: string, vTroco?: string) =>
      nfce({
        edit: (infNFe) => {
          const pag = all(infNFe, 'pag')[0]!;
          while (pag.firstChild) pag.removeChild(pag.firstChild);
          const change = vTroco === undefined ? '' : `<vTroco>${vTroco}</vTroco>`;
          const xml =
            `<detPag><indPag>0</indPag><tPag>01</tPag><vPag>${cash}</vPag></detPag>` +
            `<detPag><indPag>0</indPag><tPag>17</tPag><vPag>${pix}</vPag><card><tpIntegra>2</tpIntegra></card></detPag>${change}`;
          for (const element of fragment(pag, xml)) pag.appendChild(element);
        },
      }).xml;
    await authorized(mixed('30.00', '37.10'));
    await authorized(mixed('40.00', '37.10', '10.00'));
    await rejected(mixed('30.00', '37.00'), '865', 'Rejeição: Total dos pagamentos menor que o total da nota');
    await rejected(
      mixed('40.00', '37.10'),
      '866',
      'Rejeição: Ausência de troco quando o valor dos pagamentos informados for maior que o total da nota',
    );
  });

  it('806: an ICMS-ST item (CST 60, CSOSN 500, CST 90 with vICMSST) without CEST; with it, authorized', async () => {
    const st = (group: string, cest: boolean) =>
      nfce({
        edit: (infNFe) => {
          replaceIcms(infNFe, 1, group);
          withoutItem2Icms(infNFe);
          if (cest) addCest(infNFe, 1);
        },
      }).xml;
    const icms60 = '<ICMS60><orig>0</orig><CST>60</CST></ICMS60>';
    const sn500 = '<ICMSSN500><orig>0</orig><CSOSN>500</CSOSN></ICMSSN500>';
    const icms90st =
      '<ICMS90><orig>0</orig><CST>90</CST><modBCST>4</modBCST><vBCST>6.10</vBCST><pICMSST>18.00</pICMSST><vICMSST>1.10</vICMSST></ICMS90>';
    await rejected(st(icms60, false), '806', CEST);
    await rejected(st(sn500, false), '806', CEST);
    await rejected(st(icms90st, false), '806', CEST);
    await authorized(st(icms60, true));
    await authorized(st(sn500, true));
  });

  it('806 is not answered for CST 90 without vICMSST (the MOC asks CEST of 90 / 900 only with it)', async () => {
    const xml = nfce({
      edit: (infNFe) => {
        replaceIcms(infNFe, 1, '<ICMS90><orig>0</orig><CST>90</CST></ICMS90>');
        withoutItem2Icms(infNFe);
      },
    }).xml;
    await authorized(xml);
  });

  it('180: the emitter’s CRT differs from the configured Receita register; no register, no check', async () => {
    const CRT = 'Rejeição: Código de Regime Tributário do emitente diverge do cadastro na Receita Federal';
    await authorized(nfce().xml);
    sefaz.control.configure({ receitaRegister: { [CNPJ]: '1' } });
    await rejected(nfce().xml, '180', CRT);
    sefaz.control.configure({ receitaRegister: { [CNPJ]: '3' } });
    await authorized(nfce().xml);
    sefaz.control.configure({ receitaRegister: { [OTHER_CNPJ]: '1' } });
    await authorized(nfce().xml);

    const registered = await startSefazSimulator({ csc: { [CNPJ]: CSC }, rules: { receitaRegister: { [CNPJ]: '4' } } });
    try {
      expect((await authorize(nfce().xml, registered.url)).prot).toMatchObject({ cStat: '180', xMotivo: CRT });
    } finally {
      await registered.close();
    }
  });
});

describe('protocols and alphanumeric CNPJ', () => {
  it('answers 15-digit protocols when its options or control say so, 17 by default', async () => {
    const year = brasiliaNow().slice(2, 4);
    expect((await authorize(nfce().xml)).prot?.nProt).toMatch(new RegExp(`^135${year}[0-9]{12}$`));
    sefaz.control.configure({ protocolDigits: 15 });
    const fifteen = await authorize(nfce().xml);
    expect(fifteen.prot?.nProt).toMatch(new RegExp(`^135${year}[0-9]{10}$`));
    if (!schemasAbsent) validates(fifteen.xml, 'retEnviNFe_v4.00.xsd');
    await sefaz.control.reset();
    expect((await authorize(nfce().xml)).prot?.nProt).toHaveLength(17);

    const old = await startSefazSimulator({ csc: { [CNPJ]: CSC }, rules: { protocolDigits: 15 } });
    try {
      const document = nfce();
      const result = await authorize(document.xml, old.url);
      expect(result.prot?.nProt).toMatch(new RegExp(`^135${year}[0-9]{10}$`));
      const consulted = answer(
        await post(consultationEnvelope(document.chNFe), { path: '/ws/NFeConsultaProtocolo4.asmx', url: old.url }),
        'retConsSitNFe',
      );
      expect(consulted.prot?.nProt).toBe(result.prot?.nProt);
    } finally {
      await old.close();
    }
  });

  it('authorizes and finds an alphanumeric-CNPJ emitter’s NFC-e (letters in the key, ASCII − 48 check digit)', async () => {
    const ALPHA = '12ABC34501DE35';
    const alphaA1 = openA1(createTestA1({ name: 'ALFA LTDA', cnpj: ALPHA, password: 'x' }), 'x');
    const alpha = await startSefazSimulator({
      schemasDir: schemasAbsent ? undefined : schemasDir,
      csc: { [ALPHA]: CSC },
    });
    try {
      const document = signedNfce({ a1: alphaA1, cnpj: ALPHA, csc: CSC, nNF: nextNumber++ });
      expect(document.chNFe).toMatch(/^[0-9]{6}12ABC34501DE35[0-9]{24}$/);
      const result = await authorize(document.xml, alpha.url);
      expect(result.prot).toMatchObject({ cStat: '100', chNFe: document.chNFe });
      const consulted = answer(
        await post(consultationEnvelope(document.chNFe), { path: '/ws/NFeConsultaProtocolo4.asmx', url: alpha.url }),
        'retConsSitNFe',
      );
      expect(consulted).toMatchObject({ cStat: '100', chNFe: document.chNFe });
      if (!schemasAbsent) validates(consulted.xml, 'retConsSitNFe_v4.00.xsd');
    } finally {
      await alpha.close();
    }
  });

  it('computes check digits over letters as ASCII − 48', () => {
    // Σ (value × weight 2..9 from the right) = 820, with A = 17, B = 18, C = 19, D = 20, E = 21; 820 mod 11 = 6 → 5.
    expect(checkDigit('35261112ABC34501DE3565001000001000112345678')).toBe('5');
  });
});
