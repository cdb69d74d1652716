import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { cancelInvoice, CancellationRefused } from '../nfce/cancellation.ts';
import { cancellationDeps } from '../nfce/cancellation-deps.ts';
import { S3Documents } from '../nfce/s3-documents.ts';
import { OrderStore } from '../orders/order.ts';
import { takePayment } from '../payments/intake.ts';
import { deps as paymentDeps } from '../payments/wiring.ts';
import { queues } from '../../lib/manifest.ts';
import { dynamo, s3, sqs } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import { CieloUnavailable } from './api.ts';
import { startLioSale } from './lio-sale.ts';
import { verifyOrder, type VerifyDeps } from './verify.ts';
import { bucket, cieloApi, cieloConfig, cieloOrders, queueUrl, table } from './wiring.ts';

const env = readEnv({
  /** First retry delay while the API cannot answer; doubles per attempt up to 15 minutes. */
  CIELO_RETRY_BASE_SECONDS: z.coerce.number().positive().default(30),
});
const MAX_RETRY_SECONDS = 15 * 60;
const { maxReceiveCount } = queues.cieloVerifications;

const jobSchema = z.object({
  integrationHubServiceId: z.string().min(1),
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
});

const log = {
  info: (message: string, extra?: object) => logger.info(message, { ...extra }),
  warn: (message: string, extra?: object) => logger.warn(message, { ...extra }),
};
const tabs = new OrderStore(dynamo(), table('orders'));
const documents = new S3Documents(s3(), bucket('fiscal'));
const deps: VerifyDeps = {
  orders: cieloOrders(),
  config: cieloConfig(),
  api: cieloApi,
  startLioSale: (state, order, correlationId) =>
    startLioSale(state, order, correlationId, {
      orders: cieloOrders(),
      tabs,
      takePayment: (payment, id) => takePayment(payment, id, { ...paymentDeps, documents }),
      now: () => new Date(),
    }),
  cancelNfce: async (request) => {
    try {
      return { protocol: (await cancelInvoice(request, cancellationDeps())).protocol };
    } catch (error) {
      // SEFAZ away, or not yet possible (not authorized yet, another request cancelling it): the
      // job is retried. Anything else is final, for an operator.
      if (!(error instanceof CancellationRefused) || error.kind === 'unavailable' || error.kind === 'notYet') throw error;
      return { refused: error.message };
    }
  },
  now: () => new Date(),
  log,
};
const processor = new BatchProcessor(EventType.SQS);

/** The body as JSON, or undefined. */
function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function verifyRecord(record: SQSRecord): Promise<void> {
  const parsed = jobSchema.safeParse(json(record.body));
  if (!parsed.success) {
    // Not ours to retry: a malformed job would fail the same way every time.
    logger.error('verification job is malformed; dropped', { messageId: record.messageId });
    return;
  }
  logger.appendKeys({ correlationId: parsed.data.correlationId });
  try {
    const outcome = await verifyOrder(parsed.data, deps);
    logger.info('verification done', { orderId: parsed.data.orderId, outcome });
  } catch (error) {
    // "Ask again later", backing off: 30 s, 1, 2, 4, 8 min, then every 15 min until the DLQ (where
    // the sweep, reading the pending claims from the table, takes over).
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    const backoff = Math.round((env.CIELO_RETRY_BASE_SECONDS as number) * 2 ** (receiveCount - 1));
    await sqs().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl('cieloVerifications'),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: receiveCount >= maxReceiveCount ? 0 : Math.min(MAX_RETRY_SECONDS, backoff),
      }),
    );
    if (error instanceof CieloUnavailable)
      logger.warn('Order Manager API unavailable; the verification is retried', {
        orderId: parsed.data.orderId,
        reason: error.message,
      });
    else logger.error('verification failed', { orderId: parsed.data.orderId, error: error as Error });
    throw error;
  }
}

/** The cielo-verifications consumer: one order's claims checked with the Order Manager API per message. */
export const handler = middy(async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, verifyRecord, processor, { context }),
).use(injectLambdaContext(logger, { resetKeys: true }));
