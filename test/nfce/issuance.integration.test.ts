import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestA1, openA1 } from '../../functions/nfce/pkcs12.ts';
import { localSecretFile } from '../../functions/shared/secrets.ts';
import { envName, localName, queues, secrets } from '../../lib/manifest.ts';
import { provisionFiscal } from '../../lib/local/fiscal.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { demoCatalog, demoEmitter, SCHEMAS, xmlsecMissing, xmlsecVerifies } from '../support/nfce.ts';
import { schemasMissing, xsdFailures } from '../support/xsd.ts';
import {
  issueToken,
  OTHER_INTEGRATION,
  post,
  SEED_INTEGRATION,
  send,
  startTestRuntime,
  pollUntilFinished,
} from '../support/runtime.ts';

let stack: LocalRuntime;
let token: string;
let otherToken: string;
let table = 0;
const certificatePassword = 'senha-teste';
const pfx = createTestA1({ name: 'ALBINO LTDA', cnpj: '82373077000171', password: certificatePassword });

beforeAll(async () => {
  stack = await startTestRuntime({
    ...(existsSync(SCHEMAS) ? { schemasDir: SCHEMAS } : {}),
    env: { RETRY_BASE_SECONDS: '0.2', SEFAZ_TIMEOUT_SECONDS: '2' },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
  otherToken = await issueToken(stack, OTHER_INTEGRATION);
  const emitter = await provisionFiscal(stack.documents, stack.env, stack.sefaz.url, {
    integrationHubServiceId: SEED_INTEGRATION,
    emitter: demoEmitter(),
    catalog: demoCatalog(),
    pfx,
    password: certificatePassword,
    // The retry path: a payment waits for SEFAZ (contingency.integration.test.ts covers contingency on).
    offlineContingency: false,
  });
  stack.registerCsc(emitter.cnpj, emitter.csc);
});
afterAll(() => stack?.close());
beforeEach(async () => {
  await stack.sefaz.control.reset();
});

/** The seed's order and payment for a table of its own. */
async function pushSeedOrder() {
  const orderKey = String(100 + ++table);
  const order = await send(stack, 'PUT', `/orders/TABLE/${orderKey}`, fixture('order-mesa/order-table-2.json'), token);
  expect(order.status).toBe(201);
  const payment = seedPayment();
  payment.orderKey = orderKey;
  return payment;
}

const noSchemas = schemasMissing();
const noXmlsec = xmlsecMissing();
if (noSchemas) console.warn(`skipping the XSD checks of the authorized NFC-e: ${noSchemas}`);
if (noXmlsec) console.warn(`skipping the xmlsec1 check of the authorized NFC-e: ${noXmlsec}`);

/** One authorized NFC-e (nfeProc XML) for the checks by outside references, issued once. */
let authorizedXml: Promise<string> | undefined;
function anAuthorizedNfce(): Promise<string> {
  authorizedXml ??= (async () => {
    const payment = await pushSeedOrder();
    await post(stack, '/order/payment', payment, token);
    const { body } = await pollUntilFinished(stack, payment, token);
    expect(body.success).toBe(true);
    return body.invoiceDetails.orderXML as string;
  })();
  return authorizedXml;
}

describe('a payment for a pushed order', () => {
  it('goes 202 → 208 → 200 with an authorized NFC-e, stored in S3 and readable again', async () => {
    const payment = await pushSeedOrder();
    const first = await post(stack, '/order/payment', payment, token);
    expect(first.status).toBe(202);
    const done = await pollUntilFinished(stack, payment, token);
    expect(done.status).toBe(200);
    expect(done.statuses[0]).toBe(208);
    expect(Object.keys(done.body).sort()).toEqual(
      ['error', 'integrationHubServiceId', 'invoiceDetails', 'orderKey', 'orderKeyType', 'paymentObject', 'success'].sort(),
    );
    const { invoiceDetails } = done.body;
    expect(done.body).toMatchObject({
      success: true,
      error: null,
      integrationHubServiceId: SEED_INTEGRATION,
      orderKey: payment.orderKey,
    });
    expect(done.body.paymentObject).toEqual(payment.paymentObject);
    // cUF 35, AAMM, CNPJ, model 65, série 001, nNF, tpEmis 1, cNF and cDV.
    expect(invoiceDetails.invoiceKey).toMatch(/^3526\d{2}8237307700017165001\d{9}1\d{9}$/);
    expect(invoiceDetails.qrCode).toMatch(
      new RegExp(
        `^https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode\\?p=${invoiceDetails.invoiceKey}\\|2\\|2\\|3\\|[0-9A-F]{40}$`,
      ),
    );
    const xml: string = invoiceDetails.orderXML;
    expect(
      xml.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?><nfeProc versao="4.00" xmlns="http://www.portalfiscal.inf.br/nfe"><NFe',
      ),
    ).toBe(true);
    expect(xml).toContain(`<chNFe>${invoiceDetails.invoiceKey}</chNFe>`);
    expect(xml).toMatch(/<cStat>100<\/cStat><xMotivo>Autorizado o uso da NF-e<\/xMotivo><\/infProt><\/protNFe><\/nfeProc>$/);
    expect(xml).toContain('<qCom>2.0000</qCom><vUnCom>30.5000</vUnCom><vProd>61.00</vProd>');
    expect(xml).toContain('<xProd>TAXA SERVICO</xProd>');
    expect(xml).toContain('<vNF>67.10</vNF>');

    const groups = invoiceDetails.invoiceKey.match(/.{4}/g)!.join(' ');
    expect(invoiceDetails.receiptText).toContain('Documento Auxiliar da Nota');
    expect(invoiceDetails.receiptText).toContain(groups.slice(0, 29));
    expect(invoiceDetails.receiptText).toContain('[QRCODE]');

    const key = invoiceDetails.invoiceKey as string;
    const folder = `nfce/82373077000171/${xml
      .match(/<dhEmi>(\d{4})-(\d{2})/)!
      .slice(1)
      .join('/')}/${key}`;
    const stored = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: localName.bucket('fiscal'), Key: `${folder}/nfeProc.xml` }),
    );
    expect(await stored.Body!.transformToString()).toBe(xml);
    const signed = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: localName.bucket('fiscal'), Key: `${folder}/signed.xml` }),
    );
    expect(xml).toContain((await signed.Body!.transformToString()).replace('<?xml version="1.0" encoding="UTF-8"?>', ''));

    expect(await send(stack, 'GET', `/invoices/${key}`, undefined, token)).toMatchObject({ status: 200, body: xml });
    const receipt = await send(stack, 'GET', `/invoices/${key}/receipt?columns=48`, undefined, token);
    expect(receipt.status).toBe(200);
    expect(receipt.body.split('\n').every((line: string) => [...line].length <= 48)).toBe(true);
    expect(receipt.body).toContain(groups.slice(0, 29));
    expect((await send(stack, 'GET', `/invoices/${key}`, undefined, otherToken)).status).toBe(404);
    expect((await send(stack, 'GET', '/invoices/123', undefined, token)).body).toEqual({
      errors: [{ key: 'invoiceKey', message: 'path.invoiceKey must be the 44-character access key' }],
    });

    // The same request again: the same answer, no second NFC-e.
    const again = await post(stack, '/order/payment', payment, token);
    expect(again).toMatchObject({ status: 200, body: done.body });
    expect(stack.sefaz.control.authorized()).toHaveLength(1);
  });

  it.skipIf(Boolean(noSchemas))('is an NFC-e the official XSD accepts (procNFe_v4.00.xsd)', async () => {
    const xml = await anAuthorizedNfce();
    expect(xsdFailures('procNFe_v4.00.xsd', { nfeProc: xml })).toEqual([]);
  });

  it.skipIf(Boolean(noXmlsec))('is an NFC-e whose signature xmlsec1 verifies', async () => {
    const xml = await anAuthorizedNfce();
    const nfe = `<?xml version="1.0" encoding="UTF-8"?>${xml.slice(xml.indexOf('<NFe'), xml.indexOf('<protNFe'))}`;
    const certificate = xml.match(/<X509Certificate>([^<]+)</)![1]!;
    const pem = `-----BEGIN CERTIFICATE-----\n${certificate.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    expect(xmlsecVerifies(nfe, pem)).toBe(true);
  });
});

describe('answers of any size', () => {
  // Names full of what XML escapes and accents, as long as keeps the NFC-e (with its IBS/CBS groups)
  // under SEFAZ's 500 KB message limit: the answer still outgrows a DynamoDB item.
  const escapedName = (i: number, length: number) => `Pão & "Queijo" <Especial> d'água nº ${i} `.repeat(4).slice(0, length);

  /** Pushes a 500-item tab at 1.25 each, names of `nameLength` characters, and pays it (202). */
  async function payLargeTab(nameLength: number) {
    const orderKey = String(100 + ++table);
    const items = Array.from({ length: 500 }, (_, i) => ({
      sku: `SKU-${i}`,
      name: escapedName(i, nameLength),
      quantity: 1,
      unitPrice: 1.25,
      unit: 'UN',
    }));
    const put = await send(
      stack,
      'PUT',
      `/orders/TABLE/${orderKey}`,
      { integrationHubServiceId: SEED_INTEGRATION, items },
      token,
    );
    expect(put.status).toBe(201);
    const payment = seedPayment();
    Object.assign(payment, { orderKey });
    Object.assign(payment.paymentObject, { orderAmount: 625, fees: 62.5, total: 687.5 });
    payment.paymentObject.methods[0].value = 687.5;
    expect((await post(stack, '/order/payment', payment, token)).status).toBe(202);
    return { orderKey, payment };
  }

  it('a 500-item tab with long, escaped names gets its 200 success, the answer assembled from S3', async () => {
    const name = (i: number) => escapedName(i, 90);
    const { orderKey, payment } = await payLargeTab(90);
    const done = await pollUntilFinished(stack, payment, token, 30_000);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ success: true, error: null });
    const xml: string = done.body.invoiceDetails.orderXML;
    expect(xml.match(/<det nItem=/g)).toHaveLength(501); // the items and the service fee
    expect(xml).toContain(
      `<xProd>${name(499).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').trim()}</xProd>`,
    );
    expect(xml).toContain('<vProd>687.50</vProd>'); // 500 × 1.25 and the 10 % fee
    // More than a DynamoDB item can hold (400 KB): it could not have been stored in the record.
    expect(Buffer.byteLength(JSON.stringify(done.body))).toBeGreaterThan(400 * 1024);
    expect(done.body.invoiceDetails.receiptText.split('\n').length).toBeGreaterThan(500);
    const { Item: record } = await stack.documents.send(
      new GetCommand({
        TableName: stack.env[envName.table('payments')],
        Key: { pk: `ORDER#${SEED_INTEGRATION}#TABLE#${orderKey}` },
      }),
    );
    expect(record!.result.invoice).toEqual({
      chave: done.body.invoiceDetails.invoiceKey,
      qrCode: done.body.invoiceDetails.qrCode,
      nfeProcKey: expect.stringMatching(/\/nfeProc\.xml$/),
      receiptKey: expect.stringMatching(/\/receipt-32\.txt$/),
    });
    if (!noSchemas) expect(xsdFailures('procNFe_v4.00.xsd', { nfeProc: xml })).toEqual([]);
    expect(await post(stack, '/order/payment', payment, token)).toMatchObject({ status: 200, body: done.body });
  });

  it('a tab whose NFC-e would exceed SEFAZ’s 500 KB limit ends at once, saying so, and nothing is sent', async () => {
    const calls = stack.sefaz.control.calls().authorization;
    const { payment } = await payLargeTab(120);
    const done = await pollUntilFinished(stack, payment, token, 30_000);
    expect(done.body.error.code).toBe('ISSUE_FAILED');
    expect(done.body.error.message).toMatch(
      /^the NFC-e could not be built from this order \(the NFC-e message is \d+ KB and SEFAZ takes at most 500 KB: split the tab into smaller orders\); nothing was sent to SEFAZ and nº \d+ is recorded for inutilização$/,
    );
    expect(stack.sefaz.control.calls().authorization).toBe(calls);
  });
});

describe('payments that finish without an NFC-e', () => {
  it('an order the backend does not know', async () => {
    const payment = seedPayment();
    payment.orderKey = 'never-pushed';
    await post(stack, '/order/payment', payment, token);
    const { status, body } = await pollUntilFinished(stack, payment, token);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      success: false,
      invoiceDetails: null,
      error: {
        code: 'ORDER_NOT_FOUND',
        message: 'no open order for TABLE never-pushed: push its items with PUT /orders/TABLE/never-pushed before paying',
      },
    });
  });

  it('a payment without an NFC-e after a failed one takes the order over: the next tab is accepted', async () => {
    const payment = await pushSeedOrder();
    const wrong = structuredClone(payment);
    Object.assign(wrong.paymentObject, { orderAmount: 50, fees: 5, total: 55 });
    wrong.paymentObject.methods[0].value = 55;
    await post(stack, '/order/payment', wrong, token);
    expect((await pollUntilFinished(stack, wrong, token)).body.error.code).toBe('ORDER_AMOUNT_MISMATCH');
    const noInvoice = structuredClone(payment);
    noInvoice.paymentObject.generateInvoice = false;
    await post(stack, '/order/payment', noInvoice, token);
    expect((await pollUntilFinished(stack, noInvoice, token)).body).toMatchObject({
      success: true,
      invoiceDetails: null,
      error: null,
    });
    // The failed payment's lock was taken over; before, every new tab got 409 for good.
    const next = await send(stack, 'PUT', `/orders/TABLE/${payment.orderKey}`, fixture('order-mesa/order-table-2.json'), token);
    expect(next.status).toBe(200);
  });

  it('an orderAmount that is not the order’s items total, naming both amounts', async () => {
    const payment = await pushSeedOrder();
    payment.paymentObject.orderAmount = 60;
    payment.paymentObject.total = 66.1;
    payment.paymentObject.methods[0].value = 66.1;
    const accepted = await post(stack, '/order/payment', payment, token);
    const { body } = await pollUntilFinished(stack, payment, token);
    expect(body.error).toEqual({
      code: 'ORDER_AMOUNT_MISMATCH',
      message: `orderAmount R$ 60.00 differs from the order's items total R$ 61.00 for TABLE ${payment.orderKey}`,
    });
    // Checked before numbering: this payment took no number, so it left no gap either.
    const { Items = [] } = await stack.documents.send(new ScanCommand({ TableName: stack.env[envName.table('numbering')] }));
    const { paymentId } = accepted.body;
    expect(Items.filter((i) => i.pk === `NUMBERED#${paymentId}` || i.paymentId === paymentId)).toEqual([]);
  });

  it('a SEFAZ rejection, with its cStat and xMotivo', async () => {
    const payment = await pushSeedOrder();
    stack.sefaz.control.rejectNext('778', 'Rejeição: Informado NCM inexistente');
    await post(stack, '/order/payment', payment, token);
    const { body } = await pollUntilFinished(stack, payment, token);
    expect(body).toMatchObject({
      success: false,
      invoiceDetails: null,
      error: { code: '778', message: 'Rejeição: Informado NCM inexistente' },
    });
    // The rejected number is never used again: it is listed for inutilização.
    const { Items = [] } = await stack.documents.send(new ScanCommand({ TableName: stack.env[envName.table('numbering')] }));
    expect(Items.filter((i) => String(i.pk).startsWith('GAP#') && i.reason === '778')).toHaveLength(1);
  });

  it('a fiscal setup that cannot be used (a key that is not the certificate’s) finishes at once, naming the problem', async () => {
    const setup = { integrationHubServiceId: OTHER_INTEGRATION, emitter: demoEmitter(), catalog: demoCatalog(), pfx };
    // A wrong password is refused when the A1 is provisioned, before anything is stored.
    await expect(
      provisionFiscal(stack.documents, stack.env, stack.sefaz.url, { ...setup, password: 'not-the-password' }),
    ).rejects.toThrow();
    await provisionFiscal(stack.documents, stack.env, stack.sefaz.url, { ...setup, password: certificatePassword });
    // The secret edited by hand since: another certificate's key.
    const file = localSecretFile(stack.env.LOCAL_SECRETS_DIR!, `${secrets.nfce.prefix}${OTHER_INTEGRATION}`);
    const other = openA1(createTestA1({ name: 'OUTRA', cnpj: '82373077000171', password: 'x' }), 'x');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), privateKeyPem: other.privateKeyPem }));
    const order = { ...fixture('order-mesa/order-table-2.json'), integrationHubServiceId: OTHER_INTEGRATION };
    expect((await send(stack, 'PUT', '/orders/TABLE/1', order, otherToken)).status).toBe(201);
    const payment = { ...seedPayment(), integrationHubServiceId: OTHER_INTEGRATION, orderKey: '1' };
    expect((await post(stack, '/order/payment', payment, otherToken)).status).toBe(202);
    await expect
      .poll(async () => (await post(stack, '/order/payment', payment, otherToken)).status, { timeout: 10_000 })
      .toBe(200);
    const { body } = await post(stack, '/order/payment', payment, otherToken);
    expect(body.success).toBe(false);
    expect(body.error.code).toBe('FISCAL_SETUP');
    expect(body.error.message).toBe(
      `the A1 certificate of ${OTHER_INTEGRATION} does not open: the private key is not the certificate’s`,
    );
  });

  it('no A1 secret: FISCAL_SETUP at once; once the secret is provisioned, the next payment reads it (a missing secret is not cached)', async () => {
    const id = '9a0c3d5e-1b2f-4c6d-8e7f-a1b2c3d4e5f6';
    const idToken = await issueToken(stack, id);
    const setup = {
      integrationHubServiceId: id,
      emitter: demoEmitter(),
      catalog: demoCatalog(),
      pfx,
      password: certificatePassword,
    };
    await provisionFiscal(stack.documents, stack.env, stack.sefaz.url, setup);
    rmSync(localSecretFile(stack.env.LOCAL_SECRETS_DIR!, `${secrets.nfce.prefix}${id}`));
    const order = { ...fixture('order-mesa/order-table-2.json'), integrationHubServiceId: id };
    expect((await send(stack, 'PUT', '/orders/TABLE/1', order, idToken)).status).toBe(201);
    const payment = { ...seedPayment(), integrationHubServiceId: id, orderKey: '1' };
    expect((await post(stack, '/order/payment', payment, idToken)).status).toBe(202);
    const failed = await pollUntilFinished(stack, payment, idToken, 10_000);
    expect(failed.body).toMatchObject({
      success: false,
      error: { code: 'FISCAL_SETUP', message: `integration ${id} has no A1 certificate and CSC secret` },
    });

    await provisionFiscal(stack.documents, stack.env, stack.sefaz.url, setup);
    expect((await send(stack, 'PUT', '/orders/TABLE/1', order, idToken)).status).toBe(200);
    expect((await post(stack, '/order/payment', payment, idToken)).status).toBe(202);
    const paid = await pollUntilFinished(stack, payment, idToken, 20_000);
    expect(paid.body).toMatchObject({ success: true, error: null });
  });
});

describe('SEFAZ trouble', () => {
  it('down, then back: the job is retried with the same number and key until authorized', async () => {
    const payment = await pushSeedOrder();
    await stack.sefaz.control.down('refuse');
    await post(stack, '/order/payment', payment, token);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await post(stack, '/order/payment', payment, token)).status).toBe(208);
    await stack.sefaz.control.up();
    const { body } = await pollUntilFinished(stack, payment, token);
    expect(body.success).toBe(true);
    const record = await stack.documents.send(
      new GetCommand({
        TableName: stack.env[envName.table('payments')],
        Key: { pk: `ORDER#${SEED_INTEGRATION}#TABLE#${payment.orderKey}` },
      }),
    );
    expect(record.Item!.processingAttempts).toBeGreaterThan(1);
    const numbered = await stack.documents.send(
      new GetCommand({ TableName: stack.env[envName.table('numbering')], Key: { pk: `NUMBERED#${record.Item!.paymentId}` } }),
    );
    expect(body.invoiceDetails.invoiceKey.slice(25, 34)).toBe(String(numbered.Item!.nNF).padStart(9, '0'));
  });

  it('slower than our timeout: the NFC-e was authorized, the retry gets 204 and settles it with the protocol query', async () => {
    const payment = await pushSeedOrder();
    stack.sefaz.control.setDelay(2_500); // SEFAZ_TIMEOUT_SECONDS is 2 here; SEFAZ authorizes before the delay
    await post(stack, '/order/payment', payment, token);
    await expect.poll(() => stack.sefaz.control.authorized().length, { timeout: 5_000 }).toBe(1);
    stack.sefaz.control.setDelay(0);
    const { body } = await pollUntilFinished(stack, payment, token);
    expect(body.success).toBe(true);
    const [authorized] = stack.sefaz.control.authorized();
    expect(body.invoiceDetails.invoiceKey).toBe(authorized!.chNFe);
    expect(body.invoiceDetails.orderXML).toContain(`<nProt>${authorized!.nProt}</nProt>`);
    expect(stack.sefaz.control.calls()).toMatchObject({ authorization: 2, consultation: 1 });
  });

  it('paused (108) is not a rejection: the job is retried until SEFAZ runs again', async () => {
    const payment = await pushSeedOrder();
    stack.sefaz.control.setServiceStatus('paused');
    await post(stack, '/order/payment', payment, token);
    await expect.poll(() => stack.sefaz.control.calls().authorization, { timeout: 5_000 }).toBeGreaterThan(1);
    expect((await post(stack, '/order/payment', payment, token)).status).toBe(208);
    stack.sefaz.control.setServiceStatus('running');
    const { body } = await pollUntilFinished(stack, payment, token);
    expect(body).toMatchObject({ success: true, error: null });
  });

  it('a 5xx after the number was taken: the retry reuses the same nNF, cNF and key', async () => {
    const payment = await pushSeedOrder();
    stack.sefaz.control.failWith(503, 1);
    const before = await counter();
    await post(stack, '/order/payment', payment, token);
    const { body } = await pollUntilFinished(stack, payment, token);
    expect(body.success).toBe(true);
    expect(await counter()).toBe(before + 1);
    expect(stack.sefaz.control.calls().authorization).toBe(2);
  });

  it('unreachable through every attempt: the job lands in the DLQ and the payment says so', async () => {
    const payment = await pushSeedOrder();
    await stack.sefaz.control.down('reset');
    await post(stack, '/order/payment', payment, token);
    const { status, body } = await pollUntilFinished(stack, payment, token, 30_000);
    expect(status).toBe(200);
    expect(body.success).toBe(false);
    expect(body.error.code).toBe('SEFAZ_UNAVAILABLE');
    expect(body.error.message).toMatch(new RegExp(`^SEFAZ did not answer after ${queues.nfceRequests.maxReceiveCount} attempts`));
    await expect.poll(() => dlqDepth(), { timeout: 5_000 }).toBe(1);

    // SEFAZ may have authorized that NFC-e: nothing may replace it until an operator settles it.
    const other = structuredClone(payment);
    other.paymentObject.methods[0].method = 'DEBIT';
    const conflict = await post(stack, '/order/payment', other, token);
    expect(conflict.status).toBe(409);
    expect(conflict.body.errors[0].message).toMatch(
      /has an NFC-e not yet confirmed by SEFAZ .*SEFAZ_UNAVAILABLE.*dead-letter queue/,
    );
    expect(
      (await send(stack, 'PUT', `/orders/TABLE/${payment.orderKey}`, fixture('order-mesa/order-table-2.json'), token)).status,
    ).toBe(409);
  });
});

async function counter(): Promise<number> {
  const { Item } = await stack.documents.send(
    new GetCommand({ TableName: stack.env[envName.table('numbering')], Key: { pk: 'NNF#82373077000171#1' } }),
  );
  return Number(Item?.lastNNF ?? 0);
}

async function dlqDepth(): Promise<number> {
  const { Attributes } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queues.nfceRequests!.dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(Attributes!.ApproximateNumberOfMessages);
}
