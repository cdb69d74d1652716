import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type ReceiveMessageCommandInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FunctionSpec } from '../manifest.ts';
import { invoke, type Handler } from './invoke.ts';
import { LOCAL_REGION } from './provision.ts';

/** Lambda's SQS pollers long-poll for 20 seconds, the most SQS allows. */
const LONG_POLL_SECONDS = 20;

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
 * Each loop always has a long poll waiting, so a message is picked up as soon as it arrives;
 * `stop` aborts the wait in flight and lets a batch already received finish.
 */
export function startPoller(options: PollerOptions): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await pollOnce(options, stopping.signal);
      } catch (error) {
        if (stopping.signal.aborted) break;
        options.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}

/**
 * One batch: waits up to LONG_POLL_SECONDS for a first message, then takes what else is waiting
 * up to the batch size (as SQS answers a long poll as soon as there are messages, with those there
 * are), invokes the handler and deletes what succeeded. Answers how many messages it received.
 *
 * The SQS emulator (local-aws-sqs) answers a receive once it holds MaxNumberOfMessages messages or
 * its wait is over, and while it waits, a message it took whose visibility timeout runs out is
 * visible again and taken a second time, into the same answer. So the long poll asks for one
 * message (answered the moment it takes one, whatever the visibility timeout). The rest of the
 * batch is asked for only when messages are waiting, and no more than are waiting, so that the
 * emulator answers at once (a wait-0 receive it cannot fill still lasts ~40 ms), and only on
 * queues whose visibility timeout is at least a second, far longer than such a receive.
 */
export async function pollOnce(options: PollerOptions, signal?: AbortSignal): Promise<number> {
  const receive = async (
    input: Pick<ReceiveMessageCommandInput, 'MaxNumberOfMessages' | 'WaitTimeSeconds'>,
    abortSignal?: AbortSignal,
  ) => {
    const { Messages = [] } = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        ...input,
        MessageSystemAttributeNames: ['All'],
        // The emulator still reads the older name of the same parameter.
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      abortSignal ? { abortSignal } : {},
    );
    return Messages;
  };
  // Only the wait is aborted by `signal`: once a message is taken, the batch runs to its end.
  const Messages = await receive({ MaxNumberOfMessages: 1, WaitTimeSeconds: LONG_POLL_SECONDS }, signal);
  if (Messages.length === 0) return 0;
  const batch = Math.min(10, options.batchSize);
  if (batch > 1 && options.visibilityTimeoutSeconds >= 1) {
    const waiting = await visibleNow(options);
    if (waiting > 0) {
      Messages.push(...(await receive({ MaxNumberOfMessages: Math.min(batch - 1, waiting), WaitTimeSeconds: 0 })));
    }
  }

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

/**
 * Messages visible on the queue now. The emulator counts the messages in flight in
 * ApproximateNumberOfMessages too, hence the difference; against SQS, where they are not, it would
 * only undercount (a smaller batch).
 */
async function visibleNow(options: PollerOptions): Promise<number> {
  const { Attributes = {} } = await options.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: options.queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) - Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
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
