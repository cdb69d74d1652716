import * as z from 'zod';
import { envName, queues, type QueueName } from '../../lib/manifest.ts';
import { DynamoPaymentStore } from '../payments/store.ts';
import { dynamo, sqs } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import type { DeadLetterDeps } from './dead-letters.ts';
import { SqsDeadLetterQueue } from './sqs-dead-letters.ts';

/** The dead-letter routes' adapters: every queue of the manifest with a DLQ, and the payments. */
const names = Object.keys(queues) as QueueName[];
const env = readEnv({
  [envName.table('payments')]: z.string().min(1),
  // The redrive also sends back to the queue; the list only looks at the dead-letter queue.
  ...Object.fromEntries(
    names.flatMap((name) => [
      [envName.queueUrl(name), z.url().optional()],
      [envName.dlqUrl(name), z.url()],
    ]),
  ),
});
const text = (name: string) => env[name] as string;

export const deps: DeadLetterDeps = {
  queues: names.map(
    (name) => new SqsDeadLetterQueue(sqs(), name, text(envName.dlqUrl(name)), env[envName.queueUrl(name)] as string | undefined),
  ),
  payments: new DynamoPaymentStore(dynamo(), text(envName.table('payments'))),
  now: () => new Date(),
};
