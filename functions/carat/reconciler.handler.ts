import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import * as z from 'zod';
import { unsettledRechargeAlarm } from '../../lib/manifest/carat.ts';
import { readEnv } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import { reconcileRecharges } from './reconcile.ts';
import { esitefFor, notAppliedAfterMs, recharges } from './wiring.ts';

const env = readEnv({
  /** An unsettled recharge is left to the store this long after its last change (PPC: the time to confirm). */
  CARAT_RECONCILE_AFTER_SECONDS: z.coerce.number().min(0).default(60),
});
// The alarm "a recharge unsettled for 15 minutes" watches this metric (lib/stateful-stack.ts).
const metrics = new Metrics({ namespace: unsettledRechargeAlarm.namespace, serviceName: unsettledRechargeAlarm.service });
/** Per run; the schedule fires every 2 minutes, and each recharge takes at most three e-SiTef calls. */
const BATCH = 25;

async function reconcile() {
  const report = await reconcileRecharges(
    {
      recharges: recharges(),
      esitef: esitefFor,
      now: () => new Date(),
      afterMs: (env.CARAT_RECONCILE_AFTER_SECONDS as number) * 1000,
      claimMs: 5 * 60_000,
      notAppliedAfterMs: notAppliedAfterMs(),
      log: {
        info: (message, extra) => logger.info(message, { ...extra }),
        warn: (message, extra) => logger.warn(message, { ...extra }),
      },
    },
    BATCH,
  );
  metrics.addMetric(unsettledRechargeAlarm.metric, MetricUnit.Seconds, report.oldestPendingSeconds);
  metrics.addMetric('CaratRechargesUnsettled', MetricUnit.Count, report.unsettled.length);
  if (report.checked > 0 || report.pending > 0) logger.info('Carat reconciler', { ...report });
  return report;
}

export const handler = middy(reconcile)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
