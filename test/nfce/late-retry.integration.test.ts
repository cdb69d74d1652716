import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { envName } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { provisionDemoFiscal } from '../support/nfce.ts';
import { issueToken, post, pollUntilFinished, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * A queue retry that comes after the normal-emission document's age limit (here 2 s instead of
 * 4 minutes; SEFAZ refuses it at 5, 704) with offline contingency on: the issuer asks SEFAZ for the
 * key before anything else. Authorized by the earlier attempt → settled with that protocol, nothing
 * sent again; unknown → the sale goes to contingency, the late document never sent.
 */

let stack: LocalRuntime;
let token: string;
let table = 0;

beforeAll(async () => {
  stack = await startTestRuntime({
    // dhEmi is kept to the second, so a first attempt may already be a second old: 2 s is "late" here,
    // and the retry comes 4 s after a failure.
    env: {
      RETRY_BASE_SECONDS: '4',
      SEFAZ_TIMEOUT_SECONDS: '2',
      CONTINGENCY_LATE_AFTER_SECONDS: '2',
      CONTINGENCY_AWAY_SECONDS: '0',
    },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
  await provisionDemoFiscal(stack, SEED_INTEGRATION);
});
afterAll(() => stack?.close());
beforeEach(async () => {
  await stack.sefaz.control.reset();
});

const bucket = () => stack.env[envName.bucket('fiscal')]!;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The fiscal bucket gone (S3 failing every write), its objects first, as S3 deletes only empty buckets. */
async function dropBucket() {
  const { Contents = [] } = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket() }));
  await Promise.all(Contents.map(({ Key }) => stack.clients.s3.send(new DeleteObjectCommand({ Bucket: bucket(), Key }))));
  await stack.clients.s3.send(new DeleteBucketCommand({ Bucket: bucket() }));
}
const restoreBucket = () => stack.clients.s3.send(new CreateBucketCommand({ Bucket: bucket() }));

async function pushOrder() {
  const orderKey = `L${++table}`;
  expect((await send(stack, 'PUT', `/orders/TABLE/${orderKey}`, fixture('order-mesa/order-table-2.json'), token)).status).toBe(
    201,
  );
  return { ...seedPayment(), orderKey };
}

describe('a late retry, contingency on', () => {
  it('authorized by the attempt that failed afterwards: the query finds it and the payment ends with that NFC-e', async () => {
    const payment = await pushOrder();
    // SEFAZ authorizes, then answers a second late; meanwhile the bucket goes, so storing the nfeProc fails.
    stack.sefaz.control.setDelay(1_000);
    await post(stack, '/order/payment', payment, token);
    await expect.poll(() => stack.sefaz.control.authorized().length, { timeout: 5_000, interval: 20 }).toBe(1);
    await dropBucket();
    stack.sefaz.control.setDelay(0);
    await sleep(1_500); // the answer came at 1 s, the write failed; the retry comes 4 s after that
    await restoreBucket();

    const done = await pollUntilFinished(stack, payment, token);
    expect(done.body).toMatchObject({ success: true, error: null });
    const [authorization] = stack.sefaz.control.authorized();
    expect(done.body.invoiceDetails).toMatchObject({ invoiceKey: authorization!.chNFe, contingency: false });
    expect(done.body.invoiceDetails.orderXML).toContain(`<nProt>${authorization!.nProt}</nProt>`);
    // The retry asked, and sent nothing: no 704 possible.
    expect(stack.sefaz.control.calls()).toMatchObject({ authorization: 1, consultation: 1 });
  });

  it('unknown to SEFAZ (it never got it): the sale goes to contingency, the old document never sent', async () => {
    const payment = await pushOrder();
    await dropBucket();
    const accepted = await post(stack, '/order/payment', payment, token);
    const reservation = async () =>
      (
        await stack.documents.send(
          new GetCommand({
            TableName: stack.env[envName.table('numbering')],
            Key: { pk: `NUMBERED#${accepted.body.paymentId}` },
          }),
        )
      ).Item;
    // The first attempt took its number, then failed to store the signed XML (nothing sent).
    await expect.poll(reservation, { timeout: 5_000, interval: 20 }).toBeDefined();
    await sleep(500);
    await restoreBucket();

    const done = await pollUntilFinished(stack, payment, token);
    expect(done.body).toMatchObject({ success: true, error: null });
    expect(done.body.invoiceDetails.contingency).toBe(true);
    expect(done.body.invoiceDetails.orderXML).toContain(
      '<xJust>NFC-e nao autorizada a tempo pela SEFAZ: emissao em contingencia offline</xJust>',
    );
    const online = (await reservation())!;
    expect(online.contingency.nNF).toBe(online.nNF + 1);
    expect(online.sentAt).toBeUndefined();
    expect(stack.sefaz.control.calls()).toMatchObject({ authorization: 0, consultation: 1 });
  });
});
