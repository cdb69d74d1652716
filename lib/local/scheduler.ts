import type { ScheduledEvent } from 'aws-lambda';
import type { FunctionSpec } from '../manifest.ts';
import { invoke, type Handler } from './invoke.ts';
import { LOCAL_REGION } from './provision.ts';

export interface ScheduledFunction {
  name: string;
  spec: FunctionSpec;
  everyMinutes: number;
  handler: Handler;
}

/**
 * EventBridge `rate(n minutes)` rules: with `timers`, fires each scheduled function on its period;
 * `run` fires one now either way.
 */
export function startScheduler(functions: ScheduledFunction[], timers: boolean, onError: (name: string, error: unknown) => void) {
  const fire = async (fn: ScheduledFunction) => {
    const event: ScheduledEvent = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: LOCAL_REGION,
      resources: [`arn:aws:events:${LOCAL_REGION}:000000000000:rule/${fn.name}`],
      detail: {},
    };
    return invoke(fn.handler, fn.name, fn.spec, event);
  };
  const intervals = (timers ? functions : []).map((fn) =>
    setInterval(() => fire(fn).catch((error: unknown) => onError(fn.name, error)), fn.everyMinutes * 60_000),
  );
  return {
    async run(name: string): Promise<unknown> {
      const fn = functions.find((f) => f.name === name);
      if (!fn) throw new Error(`no scheduled function named ${name}`);
      return fire(fn);
    },
    stop() {
      intervals.forEach(clearInterval);
    },
  };
}
