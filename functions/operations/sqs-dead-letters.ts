import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetterQueue, DeadMessage } from './dead-letters.ts';

/** How long a message stays hidden while the operator's call looks at it. */
const LOOK_SECONDS = 30;

/**
 * A dead-letter queue in SQS. SQS has no "peek": messages are received (hidden for a moment) and
 * made visible again at once, so each look adds one to their receive count.
 */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly sqs: SQSClient,
    readonly queue: string,
    private readonly dlqUrl: string,
    /** The queue it serves: needed (and granted) for a redrive only. */
    private readonly queueUrl: string | undefined,
  ) {}

  async peek(limit: number): Promise<DeadMessage[]> {
    const seen = await this.receiveUpTo(limit);
    await this.release(seen);
    return seen.map(toDeadMessage);
  }

  async redrive(pick: (message: DeadMessage) => boolean, limit: number): Promise<DeadMessage[]> {
    if (!this.queueUrl) throw new Error(`no URL for ${this.queue}: this function may not redrive`);
    const seen = await this.receiveUpTo(limit);
    const moved: DeadMessage[] = [];
    const kept: Message[] = [];
    for (const message of seen) {
      const dead = toDeadMessage(message);
      if (!pick(dead)) {
        kept.push(message);
        continue;
      }
      // Send first, then delete: a crash in between sends the job twice, which the consumer absorbs.
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: message.Body ?? '',
          MessageAttributes: message.MessageAttributes,
        }),
      );
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
      moved.push(dead);
    }
    await this.release(kept);
    return moved;
  }

  private async receiveUpTo(limit: number): Promise<Message[]> {
    const seen = new Map<string, Message>();
    while (seen.size < limit) {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.dlqUrl,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          VisibilityTimeout: LOOK_SECONDS,
          // Long polling asks every SQS server, so an empty answer means the queue is empty.
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) seen.set(message.MessageId!, message);
    }
    return [...seen.values()];
  }

  /** Makes looked-at messages visible again at once. */
  private async release(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.dlqUrl,
          Entries: messages
            .slice(i, i + 10)
            .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      );
    }
  }
}

function toDeadMessage(message: Message): DeadMessage {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    body: message.Body ?? '',
    receiveCount: Number(attributes.ApproximateReceiveCount ?? 0),
    sentAtMs: Number(attributes.SentTimestamp ?? 0),
  };
}
