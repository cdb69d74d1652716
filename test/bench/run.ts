/**
 * `npm run bench`: throughput and latency of the payment intake through the local API, beside
 * the raw emulator round trip it is built on (one PutItem + one SendMessage), in the same run.
 * Later issues add their own sections. Figures depend on the machine; the ratio is what to watch.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { envName } from '../../lib/manifest.ts';
import { startLocalStack, type LocalStack } from '../../lib/local/stack.ts';
import { seedPayment } from '../support/fixtures.ts';
import { issueToken, SEED_INTEGRATION } from '../support/stack.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

interface Sample {
  label: string;
  perSecond: number;
  p50: number;
  p99: number;
}

async function measure(
  label: string,
  count: number,
  concurrency: number,
  operation: (i: number) => Promise<void>,
): Promise<Sample> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        await operation(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { label, perSecond: count / seconds, p50: at(0.5), p99: at(0.99) };
}

async function intakeSection(stack: LocalStack): Promise<void> {
  const token = await issueToken(stack, SEED_INTEGRATION);
  const table = stack.env[envName.table('payments')]!;
  const queueUrl = stack.queues.nfceRequests!.url;
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
}

const stack = await startLocalStack({
  port: 0,
  timers: false,
  // The bench measures the pipeline, not the usage plan: lift the per-integration throttle.
  rateLimitPerSecond: 1e9,
  burstLimit: 1e9,
  env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  log: () => undefined,
});
try {
  await intakeSection(stack);
} finally {
  await stack.close();
}
