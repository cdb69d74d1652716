import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../lib/local/runtime.ts';
import type { FunctionSpec } from '../../lib/manifest.ts';

export interface Sample {
  label: string;
  perSecond: number;
  p50: number;
  p99: number;
}
/** Runs `operation` `count` times, `concurrency` at once; throughput and latency percentiles. */
export async function measure(
  label: string,
  count: number,
  concurrency: number,
  operation: (i: number) => Promise<void>,
): Promise<Sample> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        await operation(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { label, perSecond: count / seconds, p50: at(0.5), p99: at(0.99) };
}

/** The local stack in memory, quiet, with the per-integration throttle lifted: benches measure the pipeline. */
export function benchStack(
  functions?: Record<string, FunctionSpec>,
  options: Pick<LocalRuntimeOptions, 'onClients'> = {},
): Promise<LocalRuntime> {
  return startLocalRuntime({
    ...options,
    port: 0,
    timers: false,
    rateLimitPerSecond: 1e9,
    burstLimit: 1e9,
    partnerRateLimitPerSecond: 1e9,
    partnerBurstLimit: 1e9,
    ...(functions ? { functions } : {}),
    env: { POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'SILENT' },
    log: () => undefined,
  });
}
