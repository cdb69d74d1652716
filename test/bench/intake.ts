/** Payment intake through the local API beside the raw emulator round trip it is built on. */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { envName } from '../../lib/manifest.ts';
import { seedPayment } from '../support/fixtures.ts';
import { functionsWithout, issueToken, SEED_INTEGRATION } from '../support/runtime.ts';
import { benchStack, measure } from './harness.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

// Without the issuer: queued payments stay in progress, so repeats answer 208.
const stack = await benchStack(functionsWithout('nfceIssuer'));
try {
  const token = await issueToken(stack, SEED_INTEGRATION);
  const table = stack.env[envName.table('payments')]!;
  // A scratch queue: raw messages on nfce-requests would reach the issuer.
  const { QueueUrl: queueUrl } = await stack.clients.sqs.send(
    new CreateQueueCommand({ QueueName: `bench-raw-${randomUUID().slice(0, 8)}` }),
  );
  const runId = randomUUID().slice(0, 8);

  const raw = await measure('emulators: PutItem + SendMessage', REQUESTS, CONCURRENCY, async (i) => {
    await stack.documents.send(new PutCommand({ TableName: table, Item: { pk: `BENCH#${runId}#${i}`, at: Date.now() } }));
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ i }) }));
  });

  const body = seedPayment();
  const intake = await measure('POST /order/payment (new payment → 202)', REQUESTS, CONCURRENCY, async (i) => {
    body.orderKey = `${runId}-${i}`;
    const response = await fetch(`${stack.baseUrl}/order/payment`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 202) throw new Error(`expected 202, got ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  });

  const poll = await measure('POST /order/payment (poll → 208)', REQUESTS, CONCURRENCY, async (i) => {
    const repeat = { ...body, orderKey: `${runId}-${i % 100}` };
    const response = await fetch(`${stack.baseUrl}/order/payment`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(repeat),
    });
    if (response.status !== 208) throw new Error(`expected 208, got ${response.status}`);
    await response.arrayBuffer();
  });

  console.log(`\nPayment intake — ${REQUESTS} requests, concurrency ${CONCURRENCY}, Node ${process.version}`);
  for (const s of [raw, intake, poll]) {
    console.log(
      `  ${s.label.padEnd(42)} ${s.perSecond.toFixed(0).padStart(6)}/s   p50 ${s.p50.toFixed(2).padStart(6)} ms   p99 ${s.p99.toFixed(2).padStart(6)} ms`,
    );
  }
  console.log(`  intake / raw round trip throughput ratio   ${(intake.perSecond / raw.perSecond).toFixed(2)}`);
} finally {
  await stack.close();
}
