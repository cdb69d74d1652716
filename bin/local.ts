/**
 * `npm start`: the whole backend on this machine — emulated DynamoDB, SQS and S3, the API on
 * http://127.0.0.1:3000 (PORT overrides), the queue consumers and the schedules — with a demo
 * integration whose token is written to .local/demo.json. Data is kept under .local/ (LOCAL_DIR
 * overrides; the tests point it at a temp dir, so a developer's data is never touched).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import * as z from 'zod';
import { projectRoot } from '../lib/local/invoke.ts';
import { lockDir } from '../lib/local/lock.ts';
import { startLocalRuntime } from '../lib/local/runtime.ts';
import { DEMO_INTEGRATION, seedAuth, type KeptTokens } from '../lib/local/seed/auth.ts';
import { seedCarat, type KeptCarat } from '../lib/local/seed/carat.ts';
import { seedCielo, type KeptCielo } from '../lib/local/seed/cielo.ts';
import { seedNfce } from '../lib/local/seed/nfce.ts';
import { seedPayments } from '../lib/local/seed/payments.ts';
import { seedSicoob, type KeptSicoob } from '../lib/local/seed/sicoob.ts';
const localDir = resolve(projectRoot, process.env.LOCAL_DIR || '.local');
const demoFile = resolve(localDir, 'demo.json');
/** demo.json as the hints below name it: relative inside the project (./.local/demo.json). */
const demoShown = demoFile.startsWith(projectRoot + sep) ? `./${relative(projectRoot, demoFile)}` : demoFile;
const port = z.coerce
  .number()
  .int()
  .min(0)
  .max(65535)
  .parse(process.env.PORT ?? 3000);

mkdirSync(localDir, { recursive: true });
// One npm start per data folder, taken before anything in it is touched: a second one would find
// the emulators' files locked and die half-started.
const lock = lockDir(localDir);
if (!lock.acquired) {
  const shown = localDir.startsWith(projectRoot + sep) ? `./${relative(projectRoot, localDir)}` : localDir;
  console.error(
    `npm start: the data folder ${shown} is in use by another npm start (pid ${lock.holder.pid}); stop that one first, or set LOCAL_DIR to another folder`,
  );
  process.exit(1);
}
process.on('exit', () => lock.release());
const schemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_010e_v1.01');
const eventSchemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_010d_v1.02_events');
// The partners' *_URL as the developer set them (the runtime adds its own variables to process.env).
const partnerEnv = { ...process.env };
const runtime = await startLocalRuntime({
  dataDir: resolve(localDir, 'data'),
  secretsDir: resolve(localDir, 'secrets'),
  // The SEFAZ simulator validates against the official XSDs when ../shared is beside the project.
  ...(existsSync(schemasDir) ? { schemasDir } : {}),
  ...(existsSync(eventSchemasDir) ? { eventSchemasDir } : {}),
  port,
  timers: true,
  env: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO' },
  // SEFAZ_URL (and, later, each partner's *_URL) points the backend at a real partner instead.
  partnerEnv,
}).catch((error: unknown) => {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
  console.error(`npm start: port ${port} is in use by another program; set PORT to a free one (PORT=0 picks any)`);
  process.exit(1);
});

const kept = existsSync(demoFile)
  ? (JSON.parse(readFileSync(demoFile, 'utf8')) as KeptTokens & KeptCielo & KeptCarat & KeptSicoob)
  : {};
// Seed steps per capability; the NFC-e one points emitters at this run's SEFAZ before any payment
// is re-queued.
const auth = await seedAuth(runtime, kept);
const nfce = await seedNfce(runtime, localDir);
const cielo = await seedCielo(runtime, kept, partnerEnv);
const carat = await seedCarat(runtime, kept, partnerEnv);
const sicoob = await seedSicoob(runtime, localDir, kept, partnerEnv);
const { rearmed, deadLetters } = await seedPayments(runtime);

const demo = {
  baseUrl: runtime.baseUrl,
  ...nfce,
  ...auth,
  ...cielo,
  ...carat,
  ...sicoob,
  emulators: { dynamodb: runtime.emulators.dynamodb, sqs: runtime.emulators.sqs, s3: runtime.emulators.s3 },
  queues: Object.fromEntries(Object.entries(runtime.queues).map(([name, q]) => [name, { url: q.url, dlqUrl: q.dlqUrl }])),
  // The handlers' environment (emulator endpoints, resource names): `npm run job` loads a handler with it.
  handlerEnv: runtime.env,
};
writeFileSync(demoFile, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });

console.log(`
Checkout backend running locally.
  API          ${runtime.baseUrl}
  DynamoDB     ${runtime.emulators.dynamodb}   SQS ${runtime.emulators.sqs}   S3 ${runtime.emulators.s3}
  SEFAZ        ${nfce.sefaz.autorizacao}${process.env.SEFAZ_URL ? ' (SEFAZ_URL)' : ' (simulator)'}
  Cielo LIO    ${cielo.cielo.apiUrl}${partnerEnv.CIELO_API_URL ? ' (CIELO_API_URL)' : ' (simulator; it notifies the webhook in demo.json)'}
  Sicoob       ${sicoob.sicoob.apiUrl}${partnerEnv.SICOOB_API_URL ? ' (SICOOB_API_URL)' : ' (simulator; npm run job -- sicoobSweep sweeps it)'}
  Carat        ${carat.carat.apiUrl}${partnerEnv.CARAT_API_URL ? ' (CARAT_API_URL; register carat.authenticityUrl of demo.json with Carat)' : ' (e-SiTef recharge simulator; it POSTs the NIT to carat.authenticityUrl)'}
  Demo token   in ${demoShown} (integration ${DEMO_INTEGRATION})${rearmed ? `\n  Re-queued    ${rearmed} payment(s) still in flight from the last run` : ''}${deadLetters ? `\n  Held         ${deadLetters} payment(s) wait in the dead-letter queue for an operator (GET /admin/dead-letters)` : ''}

Try it (push table 2's tab, then pay it; repeat the POST until it answers 200):
  TOKEN=$(node -p 'require("${demoShown}").integrations[0].token')
  curl -i -X PUT ${runtime.baseUrl}/orders/TABLE/2 \\
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    --data @fixtures/order-mesa/order-table-2.json
  curl -i -X POST ${runtime.baseUrl}/order/payment \\
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    --data @fixtures/order-mesa/payment-request.json

Ctrl-C stops everything.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    runtime.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
