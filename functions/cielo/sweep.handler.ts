import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import * as z from 'zod';
import { pendingVerificationAlarm } from '../../lib/manifest/cielo.ts';
import { readEnv } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import { sweepPendingVerifications } from './sweep.ts';
import { cieloOrders, verificationQueue } from './wiring.ts';

const env = readEnv({
  CIELO_REQUEUE_AFTER_SECONDS: z.coerce
    .number()
    .positive()
    .default(15 * 60),
});
// The alarm "Cielo verifications pending for more than an hour" watches this metric (lib/stateful-stack.ts).
const metrics = new Metrics({ namespace: pendingVerificationAlarm.namespace, serviceName: pendingVerificationAlarm.service });
/** Per run; the schedule fires every 5 minutes. */
const BATCH = 200;

async function sweep() {
  const outcome = await sweepPendingVerifications(
    {
      orders: cieloOrders(),
      verifications: verificationQueue(),
      now: () => new Date(),
      requeueAfterMs: (env.CIELO_REQUEUE_AFTER_SECONDS as number) * 1000,
    },
    BATCH,
  );
  metrics.addMetric(pendingVerificationAlarm.metric, MetricUnit.Seconds, outcome.oldestPendingSeconds);
  if (outcome.pending > 0) logger.info('Cielo verification sweep', { ...outcome });
  return outcome;
}

export const handler = middy(sweep)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
