import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type A1Certificate } from '../../functions/nfce/certificate.ts';
import {
  inutilizacao,
  inutilizacaoRequest,
  procInutNFe,
  type InutilizacaoAnswer,
  type InutilizacaoInput,
} from '../../functions/nfce/inutilizacao.ts';
import { createTestA1, openA1 } from '../../functions/nfce/pkcs12.ts';
import { parseAnswer, SefazUnavailable } from '../../functions/nfce/sefaz.ts';
import { appendSignature, digestOf } from '../../functions/nfce/xml.ts';
import { sefazServices, startSefazSimulator, type SefazSimulator } from '../../lib/simulators/sefaz/index.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import { testCertificate } from '../support/nfce.ts';
import { NFE_NS, SOAP_ACTION, authorizationEnvelope, brasiliaNow, signedNfce, type NfceOptions } from './sefaz-nfce.ts';

const projectRoot = resolve(import.meta.dirname, '../..');
const schemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_010e_v1.01');
const noSchemas = existsSync(schemasDir) ? undefined : `${schemasDir} is absent`;
if (noSchemas) console.warn(`SEFAZ inutilização tests run without XSD validation (and skip the XSD checks): ${noSchemas}`);

const CNPJ = '82373077000171';
const CSC = { id: '000001', token: '0123456789ABCDEF0123456789ABCDEF0123' };
const JUST = 'Numeracao pulada por falha no PDV';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

let sefaz: SefazSimulator;
/** Without schemas: the checks a SEFAZ makes when the XSD is not there to make them first. */
let lenient: SefazSimulator;
let a1: A1Certificate;
/** Each test's numbers, apart from the others' (the registry is reset, but a clear margin reads better). */
let nextNumber = 20_000;

beforeAll(async () => {
  a1 = testCertificate();
  sefaz = await startSefazSimulator({ ...(noSchemas ? {} : { schemasDir }), csc: { [CNPJ]: CSC } });
  lenient = await startSefazSimulator({ csc: { [CNPJ]: CSC } });
});
afterAll(async () => {
  await sefaz?.close();
  await lenient?.close();
});
beforeEach(async () => {
  nextNumber += 1_000;
  await sefaz.control.reset();
});

const options = { timeoutMs: 5_000 };
const url = (simulator = sefaz) => `${simulator.url}${sefazServices.inutilization.path}`;
/** This year in two digits, as SEFAZ's clock (Brasília) reads it. */
const ano = () => brasiliaNow().slice(2, 4);

const request = (overrides: Partial<InutilizacaoInput> = {}) =>
  inutilizacaoRequest(
    { cnpj: CNPJ, uf: 'SP', tpAmb: 2, ano: ano(), serie: 1, nNFIni: nextNumber, nNFFin: nextNumber, xJust: JUST, ...overrides },
    a1,
  );
const inutilize = (overrides: Partial<InutilizacaoInput> = {}, simulator = sefaz) =>
  inutilizacao(url(simulator), request(overrides).xml, options);

/**
 * A request the client would refuse to build (nNFIni > nNFFin, mod 55…), signed all the same:
 * `edit` changes infInut's fields (text by element name), the Id follows them, the signature is made again.
 */
function resigned(edit: Record<string, string>, signer: A1Certificate = a1): string {
  const doc = new DOMParser().parseFromString(request().xml, 'text/xml');
  const inutNFe = doc.documentElement!;
  const infInut = inutNFe.getElementsByTagNameNS(NFE_NS, 'infInut')[0]!;
  const field = (name: string) => infInut.getElementsByTagNameNS(NFE_NS, name)[0]!;
  for (const [name, value] of Object.entries(edit)) field(name).textContent = value;
  const text = (name: string) => field(name).textContent!;
  const id =
    `ID${text('cUF')}${text('ano')}${text('CNPJ')}${text('mod')}${text('serie').padStart(3, '0')}` +
    `${text('nNFIni').padStart(9, '0')}${text('nNFFin').padStart(9, '0')}`;
  infInut.setAttribute('Id', id);
  inutNFe.removeChild(inutNFe.getElementsByTagNameNS(DSIG_NS, 'Signature')[0]!);
  appendSignature(inutNFe, id, digestOf(infInut), signer);
  return new XMLSerializer().serializeToString(inutNFe);
}

/** An NFC-e authorized by the simulator, through the test helpers' SOAP call: the protocol's cStat/xMotivo. */
async function authorize(overrides: Partial<NfceOptions> = {}, simulator = sefaz) {
  const document = signedNfce({ a1, cnpj: CNPJ, csc: CSC, nNF: nextNumber, ...overrides });
  const response = await fetch(`${simulator.url}${sefazServices.authorization.path}`, {
    method: 'POST',
    headers: { 'content-type': `application/soap+xml;charset=utf-8;action="${SOAP_ACTION}"` },
    body: authorizationEnvelope(document.xml),
  });
  return parseAnswer(await response.text(), 'retEnviNFe').protocol!;
}

/** A raw POST, for the answer's bytes as the simulator sent them. */
async function rawInutilization(inutXml: string): Promise<string> {
  const response = await fetch(url(), {
    method: 'POST',
    headers: { 'content-type': `application/soap+xml;charset=utf-8;action="${sefazServices.inutilization.action}"` },
    body:
      '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>' +
      `<nfeDadosMsg xmlns="${sefazServices.inutilization.wsdl}">${inutXml}</nfeDadosMsg></soap:Body></soap:Envelope>`,
  });
  expect(response.status).toBe(200);
  return response.text();
}

const validates = (schema: string, xml: string) => expect(schemaValidator(schemasDir, schema).failures(xml)).toEqual([]);

/** A rejection: no protocol, and an answer retInutNFe_v4.00.xsd accepts. */
function rejected(answer: InutilizacaoAnswer, cStat: string, xMotivo: string): void {
  expect(answer).toMatchObject({ cStat, xMotivo, homologated: false });
  expect(answer.nProt).toBeUndefined();
  if (!noSchemas) validates('retInutNFe_v4.00.xsd', answer.xml);
}

describe('NFeInutilizacao4', () => {
  it('is the service at sefazServices.inutilization', () => {
    expect(sefazServices.inutilization).toEqual({
      path: '/ws/NFeInutilizacao4.asmx',
      wsdl: 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeInutilizacao4',
      action: 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeInutilizacao4/nfeInutilizacaoNF',
      payload: 'inutNFe',
    });
  });

  it('homologates a fresh range: 102 with a 15-digit nProt, the range echoed, remembered', async () => {
    const signed = request({ nNFIni: nextNumber, nNFFin: nextNumber + 4 });
    const body = await rawInutilization(signed.xml);
    const retInutNFe = /<retInutNFe .*<\/retInutNFe>/.exec(body)![0];
    expect(retInutNFe).toMatch(
      new RegExp(
        `^<retInutNFe versao="4.00" xmlns="${NFE_NS}"><infInut><tpAmb>2</tpAmb><verAplic>SP_NFCE_PL_010_V400</verAplic>` +
          '<cStat>102</cStat><xMotivo>Inutilização de número homologado</xMotivo><cUF>35</cUF>' +
          `<ano>${ano()}</ano><CNPJ>${CNPJ}</CNPJ><mod>65</mod><serie>1</serie>` +
          `<nNFIni>${nextNumber}</nNFIni><nNFFin>${nextNumber + 4}</nNFFin>` +
          `<dhRecbto>\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}-03:00</dhRecbto><nProt>135${ano()}\\d{10}</nProt></infInut></retInutNFe>$`,
      ),
    );
    if (!noSchemas) validates('retInutNFe_v4.00.xsd', retInutNFe);
    const nProt = /<nProt>(\d+)</.exec(retInutNFe)![1];
    expect(sefaz.control.inutilized()).toEqual([{ cnpj: CNPJ, serie: 1, from: nextNumber, to: nextNumber + 4, nProt }]);
    expect(sefaz.control.calls()).toEqual({ authorization: 0, status: 0, consultation: 0, inutilization: 1 });
  });

  it('the client reads the 102, and its procInutNFe validates', async () => {
    const signed = request({ serie: 2, nNFIni: nextNumber, nNFFin: nextNumber + 1 });
    const answer = await inutilizacao(url(), signed.xml, options);
    expect(answer).toMatchObject({ cStat: '102', xMotivo: 'Inutilização de número homologado', homologated: true });
    expect(answer.nProt).toMatch(new RegExp(`^135${ano()}\\d{10}$`));
    expect(answer.dhRecbto).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-03:00$/);
    if (!noSchemas) validates('procInutNFe_v4.00.xsd', procInutNFe(signed.xml, answer.xml));
    expect(sefaz.control.inutilized()).toEqual([
      { cnpj: CNPJ, serie: 2, from: nextNumber, to: nextNumber + 1, nProt: answer.nProt },
    ]);
  });

  it('answers 241 when a number of the range was authorized, cancelled or not', async () => {
    expect(await authorize({ nNF: nextNumber + 2 })).toMatchObject({ cStat: '100' });
    rejected(
      await inutilize({ nNFIni: nextNumber, nNFFin: nextNumber + 5 }),
      '241',
      'Rejeição: Um número da faixa já foi utilizado',
    );
    rejected(
      await inutilize({ nNFIni: nextNumber + 2, nNFFin: nextNumber + 2 }),
      '241',
      'Rejeição: Um número da faixa já foi utilizado',
    );
    // The numbers beside it, another series and another emitter's are free.
    expect((await inutilize({ nNFIni: nextNumber, nNFFin: nextNumber + 1 })).cStat).toBe('102');
    expect((await inutilize({ nNFIni: nextNumber + 3, nNFFin: nextNumber + 5 })).cStat).toBe('102');
    expect((await inutilize({ serie: 3, nNFIni: nextNumber + 2, nNFFin: nextNumber + 2 })).cStat).toBe('102');
    expect(sefaz.control.inutilized()).toHaveLength(3);
  });

  it('answers 256 for a range that shares a number with one inutilized (the same range again too)', async () => {
    const first = { nNFIni: nextNumber + 10, nNFFin: nextNumber + 20 };
    expect((await inutilize(first)).cStat).toBe('102');
    const already = 'Rejeição: Uma NF-e da faixa já está inutilizada na Base de dados da SEFAZ';
    rejected(await inutilize(first), '256', already);
    rejected(await inutilize({ nNFIni: nextNumber + 15, nNFFin: nextNumber + 25 }), '256', already);
    rejected(await inutilize({ nNFIni: nextNumber, nNFFin: nextNumber + 10 }), '256', already);
    rejected(await inutilize({ nNFIni: nextNumber + 12, nNFFin: nextNumber + 12 }), '256', already);
    expect((await inutilize({ nNFIni: nextNumber + 21, nNFFin: nextNumber + 25 })).cStat).toBe('102');
    expect((await inutilize({ nNFIni: nextNumber, nNFFin: nextNumber + 9 })).cStat).toBe('102');
    expect(sefaz.control.inutilized().map((r) => [r.from - nextNumber, r.to - nextNumber])).toEqual([
      [10, 20],
      [21, 25],
      [0, 9],
    ]);
  });

  it('NFeAutorizacao4 then rejects a number inutilized with 206; other numbers and series are authorized', async () => {
    expect((await inutilize({ nNFIni: nextNumber, nNFFin: nextNumber + 2 })).cStat).toBe('102');
    expect(await authorize({ nNF: nextNumber + 1 })).toMatchObject({
      cStat: '206',
      xMotivo: 'Rejeição: NF-e já está inutilizada na Base de dados da SEFAZ',
    });
    expect(await authorize({ nNF: nextNumber + 3 })).toMatchObject({ cStat: '100' });
    expect(await authorize({ nNF: nextNumber + 1, serie: 2 })).toMatchObject({ cStat: '100' });
    expect(sefaz.control.authorized()).toHaveLength(2);
  });

  it('answers 297 for a tampered request and 213 for another company’s certificate', async () => {
    const tampered = request({ nNFIni: nextNumber, nNFFin: nextNumber + 1 }).xml.replace(
      JUST,
      'Numeracao pulada por outro motivo',
    );
    rejected(await inutilizacao(url(), tampered, options), '297', 'Rejeição: Assinatura difere do calculado');
    const other = openA1(createTestA1({ name: 'OUTRA LTDA', cnpj: '11222333000181', password: 'x' }), 'x');
    rejected(
      await inutilizacao(url(), resigned({}, other), options),
      '213',
      'Rejeição: CNPJ-Base do Emitente difere do CNPJ-Base do Certificado Digital',
    );
    const unsigned = request().xml.replace(/<Signature .*<\/Signature>/, '');
    // The XSD requires the Signature (215); without the schemas, the profile check does (298).
    rejected(
      await inutilizacao(url(), unsigned, options),
      noSchemas ? '298' : '215',
      noSchemas ? 'Rejeição: Assinatura difere do padrão do Sistema' : 'Rejeição: Falha no schema XML',
    );
    rejected(await inutilizacao(url(lenient), unsigned, options), '298', 'Rejeição: Assinatura difere do padrão do Sistema');
    expect(sefaz.control.inutilized()).toEqual([]);
  });

  it('answers 215 for a request that fails the schema, with or without the XSD', async () => {
    const leadingZeros = request().xml.replace('<serie>1</serie>', '<serie>001</serie>');
    rejected(await inutilizacao(url(), leadingZeros, options), '215', 'Rejeição: Falha no schema XML');
    rejected(await inutilizacao(url(lenient), leadingZeros, options), '215', 'Rejeição: Falha no schema XML');
    const shortJust = resigned({ xJust: 'curta demais' });
    rejected(await inutilizacao(url(lenient), shortJust, options), '215', 'Rejeição: Falha no schema XML');
    rejected(
      await inutilizacao(url(), '<consStatServ xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"/>', options),
      '215',
      'Rejeição: Falha no schema XML',
    );
  });

  it('answers 252, 226, 775 and 502 for the environment, the state, the model and the Id', async () => {
    rejected(await inutilize({ tpAmb: 1 }), '252', 'Rejeição: Ambiente informado diverge do Ambiente de recebimento');
    rejected(await inutilize({ uf: 'RJ' }), '226', 'Rejeição: Código da UF do Emitente diverge da UF autorizadora');
    rejected(await inutilizacao(url(), resigned({ mod: '55' }), options), '775', 'Rejeição: Modelo da NFC-e diferente de 65');
    // The Id (and its reference) one number off: checked before the signature, which it would break.
    const signed = request({ nNFIni: nextNumber, nNFFin: nextNumber });
    const otherId = `${signed.id.slice(0, -1)}${(Number(signed.id.at(-1)) + 1) % 10}`;
    rejected(
      await inutilizacao(url(), signed.xml.replaceAll(signed.id, otherId), options),
      '502',
      'Rejeição: Erro na Chave de Acesso - Campo Id não corresponde à concatenação dos campos correspondentes',
    );
  });

  it('answers 453 / 454 for a year after the current one or before 2006, 224 for nNFIni > nNFFin', async () => {
    const next = String((Number(ano()) + 1) % 100).padStart(2, '0');
    rejected(await inutilize({ ano: next }), '453', 'Rejeição: Ano de inutilização não pode ser superior ao Ano atual');
    rejected(await inutilize({ ano: '05' }), '454', 'Rejeição: Ano de inutilização não pode ser inferior a 2006');
    expect((await inutilize({ ano: '06', nNFIni: nextNumber + 1, nNFFin: nextNumber + 1 })).cStat).toBe('102');
    rejected(
      await inutilizacao(url(), resigned({ nNFIni: String(nextNumber + 5), nNFFin: String(nextNumber + 4) }), options),
      '224',
      'Rejeição: A faixa inicial é maior que a faixa final',
    );
  });

  it('answers 108 / 109 while paused or stopped, then homologates', async () => {
    sefaz.control.setServiceStatus('paused');
    rejected(await inutilize(), '108', 'Serviço Paralisado Momentaneamente (curto prazo)');
    sefaz.control.setServiceStatus('stopped');
    rejected(await inutilize(), '109', 'Serviço Paralisado sem Previsão');
    sefaz.control.setServiceStatus('running');
    expect((await inutilize()).cStat).toBe('102');
  });

  it('takes rejectNext’s answer for the next request', async () => {
    sefaz.control.rejectNext('240', 'Rejeição: Cancelamento/Inutilização - Irregularidade Fiscal do Emitente');
    expect(await inutilize()).toMatchObject({ cStat: '240', homologated: false });
    expect((await inutilize()).cStat).toBe('102');
  });

  it('fails with 503 when told; a lost answer was processed all the same (the resend answers 256)', async () => {
    sefaz.control.failWith(503, 1);
    await expect(inutilize()).rejects.toBeInstanceOf(SefazUnavailable);
    expect(sefaz.control.inutilized()).toEqual([]);
    sefaz.control.loseAnswers(1);
    await expect(inutilize()).rejects.toBeInstanceOf(SefazUnavailable);
    expect(sefaz.control.inutilized()).toHaveLength(1);
    expect((await inutilize()).cStat).toBe('256');
    expect(sefaz.control.calls()).toMatchObject({ inutilization: 3 });
  });

  it('reset() forgets the inutilized ranges', async () => {
    expect((await inutilize()).cStat).toBe('102');
    await sefaz.control.reset();
    expect(sefaz.control.inutilized()).toEqual([]);
    expect((await inutilize()).cStat).toBe('102');
  });
});
