import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { functions } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { seedPayment } from '../support/fixtures.ts';
import { issueToken, post, SEED_INTEGRATION, startTestRuntime } from '../support/runtime.ts';

/**
 * All handlers run in one process and share the Powertools logger (functions/shared/logger.ts).
 * Each invocation must still log with its own Lambda context and its own appended keys, as each
 * does in AWS, where every invocation has the logger to itself.
 */
let stack: LocalRuntime;
let token: string;

beforeAll(async () => {
  stack = await startTestRuntime({
    functions: {
      authorizer: functions.authorizer,
      paymentIntake: functions.paymentIntake,
      nfceIssuer: functions.nfceIssuer,
    },
    env: { POWERTOOLS_LOG_LEVEL: 'INFO' },
    rateLimitPerSecond: 1000,
    burstLimit: 1000,
  });
  token = await issueToken(stack, SEED_INTEGRATION);
});
afterAll(() => stack?.close());

type Line = Record<string, unknown>;

async function queueDrained(): Promise<boolean> {
  const { Attributes } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queues.nfceRequests!.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible) === 0;
}

it('keeps each concurrent invocation’s function name and correlation id on its own log lines', async () => {
  const correlationIds = Array.from({ length: 8 }, (_, i) => `log-isolation-${i}`);
  // Payments for orders the backend does not know: the issuer finishes them at once (success: false).
  const payments = correlationIds.map((_, i) => ({ ...seedPayment(), orderKey: String(9100 + i) }));
  const pay = (i: number) => post(stack, '/order/payment', payments[i], token, { 'x-correlation-id': correlationIds[i]! });
  // An unknown token: the authorizer looks it up, logs, and refuses (401).
  const stranger = (i: number) => post(stack, '/order/payment', payments[0], `chk_unknown-token-of-a-stranger-${i}`);

  // Powertools writes INFO to stdout and WARN and ERROR to stderr.
  const output: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  };
  const writes = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    const first = await Promise.all([...correlationIds.map((_, i) => pay(i)), ...[0, 1, 2].map(stranger)]);
    expect(first.map((answer) => answer.status)).toEqual([...Array(8).fill(202), 401, 401, 401]);
    // Poll every payment at once, as the POS does, while the issuer works and strangers knock.
    const deadline = Date.now() + 20_000;
    const pending = new Set(correlationIds.keys());
    for (let round = 0; pending.size > 0; round++) {
      if (Date.now() > deadline) throw new Error(`payments ${[...pending]} still not finished`);
      const answers = await Promise.all([...[...pending].map(async (i) => [i, await pay(i)] as const), stranger(3 + round)]);
      for (const answer of answers) if (Array.isArray(answer) && answer[1].status === 200) pending.delete(answer[0]);
    }
    while (!(await queueDrained())) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    for (const write of writes) write.mockRestore();
  }

  const lines: Line[] = output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
  const authorizer = lines.filter((line) => line.message === 'bearer token rejected');
  const intake = lines.filter((line) => String(line.message).startsWith('payment request '));
  const issuer = lines.filter((line) => !authorizer.includes(line) && !intake.includes(line));
  expect(authorizer.length).toBeGreaterThanOrEqual(4);
  expect(intake.length).toBeGreaterThanOrEqual(16);
  expect(issuer.length).toBeGreaterThanOrEqual(8);

  // Every function adds its Lambda context to the logger: each line names its own function.
  for (const line of authorizer) {
    expect({ function_name: line.function_name, correlationId: line.correlationId }).toEqual({
      function_name: 'authorizer',
      correlationId: undefined,
    });
  }
  for (const line of issuer) expect(line.function_name).toBe('nfceIssuer');

  // Intake: every line is its own invocation's, with that request's correlation id, which is also
  // the one its payment was recorded with.
  expect(new Set(intake.map((line) => line.function_request_id)).size).toBe(intake.length);
  const correlationOfPayment = new Map<unknown, unknown>();
  for (const line of intake) {
    expect(line.function_name).toBe('paymentIntake');
    expect(correlationIds).toContain(line.correlationId);
    expect(line.correlationId).toBe(line.paymentCorrelationId);
    correlationOfPayment.set(line.paymentId, line.correlationId);
  }
  expect(correlationOfPayment.size).toBe(8);

  // Issuer: each job's lines carry the correlation id of the payment it issues.
  for (const line of issuer) {
    expect(correlationIds).toContain(line.correlationId);
    if (line.paymentId !== undefined) expect(line.correlationId).toBe(correlationOfPayment.get(line.paymentId));
  }
  expect(new Set(issuer.map((line) => line.correlationId))).toEqual(new Set(correlationIds));
});
