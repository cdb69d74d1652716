/** Cielo webhook acknowledgements through the local API beside a bare server doing the same two writes. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { CIELO_PARTNER } from '../../functions/cielo/partner.ts';
import { envName } from '../../lib/manifest.ts';
import { functionsWithout, issueToken, SEED_INTEGRATION } from '../support/runtime.ts';
import { benchStack, measure } from './harness.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** Unmeasured requests through each path first: measured cold, the baseline runs ~1/3 slower and flatters the ratio. */
const WARMUP = Math.min(REQUESTS, 300);

const fixtures = resolve(import.meta.dirname, '../../fixtures/cielo');
const statusChange = JSON.parse(readFileSync(resolve(fixtures, 'status-change.json'), 'utf8')) as Record<string, any>;
const transaction = JSON.parse(readFileSync(resolve(fixtures, 'transaction.json'), 'utf8')) as Record<string, any>;

/**
 * The i-th notification: a status change of its own order, or (every fourth, once far enough in)
 * a transaction notification for the order of a status change sent 4 × CONCURRENCY + 3 earlier.
 */
function notifications(count: number) {
  const orderIds = Array.from({ length: count }, () => randomUUID());
  const transactionIds = Array.from({ length: count }, () => randomUUID());
  const base = Date.parse(statusChange.updated_at);
  const at = (i: number) => new Date(base + i * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return Array.from({ length: count }, (_, i) => {
    const earlier = i - 3 - 4 * CONCURRENCY; // i % 4 === 3 → earlier % 4 === 0: a status change
    if (i % 4 === 3 && earlier >= 0) {
      return JSON.stringify({
        ...transaction,
        id: transactionIds[earlier],
        order_id: orderIds[earlier],
        trasaction: {
          ...transaction.trasaction,
          id: transactionIds[earlier],
          external_id: transactionIds[earlier],
          amount: String(statusChange.transactions[0].amount),
          updated_at: at(i),
        },
      });
    }
    return JSON.stringify({
      ...statusChange,
      id: orderIds[i],
      updated_at: at(i),
      items: statusChange.items.map((item: Record<string, unknown>) => ({ ...item, order_id: orderIds[i] })),
      transactions: statusChange.transactions.map((t: Record<string, unknown>) => ({
        ...t,
        id: transactionIds[i],
        uuid: transactionIds[i],
        updated_at: at(i),
      })),
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// Without the verifier: the webhook's jobs wait in the queue, nothing competes with the webhook.
const stack = await benchStack(functionsWithout('cieloVerify'));
const runId = randomUUID().slice(0, 8);
const table = stack.env[envName.table('cieloOrders')]!;
const bucket = stack.env[envName.bucket('partnerArchive')]!;

// The baseline: the webhook's two writes (archive and order, concurrently, as it does), then 200.
let received = 0;
const bare = createServer((req, res) => {
  const n = received++;
  readBody(req)
    .then((body) =>
      Promise.all([
        stack.clients.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `bench/${runId}/${n}.json`,
            Body: body,
            ContentType: 'application/json',
          }),
        ),
        stack.documents.send(
          new PutCommand({
            TableName: table,
            Item: { pk: `BENCH#${runId}#${n}`, status: 'CLOSED', receivedAt: new Date().toISOString(), version: 1 },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      ]),
    )
    .then(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}'),
      (error: Error) => res.writeHead(500).end(error.message),
    );
});
try {
  await new Promise<void>((done) => bare.listen(0, '127.0.0.1', done));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;

  await issueToken(stack, SEED_INTEGRATION);
  const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  const secret = await integrations.issuePartnerSecret(
    await integrations.ensure(SEED_INTEGRATION, `test ${SEED_INTEGRATION}`),
    CIELO_PARTNER,
  );
  const webhookUrl = `${stack.baseUrl}/cielo/notifications/${secret}`;

  const bodies = notifications(REQUESTS);
  const post = async (url: string, body: string) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };

  const warmup = notifications(WARMUP);
  await measure('warm-up', WARMUP, CONCURRENCY, (i) => post(bareUrl, warmup[i]!));
  await measure('warm-up', WARMUP, CONCURRENCY, (i) => post(webhookUrl, warmup[i]!));

  const raw = await measure('bare server: PutObject + PutItem', REQUESTS, CONCURRENCY, (i) => post(bareUrl, bodies[i]!));
  const webhook = await measure('POST /cielo/notifications/{secret} → 200', REQUESTS, CONCURRENCY, (i) =>
    post(webhookUrl, bodies[i]!),
  );

  console.log(
    `\nCielo webhook acknowledgements — ${REQUESTS} requests, concurrency ${CONCURRENCY}, Node ${process.version}, after ${WARMUP} warm-up requests each`,
  );
  for (const s of [raw, webhook]) {
    console.log(
      `  ${s.label.padEnd(42)} ${s.perSecond.toFixed(0).padStart(6)}/s   p50 ${s.p50.toFixed(2).padStart(6)} ms   p99 ${s.p99.toFixed(2).padStart(6)} ms`,
    );
  }
  console.log(`  webhook / bare server throughput ratio     ${(webhook.perSecond / raw.perSecond).toFixed(2)}`);
  console.log(`  webhook / bare server p99 ratio            ${(webhook.p99 / raw.p99).toFixed(2)}`);
} finally {
  await new Promise((done) => bare.close(done));
  await stack.close();
}
