import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { envName, queues } from '../../lib/manifest.ts';
import { orderLink } from '../cielo/wiring.ts';
import { OrderStore } from '../orders/order.ts';
import { DynamoPaymentStore } from '../payments/store.ts';
import { dynamo, s3, sqs } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import { secretStore } from '../shared/secrets.ts';
import { FiscalConfig } from './config.ts';
import { VER_PROC } from './fiscal.ts';
import { S3Documents } from './s3-documents.ts';
import { DynamoInvoices } from './invoices.ts';
import { issue, RecentSefazFailures, type IssuerDeps } from './issuer.ts';
import { DynamoNumbering } from './numbering.ts';
import { authorize, consultProtocol, SefazUnavailable } from './sefaz.ts';

const env = readEnv({
  [envName.table('payments')]: z.string().min(1),
  [envName.table('orders')]: z.string().min(1),
  [envName.table('numbering')]: z.string().min(1),
  [envName.table('invoices')]: z.string().min(1),
  [envName.table('integrations')]: z.string().min(1),
  [envName.bucket('fiscal')]: z.string().min(1),
  [envName.queueUrl('nfceRequests')]: z.url(),
  [envName.secretPrefix('nfce')]: z.string().min(1),
  /**
   * The limit of a SEFAZ call no customer waits on: an authorization with contingency off, the
   * protocol queries. With contingency on the authorization waits CONTINGENCY_WAIT_SECONDS instead.
   */
  SEFAZ_TIMEOUT_SECONDS: z.coerce.number().positive().default(15),
  /** How long a sale waits for SEFAZ's authorization before its NFC-e goes to offline contingency. */
  CONTINGENCY_WAIT_SECONDS: z.coerce.number().positive().default(8),
  /** A normal-emission NFC-e older than this is not sent (SEFAZ refuses it after 5 minutes: 704). */
  CONTINGENCY_LATE_AFTER_SECONDS: z.coerce.number().positive().default(240),
  /**
   * After SEFAZ failed a sale (unreachable, silent, paused), for this long the container's next sales
   * go to contingency without waiting for it; 0 always waits.
   */
  CONTINGENCY_AWAY_SECONDS: z.coerce.number().nonnegative().default(30),
  /** A contingency NFC-e must be transmitted by the end of this many business days after its day. */
  CONTINGENCY_DEADLINE_BUSINESS_DAYS: z.coerce.number().int().positive().default(1),
  /** First retry delay; doubles per attempt up to the queue's visibility timeout. */
  RETRY_BASE_SECONDS: z.coerce.number().positive().default(15),
});
const text = (name: string) => env[name] as string;

const deps: IssuerDeps = {
  payments: new DynamoPaymentStore(dynamo(), text(envName.table('payments'))),
  orders: new OrderStore(dynamo(), text(envName.table('orders'))),
  cielo: orderLink(),
  fiscal: new FiscalConfig(dynamo(), text(envName.table('integrations')), secretStore(), text(envName.secretPrefix('nfce'))),
  numbering: new DynamoNumbering(dynamo(), text(envName.table('numbering'))),
  documents: new S3Documents(s3(), text(envName.bucket('fiscal'))),
  invoices: new DynamoInvoices(dynamo(), text(envName.table('invoices'))),
  authorize: (url, xml, tls, waitMs) => authorize(url, xml, { tls, timeoutMs: sefazBudget(waitMs) }),
  consultProtocol: (url, chave, tpAmb, tls) => consultProtocol(url, chave, tpAmb, { tls, timeoutMs: sefazBudget() }),
  now: () => new Date(),
  contingency: {
    waitMs: (env.CONTINGENCY_WAIT_SECONDS as number) * 1000,
    lateAfterMs: (env.CONTINGENCY_LATE_AFTER_SECONDS as number) * 1000,
    deadlineBusinessDays: env.CONTINGENCY_DEADLINE_BUSINESS_DAYS as number,
  },
  sefazAway: new RecentSefazFailures((env.CONTINGENCY_AWAY_SECONDS as number) * 1000),
  verProc: VER_PROC,
  log: {
    info: (message, extra) => logger.info(message, { ...extra }),
    warn: (message, extra) => logger.warn(message, { ...extra }),
  },
};
const { maxReceiveCount, visibilityTimeoutSeconds } = queues.nfceRequests;

/** When this invocation must be done: Lambda ends it there, skipping every catch block. */
let deadline = Number.POSITIVE_INFINITY;
/**
 * A SEFAZ call may take `limitMs` (SEFAZ_TIMEOUT_SECONDS unless the contingency wait is given),
 * but never more than half of what is left after a margin for the writes that follow: a 204 needs
 * a second call (the protocol query), contingency a document to build and store.
 */
function sefazBudget(limitMs = (env.SEFAZ_TIMEOUT_SECONDS as number) * 1000): number {
  const left = (deadline - Date.now() - 5_000) / 2;
  return Math.max(1_000, Math.min(limitMs, left));
}
const processor = new BatchProcessor(EventType.SQS);

async function issueRecord(record: SQSRecord): Promise<void> {
  logger.appendKeys({ correlationId: record.messageAttributes.correlationId?.stringValue ?? record.messageId });
  const receiveCount = Number(record.attributes.ApproximateReceiveCount);
  try {
    const outcome = await issue(JSON.parse(record.body), { receiveCount, maxReceiveCount }, deps);
    logger.info('job done', { outcome, receiveCount });
  } catch (error) {
    // Back off exponentially instead of waiting out the whole visibility timeout each time; after
    // the last attempt, release the message at once so SQS moves it to the DLQ.
    const backoff = Math.round((env.RETRY_BASE_SECONDS as number) * 2 ** (receiveCount - 1));
    const delay = receiveCount >= maxReceiveCount ? 0 : Math.min(visibilityTimeoutSeconds, backoff);
    await sqs().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: text(envName.queueUrl('nfceRequests')),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: delay,
      }),
    );
    if (error instanceof SefazUnavailable)
      logger.warn('SEFAZ unavailable; retrying later', { receiveCount, retryInSeconds: delay, reason: error.message });
    else logger.error('job failed', { receiveCount, retryInSeconds: delay, error: error as Error });
    throw error;
  }
}

export const handler = middy(async (event: SQSEvent, context: Context) => {
  deadline = Date.now() + context.getRemainingTimeInMillis();
  return processPartialResponse(event, issueRecord, processor, { context });
}).use(injectLambdaContext(logger, { resetKeys: true }));
