import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { orderRef, PENDING } from '../../functions/payments/record.ts';
import { envName } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { seedPayment } from './fixtures.ts';
import { post, SEED_INTEGRATION } from './runtime.ts';

/**
 * Payments recorded whose job never reached the queue (what the re-queue sweep is for): paid
 * through the API, their jobs taken off the queue, and their records put back as a failed send
 * leaves them — pending, last tried long ago. The stack must run without the queue's consumer.
 */
export async function pendingPayments(stack: LocalRuntime, token: string, count: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = seedPayment();
    body.orderKey = `${prefix}${i}`;
    const answer = await post(stack, '/order/payment', body, token);
    if (answer.status !== 202) throw new Error(`payment ${body.orderKey}: ${answer.status} ${JSON.stringify(answer.body)}`);
    await stack.documents.send(
      new UpdateCommand({
        TableName: stack.env[envName.table('payments')]!,
        Key: { pk: orderRef(SEED_INTEGRATION, body.orderKeyType, body.orderKey) },
        UpdateExpression: 'SET enqueuePending = :pending, enqueueClaimedAtMs = :long_ago REMOVE enqueuedAt',
        ExpressionAttributeValues: { ':pending': PENDING, ':long_ago': 0 },
      }),
    );
    ids.push(answer.body.paymentId as string);
  }
  await queuedJobs(stack); // the jobs the API queued: as if they had never been sent
  return ids.sort();
}

/** Takes every job off nfce-requests (hidden for a minute) and returns their bodies. */
export async function queuedJobs(stack: LocalRuntime): Promise<{ paymentId: string }[]> {
  const jobs: { paymentId: string }[] = [];
  for (;;) {
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.queues.nfceRequests!.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return jobs;
    jobs.push(...Messages.map((m) => JSON.parse(m.Body!) as { paymentId: string }));
  }
}
