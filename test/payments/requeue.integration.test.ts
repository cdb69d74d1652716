import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { pendingPayments, queuedJobs } from '../support/pending.ts';
import { functionsWithout, issueToken, SEED_INTEGRATION, startTestRuntime } from '../support/runtime.ts';

/**
 * EventBridge delivers a scheduled event at least once, so the sweep may run twice at once (a
 * retried delivery, a run that outlasts the period, `npm run job` beside the schedule): each
 * payment is claimed before its job is sent, so the runs share the work and send each job once.
 */
let stack: LocalRuntime;
let token: string;

beforeAll(async () => {
  // Without the issuer, the jobs stay on the queue to be counted.
  stack = await startTestRuntime({ functions: functionsWithout('nfceIssuer') });
  token = await issueToken(stack, SEED_INTEGRATION);
});
afterAll(() => stack?.close());

describe('paymentRequeue run more than once at the same time', () => {
  it('sends one job per pending payment', async () => {
    const ids = await pendingPayments(stack, token, 12, 'SWEEP');
    const runs = (await Promise.all([1, 2, 3].map(() => stack.runSchedule('paymentRequeue')))) as {
      examined: number;
      requeued: number;
    }[];
    expect(runs.reduce((sum, run) => sum + run.requeued, 0)).toBe(ids.length);
    for (const run of runs) expect(run.examined).toBeLessThanOrEqual(ids.length);
    const jobs = await queuedJobs(stack);
    expect(jobs.map((j) => j.paymentId).sort()).toEqual(ids);
    // Still pending until the issuer starts them, but just sent: the next runs send nothing.
    expect(await Promise.all([stack.runSchedule('paymentRequeue'), stack.runSchedule('paymentRequeue')])).toEqual([
      { examined: ids.length, requeued: 0 },
      { examined: ids.length, requeued: 0 },
    ]);
  });
});
