import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';

/** The message on the nfce-requests queue: which payment to finish. The record holds the rest. */
export const paymentJobSchema = z.object({
  paymentId: z.uuid(),
  orderRef: z.string().min(1),
  integrationHubServiceId: z.string().min(1),
  correlationId: z.string().min(1),
});
export type PaymentJob = z.infer<typeof paymentJobSchema>;

export interface JobQueue {
  send(job: PaymentJob): Promise<void>;
}

/** Sends JSON jobs to one queue, each with its correlation id as a message attribute. */
export class SqsJobQueue<Job extends { correlationId: string } = PaymentJob> {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(job: Job): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(job),
        MessageAttributes: { correlationId: { DataType: 'String', StringValue: job.correlationId } },
      }),
    );
  }
}
