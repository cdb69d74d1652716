import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PENDING } from '../../../functions/payments/record.ts';
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

/** The payments step of `npm start`: re-queues the payments still in flight from the last run. */
export async function seedPayments(runtime: LocalRuntime): Promise<{ rearmed: number }> {
  const rearmed = await rearmInFlightPayments(runtime.documents, runtime.env[envName.table('payments')]!);
  if (rearmed > 0) await runtime.runSchedule('paymentRequeue');
  return { rearmed };
}
