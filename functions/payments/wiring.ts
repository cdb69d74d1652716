import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { dynamo, sqs } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import type { QueueingDeps } from './intake.ts';
import { SqsJobQueue } from './job.ts';
import { DynamoPaymentStore } from './store.ts';

/** Adapters for the payment handlers, built once per container from the validated environment. */
const env = readEnv({
  [envName.table('payments')]: z.string().min(1),
  [envName.queueUrl('nfceRequests')]: z.url(),
  // Longer than a job normally waits for the issuer: a re-send before it starts is a duplicate.
  ENQUEUE_STALE_SECONDS: z.coerce.number().positive().default(30),
});

export const deps: QueueingDeps = {
  store: new DynamoPaymentStore(dynamo(), env[envName.table('payments')] as string),
  queue: new SqsJobQueue(sqs(), env[envName.queueUrl('nfceRequests')] as string),
  now: () => new Date(),
  enqueueStaleMs: (env.ENQUEUE_STALE_SECONDS as number) * 1000,
  onEnqueueFailure: (error, record) =>
    logger.error('payment recorded but its job could not be queued; a poll or the sweep re-sends it', {
      paymentId: record.paymentId,
      error: error as Error,
    }),
};
