import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { contingencyDeadlineAlarm } from '../../lib/manifest/nfce.ts';
import { dynamo, s3 } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import { secretStore } from '../shared/secrets.ts';
import { FiscalConfig } from './config.ts';
import { VER_PROC } from './fiscal.ts';
import { sendContingency } from './contingency-sender.ts';
import { ONLINE_FINAL_AFTER_MS } from './contingency.ts';
import { recepcaoEvento } from './events.ts';
import { DynamoInvoices } from './invoices.ts';
import { DynamoNumbering } from './numbering.ts';
import { S3Documents } from './s3-documents.ts';
import { authorize, consultProtocol } from './sefaz.ts';

const env = readEnv({
  [envName.table('invoices')]: z.string().min(1),
  [envName.table('numbering')]: z.string().min(1),
  [envName.table('integrations')]: z.string().min(1),
  [envName.bucket('fiscal')]: z.string().min(1),
  [envName.secretPrefix('nfce')]: z.string().min(1),
  /** The limit of each SEFAZ call. */
  SEFAZ_TIMEOUT_SECONDS: z.coerce.number().positive().default(15),
  /** Documents not authorized this close to their deadline (or past it) fire the alarm. */
  CONTINGENCY_ALARM_HOURS: z.coerce.number().positive().default(contingencyDeadlineAlarm.defaultWithinHours),
  /** After this long from its dhEmi, an online send SEFAZ does not know is final (SEFAZ refuses it after 5 minutes). */
  CONTINGENCY_ONLINE_FINAL_AFTER_SECONDS: z.coerce
    .number()
    .positive()
    .default(ONLINE_FINAL_AFTER_MS / 1000),
});
const text = (name: string) => env[name] as string;
const call = () => ({ timeoutMs: (env.SEFAZ_TIMEOUT_SECONDS as number) * 1000 });

// The alarm "contingency NFC-e close to their deadline" watches this metric (lib/stateful-stack.ts).
const metrics = new Metrics({ namespace: contingencyDeadlineAlarm.namespace, serviceName: contingencyDeadlineAlarm.service });
const invoices = new DynamoInvoices(dynamo(), text(envName.table('invoices')));

/** Leaves this much of the invocation for the writes after the last SEFAZ call. */
const MARGIN_MS = 30_000;

async function run(_event: unknown, context: Context) {
  const outcome = await sendContingency({
    queue: invoices,
    fiscal: new FiscalConfig(dynamo(), text(envName.table('integrations')), secretStore(), text(envName.secretPrefix('nfce'))),
    documents: new S3Documents(s3(), text(envName.bucket('fiscal'))),
    numbering: new DynamoNumbering(dynamo(), text(envName.table('numbering'))),
    authorize: (url, xml, tls) => authorize(url, xml, { tls, ...call() }),
    consultProtocol: (url, chave, tpAmb, tls) => consultProtocol(url, chave, tpAmb, { tls, ...call() }),
    sendEvents: (url, xml, tls) => recepcaoEvento(url, xml, { tls, ...call() }),
    now: () => new Date(),
    hasTime: () => context.getRemainingTimeInMillis() > MARGIN_MS + (env.SEFAZ_TIMEOUT_SECONDS as number) * 1000,
    alarmWithinMs: (env.CONTINGENCY_ALARM_HOURS as number) * 3600_000,
    onlineFinalAfterMs: (env.CONTINGENCY_ONLINE_FINAL_AFTER_SECONDS as number) * 1000,
    // Longer than one record's SEFAZ calls (a query, a send, an event) with their writes.
    claimStaleMs: 4 * (env.SEFAZ_TIMEOUT_SECONDS as number) * 1000 + MARGIN_MS,
    verProc: VER_PROC,
    log: {
      info: (message, extra) => logger.info(message, { ...extra }),
      warn: (message, extra) => logger.warn(message, { ...extra }),
    },
  });
  metrics.addMetric(contingencyDeadlineAlarm.metric, MetricUnit.Count, outcome.nearDeadline);
  logger.info('contingency sender', { ...outcome });
  return outcome;
}

export const handler = middy(run)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
