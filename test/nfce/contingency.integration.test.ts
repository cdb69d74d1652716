import { existsSync } from 'node:fs';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import { envName } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import {
  EVENT_SCHEMAS,
  provisionDemoFiscal,
  SCHEMAS,
  storedCertificatePem,
  xmlsecMissing,
  xmlsecVerifies,
} from '../support/nfce.ts';
import { schemasMissing, xsdFailures } from '../support/xsd.ts';
import {
  issueToken,
  OTHER_INTEGRATION,
  post,
  pollUntilFinished,
  SEED_INTEGRATION,
  send,
  startTestRuntime,
} from '../support/runtime.ts';

/**
 * Offline contingency (tpEmis 9) through the local stack, against the SEFAZ simulator: the POS's
 * sale when SEFAZ is unreachable, paused or silent, the contingency sender transmitting it when
 * SEFAZ is back, the online attempt settled both ways (authorized → 110112; unknown → recorded
 * for inutilização), and a normal-emission document redriven long after its dhEmi.
 */

const CNPJ = '82373077000171';
/** Waited for an online attempt to be final: the setting below, and a second for dhEmi's truncation. */
const FINAL_AFTER_MS = 6_000;

let stack: LocalRuntime;
let token: string;
let offToken: string;
let admin: string;
let table = 0;

beforeAll(async () => {
  stack = await startTestRuntime({
    ...(existsSync(SCHEMAS) ? { schemasDir: SCHEMAS } : {}),
    ...(existsSync(EVENT_SCHEMAS) ? { eventSchemasDir: EVENT_SCHEMAS } : {}),
    env: {
      RETRY_BASE_SECONDS: '0.1',
      SEFAZ_TIMEOUT_SECONDS: '1',
      // An online send SEFAZ does not know is final 5 s after its dhEmi (6 minutes in AWS).
      CONTINGENCY_ONLINE_FINAL_AFTER_SECONDS: String(FINAL_AFTER_MS / 1000 - 1),
      // Every payment asks SEFAZ, even right after it was seen away (the last describe has its own stack).
      CONTINGENCY_AWAY_SECONDS: '0',
    },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
  offToken = await issueToken(stack, OTHER_INTEGRATION);
  admin = await new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!).issueAdminToken('ops');
  await provisionDemoFiscal(stack, SEED_INTEGRATION);
  await provisionDemoFiscal(stack, OTHER_INTEGRATION, { offlineContingency: false });
});
afterAll(() => stack?.close());
beforeEach(async () => {
  await stack.sefaz.control.reset();
});

async function pushOrder(bearer = token, integrationHubServiceId = SEED_INTEGRATION) {
  const orderKey = `C${++table}`;
  const order = { ...fixture('order-mesa/order-table-2.json'), integrationHubServiceId };
  expect((await send(stack, 'PUT', `/orders/TABLE/${orderKey}`, order, bearer)).status).toBe(201);
  return { ...seedPayment(), integrationHubServiceId, orderKey };
}

const sender = () => stack.runSchedule('nfceContingencySender') as Promise<Record<string, number>>;
const listing = async () => (await send(stack, 'GET', '/admin/nfce/contingency', undefined, admin)).body;
const item = async (tableName: 'numbering' | 'invoices' | 'payments', pk: string) =>
  (await stack.documents.send(new GetCommand({ TableName: stack.env[envName.table(tableName)], Key: { pk } }))).Item;
const object = async (key: string) =>
  (
    await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.env[envName.bucket('fiscal')], Key: key }))
  ).Body!.transformToString();
const paymentIdOf = async (orderKey: string, integration = SEED_INTEGRATION) =>
  String((await item('payments', `ORDER#${integration}#TABLE#${orderKey}`))!.paymentId);
/** The digits of the key's nNF (positions 26–34). */
const nNFOf = (chave: string) => Number(chave.slice(25, 34));
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const noSchemas = schemasMissing();
const noEventSchemas = existsSync(EVENT_SCHEMAS) ? undefined : `${EVENT_SCHEMAS} is absent`;
const noXmlsec = xmlsecMissing();
if (noSchemas) console.warn(`skipping the contingency NFC-e XSD checks: ${noSchemas}`);
if (noEventSchemas) console.warn(`skipping the 110112 XSD check: ${noEventSchemas}`);
if (noXmlsec) console.warn(`skipping the contingency xmlsec1 checks: ${noXmlsec}`);

const certificatePem = () => storedCertificatePem(stack, SEED_INTEGRATION);

/** The XSD (PL_010e) and xmlsec1's verdicts on an NFe or nfeProc (its NFe), where the tools are present. */
function expectValid(xml: string, schema: 'nfe_v4.00.xsd' | 'procNFe_v4.00.xsd') {
  if (!noSchemas) expect(xsdFailures(schema, { [schema]: xml })).toEqual([]);
  const nfe = xml.slice(xml.indexOf('<NFe'), xml.indexOf('</NFe>') + '</NFe>'.length);
  if (!noXmlsec) expect(xmlsecVerifies(nfe, certificatePem())).toBe(true);
}

describe('SEFAZ unreachable during a payment', () => {
  it('the POS gets a contingency NFC-e at once; back up, the sender authorizes it and records the unsent online number for inutilização', async () => {
    const payment = await pushOrder();
    await stack.sefaz.control.down('refuse');
    await post(stack, '/order/payment', payment, token);
    const done = await pollUntilFinished(stack, payment, token, 10_000);
    const paymentId = await paymentIdOf(payment.orderKey);

    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ success: true, error: null });
    const details = done.body.invoiceDetails;
    const chave: string = details.invoiceKey;
    expect(details.contingency).toBe(true);
    expect(chave).toMatch(new RegExp(`^3526\\d{2}${CNPJ}65001\\d{9}9\\d{9}$`));
    expect(details.orderXML.startsWith('<?xml version="1.0" encoding="UTF-8"?><NFe xmlns=')).toBe(true);
    expect(details.orderXML).toContain('<tpEmis>9</tpEmis>');
    expect(details.orderXML).toMatch(
      /<dhCont>[0-9T:-]{25}<\/dhCont><xJust>SEFAZ inacessivel na autorizacao da NFC-e: emissao em contingencia offline<\/xJust>/,
    );
    // QR code v2 offline: key|2|tpAmb|day of dhEmi|vNF|hex(DigestValue)|cIdToken|hash.
    const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(details.orderXML)![1]!;
    const hex = Buffer.from(field('DigestValue')).toString('hex');
    expect(details.qrCode).toMatch(
      new RegExp(
        `^https://www\\.homologacao\\.nfce\\.fazenda\\.sp\\.gov\\.br/qrcode\\?p=${chave}\\|2\\|2\\|${field('dhEmi').slice(8, 10)}\\|${field('vNF').replace('.', '\\.')}\\|${hex}\\|3\\|[0-9A-F]{40}$`,
      ),
    );
    expect(details.receiptText).toContain('EMITIDA EM CONTINGÊNCIA');
    expect(details.receiptText).toContain('Pendente de autorização');
    expectValid(details.orderXML, 'nfe_v4.00.xsd');

    // The online attempt's number is held for the sender; the contingency NFC-e took the next one.
    const numbered = (await item('numbering', `NUMBERED#${paymentId}`))!;
    expect(numbered.contingency.nNF).toBe(nNFOf(chave));
    expect(numbered.nNF).toBeLessThan(nNFOf(chave));
    const { pending } = await listing();
    const listed = pending.items.find((entry: { invoiceKey: string }) => entry.invoiceKey === chave);
    expect(listed).toMatchObject({
      state: 'PENDING',
      paymentId,
      nNF: nNFOf(chave),
      attempts: 0,
      online: { nNF: numbered.nNF, sent: false },
    });
    expect(listed.secondsToDeadline).toBeGreaterThan(0);
    // Reprints work before SEFAZ has it: the signed NFe and its pending receipt.
    const reprint = await send(stack, 'GET', `/invoices/${chave}/receipt`, undefined, token);
    expect(reprint.status).toBe(200);
    expect(reprint.body).toContain('Pendente de autorização');

    await stack.sefaz.control.up();
    expect(await sender()).toMatchObject({ authorized: 1, rejected: 0, settled: 1, nearDeadline: 0 });
    const [authorization] = stack.sefaz.control.authorized();
    expect(authorization!.chNFe).toBe(chave);

    // The same request again: now the nfeProc, and a receipt with the protocol.
    const again = await post(stack, '/order/payment', payment, token);
    expect(again.status).toBe(200);
    expect(again.body.invoiceDetails).toMatchObject({ invoiceKey: chave, contingency: true, qrCode: details.qrCode });
    const proc: string = again.body.invoiceDetails.orderXML;
    expect(proc.startsWith('<?xml version="1.0" encoding="UTF-8"?><nfeProc versao="4.00"')).toBe(true);
    expect(proc).toContain(`<nProt>${authorization!.nProt}</nProt>`);
    expect(proc).toContain(details.orderXML.slice('<?xml version="1.0" encoding="UTF-8"?>'.length));
    expect(again.body.invoiceDetails.receiptText).toContain('EMITIDA EM CONTINGÊNCIA');
    expect(again.body.invoiceDetails.receiptText).not.toContain('Pendente de autorização');
    expect(again.body.invoiceDetails.receiptText).toContain(authorization!.nProt);
    expectValid(proc, 'procNFe_v4.00.xsd');
    expect((await send(stack, 'GET', `/invoices/${chave}`, undefined, token)).body).toBe(proc);

    // The online number never reached SEFAZ: recorded for inutilização with the key built for it.
    const gap = (await item('numbering', `GAP#NNF#${CNPJ}#1#${numbered.nNF}`))!;
    expect(gap).toMatchObject({ paymentId, reason: 'online attempt replaced by contingency' });
    expect([...gap.chaves]).toEqual([listed.online.chave]);
    const { sent } = await listing();
    expect(sent.items.find((entry: { invoiceKey: string }) => entry.invoiceKey === chave)).toMatchObject({
      state: 'SENT',
      nProt: authorization!.nProt,
      online: { settlement: 'GAP' },
    });
    // Nothing more to do: a second run sends nothing.
    expect(await sender()).toMatchObject({ authorized: 0, settled: 0, waiting: 0 });
    expect(stack.sefaz.control.calls().authorization).toBe(1);
  });

  it('paused (108) goes to contingency too, without a queue retry', async () => {
    const payment = await pushOrder();
    stack.sefaz.control.setServiceStatus('paused');
    await post(stack, '/order/payment', payment, token);
    const done = await pollUntilFinished(stack, payment, token, 10_000);
    expect(done.body.invoiceDetails.contingency).toBe(true);
    expect(done.body.invoiceDetails.orderXML).toContain('<xJust>SEFAZ com servico de autorizacao paralisado');
    expect(stack.sefaz.control.calls().authorization).toBe(1);
    expect((await item('payments', `ORDER#${SEED_INTEGRATION}#TABLE#${payment.orderKey}`))!.processingAttempts).toBe(1);
  });
});

describe('SEFAZ silent during a payment (the default 8 s wait)', () => {
  it('the POS gets its contingency NFC-e within 10 s; the online attempt, sent but never processed, is recorded once final', async () => {
    const payment = await pushOrder();
    // Every call answered with a fault, 9 s late: the 8 s wait runs out first.
    stack.sefaz.control.failWith(503, 'always');
    stack.sefaz.control.setDelay(9_000);
    const started = Date.now();
    await post(stack, '/order/payment', payment, token);
    const done = await pollUntilFinished(stack, payment, token, 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(8_000);
    expect(done.body.invoiceDetails.contingency).toBe(true);
    expect(done.body.invoiceDetails.orderXML).toContain('<xJust>SEFAZ sem resposta no prazo da autorizacao');
    const chave: string = done.body.invoiceDetails.invoiceKey;
    const paymentId = await paymentIdOf(payment.orderKey);
    const online = (await item('invoices', `INVOICE#${chave}`))!.contingency.online;
    expect(online.sent).toBe(true);

    await stack.sefaz.control.reset();
    await sleep(FINAL_AFTER_MS);
    await sender();
    expect((await item('invoices', `INVOICE#${chave}`))!).toMatchObject({
      contingencyState: 'SENT',
      contingency: { online: { settlement: 'GAP' } },
    });
    expect(await item('numbering', `GAP#NNF#${CNPJ}#1#${online.nNF}`)).toMatchObject({ paymentId });
  });
});

describe('the online attempt had been authorized, its answer lost', () => {
  it('is cancelled by substitution (110112, chNFeRef = the contingency key), its procEventoNFe stored', async () => {
    const payment = await pushOrder();
    stack.sefaz.control.loseAnswers(1);
    await post(stack, '/order/payment', payment, token);
    const done = await pollUntilFinished(stack, payment, token, 10_000);
    const chave: string = done.body.invoiceDetails.invoiceKey;
    expect(done.body.invoiceDetails.contingency).toBe(true);
    const [onlineAuthorization] = stack.sefaz.control.authorized();
    const record = (await item('invoices', `INVOICE#${chave}`))!;
    expect(record.contingency.online).toMatchObject({ chave: onlineAuthorization!.chNFe, sent: true });

    // Within seconds of its dhEmi the online answer could still be in flight: nothing is settled.
    await sender();
    expect((await item('invoices', `INVOICE#${chave}`))!).toMatchObject({ contingencyState: 'SETTLING' });
    await sleep(FINAL_AFTER_MS);
    // SEFAZ paused right then: the settlement waits, it is not handed to an operator.
    stack.sefaz.control.setServiceStatus('paused');
    await sender();
    const waiting = (await item('invoices', `INVOICE#${chave}`))!;
    expect(waiting.contingencyState).toBe('SETTLING');
    expect(waiting.contingency.online.problem).toBeUndefined();
    stack.sefaz.control.setServiceStatus('running');
    await sender();
    const settled = (await item('invoices', `INVOICE#${chave}`))!;
    expect(settled.contingency.online).toMatchObject({ settlement: 'SUBSTITUTED' });
    const proc = await object(settled.contingency.online.eventKey);
    expect(proc).toMatch(
      new RegExp(
        `<tpEvento>110112</tpEvento>.*<nProt>${onlineAuthorization!.nProt}</nProt>.*<chNFeRef>${chave}</chNFeRef>.*<retEvento .*<cStat>135</cStat>`,
      ),
    );
    if (!noEventSchemas) expect(schemaValidator(EVENT_SCHEMAS, 'procEventoNFe_v1.00.xsd').failures(proc)).toEqual([]);
    if (!noXmlsec) {
      const evento = /<evento [\s\S]*<\/evento>/.exec(proc)![0];
      expect(xmlsecVerifies(evento, certificatePem(), 'infEvento')).toBe(true);
    }
    // SEFAZ now holds the online NFC-e cancelled, the contingency one authorized: one valid NFC-e for the sale.
    expect(
      stack.sefaz.control
        .authorized()
        .map((a) => a.chNFe)
        .sort(),
    ).toEqual([onlineAuthorization!.chNFe, chave].sort());
    expect(stack.sefaz.control.calls().event).toBe(1);
  });
});

describe('the sender while SEFAZ is still away, and a refusal', () => {
  it('backs off, then records SEFAZ’s refusal for an operator', async () => {
    const payment = await pushOrder();
    await stack.sefaz.control.down('refuse');
    await post(stack, '/order/payment', payment, token);
    const chave: string = (await pollUntilFinished(stack, payment, token, 10_000)).body.invoiceDetails.invoiceKey;

    expect(await sender()).toMatchObject({ authorized: 0, waiting: 1 });
    const waiting = (await item('invoices', `INVOICE#${chave}`))!.contingency;
    expect(waiting).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/^SEFAZ unreachable/) });
    expect(Date.parse(waiting.nextAttemptAt) - Date.now()).toBeGreaterThan(50_000);
    // Not due yet: the next run leaves it alone.
    await stack.sefaz.control.up();
    expect(await sender()).toMatchObject({ authorized: 0, waiting: 1 });
    expect(stack.sefaz.control.calls().authorization).toBe(0);

    await stack.documents.send(
      new UpdateCommand({
        TableName: stack.env[envName.table('invoices')],
        Key: { pk: `INVOICE#${chave}` },
        UpdateExpression: 'REMOVE contingency.nextAttemptAt',
      }),
    );
    stack.sefaz.control.rejectNext('999', 'Rejeição: Erro não catalogado');
    expect(await sender()).toMatchObject({ rejected: 1 });
    const { rejected } = await listing();
    expect(rejected.items.find((entry: { invoiceKey: string }) => entry.invoiceKey === chave)).toMatchObject({
      state: 'REJECTED',
      rejection: { cStat: '999', xMotivo: 'Rejeição: Erro não catalogado' },
    });
    expect(await item('numbering', `GAP#NNF#${CNPJ}#1#${nNFOf(chave)}`)).toMatchObject({ reason: '999' });
    // Its online attempt (never sent: SEFAZ refused the connection) is settled too: a gap.
    const refused = (await item('invoices', `INVOICE#${chave}`))!;
    expect(refused.contingency.online).toMatchObject({ settlement: 'GAP' });
    expect(await item('numbering', `GAP#NNF#${CNPJ}#1#${refused.contingency.online.nNF}`)).toMatchObject({
      reason: 'online attempt replaced by contingency',
    });
  });
});

describe('a normal-emission NFC-e redriven long after its dhEmi (contingency off)', () => {
  it('is queried first, and, unknown to SEFAZ, re-issued under a new number: no 704, one NFC-e for the sale', async () => {
    const payment = await pushOrder(offToken, OTHER_INTEGRATION);
    await stack.sefaz.control.down('reset');
    await post(stack, '/order/payment', payment, offToken);
    const held = await pollUntilFinished(stack, payment, offToken, 20_000);
    expect(held.body.error.code).toBe('SEFAZ_UNAVAILABLE');
    const paymentId = await paymentIdOf(payment.orderKey, OTHER_INTEGRATION);
    // The outage was an hour ago: the number's dhEmi says so.
    const hourAgo = new Date(Date.now() - 3600_000);
    const dhEmi = `${new Date(hourAgo.getTime() - 3 * 3600_000).toISOString().slice(0, 19)}-03:00`;
    await stack.documents.send(
      new UpdateCommand({
        TableName: stack.env[envName.table('numbering')],
        Key: { pk: `NUMBERED#${paymentId}` },
        UpdateExpression: 'SET dhEmi = :dhEmi',
        ExpressionAttributeValues: { ':dhEmi': dhEmi },
      }),
    );
    const old = (await item('numbering', `NUMBERED#${paymentId}`))!;

    await stack.sefaz.control.up();
    const dead = (await send(stack, 'GET', '/admin/dead-letters', undefined, admin)).body.deadLetters;
    const job = dead.find((d: { paymentId: string }) => d.paymentId === paymentId);
    expect((await send(stack, 'POST', '/admin/dead-letters/redrive', { ids: [job.messageId] }, admin)).status).toBe(200);
    const done = await pollUntilFinished(stack, payment, offToken);
    expect(done.body).toMatchObject({ success: true, error: null });
    const chave: string = done.body.invoiceDetails.invoiceKey;
    expect(done.body.invoiceDetails.contingency).toBe(false);
    expect(chave[34]).toBe('1');
    expect(nNFOf(chave)).toBeGreaterThan(old.nNF);
    expect(stack.sefaz.control.authorized().map((a) => a.chNFe)).toEqual([chave]);
    expect(stack.sefaz.control.calls()).toMatchObject({ authorization: 1, consultation: 1 });
    const gap = (await item('numbering', `GAP#NNF#${CNPJ}#1#${old.nNF}`))!;
    expect(gap).toMatchObject({ paymentId, reason: 'late: not at SEFAZ' });
    expect([...gap.chaves][0]).toMatch(new RegExp(`^35\\d{4}${CNPJ}65001${String(old.nNF).padStart(9, '0')}1${old.cNF}\\d$`));
  });
});

describe('the sender, run twice at once and with one broken record', () => {
  it('transmits each document once, and a record it cannot read does not stop the others', async () => {
    await stack.sefaz.control.down('refuse');
    const keys: string[] = [];
    for (let i = 0; i < 4; i++) {
      const payment = await pushOrder();
      await post(stack, '/order/payment', payment, token);
      keys.push((await pollUntilFinished(stack, payment, token, 10_000)).body.invoiceDetails.invoiceKey);
    }
    await stack.sefaz.control.up();
    // One document's signed XML is gone from S3 (a bucket restored from an old backup, say).
    const broken = (await item('invoices', `INVOICE#${keys[0]}`))!;
    await stack.clients.s3.send(new DeleteObjectCommand({ Bucket: stack.env[envName.bucket('fiscal')], Key: broken.signedKey }));

    const runs = await Promise.all([sender(), sender()]);
    expect(runs[0]!.authorized! + runs[1]!.authorized!).toBe(3);
    expect(stack.sefaz.control.calls().authorization).toBe(3);
    for (const chave of keys.slice(1)) {
      expect((await item('invoices', `INVOICE#${chave}`))!.contingencyState).toMatch(/^(SETTLING|SENT)$/);
    }
    const left = (await item('invoices', `INVOICE#${keys[0]}`))!;
    expect(left).toMatchObject({ contingencyState: 'PENDING', contingency: { attempts: 1 } });
    expect(left.contingency.lastError).toMatch(/key does not exist/i);
    expect(left.claimedAt).toBeUndefined();
  });
});
