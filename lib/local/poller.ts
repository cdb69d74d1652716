import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FunctionSpec } from '../manifest.ts';
import { invoke, type Handler } from './invoke.ts';
import { LOCAL_REGION } from './provision.ts';

const IDLE_PAUSE_MS = 250;
const LONG_POLL_SECONDS = 1;

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  batchSize: number;
  visibilityTimeoutSeconds: number;
  name: string;
  spec: FunctionSpec;
  handler: Handler;
  onError: (error: unknown) => void;
}

/**
 * The Lambda SQS event source mapping: receive a batch, invoke the handler, delete what it did
 * not report in `batchItemFailures`. Failed messages come back after the queue's visibility
 * timeout; the emulator moves a message to the DLQ after maxReceiveCount receives, as SQS does.
 */
export function startPoller(options: PollerOptions): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const received = await pollOnce(options);
        if (received === 0 && options.visibilityTimeoutSeconds <= LONG_POLL_SECONDS)
          await new Promise((resolve) => setTimeout(resolve, IDLE_PAUSE_MS));
      } catch (error) {
        options.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

export async function pollOnce(options: PollerOptions): Promise<number> {
  const { Messages = [] } = await options.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: Math.min(10, options.batchSize),
      // Long polls, as Lambda's pollers do, except on queues whose visibility timeout is not longer
      // than the wait: there the emulator's long poll can hand out one message twice.
      WaitTimeSeconds: options.visibilityTimeoutSeconds > LONG_POLL_SECONDS ? LONG_POLL_SECONDS : 0,
      MessageSystemAttributeNames: ['All'],
      // The emulator still reads the older name of the same parameter.
      AttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  if (Messages.length === 0) return 0;

  const event: SQSEvent = { Records: Messages.map((m) => toRecord(m, options.queueArn)) };
  let failed: Set<string>;
  try {
    const response = (await invoke(options.handler, options.name, options.spec, event)) as SQSBatchResponse | undefined;
    failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch (error) {
    // A thrown handler fails the whole batch, as in Lambda.
    options.onError(error);
    failed = new Set(Messages.map((m) => m.MessageId!));
  }
  const done = Messages.filter((m) => !failed.has(m.MessageId!));
  if (done.length > 0) {
    await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return Messages.length;
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([key, value]) => [
        key,
        { dataType: value.DataType ?? 'String', stringValue: value.StringValue, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
}
