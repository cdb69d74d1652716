import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type AttributeDefinition } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { envName, localName, type BucketSpec, type QueueSpec, type TableSpec } from '../manifest.ts';
import type { Emulators } from './emulators.ts';

export const LOCAL_REGION = 'sa-east-1';
// s3rver's fixed credentials; dynalite and the SQS emulator accept any.
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const credentials = LOCAL_CREDENTIALS;

export function localClients(emulators: Pick<Emulators, 'dynamodb' | 'sqs' | 's3'>) {
  return {
    dynamodb: new DynamoDBClient({ region: LOCAL_REGION, endpoint: emulators.dynamodb, credentials }),
    sqs: new SQSClient({ region: LOCAL_REGION, endpoint: emulators.sqs, credentials }),
    s3: new S3Client({ region: LOCAL_REGION, endpoint: emulators.s3, credentials, forcePathStyle: true }),
  };
}
export type LocalClients = ReturnType<typeof localClients>;

export interface Resources {
  tables: Record<string, TableSpec>;
  queues: Record<string, QueueSpec>;
  buckets: Record<string, BucketSpec>;
}

export interface ProvisionedQueue {
  url: string;
  dlqUrl: string;
  spec: QueueSpec;
}

/**
 * Creates the manifest's tables, queues (each with its DLQ and the same maxReceiveCount as in AWS)
 * and buckets in the emulators; existing ones are kept, so a restart finds its data. Returns the
 * environment variables the handlers read, under the same names the CDK app sets.
 */
export async function provision(clients: LocalClients, resources: Resources) {
  const env: Record<string, string> = {};
  const queues: Record<string, ProvisionedQueue> = {};

  for (const [name, spec] of Object.entries(resources.tables)) {
    const tableName = localName.table(name as never);
    await ensureTable(clients.dynamodb, tableName, spec);
    env[envName.table(name as never)] = tableName;
  }

  for (const [name, spec] of Object.entries(resources.queues)) {
    const dlq = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: localName.dlq(name as never),
        Attributes: { MessageRetentionPeriod: String(14 * 86400) },
      }),
    );
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queue = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: localName.queue(name as never),
        Attributes: {
          VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
          MessageRetentionPeriod: String(spec.retentionDays * 86400),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: spec.maxReceiveCount }),
        },
      }),
    );
    queues[name] = { url: queue.QueueUrl!, dlqUrl: dlq.QueueUrl!, spec };
    env[envName.queueUrl(name as never)] = queue.QueueUrl!;
    env[envName.dlqUrl(name as never)] = dlq.QueueUrl!;
  }

  for (const name of Object.keys(resources.buckets)) {
    const bucket = localName.bucket(name as never);
    try {
      await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch {
      await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    }
    env[envName.bucket(name as never)] = bucket;
  }
  return { env, queues };
}

async function ensureTable(client: DynamoDBClient, tableName: string, spec: TableSpec): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  const keyNames = new Set([
    spec.partitionKey,
    spec.sortKey,
    ...(spec.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey]),
  ]);
  const attributes: AttributeDefinition[] = [...keyNames]
    .filter((n): n is string => Boolean(n))
    .map((AttributeName) => ({ AttributeName, AttributeType: 'S' }));
  const keySchema = (pk: string, sk?: string) => [
    { AttributeName: pk, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : []),
  ];
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributes,
      KeySchema: keySchema(spec.partitionKey, spec.sortKey),
      ...(spec.indexes?.length
        ? {
            GlobalSecondaryIndexes: spec.indexes.map((i) => ({
              IndexName: i.name,
              KeySchema: keySchema(i.partitionKey, i.sortKey),
              Projection: { ProjectionType: 'ALL' },
            })),
          }
        : {}),
    }),
  );
}
