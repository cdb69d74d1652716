import type { ScheduledEvent } from 'aws-lambda';
import type { FunctionSpec } from '../manifest.ts';
import { nextFire, type Schedule } from '../schedule.ts';
import { invoke, type Handler } from './invoke.ts';
import { LOCAL_REGION } from './provision.ts';

export interface ScheduledFunction {
  name: string;
  spec: FunctionSpec;
  schedule: Schedule;
  handler: Handler;
}

/** setTimeout's longest delay (about 24.8 days); a later fire is reached in several waits. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The event EventBridge sends a scheduled rule's target; `time` is the fire's scheduled instant. */
export function scheduledEvent(name: string, time: Date, region = LOCAL_REGION, account = '000000000000'): ScheduledEvent {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    // EventBridge writes whole seconds.
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:${account}:rule/${name}`],
    detail: {},
  };
}

/**
 * EventBridge scheduled rules: with `timers`, fires each scheduled function at its expression's
 * instants (rates every period from now, crons at each matching UTC minute), without waiting for
 * the previous run — delivery is at least once, and a run may overlap the next, as in AWS; `run`
 * fires one now either way.
 */
export function startScheduler(functions: ScheduledFunction[], timers: boolean, onError: (name: string, error: unknown) => void) {
  const fire = (fn: ScheduledFunction, time: Date) => invoke(fn.handler, fn.name, fn.spec, scheduledEvent(fn.name, time));
  const pending = new Map<string, NodeJS.Timeout>();
  let stopped = false;

  const arm = (fn: ScheduledFunction, after: Date, start: Date) => {
    const due = nextFire(fn.schedule, after, start);
    if (!due || stopped) return; // a cron whose last fire is past
    const wait = () => {
      const delay = due.getTime() - Date.now();
      if (delay > MAX_TIMEOUT_MS) {
        pending.set(fn.name, setTimeout(wait, MAX_TIMEOUT_MS));
        return;
      }
      pending.set(
        fn.name,
        setTimeout(
          () => {
            // The next fire after this one's instant (a timer may wake a little early) or after now,
            // if it woke late: fires missed while the process slept are not made up in a burst.
            arm(fn, new Date(Math.max(due.getTime(), Date.now())), start);
            fire(fn, due).catch((error: unknown) => onError(fn.name, error));
          },
          Math.max(0, delay),
        ),
      );
    };
    wait();
  };

  if (timers) {
    const start = new Date();
    for (const fn of functions) arm(fn, start, start);
  }
  return {
    async run(name: string): Promise<unknown> {
      const fn = functions.find((f) => f.name === name);
      if (!fn) throw new Error(`no scheduled function named ${name}`);
      return fire(fn, new Date());
    },
    stop() {
      stopped = true;
      pending.forEach(clearTimeout);
      pending.clear();
    },
  };
}
