import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import * as z from 'zod';
import { exceptionsAlarm, sweepWindowAlarm } from '../../lib/manifest/sicoob.ts';
import { readEnv } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import { sweepLiquidations } from './sweep.ts';
import { archive, boletos, cobrancaFor } from './wiring.ts';

const env = readEnv({
  /** With no window done yet, the sweep starts this many days back (Sicoob keeps a year). */
  SICOOB_HORIZON_DAYS: z.coerce.number().int().min(0).max(365).default(10),
});
// The alarms "a window not done 24 h after it closed" and "exceptions grow" watch these (lib/stateful-stack.ts).
const metrics = new Metrics({ namespace: sweepWindowAlarm.namespace, serviceName: sweepWindowAlarm.service });

async function sweep() {
  const accounts = await sweepLiquidations({
    boletos: boletos(),
    sweep: boletos(),
    api: cobrancaFor,
    archive: archive(),
    now: () => new Date(),
    horizonDays: env.SICOOB_HORIZON_DAYS as number,
    claimMs: 10 * 60_000,
    checkpointEvery: 500,
    maxWindows: 60,
  });
  metrics.addMetric(sweepWindowAlarm.metric, MetricUnit.Seconds, Math.max(0, ...accounts.map((a) => a.oldestOpenWindowSeconds)));
  metrics.addMetric(
    exceptionsAlarm.metric,
    MetricUnit.Count,
    accounts.reduce((sum, a) => sum + a.newExceptions, 0),
  );
  for (const account of accounts) {
    const log = account.problems.length > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
    log('Sicoob sweep', { ...account });
  }
  return { accounts };
}

export const handler = middy(sweep)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
