import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { PaymentJob } from '../../../functions/payments/job.ts';
import { holdsOrder, PENDING, type PaymentRecord } from '../../../functions/payments/record.ts';
import { envName } from '../../manifest.ts';
import type { LocalRuntime } from '../runtime.ts';

/**
 * The SQS emulator keeps messages in memory, so a restart of `npm start` loses the jobs of
 * payments still in flight (DynamoDB keeps the payments). Marks those payments as not enqueued so
 * the re-queue sweep sends their jobs again; the NFC-e issuer is idempotent per payment. Local
 * only: in AWS the queue is durable.
 */
export async function rearmInFlightPayments(db: DynamoDBDocumentClient, tableName: string): Promise<number> {
  let rearmed = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'begins_with(pk, :order) AND #status <> :done AND attribute_not_exists(enqueuePending)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':order': 'ORDER#', ':done': 'DONE' },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: item.pk },
          UpdateExpression: 'SET enqueuePending = :pending, enqueueClaimedAtMs = :never',
          ConditionExpression: 'paymentId = :id',
          ExpressionAttributeValues: { ':pending': PENDING, ':never': 0, ':id': item.paymentId },
        }),
      );
      rearmed++;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rearmed;
}

/**
 * The dead-letter queue is in memory too: a payment held for an operator (its NFC-e's fate at
 * SEFAZ unknown: SEFAZ_UNAVAILABLE, ISSUE_INCOMPLETE) would lose the job the admin redrive needs
 * and hold its order for good. Puts each such payment's job back on the dead-letter queue, as a
 * durable SQS DLQ would still hold it. Returns how many.
 */
export async function restoreDeadLetters(runtime: LocalRuntime): Promise<number> {
  const dlqUrl = runtime.queues.nfceRequests?.dlqUrl;
  if (!dlqUrl) return 0;
  let restored = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await runtime.documents.send(
      new ScanCommand({
        TableName: runtime.env[envName.table('payments')]!,
        FilterExpression: 'begins_with(pk, :order) AND #status = :done',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':order': 'ORDER#', ':done': 'DONE' },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of (page.Items ?? []) as PaymentRecord[]) {
      if (!holdsOrder(item)) continue;
      const job: PaymentJob = {
        paymentId: item.paymentId,
        orderRef: item.pk,
        integrationHubServiceId: item.integrationHubServiceId,
        correlationId: item.correlationId,
      };
      await runtime.clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: dlqUrl,
          MessageBody: JSON.stringify(job),
          MessageAttributes: { correlationId: { DataType: 'String', StringValue: item.correlationId } },
        }),
      );
      restored++;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return restored;
}

/**
 * The payments step of `npm start`: re-queues the payments still in flight from the last run and
 * puts the held ones' jobs back on the dead-letter queue.
 */
export async function seedPayments(runtime: LocalRuntime): Promise<{ rearmed: number; deadLetters: number }> {
  const rearmed = await rearmInFlightPayments(runtime.documents, runtime.env[envName.table('payments')]!);
  if (rearmed > 0) await runtime.runSchedule('paymentRequeue');
  return { rearmed, deadLetters: await restoreDeadLetters(runtime) };
}
