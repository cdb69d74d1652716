import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type A1Certificate } from '../../functions/nfce/certificate.ts';
import { buildDocument } from '../../functions/nfce/document.ts';
import { cancellationEvent, envEvento, recepcaoEvento } from '../../functions/nfce/events.ts';
import { authorize, consultProtocol, SefazUnavailable } from '../../functions/nfce/sefaz.ts';
import { enviNFe, signNfce } from '../../functions/nfce/xml.ts';
import { sefazServices, startSefazSimulator, type SefazSimulator } from '../../lib/simulators/sefaz/index.ts';
import { demoEmitter, inputFor, orderItems, paymentFor, testCertificate } from '../support/nfce.ts';
import { NFE_NS, offlineQrCodeFor, signedNfce, withQrCode, type NfceOptions } from './sefaz-nfce.ts';

/**
 * The SEFAZ simulator and the offline contingency (spec nfce-2026.md §4; MOC 7.0 rules B09, B22,
 * B28): dhEmi against the receipt on a clock the tests move (703 / 704, 5 minutes of tolerance),
 * the emission types served (570 / 714), a contingency NFC-e's dhCont and xJust (556 / 557 / 558,
 * 15–256 characters), and an authorization whose answer is lost (control.loseAnswers), beside a
 * slow (setDelay) and an unreachable (down) SEFAZ.
 */

const projectRoot = resolve(import.meta.dirname, '../..');
const schemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_010e_v1.01');
const eventSchemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_010d_v1.02_events');
const noSchemas = [schemasDir, eventSchemasDir].filter((dir) => !existsSync(dir)).map((dir) => `${dir} is absent`)[0];
if (noSchemas) console.warn(`SEFAZ contingency tests run without XSD validation: ${noSchemas}`);

// The demo emitter's CNPJ and CSC, so that the production builder's documents pass as well.
const { cnpj: CNPJ, csc: CSC } = demoEmitter();
const XJUST = 'SEFAZ sem resposta: emissao em contingencia offline';
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const options = { timeoutMs: 5_000 };

let sefaz: SefazSimulator;
/** Without schemas: what only the simulator's own re-checks of the XSD's guarantees catch. */
let lenient: SefazSimulator;
/** Both simulators' clock: dhRecbto and the dhEmi rules read it. */
let clock: Date;
let a1: A1Certificate;
let nextNumber = 7000;

beforeAll(async () => {
  a1 = testCertificate();
  const common = { csc: { [CNPJ]: CSC }, now: () => clock };
  sefaz = await startSefazSimulator({ ...common, ...(noSchemas ? {} : { schemasDir, eventSchemasDir }) });
  lenient = await startSefazSimulator(common);
});
afterAll(async () => {
  await sefaz?.close();
  await lenient?.close();
});
beforeEach(async () => {
  // Whole seconds, as dhEmi is written: the 5-minute boundaries are then exact.
  clock = new Date(Math.floor(Date.now() / SECOND) * SECOND);
  await Promise.all([sefaz.control.reset(), lenient.control.reset()]);
});

/** An instant in Brasília time (-03:00), as dhEmi, dhCont and dhRecbto are written. */
const brasilia = (at: number) => `${new Date(at - 3 * HOUR).toISOString().slice(0, 19)}-03:00`;
/** `offset` ms from the simulators' clock, in Brasília time. */
const fromClock = (offset: number) => brasilia(clock.getTime() + offset);

/** ide/dhCont and ide/xJust (each when given) right after verProc, where the schema puts them. */
const withContingency =
  (fields: { dhCont?: string; xJust?: string }) =>
  (infNFe: Element): void => {
    let previous = infNFe.getElementsByTagNameNS(NFE_NS, 'verProc')[0]!;
    for (const name of ['dhCont', 'xJust'] as const) {
      const value = fields[name];
      if (value === undefined) continue;
      const element = infNFe.ownerDocument!.createElementNS(NFE_NS, name);
      element.textContent = value;
      previous.parentNode!.insertBefore(element, previous.nextSibling);
      previous = element;
    }
  };

const nfce = (overrides: Partial<NfceOptions>) => signedNfce({ a1, cnpj: CNPJ, csc: CSC, nNF: nextNumber++, ...overrides });

/** A normal-emission NFC-e (tpEmis 1) issued at `dhEmi`. */
const online = (dhEmi: string, overrides: Partial<NfceOptions> = {}) => nfce({ dhEmi, ...overrides });

/**
 * An offline-contingency NFC-e (tpEmis 9) issued at `dhEmi`, with `fields` (by default a dhCont a
 * minute before dhEmi and a valid xJust) and the offline QR code for `vNF` (the document's own).
 */
function offline(
  dhEmi: string,
  fields: { dhCont?: string; xJust?: string } = { dhCont: brasilia(Date.parse(dhEmi) - MINUTE), xJust: XJUST },
  vNF = '67.10',
) {
  const document = nfce({ tpEmis: '9', dhEmi, edit: withContingency(fields) });
  return { ...document, xml: withQrCode(document, offlineQrCodeFor(document, vNF, CSC)) };
}

const authorizationUrl = (simulator = sefaz) => `${simulator.url}${sefazServices.authorization.path}`;
const consultationUrl = () => `${sefaz.url}${sefazServices.consultation.path}`;
/** The production client's NFeAutorizacao4 call, one NFC-e per lot. */
const send = (document: { xml: string }, simulator = sefaz) =>
  authorize(authorizationUrl(simulator), enviNFe('1', document.xml), options);

/** The document's protocol in a processed lot (104). */
async function protocolOf(document: { xml: string }, simulator = sefaz) {
  const answer = await send(document, simulator);
  expect(answer).toMatchObject({ cStat: '104', xMotivo: 'Lote processado' });
  return answer.protocol!;
}
const rejected = (cStat: string, xMotivo: string) => ({ cStat, xMotivo, nProt: undefined });
const AUTHORIZED = { cStat: '100', xMotivo: 'Autorizado o uso da NF-e' };
const LATE = rejected('704', 'Rejeição: NFC-e com Data-Hora de emissão atrasada');
const AHEAD = rejected('703', 'Rejeição: Data-Hora de Emissão posterior ao horário de recebimento');
const SCHEMA = 'Rejeição: Falha no Schema XML do lote de NFe';

describe('dhEmi against the receipt (MOC B09-10, B09-40): 5 minutes of tolerance either way', () => {
  it('accepts a normal-emission NFC-e issued exactly 5 minutes before the receipt; 704 at 5 minutes and 1 second', async () => {
    expect(await protocolOf(online(fromClock(-5 * MINUTE)))).toMatchObject(AUTHORIZED);
    const late = online(fromClock(-5 * MINUTE - SECOND));
    expect(await protocolOf(late)).toMatchObject(LATE);
    expect(sefaz.control.authorized().map((a) => a.chNFe)).not.toContain(late.chNFe);
  });

  it('accepts dhEmi exactly 5 minutes after the receipt; 703 at 5 minutes and 1 second', async () => {
    expect(await protocolOf(online(fromClock(5 * MINUTE)))).toMatchObject(AUTHORIZED);
    expect(await protocolOf(online(fromClock(5 * MINUTE + SECOND)))).toMatchObject(AHEAD);
  });

  it('compares instants: the same moment written with +00:00 passes, its digits read as -03:00 are 3 h ahead', async () => {
    const utc = (offset: number) => new Date(clock.getTime() + offset).toISOString().slice(0, 19);
    expect(await protocolOf(online(`${utc(-4 * MINUTE)}+00:00`))).toMatchObject(AUTHORIZED);
    expect(await protocolOf(online(`${utc(-4 * MINUTE)}-03:00`))).toMatchObject(AHEAD);
  });

  it('reads the simulator clock: the document it accepted now is 704 once the clock has moved 6 minutes', async () => {
    const issued = fromClock(0);
    const first = await protocolOf(online(issued));
    expect(first).toMatchObject({ ...AUTHORIZED, dhRecbto: issued });
    clock = new Date(clock.getTime() + 6 * MINUTE);
    const second = await protocolOf(online(issued));
    expect(second).toMatchObject({ ...LATE, dhRecbto: fromClock(0) });
  });
});

describe('offline contingency (tpEmis 9)', () => {
  it('authorizes the production builder’s contingency NFC-e 20 hours late; a consultation answers 100 with its protocol', async () => {
    const items = orderItems(2);
    const dhEmi = fromClock(-20 * HOUR);
    const document = buildDocument({
      ...inputFor(items, paymentFor(items), { nNF: nextNumber++, cNF: '27182818', dhEmi }),
      contingency: { dhCont: fromClock(-20 * HOUR - 3 * MINUTE), xJust: XJUST },
    });
    const signed = signNfce(document, a1);
    expect(signed.chave[34]).toBe('9');

    const answer = await send({ xml: signed.nfeXml });
    expect(answer.protocol).toMatchObject({ ...AUTHORIZED, dhRecbto: fromClock(0), nProt: expect.stringMatching(/^[0-9]{17}$/) });
    expect(sefaz.control.authorized()).toEqual([expect.objectContaining({ chNFe: signed.chave, digVal: signed.digestValue })]);

    clock = new Date(clock.getTime() + HOUR);
    const consulted = await consultProtocol(consultationUrl(), signed.chave, 2, options);
    expect(consulted).toMatchObject({ ...AUTHORIZED, protocol: { ...AUTHORIZED, nProt: answer.protocol!.nProt } });
    expect(consulted.protocol!.xml).toBe(answer.protocol!.xml);
  });

  it('answers 703 for a contingency NFC-e dated ahead of the receipt: only lateness is exempt', async () => {
    expect(await protocolOf(offline(fromClock(-7 * 24 * HOUR)))).toMatchObject(AUTHORIZED);
    expect(await protocolOf(offline(fromClock(6 * MINUTE)))).toMatchObject(AHEAD);
  });

  it('checks the offline QR code against vNF and the DigestValue', async () => {
    expect(await protocolOf(offline(fromClock(-HOUR)))).toMatchObject(AUTHORIZED);
    const wrongTotal = offline(fromClock(-HOUR), undefined, '67.00');
    expect(await protocolOf(wrongTotal)).toMatchObject(
      rejected('397', 'Rejeição: Parâmetro do QR-Code divergente da Nota Fiscal'),
    );
  });

  it('556: dhCont and xJust on a normal-emission NFC-e', async () => {
    const document = online(fromClock(0), { edit: withContingency({ dhCont: fromClock(-MINUTE), xJust: XJUST }) });
    expect(await protocolOf(document)).toMatchObject(
      rejected('556', 'Rejeição: Justificativa de entrada em contingência não deve ser informada para tipo de emissão normal'),
    );
  });

  it('557: a contingency NFC-e without dhCont and xJust; with one alone the schema fails first (225), 557 without schemas', async () => {
    const MISSING = rejected('557', 'Rejeição: A Justificativa de entrada em contingência deve ser informada');
    expect(await protocolOf(offline(fromClock(-HOUR), {}))).toMatchObject(MISSING);
    expect(await protocolOf(offline(fromClock(-HOUR), { xJust: XJUST }), lenient)).toMatchObject(MISSING);
    expect(await protocolOf(offline(fromClock(-HOUR), { dhCont: fromClock(-2 * HOUR) }), lenient)).toMatchObject(MISSING);
    if (noSchemas) return;
    const answer = await send(offline(fromClock(-HOUR), { xJust: XJUST }));
    expect(answer).toEqual({ cStat: '225', xMotivo: SCHEMA });
  });

  it('558: dhCont after dhEmi, by a second; equal is accepted', async () => {
    const dhEmi = fromClock(-HOUR);
    expect(await protocolOf(offline(dhEmi, { dhCont: fromClock(-HOUR + SECOND), xJust: XJUST }))).toMatchObject(
      rejected('558', 'Rejeição: Data de entrada em contingência posterior a data de emissão'),
    );
    expect(await protocolOf(offline(dhEmi, { dhCont: dhEmi, xJust: XJUST }))).toMatchObject(AUTHORIZED);
  });

  it('takes an xJust of 15 to 256 characters without blanks at either end, with or without schemas (225 otherwise)', async () => {
    const withJust = (xJust: string) => offline(fromClock(-HOUR), { dhCont: fromClock(-2 * HOUR), xJust });
    for (const simulator of [sefaz, lenient]) {
      expect(await protocolOf(withJust('x'.repeat(15)), simulator)).toMatchObject(AUTHORIZED);
      expect(await protocolOf(withJust('y'.repeat(256)), simulator)).toMatchObject(AUTHORIZED);
      for (const bad of ['x'.repeat(14), 'y'.repeat(257), ` ${XJUST}`]) {
        expect(await send(withJust(bad), simulator), bad).toEqual({ cStat: '225', xMotivo: SCHEMA });
      }
    }
  });

  it('answers 570 for tpEmis 3, 6 and 7 (SCAN/SVC), 714 for 2, 4 and 5 (paper forms, EPEC): not served here', async () => {
    // signedNfce types the two emission types SEFAZ-SP serves; the key and ide take any.
    const ofType = (tpEmis: string) => online(fromClock(-HOUR), { tpEmis: tpEmis as NfceOptions['tpEmis'] });
    // Without schemas: the XSD ties the QR code's shape to the key's tpEmis (online v2 for 1, 3, 4 only).
    for (const tpEmis of ['3', '6', '7']) {
      expect(await protocolOf(ofType(tpEmis), lenient), tpEmis).toMatchObject(
        rejected('570', 'Rejeição: Tipo de Emissão 3, 6 ou 7 só é válido nas contingências SCAN/SVC'),
      );
    }
    for (const tpEmis of ['2', '4', '5']) {
      expect(await protocolOf(ofType(tpEmis), lenient), tpEmis).toMatchObject(
        rejected('714', 'Rejeição: NFC-e com contingência inválida'),
      );
    }
  });
});

describe('an authorization whose answer is lost (control.loseAnswers)', () => {
  it('authorizes and registers the NFC-e but breaks the connection; the key consults as 100, the next call is answered', async () => {
    const document = online(fromClock(0));
    sefaz.control.loseAnswers(1);
    const lost = send(document);
    await expect(lost).rejects.toBeInstanceOf(SefazUnavailable);
    await expect(lost).rejects.toMatchObject({ reachedSefaz: true });

    const [authorization] = sefaz.control.authorized();
    expect(authorization).toMatchObject({ chNFe: document.chNFe, dhRecbto: fromClock(0) });
    const consulted = await consultProtocol(consultationUrl(), document.chNFe, 2, options);
    expect(consulted).toMatchObject({ ...AUTHORIZED, protocol: { ...AUTHORIZED, nProt: authorization!.nProt } });

    // Sent again, it is a duplicate; another NFC-e is answered as usual.
    expect(await protocolOf(document)).toMatchObject({ cStat: '204' });
    expect(await protocolOf(online(fromClock(0)))).toMatchObject(AUTHORIZED);
    expect(sefaz.control.calls()).toEqual({ authorization: 3, status: 0, consultation: 1 });
  });

  it('loses an event batch’s answer after registering it: the key consults as 101', async () => {
    const document = online(fromClock(0));
    const { nProt } = await protocolOf(document);
    const event = cancellationEvent(
      {
        chave: document.chNFe,
        nProt: nProt!,
        xJust: 'Venda cancelada a pedido do cliente',
        cnpj: CNPJ,
        tpAmb: 2,
        dhEvento: clock,
      },
      a1,
    );
    const eventUrl = `${sefaz.url}${sefazServices.event.path}`;
    sefaz.control.loseAnswers(1);
    await expect(recepcaoEvento(eventUrl, envEvento('1', [event.xml]), options)).rejects.toBeInstanceOf(SefazUnavailable);

    expect(await consultProtocol(consultationUrl(), document.chNFe, 2, options)).toMatchObject({ cStat: '101' });
    const again = await recepcaoEvento(eventUrl, envEvento('2', [event.xml]), options);
    expect(again.events).toEqual([expect.objectContaining({ cStat: '573', registered: false })]);
  });

  it('after setDelay’s delay: slow, then no answer, the NFC-e authorized all the same', async () => {
    sefaz.control.setDelay(300);
    sefaz.control.loseAnswers(1);
    const document = online(fromClock(0));
    const started = performance.now();
    await expect(send(document)).rejects.toBeInstanceOf(SefazUnavailable);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(sefaz.control.authorized().map((a) => a.chNFe)).toEqual([document.chNFe]);
  });

  it('counts only what is processed: not a call down() kept out, nor one failWith answered unprocessed', async () => {
    sefaz.control.loseAnswers(1);
    await sefaz.control.down('refuse');
    await expect(send(online(fromClock(0)))).rejects.toMatchObject({ reachedSefaz: false });
    await sefaz.control.up();

    sefaz.control.failWith(503, 1);
    await expect(send(online(fromClock(0)))).rejects.toThrow('SEFAZ answered HTTP 503');
    expect(sefaz.control.authorized()).toEqual([]);

    const processed = online(fromClock(0));
    await expect(send(processed)).rejects.toBeInstanceOf(SefazUnavailable);
    expect(sefaz.control.authorized().map((a) => a.chNFe)).toEqual([processed.chNFe]);
    expect(await protocolOf(online(fromClock(0)))).toMatchObject(AUTHORIZED);
  });

  it('is undone by reset()', async () => {
    sefaz.control.loseAnswers(2);
    await sefaz.control.reset();
    expect(await protocolOf(online(fromClock(0)))).toMatchObject(AUTHORIZED);
  });
});
