import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '../shared/logger.ts';
import { requeuePending } from './requeue.ts';
import { deps } from './wiring.ts';

/** Per run; the schedule fires every minute, so a backlog drains over a few runs. */
const BATCH = 100;

async function requeue(): Promise<{ examined: number; requeued: number }> {
  const outcome = await requeuePending(deps, BATCH);
  if (outcome.examined > 0) logger.info('re-queue sweep', outcome);
  return outcome;
}

export const handler = middy(requeue).use(injectLambdaContext(logger, { resetKeys: true }));
