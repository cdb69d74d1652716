import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestA1 } from '../../functions/nfce/pkcs12.ts';
import { envName, queues } from '../../lib/manifest.ts';
import { provisionFiscal } from '../../lib/local/fiscal.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { demoCatalog, demoEmitter } from '../support/nfce.ts';
import { issueToken, post, SEED_INTEGRATION, send, startTestRuntime, pollUntilFinished } from '../support/runtime.ts';

/**
 * Failure honesty: a payment the issuer gives up on before anything reached SEFAZ ends as
 * ISSUE_FAILED, its number withdrawn and recorded as a gap, and its order free; only a send whose
 * outcome is unknown holds the order (that case is in issuance.integration.test.ts).
 */
let stack: LocalRuntime;
let token: string;
let table = 0;
const password = 'senha-teste';
const CNPJ = '82373077000171';

beforeAll(async () => {
  stack = await startTestRuntime({ env: { RETRY_BASE_SECONDS: '0.1', SEFAZ_TIMEOUT_SECONDS: '2' } });
  token = await issueToken(stack, SEED_INTEGRATION);
  const emitter = await provisionFiscal(stack.documents, stack.env, stack.sefaz.url, {
    integrationHubServiceId: SEED_INTEGRATION,
    emitter: demoEmitter(),
    catalog: demoCatalog(),
    pfx: createTestA1({ name: 'ALBINO LTDA', cnpj: CNPJ, password }),
    password,
    // The retry path: a payment waits for SEFAZ (contingency.integration.test.ts covers contingency on).
    offlineContingency: false,
  });
  stack.registerCsc(emitter.cnpj, emitter.csc);
});
afterAll(() => stack?.close());

const bucket = () => stack.env[envName.bucket('fiscal')]!;
const numbering = async (pk: string) =>
  (await stack.documents.send(new GetCommand({ TableName: stack.env[envName.table('numbering')], Key: { pk } }))).Item;

async function pushSeedOrder() {
  const orderKey = `F${++table}`;
  const order = await send(stack, 'PUT', `/orders/TABLE/${orderKey}`, fixture('order-mesa/order-table-2.json'), token);
  expect(order.status).toBe(201);
  return { ...seedPayment(), orderKey };
}

describe('the issuer gives up before anything reached SEFAZ', () => {
  it('storing the signed XML fails on every attempt: ISSUE_FAILED, the number is a gap, the order is free', async () => {
    const payment = await pushSeedOrder();
    const calls = stack.sefaz.control.calls().authorization;
    await stack.clients.s3.send(new DeleteBucketCommand({ Bucket: bucket() }));
    let finished;
    try {
      await post(stack, '/order/payment', payment, token);
      finished = await pollUntilFinished(stack, payment, token);
    } finally {
      await stack.clients.s3.send(new CreateBucketCommand({ Bucket: bucket() }));
    }
    const slot = await stack.documents.send(
      new GetCommand({
        TableName: stack.env[envName.table('payments')],
        Key: { pk: `ORDER#${SEED_INTEGRATION}#TABLE#${payment.orderKey}` },
      }),
    );
    const { nNF } = (await numbering(`GAP#NNF#${CNPJ}#1#1`))!;
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({
      success: false,
      invoiceDetails: null,
      error: {
        code: 'ISSUE_FAILED',
        message: `the NFC-e could not be issued after ${queues.nfceRequests.maxReceiveCount} attempts; nothing was sent to SEFAZ and nº ${nNF} is recorded for inutilização`,
      },
    });
    expect(stack.sefaz.control.calls().authorization).toBe(calls);
    expect(await numbering(`GAP#NNF#${CNPJ}#1#${nNF}`)).toMatchObject({ reason: 'never sent', paymentId: slot.Item!.paymentId });
    expect(await numbering(`NUMBERED#${slot.Item!.paymentId}`)).toBeUndefined();

    // Nothing is held: the same request keeps its answer, the tab can change and be paid again.
    expect((await post(stack, '/order/payment', payment, token)).body.error.code).toBe('ISSUE_FAILED');
    const retab = await send(stack, 'PUT', `/orders/TABLE/${payment.orderKey}`, fixture('order-mesa/order-table-2.json'), token);
    expect(retab.status).toBe(200);
    expect((await post(stack, '/order/payment', payment, token)).status).toBe(202);
    const paid = await pollUntilFinished(stack, payment, token);
    expect(paid.body).toMatchObject({ success: true, error: null });
    expect(paid.body.invoiceDetails.invoiceKey.slice(25, 34)).toBe(String(nNF + 1).padStart(9, '0'));
  });

  it('SEFAZ refuses every connection: nothing left, so ISSUE_FAILED, a gap, and the order is free', async () => {
    const payment = await pushSeedOrder();
    await stack.sefaz.control.down('refuse');
    let finished;
    try {
      await post(stack, '/order/payment', payment, token);
      finished = await pollUntilFinished(stack, payment, token);
    } finally {
      await stack.sefaz.control.up();
    }
    expect(finished.body.error.code).toBe('ISSUE_FAILED');
    expect(finished.body.error.message).toMatch(
      new RegExp(
        `^SEFAZ could not be reached after ${queues.nfceRequests.maxReceiveCount} attempts \\(SEFAZ unreachable: connect ECONNREFUSED [^)]+\\); nothing was sent to SEFAZ and nº \\d+ is recorded for inutilização$`,
      ),
    );
    const retab = await send(stack, 'PUT', `/orders/TABLE/${payment.orderKey}`, fixture('order-mesa/order-table-2.json'), token);
    expect(retab.status).toBe(200);
  });

  it('an order that cannot be built (stored before today’s validation): ISSUE_FAILED at once, no retries', async () => {
    const payment = await pushSeedOrder();
    const ordersTable = stack.env[envName.table('orders')]!;
    const pk = `ORDER#${SEED_INTEGRATION}#TABLE#${payment.orderKey}`;
    const { Item: order } = await stack.documents.send(new GetCommand({ TableName: ordersTable, Key: { pk } }));
    // A sku of emoji only has no character the NFC-e can carry: cProd would be empty.
    order!.items[0].sku = '🍕';
    await stack.documents.send(new PutCommand({ TableName: ordersTable, Item: order }));
    const calls = stack.sefaz.control.calls().authorization;

    await post(stack, '/order/payment', payment, token);
    const finished = await pollUntilFinished(stack, payment, token, 5_000);
    expect(finished.body.error.code).toBe('ISSUE_FAILED');
    expect(finished.body.error.message).toMatch(
      /^the NFC-e could not be built from this order \(.+\); nothing was sent to SEFAZ and nº \d+ is recorded for inutilização$/,
    );
    expect(stack.sefaz.control.calls().authorization).toBe(calls);
    const retab = await send(stack, 'PUT', `/orders/TABLE/${payment.orderKey}`, fixture('order-mesa/order-table-2.json'), token);
    expect(retab.status).toBe(200);
  });
});
