import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type A1Certificate } from '../../functions/nfce/certificate.ts';
import {
  cancellationEvent,
  envEvento,
  procEventoNFe,
  recepcaoEvento,
  substitutionEvent,
  type CancellationInput,
  type EventBatchAnswer,
} from '../../functions/nfce/events.ts';
import { createTestA1, openA1 } from '../../functions/nfce/pkcs12.ts';
import { consultProtocol, parseAnswer, SefazUnavailable } from '../../functions/nfce/sefaz.ts';
import { sefazServices, startSefazSimulator, type SefazSimulator } from '../../lib/simulators/sefaz/index.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import { testCertificate } from '../support/nfce.ts';
import {
  NFE_NS,
  SOAP_ACTION,
  authorizationEnvelope,
  consultationEnvelope,
  offlineQrCodeFor,
  signedNfce,
  withQrCode,
  type NfceOptions,
} from './sefaz-nfce.ts';

const projectRoot = resolve(import.meta.dirname, '../..');
const schemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_010e_v1.01');
const eventSchemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_010d_v1.02_events');
const noSchemas = [schemasDir, eventSchemasDir].filter((dir) => !existsSync(dir)).map((dir) => `${dir} is absent`)[0];
if (noSchemas) console.warn(`SEFAZ event tests run without XSD validation (and skip the XSD checks): ${noSchemas}`);

const CNPJ = '82373077000171';
const CSC = { id: '000001', token: '0123456789ABCDEF0123456789ABCDEF0123' };
const JUST = 'Venda cancelada a pedido do cliente';
const MINUTE = 60_000;

let sefaz: SefazSimulator;
/** The simulator's clock: dhRecbto, dhRegEvento and the deadlines read it. */
let clock = new Date();
let a1: A1Certificate;
let nextNumber = 5000;

beforeAll(async () => {
  a1 = testCertificate();
  sefaz = await startSefazSimulator({
    ...(noSchemas ? {} : { schemasDir, eventSchemasDir }),
    csc: { [CNPJ]: CSC },
    now: () => clock,
  });
});
afterAll(async () => {
  await sefaz?.close();
});
beforeEach(async () => {
  clock = new Date();
  await sefaz.control.reset();
});

const options = { timeoutMs: 5_000 };
const eventUrl = () => `${sefaz.url}${sefazServices.event.path}`;
const nfce = (overrides: Partial<NfceOptions> = {}) => signedNfce({ a1, cnpj: CNPJ, csc: CSC, nNF: nextNumber++, ...overrides });

/** ide/dhCont (its dhEmi) and ide/xJust after verProc: what a contingency NFC-e (tpEmis 9) must carry (else 557). */
function enterContingency(infNFe: Element): void {
  const field = (name: string) => infNFe.getElementsByTagNameNS(NFE_NS, name)[0]!;
  const verProc = field('verProc');
  for (const [name, value] of [
    ['xJust', 'SEFAZ sem resposta: emissao em contingencia offline'],
    ['dhCont', field('dhEmi').textContent!],
  ] as const) {
    const element = infNFe.ownerDocument!.createElementNS(NFE_NS, name);
    element.textContent = value;
    verProc.parentNode!.insertBefore(element, verProc.nextSibling);
  }
}

/** An NFC-e authorized by the simulator (through the test helpers' SOAP call): its key and protocol. */
async function authorized(overrides: Partial<NfceOptions> = {}): Promise<{ chave: string; nProt: string }> {
  const document = nfce(overrides.tpEmis === '9' ? { edit: enterContingency, ...overrides } : overrides);
  const xml = overrides.tpEmis === '9' ? withQrCode(document, offlineQrCodeFor(document, '67.10', CSC)) : document.xml;
  const response = await fetch(`${sefaz.url}${sefazServices.authorization.path}`, {
    method: 'POST',
    headers: { 'content-type': `application/soap+xml;charset=utf-8;action="${SOAP_ACTION}"` },
    body: authorizationEnvelope(xml),
  });
  const answer = parseAnswer(await response.text(), 'retEnviNFe');
  expect(answer.protocol).toMatchObject({ cStat: '100' });
  return { chave: document.chNFe, nProt: answer.protocol!.nProt! };
}

const cancellation = (nfe: { chave: string; nProt: string }, overrides: Partial<CancellationInput> = {}) =>
  cancellationEvent({ ...nfe, xJust: JUST, cnpj: CNPJ, tpAmb: 2, dhEvento: clock, ...overrides }, a1);

const send = (...eventXmls: string[]) => recepcaoEvento(eventUrl(), envEvento('1', eventXmls), options);

/** The batch was processed (128) and answered one event: that event's answer. */
function only(answer: EventBatchAnswer) {
  expect(answer).toMatchObject({ cStat: '128', xMotivo: 'Lote de Evento Processado' });
  expect(answer.events).toHaveLength(1);
  const event = answer.events[0]!;
  // Only a registered event has a protocol.
  expect(event.nProt === undefined).toBe(!event.registered);
  return event;
}

const rejected = (cStat: string, xMotivo: string) => ({ cStat, xMotivo, registered: false });

const validates = (dir: string, schema: string, xml: string) => expect(schemaValidator(dir, schema).failures(xml)).toEqual([]);

/** A raw POST to the event service, for what the client does not return (the answer's bytes). */
async function rawEvent(envEventoXml: string): Promise<string> {
  const response = await fetch(eventUrl(), {
    method: 'POST',
    headers: { 'content-type': `application/soap+xml;charset=utf-8;action="${sefazServices.event.action}"` },
    body:
      '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>' +
      `<nfeDadosMsg xmlns="${sefazServices.event.wsdl}">${envEventoXml}</nfeDadosMsg></soap:Body></soap:Envelope>`,
  });
  expect(response.status).toBe(200);
  return response.text();
}
const retEnvEventoOf = (body: string) => /<retEnvEvento .*<\/retEnvEvento>/.exec(body)![0];

describe('NFeRecepcaoEvento4: cancellation (110111)', () => {
  it('is the service at sefazServices.event', () => {
    expect(sefazServices.event).toEqual({
      path: '/ws/NFeRecepcaoEvento4.asmx',
      wsdl: 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeRecepcaoEvento4',
      action: 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeRecepcaoEvento4/nfeRecepcaoEvento',
      payload: 'envEvento',
    });
  });

  it('registers a cancellation within 30 minutes: 128 + 135 with its own 15-digit nProt', async () => {
    const nfe = await authorized();
    clock = new Date(clock.getTime() + 29 * MINUTE);
    const event = cancellation(nfe);
    const answer = only(await send(event.xml));
    expect(answer).toMatchObject({
      cStat: '135',
      xMotivo: 'Evento registrado e vinculado a NF-e',
      registered: true,
      chNFe: nfe.chave,
      tpEvento: '110111',
      nSeqEvento: 1,
      dhRegEvento: `${new Date(clock.getTime() - 3 * 3_600_000).toISOString().slice(0, 19)}-03:00`,
    });
    expect(answer.nProt).toMatch(/^135\d{12}$/);
    expect(answer.nProt).not.toBe(nfe.nProt);
    expect(sefaz.control.calls()).toEqual({ authorization: 1, status: 0, consultation: 0, event: 1 });
  });

  it.skipIf(Boolean(noSchemas))('answers a retEvento that makes a procEventoNFe valid against procEventoCancNFe', async () => {
    const nfe = await authorized();
    const event = cancellation(nfe);
    const proc = procEventoNFe(event.xml, only(await send(event.xml)).xml);
    validates(eventSchemasDir, 'procEventoCancNFe_v1.00.xsd', proc);
    validates(eventSchemasDir, 'procEventoNFe_v1.00.xsd', proc);
  });

  it('answers 573 for the same event again, 580 for another cancellation of a cancelled key', async () => {
    const nfe = await authorized();
    const event = cancellation(nfe);
    expect(only(await send(event.xml)).cStat).toBe('135');
    const again = retEnvEventoOf(await rawEvent(envEvento('2', [event.xml])));
    if (!noSchemas) validates(eventSchemasDir, 'retEnvEventoCancNFe_v1.00.xsd', again);
    expect(only(await send(event.xml))).toMatchObject(rejected('573', 'Rejeição: Duplicidade de Evento'));
    expect(only(await send(cancellation(nfe, { nSeqEvento: 2 }).xml))).toMatchObject(
      rejected('580', 'Rejeição: O evento exige uma NF-e autorizada'),
    );
  });

  it('answers 501 past 30 minutes on the simulator clock', async () => {
    const nfe = await authorized();
    clock = new Date(clock.getTime() + 31 * MINUTE);
    expect(only(await send(cancellation(nfe).xml))).toMatchObject(
      rejected('501', 'Rejeição: Prazo de cancelamento superior ao previsto na Legislação'),
    );
  });

  it("answers 222 for an nProt other than the key's, 217 for a key never authorized", async () => {
    const nfe = await authorized();
    const wrongProt = `${nfe.nProt.slice(0, -1)}${(Number(nfe.nProt.at(-1)) + 1) % 10}`;
    expect(only(await send(cancellation(nfe, { nProt: wrongProt }).xml))).toMatchObject(
      rejected('222', 'Rejeição: Protocolo de Autorização de Uso difere do cadastrado'),
    );
    const neverSent = { chave: nfce().chNFe, nProt: nfe.nProt };
    expect(only(await send(cancellation(neverSent).xml))).toMatchObject({
      ...rejected('217', 'Rejeição: NF-e não consta na base de dados da SEFAZ'),
      chNFe: neverSent.chave,
    });
    // Neither rejection cancelled anything.
    expect(only(await send(cancellation(nfe).xml)).cStat).toBe('135');
  });

  it('answers 297 for a tampered event and 213 for another company’s certificate', async () => {
    const nfe = await authorized();
    const tampered = cancellation(nfe).xml.replace(JUST, 'Venda cancelada por engano do caixa');
    expect(only(await send(tampered))).toMatchObject(rejected('297', 'Rejeição: Assinatura difere do calculado'));
    const other = openA1(createTestA1({ name: 'OUTRA LTDA', cnpj: '11222333000181', password: 'x' }), 'x');
    const foreign = cancellationEvent({ ...nfe, xJust: JUST, cnpj: CNPJ, tpAmb: 2, dhEvento: clock }, other);
    expect(only(await send(foreign.xml))).toMatchObject({ cStat: '213', registered: false });
    expect(only(await send(cancellation(nfe).xml)).cStat).toBe('135');
  });

  it('answers each event of a batch on its own, in order', async () => {
    const [first, second] = [await authorized(), await authorized()];
    const answer = await send(cancellation(first).xml, cancellation(second, { nProt: first.nProt }).xml);
    expect(answer.events.map((e) => [e.chNFe, e.cStat])).toEqual([
      [first.chave, '135'],
      [second.chave, '222'],
    ]);
  });
});

describe('NFeRecepcaoEvento4: cancellation by substitution (110112)', () => {
  const substitution = (nfe: { chave: string; nProt: string }, chNFeRef: string) =>
    substitutionEvent(
      { ...nfe, chNFeRef, verAplic: 'checkout-test 1.0', xJust: JUST, cnpj: CNPJ, tpAmb: 2, dhEvento: clock },
      a1,
    );

  it('registers a substitution whose chNFeRef is the authorized contingency NFC-e, within 168 h', async () => {
    const online = await authorized();
    const contingency = await authorized({ tpEmis: '9' });
    clock = new Date(clock.getTime() + 167 * 60 * MINUTE);
    const event = substitution(online, contingency.chave);
    const answer = only(await send(event.xml));
    expect(answer).toMatchObject({ cStat: '135', registered: true, tpEvento: '110112', chNFe: online.chave });
    if (!noSchemas) validates(eventSchemasDir, 'procEventoCancSubst_v1.00.xsd', procEventoNFe(event.xml, answer.xml));
  });

  it('answers 912 for a reference never authorized, 501 after 168 h', async () => {
    const online = await authorized();
    const unknown = nfce({ tpEmis: '9' }).chNFe;
    expect(only(await send(substitution(online, unknown).xml))).toMatchObject(
      rejected('912', 'Rejeição: NF-e Substituta inexistente'),
    );
    const contingency = await authorized({ tpEmis: '9' });
    clock = new Date(clock.getTime() + 169 * 60 * MINUTE);
    expect(only(await send(substitution(online, contingency.chave).xml)).cStat).toBe('501');
  });

  it('answers 913 for a reference SEFAZ holds cancelled', async () => {
    const online = await authorized();
    const contingency = await authorized({ tpEmis: '9' });
    expect(only(await send(cancellation(contingency).xml)).cStat).toBe('135');
    expect(only(await send(substitution(online, contingency.chave).xml))).toMatchObject(
      rejected('913', 'Rejeição: NF-e Substituta Denegada ou Cancelada'),
    );
  });

  it('answers 920 unless an online NFC-e (tpEmis 1) is replaced by a contingency one (tpEmis 9), 911 for another emitter’s', async () => {
    const online = await authorized();
    const contingency = await authorized({ tpEmis: '9' });
    const wrongType = rejected('920', 'Rejeição: Tipo de Emissão inválido no Cancelamento por Substituição');
    // The key and its reference swapped (the client refuses to build chNFeRef = chNFe, which is 920 too).
    expect(only(await send(substitution(contingency, online.chave).xml))).toMatchObject(wrongType);
    const foreign = nfce({ tpEmis: '9', cnpj: '11222333000181' }).chNFe;
    expect(only(await send(substitution(online, foreign).xml))).toMatchObject(
      rejected('911', 'Rejeição: Chave de Acesso NF-e Substituta incorreta (CNPJ/CPF)'),
    );
    // None of them cancelled anything.
    expect(only(await send(substitution(online, contingency.chave).xml)).cStat).toBe('135');
  });
});

describe('NFeRecepcaoEvento4: the batch', () => {
  it('answers 215 without events for a batch that fails the schema', async () => {
    const nfe = await authorized();
    const broken = envEvento('1', [cancellation(nfe).xml]).replace('<idLote>1</idLote>', '<idLote>lote</idLote>');
    const answer = await recepcaoEvento(eventUrl(), broken, options);
    expect(answer).toEqual({ cStat: '215', xMotivo: 'Rejeição: Falha no schema XML', events: [] });
  });

  it('fails with 503 when told, as every service does', async () => {
    const nfe = await authorized();
    sefaz.control.failWith(503, 1);
    await expect(send(cancellation(nfe).xml)).rejects.toBeInstanceOf(SefazUnavailable);
    expect(only(await send(cancellation(nfe).xml)).cStat).toBe('135');
  });
});

describe('NFeConsultaProtocolo4 after a cancellation', () => {
  it('answers 101 with the authorization’s protNFe and the cancellation’s procEventoNFe', async () => {
    const nfe = await authorized();
    const consultationUrl = `${sefaz.url}${sefazServices.consultation.path}`;
    expect(await consultProtocol(consultationUrl, nfe.chave, 2, options)).toMatchObject({ cStat: '100' });
    const registered = only(await send(cancellation(nfe).xml));

    const answer = await consultProtocol(consultationUrl, nfe.chave, 2, options);
    expect(answer).toMatchObject({
      cStat: '101',
      xMotivo: 'Cancelamento de NF-e homologado',
      protocol: { cStat: '100', nProt: nfe.nProt },
    });
    const body = await (
      await fetch(consultationUrl, {
        method: 'POST',
        headers: { 'content-type': `application/soap+xml;charset=utf-8;action="${sefazServices.consultation.action}"` },
        body: consultationEnvelope(nfe.chave),
      })
    ).text();
    expect(body).toContain(`<procEventoNFe versao="1.00">`);
    expect(body).toContain(`<nProt>${registered.nProt}</nProt>`);
    if (!noSchemas) validates(schemasDir, 'retConsSitNFe_v4.00.xsd', /<retConsSitNFe .*<\/retConsSitNFe>/.exec(body)![0]);
  });
});
