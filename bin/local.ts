/**
 * `npm start`: the whole backend on this machine — emulated DynamoDB, SQS and S3, the API on
 * http://127.0.0.1:3000 (PORT overrides), the queue consumers and the schedules — with a demo
 * integration whose token is written to .local/demo.json. Data is kept under .local/ (LOCAL_DIR
 * overrides; the tests point it at a temp dir, so a developer's data is never touched).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { IntegrationStore } from '../functions/auth/integrations.ts';
import { createTestA1 } from '../functions/nfce/certificate.ts';
import { catalogSchema, emitterSchema } from '../functions/nfce/fiscal.ts';
import { pointEmittersAt, provisionFiscal, storedCscs } from '../lib/local/fiscal.ts';
import { lockDir } from '../lib/local/lock.ts';
import { envName } from '../lib/manifest.ts';
import { projectRoot } from '../lib/local/invoke.ts';
import { rearmInFlightPayments } from '../lib/local/recover.ts';
import { startLocalStack } from '../lib/local/stack.ts';

const DEMO_INTEGRATION = 'efdd6093-5539-4ac4-ad84-7423a8078dde'; // the seed's integrationHubServiceId
const localDir = resolve(projectRoot, process.env.LOCAL_DIR || '.local');
const demoFile = resolve(localDir, 'demo.json');
/** demo.json as the hints below name it: relative inside the project (./.local/demo.json). */
const demoShown = demoFile.startsWith(projectRoot + sep) ? `./${relative(projectRoot, demoFile)}` : demoFile;
const readJson = (path: string): unknown => JSON.parse(readFileSync(resolve(projectRoot, path), 'utf8'));
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
const schemasDir = resolve(projectRoot, '../shared/nfe-schemas/PL_009_V4');
const stack = await startLocalStack({
  dataDir: resolve(localDir, 'data'),
  secretsDir: resolve(localDir, 'secrets'),
  // The SEFAZ simulator validates against the official XSDs when ../shared is beside the project.
  ...(existsSync(schemasDir) ? { schemasDir } : {}),
  port,
  timers: true,
  env: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO' },
});

// This run's SEFAZ simulator listens on a new port: every stored emitter is pointed at it before
// any job is re-queued, or the re-queued payments would call the last run's port.
await pointEmittersAt(stack.documents, stack.env, stack.sefaz.url);
const paymentsTable = stack.env[envName.table('payments')]!;
const rearmed = await rearmInFlightPayments(stack.documents, paymentsTable);
if (rearmed > 0) await stack.runSchedule('paymentRequeue');

const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
const integration = await integrations.ensure(DEMO_INTEGRATION, 'Demo store (seed 003)');
const previous = existsSync(demoFile)
  ? (JSON.parse(readFileSync(demoFile, 'utf8')) as { integrations?: { token?: string }[]; admin?: { token?: string } })
  : {};
const kept = previous.integrations?.[0]?.token;
// Tokens are stored hashed: the plaintext survives restarts only in this git-ignored file.
const token = kept && (await integrations.callerForToken(kept)) ? kept : await integrations.issueToken(integration);
// The operator's token for the admin routes (dead letters), kept the same way.
const keptAdmin = previous.admin?.token;
const adminToken =
  keptAdmin && (await integrations.callerForToken(keptAdmin))?.kind === 'admin'
    ? keptAdmin
    : await integrations.issueAdminToken('local operator');

// The demo store's fiscal setup: the seed's emitter and a self-signed stand-in for its A1,
// generated once and kept under .local/ (never a real certificate).
const certificateFile = resolve(localDir, 'demo-a1.p12');
const certificatePassword = 'demo-local-only';
if (!existsSync(certificateFile)) {
  writeFileSync(certificateFile, createTestA1({ name: 'ALBINO LTDA', cnpj: '82373077000171', password: certificatePassword }), {
    mode: 0o600,
  });
}
const emitter = await provisionFiscal(stack.documents, stack.env, stack.sefaz.url, {
  integrationHubServiceId: DEMO_INTEGRATION,
  emitter: emitterSchema.parse(readJson('fixtures/nfce/demo-emitter.json')),
  catalog: catalogSchema.parse(readJson('fixtures/nfce/demo-catalog.json')),
  pfx: readFileSync(certificateFile),
  password: certificatePassword,
});
stack.registerCsc(emitter.cnpj, emitter.csc);
// Integrations provisioned with `npm run integration -- fiscal --local` in earlier runs.
for (const [cnpj, csc] of await storedCscs(stack.documents, stack.env)) stack.registerCsc(cnpj, csc);

const demo = {
  baseUrl: stack.baseUrl,
  sefaz: { url: stack.sefaz.url, autorizacao: emitter.urls.autorizacao, statusServico: emitter.urls.statusServico },
  integrations: [{ integrationHubServiceId: DEMO_INTEGRATION, name: integration.name, token }],
  admin: { name: 'local operator', token: adminToken },
  emulators: { dynamodb: stack.emulators.dynamodb, sqs: stack.emulators.sqs, s3: stack.emulators.s3 },
  queues: Object.fromEntries(Object.entries(stack.queues).map(([name, q]) => [name, { url: q.url, dlqUrl: q.dlqUrl }])),
  // The handlers' environment (emulator endpoints, resource names): `npm run job` loads a handler with it.
  handlerEnv: stack.env,
};
writeFileSync(demoFile, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });

console.log(`
Checkout backend running locally.
  API          ${stack.baseUrl}
  DynamoDB     ${stack.emulators.dynamodb}   SQS ${stack.emulators.sqs}   S3 ${stack.emulators.s3}
  SEFAZ (sim)  ${emitter.urls.autorizacao}
  Demo token   in ${demoShown} (integration ${DEMO_INTEGRATION})${rearmed ? `\n  Re-queued    ${rearmed} payment(s) still in flight from the last run` : ''}

Try it (push table 2's tab, then pay it; repeat the POST until it answers 200):
  TOKEN=$(node -p 'require("${demoShown}").integrations[0].token')
  curl -i -X PUT ${stack.baseUrl}/orders/TABLE/2 \\
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    --data @fixtures/order-mesa/order-table-2.json
  curl -i -X POST ${stack.baseUrl}/order/payment \\
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    --data @fixtures/order-mesa/payment-request.json

Ctrl-C stops everything.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    stack.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
