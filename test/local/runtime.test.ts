import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions, tables, type FunctionSpec } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';

const probe = 'test/support/handlers/probe-consumer.ts';
let stack: LocalRuntime;

beforeAll(async () => {
  stack = await startTestRuntime({
    functions: {
      authorizer: functions.authorizer,
      probeConsumer: {
        entry: probe,
        description: 'test consumer',
        trigger: { kind: 'queue', queue: 'probe' as never, batchSize: 5, maxConcurrency: 1 },
        timeoutSeconds: 5,
        memoryMb: 128,
      },
      probeTick: {
        entry: probe,
        description: 'test schedule',
        trigger: { kind: 'schedule', expression: 'rate(5 minutes)', description: 'test' },
        timeoutSeconds: 5,
        memoryMb: 128,
      },
    } satisfies Record<string, FunctionSpec>,
    resources: {
      tables: { integrations: tables.integrations, probe: { partitionKey: 'pk' } },
      queues: { probe: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2, retentionDays: 1 } },
      buckets: {},
    },
  });
});
afterAll(() => stack?.close());

async function deliveries(): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await stack.documents.send(new ScanCommand({ TableName: 'checkout-probe' }));
  return Items.sort((a, b) => String(a.pk).localeCompare(String(b.pk)));
}

async function visible(queueUrl: string): Promise<number> {
  const { Attributes } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible);
}

describe('the local SQS event source', () => {
  it('deletes what succeeded, redelivers what failed, and moves it to the DLQ after maxReceiveCount', async () => {
    const queue = stack.queues.probe!;
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify({ id: 'good' }) }));
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify({ id: 'bad', fail: true }) }),
    );

    const deadline = Date.now() + 15_000;
    while ((await visible(queue.dlqUrl)) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));

    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages.map((m) => JSON.parse(m.Body!))).toEqual([{ id: 'bad', fail: true }]);
    expect(await visible(queue.url)).toBe(0);
    const seen = (await deliveries()).filter((d) => !String(d.pk).startsWith('tick#'));
    // good: once; bad: delivered maxReceiveCount (2) times, then dead-lettered.
    expect(seen.map((d) => d.pk)).toEqual(['bad#1', 'bad#2', 'good#1']);
    expect(seen.every((d) => d.source === 'aws:sqs')).toBe(true);
  });

  it('fires a scheduled function with an EventBridge scheduled event', async () => {
    await stack.runSchedule('probeTick');
    const ticks = (await deliveries()).filter((d) => String(d.pk).startsWith('tick#'));
    expect(ticks).toHaveLength(1);
    expect(ticks[0]!.detailType).toBe('Scheduled Event');
    await expect(stack.runSchedule('nothing')).rejects.toThrow('no scheduled function named nothing');
  });

  it('refuses to start with a schedule expression EventBridge would refuse', async () => {
    await expect(
      startTestRuntime({
        functions: {
          badTick: {
            entry: probe,
            description: 'test schedule',
            trigger: { kind: 'schedule', expression: 'cron(0 12 * * * *)', description: 'test' },
            timeoutSeconds: 5,
            memoryMb: 128,
          },
        },
      }),
    ).rejects.toThrow(
      'badTick: invalid schedule expression "cron(0 12 * * * *)": exactly one of day-of-month and day-of-week must be ? (got "*" and "*")',
    );
  });
});
