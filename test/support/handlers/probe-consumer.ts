import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { dynamo } from '../../../functions/shared/aws.ts';

/**
 * Test-only handler for the local runtime's own tests: records every delivery in the probe table
 * and reports the messages asking to fail as batch item failures.
 */
export async function handler(event: SQSEvent | ScheduledEvent): Promise<SQSBatchResponse | void> {
  const table = process.env.TABLE_PROBE!;
  if (!('Records' in event)) {
    await dynamo().send(new PutCommand({ TableName: table, Item: { pk: `tick#${event.id}`, detailType: event['detail-type'] } }));
    return;
  }
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const body = JSON.parse(record.body) as { id: string; fail?: boolean };
    await dynamo().send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: `${body.id}#${record.attributes.ApproximateReceiveCount}`,
          batchSize: event.Records.length,
          source: record.eventSource,
        },
      }),
    );
    if (body.fail) batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures };
}
