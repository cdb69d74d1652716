/**
 * `npm run bench`: each section in its own process (handlers read their environment once per
 * process, and each section needs its own local stack). Figures depend on the machine; the ratios
 * printed beside them are what to watch. BENCH_REQUESTS, BENCH_CONCURRENCY, BENCH_PAYMENTS tune them.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const sections = ['signing.ts', 'intake.ts', 'pipeline.ts', 'cielo-webhook.ts', 'cold-start.ts', 'sicoob-sweep.ts'];
for (const section of sections) {
  execFileSync(process.execPath, [...process.execArgv, resolve(import.meta.dirname, section)], { stdio: 'inherit' });
}
