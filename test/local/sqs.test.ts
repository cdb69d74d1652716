import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { functions, tables, type FunctionSpec } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * The SQS emulator (local-aws-sqs 2.0.2) counted ChangeMessageVisibility as a receive, so a
 * consumer that backs off like the NFC-e issuer saw counts 1, 3, 5 and got 3 attempts instead of
 * maxReceiveCount. lib/local/patches fixes it (applied by `npm install`'s postinstall).
 */
let stack: LocalRuntime;

beforeAll(async () => {
  stack = await startTestRuntime({
    functions: {
      // The local stack always serves the API, which needs its authorizer.
      authorizer: functions.authorizer,
      backoffConsumer: {
        entry: 'test/support/handlers/backoff-consumer.ts',
        description: 'test consumer that always fails and backs off',
        trigger: { kind: 'queue', queue: 'backoff' as never, batchSize: 1, maxConcurrency: 2 },
        timeoutSeconds: 5,
        memoryMb: 128,
      },
    } satisfies Record<string, FunctionSpec>,
    resources: {
      tables: { integrations: tables.integrations, probe: { partitionKey: 'pk' } },
      // A visibility timeout far longer than the test: only the consumer's backoff brings a message back.
      queues: { backoff: { visibilityTimeoutSeconds: 60, maxReceiveCount: 5, retentionDays: 1 } },
      buckets: {},
    },
  });
});
afterAll(() => stack?.close());

async function count(queueUrl: string): Promise<number> {
  const { Attributes } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible);
}

it('a consumer that fails and changes the visibility gets maxReceiveCount attempts, counted 1..N, then the DLQ', async () => {
  const queue = stack.queues.backoff!;
  for (const [id, retryInSeconds] of [
    ['at-once', 0],
    ['after-a-second', 1],
  ] as const) {
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify({ id, retryInSeconds }) }),
    );
  }

  const deadline = Date.now() + 20_000;
  while ((await count(queue.dlqUrl)) < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));

  const { Items = [] } = await stack.documents.send(new ScanCommand({ TableName: 'checkout-probe' }));
  expect(Items.map((item) => item.pk).sort()).toEqual([
    'after-a-second#1',
    'after-a-second#2',
    'after-a-second#3',
    'after-a-second#4',
    'after-a-second#5',
    'at-once#1',
    'at-once#2',
    'at-once#3',
    'at-once#4',
    'at-once#5',
  ]);
  expect(await count(queue.url)).toBe(0);
  const { Messages = [] } = await stack.clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
  );
  expect(Messages.map((m) => JSON.parse(m.Body!).id).sort()).toEqual(['after-a-second', 'at-once']);
});
