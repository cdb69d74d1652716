/**
 * Cold starts, minus Lambda's own part: every manifest function bundled with the settings `cdk
 * deploy` uses (BUNDLING in lib/constructs/service-function.ts), each bundle's size against issue
 * 14's 1 MB, then for the Cielo webhook and the POS path (authorizer, payment intake) a fresh
 * `node` per sample that imports the bundle (init) and invokes its handler once (first invocation,
 * real DynamoDB / S3 / SQS calls to the local emulators). Lambda adds its own sandbox and runtime
 * start before the import (not measured here), and runs on ARM64 with a memory-sized share of a
 * vCPU: the figures are this machine's. BENCH_COLD_SAMPLES sets the samples per function.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';
import { build, type Format, type Metafile } from 'esbuild';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { CIELO_PARTNER } from '../../functions/cielo/partner.ts';
import { BUNDLING, PROJECT_ROOT } from '../../lib/constructs/service-function.ts';
import { policyAllows, requestContext as gatewayRequestContext, STAGE } from '../../lib/local/gateway.ts';
import { lambdaContext } from '../../lib/local/invoke.ts';
import { envName, functions, type FunctionName, type FunctionSpec } from '../../lib/manifest.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { issueToken, SEED_INTEGRATION } from '../support/runtime.ts';
import { benchStack } from './harness.ts';

const SAMPLES = Number(process.env.BENCH_COLD_SAMPLES ?? 5);
/** Issue 14: at most 1 MB of code per function. */
const LIMIT_BYTES = 1024 * 1024;
const esbuildFormat: Record<OutputFormat, Format> = { [OutputFormat.CJS]: 'cjs', [OutputFormat.ESM]: 'esm' };

/**
 * One cold start: reads its input, imports the bundle (init), invokes the handler once (first
 * invocation; not with `initOnly`), writes the timings and the answer to `input.out`.
 */
const CHILD = `
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const started = performance.now();
const { handler } = await import(pathToFileURL(input.bundle).href);
const imported = performance.now();
if (input.initOnly) {
  writeFileSync(input.out, JSON.stringify({ boot: started, init: imported - started, first: 0, result: null }));
  process.exit(0);
}
const deadline = Date.now() + input.timeoutMs;
const context = { ...input.context, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), done() {}, fail() {}, succeed() {} };
let result, error;
try { result = await handler(input.event, context); } catch (e) { error = String(e?.stack ?? e); }
const answered = performance.now();
writeFileSync(input.out, JSON.stringify({ boot: started, init: imported - started, first: answered - imported, result, error }));
process.exit(0);
`;

interface Bundle {
  name: string;
  file: string;
  bytes: number;
  mapBytes: number;
  metafile: Metafile;
}
interface ColdSample {
  /** Node's own start, before the script's first line (Lambda's runtime start is its own). */
  boot: number;
  init: number;
  first: number;
  result: unknown;
}

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cold-start-'));
const stack = await benchStack();
try {
  const token = await issueToken(stack, SEED_INTEGRATION);
  const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  const secret = await integrations.issuePartnerSecret(
    await integrations.ensure(SEED_INTEGRATION, `test ${SEED_INTEGRATION}`),
    CIELO_PARTNER,
  );

  // Every function, as `cdk deploy` bundles it (esbuild's CLI there, its JS API here: same options).
  const bundles = Object.fromEntries(
    await Promise.all(
      Object.entries(functions).map(async ([name, spec]): Promise<[string, Bundle]> => {
        const file = join(dir, name, 'index.mjs');
        const { metafile } = await build({
          entryPoints: [resolve(PROJECT_ROOT, spec.entry)],
          absWorkingDir: PROJECT_ROOT,
          outfile: file,
          bundle: true,
          platform: 'node',
          format: esbuildFormat[BUNDLING.format],
          target: BUNDLING.target,
          mainFields: BUNDLING.mainFields,
          banner: { js: BUNDLING.banner },
          external: BUNDLING.externalModules,
          minify: BUNDLING.minify,
          sourcemap: BUNDLING.sourceMap,
          sourcesContent: BUNDLING.sourcesContent,
          metafile: true,
          logLevel: 'warning',
        });
        return [name, { name, file, bytes: statSync(file).size, mapBytes: statSync(`${file}.map`).size, metafile }];
      }),
    ),
  ) as Record<FunctionName, Bundle>;

  console.log(`\nCold start — bundles as \`cdk deploy\` builds them (esbuild, ${BUNDLING.format}, ${BUNDLING.target}, minified)`);
  const bySize = Object.values(bundles).sort((a, b) => b.bytes - a.bytes);
  for (const b of bySize) {
    const over = b.bytes > LIMIT_BYTES ? '  OVER 1 MB' : '';
    console.log(
      `  ${b.name.padEnd(22)} ${kib(b.bytes).padStart(7)} KiB   (source map ${kib(b.mapBytes).padStart(6)} KiB)${over}`,
    );
  }
  const over = bySize.filter((b) => b.bytes > LIMIT_BYTES);
  console.log(
    over.length === 0
      ? `  every bundle within issue 14's 1 MB (1024 KiB)`
      : `  ${over.length} of ${bySize.length} over issue 14's 1 MB (1024 KiB): ${over.map((b) => b.name).join(', ')}`,
  );
  for (const b of over) console.log(`    ${b.name}: ${heaviest(b).join(', ')}`);

  const childScript = join(dir, 'cold-start-child.mjs');
  writeFileSync(childScript, CHILD);
  const runId = randomUUID().slice(0, 8);

  /** An empty handler, the baseline each function's module init is printed beside. */
  const emptyHandler = join(dir, 'empty', 'index.mjs');
  mkdirSync(join(dir, 'empty'));
  writeFileSync(emptyHandler, 'export const handler = async () => ({});\n');

  /**
   * A fresh `node` with the function's environment: imports the bundle (`file`, the function's by
   * default), invokes it once unless `initOnly`.
   */
  const coldStart = async (
    name: FunctionName,
    event: unknown,
    initOnly = false,
    file = bundles[name].file,
  ): Promise<ColdSample> => {
    const spec: FunctionSpec = functions[name];
    const id = randomUUID();
    const input = join(dir, `${id}.json`);
    const out = join(dir, `${id}.out.json`);
    // lambdaContext's data; the child adds the methods, with its own deadline.
    const { getRemainingTimeInMillis: _r, done: _d, fail: _f, succeed: _s, ...context } = lambdaContext(name, spec);
    writeFileSync(input, JSON.stringify({ bundle: file, event, context, timeoutMs: spec.timeoutSeconds * 1000, out, initOnly }));
    const env: Record<string, string> = {
      ...stack.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_SERVICE_NAME: name,
      // As the function's environment has it in AWS (lib/constructs/service-function.ts).
      NODE_OPTIONS: '--enable-source-maps',
    };
    // The local stack runs many invocations per process, like Lambda Managed Instances; a Lambda
    // sandbox runs one at a time, without this variable (Powertools keeps one invocation's state).
    delete env.AWS_LAMBDA_MAX_CONCURRENCY;
    try {
      await run(process.execPath, [childScript, input], { env, cwd: dir, timeout: 60_000 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`${name}: the child process failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}`);
    }
    const sample = JSON.parse(readFileSync(out, 'utf8')) as ColdSample & { error?: string };
    if (sample.error) throw new Error(`${name}: the first invocation threw: ${sample.error}`);
    return sample;
  };

  /** The API Gateway proxy event the local gateway (lib/local/gateway.ts) builds for this request. */
  const proxyEvent = (
    name: FunctionName,
    path: string,
    pathParameters: Record<string, string> | null,
    headers: Record<string, string>,
    body: string,
    authorizer?: Record<string, unknown>,
  ): APIGatewayProxyEvent => {
    const trigger = functions[name].trigger;
    if (trigger.kind !== 'http') throw new Error(`${name} is not an HTTP route`);
    return {
      resource: trigger.path,
      path,
      httpMethod: trigger.method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters,
      stageVariables: null,
      requestContext: { ...requestContext(name, trigger.method, trigger.path, path), authorizer },
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
    };
  };

  const intakeArn = `arn:aws:execute-api:sa-east-1:000000000000:local/${STAGE}/POST/order/payment`;
  const authorizerEvent = (): APIGatewayRequestAuthorizerEvent => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    return {
      type: 'REQUEST',
      methodArn: intakeArn,
      resource: '/order/payment',
      path: '/order/payment',
      httpMethod: 'POST',
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      pathParameters: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      requestContext: requestContext('paymentIntake', 'POST', '/order/payment', '/order/payment'),
    };
  };
  let authorizerContext: Record<string, unknown> | undefined;
  const allowed = (sample: ColdSample) => {
    const result = sample.result as APIGatewayAuthorizerResult;
    if (!result?.policyDocument || !policyAllows(result.policyDocument, intakeArn))
      throw new Error(`authorizer: expected an Allow policy for ${intakeArn}, got ${JSON.stringify(result)}`);
    // What the gateway hands the route (lib/local/gateway.ts): the principal and the context.
    authorizerContext = { principalId: result.principalId, ...result.context };
  };

  let payments = 0;
  const paymentEvent = () => {
    const payment = seedPayment();
    payment.orderKey = `cold-${runId}-${payments++}`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    return proxyEvent('paymentIntake', '/order/payment', null, headers, JSON.stringify(payment), authorizerContext);
  };

  const statusChange = fixture('cielo/status-change.json');
  const notificationEvent = () => {
    const orderId = randomUUID();
    const transactionId = randomUUID();
    const body = JSON.stringify({
      ...statusChange,
      id: orderId,
      items: statusChange.items.map((item: Record<string, unknown>) => ({ ...item, order_id: orderId })),
      transactions: statusChange.transactions.map((t: Record<string, unknown>) => ({
        ...t,
        id: transactionId,
        uuid: transactionId,
      })),
    });
    const headers = { 'content-type': 'application/json' };
    return proxyEvent('cieloNotification', `/cielo/notifications/${secret}`, { secret }, headers, body);
  };

  const answered = (name: string, statusCode: number) => (sample: ColdSample) => {
    const result = sample.result as APIGatewayProxyResult;
    if (result?.statusCode !== statusCode)
      throw new Error(`${name}: expected ${statusCode}, got ${result?.statusCode}: ${result?.body ?? JSON.stringify(result)}`);
  };

  // The authorizer first: the intake gets the context it answers, as through the gateway.
  const cases: { name: FunctionName; label: string; event: () => unknown; check: (sample: ColdSample) => void }[] = [
    { name: 'authorizer', label: 'REQUEST authorizer → Allow', event: authorizerEvent, check: allowed },
    { name: 'paymentIntake', label: 'POST /order/payment → 202', event: paymentEvent, check: answered('paymentIntake', 202) },
    {
      name: 'cieloNotification',
      label: 'POST /cielo/notifications/{secret} → 200',
      event: notificationEvent,
      check: answered('cieloNotification', 200),
    },
  ];
  const measured = new Map<FunctionName, ColdSample[]>();
  for (const c of cases) {
    // One unmeasured start first: it warms the local emulators' code paths (and the OS's file
    // cache), which a Lambda cold start does not pay for.
    c.check(await coldStart(c.name, c.event()));
    const samples: ColdSample[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const sample = await coldStart(c.name, c.event());
      c.check(sample);
      samples.push(sample);
    }
    measured.set(c.name, samples);
  }

  console.log(
    `\n  ${SAMPLES} cold starts each, a fresh node ${process.version} per sample (after one unmeasured), in ms: import (init), first invocation, both`,
  );
  console.log(
    `  ${'function'.padEnd(20)} ${'bundle KiB'.padStart(10)}   ${'init p50 / max'.padStart(15)}   ${'first p50 / max'.padStart(15)}   ${'init + first p50 / max'.padStart(22)}`,
  );
  for (const name of ['cieloNotification', 'paymentIntake', 'authorizer'] as const) {
    const samples = measured.get(name)!;
    const init = stats(samples.map((s) => s.init));
    const first = stats(samples.map((s) => s.first));
    const both = stats(samples.map((s) => s.init + s.first));
    console.log(
      `  ${name.padEnd(20)} ${kib(bundles[name].bytes).padStart(10)}   ${pair(init).padStart(15)}   ${pair(first).padStart(15)}   ${pair(both).padStart(22)}`,
    );
  }
  for (const c of cases) console.log(`    ${c.name}: ${c.label}`);
  const boot = stats([...measured.values()].flat().map((s) => s.boot));
  console.log(
    `  node's own start before the import: p50 ${boot.p50.toFixed(0)} ms (Lambda's sandbox and runtime start: not measured)`,
  );
  // Every handler's module init (import only, 3 fresh processes each) beside an empty handler's.
  const initOf = async (name: FunctionName, file?: string) => {
    const inits: number[] = [];
    // One at a time: processes side by side would share the 2 cores and inflate each other.
    for (let i = 0; i < 3; i++) inits.push((await coldStart(name, null, true, file)).init);
    return stats(inits);
  };
  const empty = await initOf('authorizer', emptyHandler);
  console.log(
    `\n  module init (import) of every handler, p50 / max of 3 fresh processes, in ms; an empty handler: ${pair(empty)}`,
  );
  for (const b of bySize) console.log(`  ${b.name.padEnd(22)} ${pair(await initOf(b.name as FunctionName)).padStart(15)}`);

  const ack = stats(measured.get('cieloNotification')!.map((s) => s.init + s.first));
  console.log(
    `  cold acknowledgement (init + first notification) p50 ${ack.p50.toFixed(0)} ms, max ${ack.max.toFixed(0)} ms — target ≤ 1000 ms`,
  );
} finally {
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
}

/** The proxy event's requestContext as the local gateway builds it. */
function requestContext(name: string, method: string, resourcePath: string, path: string) {
  return gatewayRequestContext({
    resourceId: name,
    method,
    resourcePath,
    path,
    requestId: randomUUID(),
    protocol: 'HTTP/1.1',
    sourceIp: '127.0.0.1',
    userAgent: 'cold-start-bench',
  });
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(0);
}

function stats(values: number[]): { p50: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.floor(sorted.length / 2)]!, max: sorted[sorted.length - 1]! };
}

function pair({ p50, max }: { p50: number; max: number }): string {
  return `${p50.toFixed(0)} / ${max.toFixed(0)}`;
}

/** What makes a bundle big: its largest packages (the project's own code as one), from esbuild's metafile. */
function heaviest(bundle: Bundle, count = 5): string[] {
  const output = Object.values(bundle.metafile.outputs).find((o) => o.entryPoint !== undefined);
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const inModules = relative(PROJECT_ROOT, resolve(PROJECT_ROOT, path)).split('node_modules/').at(-1)!;
    const parts = inModules.split('/');
    const pkg = path.includes('node_modules/')
      ? parts[0]!.startsWith('@')
        ? `${parts[0]}/${parts[1]}`
        : parts[0]!
      : '(project)';
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([pkg, bytes]) => `${pkg} ${kib(bytes)} KiB`);
}
