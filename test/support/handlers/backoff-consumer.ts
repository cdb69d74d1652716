import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { dynamo, sqs } from '../../../functions/shared/aws.ts';

/**
 * Test-only consumer that fails every message and backs off the way the NFC-e issuer does: it
 * sets the message's visibility timeout to the delay the message asks for, then reports it as a
 * batch item failure. Records every delivery (with its receive count) in the probe table.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const body = JSON.parse(record.body) as { id: string; retryInSeconds: number };
    await dynamo().send(
      new PutCommand({
        TableName: process.env.TABLE_PROBE!,
        Item: { pk: `${body.id}#${record.attributes.ApproximateReceiveCount}` },
      }),
    );
    await sqs().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: process.env.QUEUE_BACKOFF_URL!,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: body.retryInSeconds,
      }),
    );
    batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures };
}
