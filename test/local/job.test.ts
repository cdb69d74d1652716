import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/local/invoke.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { pendingPayments, queuedJobs } from '../support/pending.ts';
import { functionsWithout, issueToken, SEED_INTEGRATION, startTestRuntime } from '../support/runtime.ts';

/**
 * `npm run job -- <name>` as a developer runs it: a child process, against a running local stack
 * described by demo.json in LOCAL_DIR (written here as bin/local.ts writes it), or against a
 * Lambda endpoint (a stand-in for the Lambda API on 127.0.0.1).
 */
let stack: LocalRuntime;
let token: string;
const dirs: string[] = [];

beforeAll(async () => {
  // Without the issuer, the jobs the sweep sends stay on the queue to be counted.
  stack = await startTestRuntime({ functions: functionsWithout('nfceIssuer') });
  token = await issueToken(stack, SEED_INTEGRATION);
});
afterAll(async () => {
  await stack?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A LOCAL_DIR whose demo.json is what bin/local.ts writes for this stack (some of it replaced). */
function localDir({
  handlerEnv = stack.env,
  emulators = stack.emulators,
}: { handlerEnv?: Record<string, string>; emulators?: LocalRuntime['emulators'] } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'checkout-job-'));
  dirs.push(dir);
  const demo = {
    baseUrl: stack.baseUrl,
    emulators: { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.s3 },
    queues: Object.fromEntries(Object.entries(stack.queues).map(([name, q]) => [name, { url: q.url, dlqUrl: q.dlqUrl }])),
    handlerEnv,
  };
  writeFileSync(join(dir, 'demo.json'), `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  return dir;
}

interface Run {
  code: number | null;
  /** stdout without npm's own banner (`> checkout-backend@… job` and the command). */
  stdout: string;
  stderr: string;
}

function job(args: string[], env: Record<string, string>): Promise<Run> {
  // This process's environment less what the test stack put in it (handlers share this process):
  // the job must get its handler's environment from demo.json alone.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in stack.env) && key !== 'DEBUG'));
  const child = spawn('npm', ['run', 'job', '--', ...args], {
    cwd: projectRoot,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: stdout.replace(/^\n> .*\n> .*\n\n/, ''), stderr }));
  });
}

describe('npm run job against the running local stack', () => {
  it('runs paymentRequeue once and prints its result as JSON', async () => {
    const ids = await pendingPayments(stack, token, 2, 'JOB');
    const dir = localDir();
    expect(await job(['paymentRequeue'], { LOCAL_DIR: dir })).toEqual({
      code: 0,
      stdout: '{"examined":2,"requeued":2}\n',
      stderr: '',
    });
    // It ran on the stack's emulators: the jobs are on the stack's queue.
    expect((await queuedJobs(stack)).map((j) => j.paymentId).sort()).toEqual(ids);
    // Just sent (the issuer, absent here, has not started them): the next run sends nothing.
    expect(await job(['paymentRequeue'], { LOCAL_DIR: dir })).toEqual({
      code: 0,
      stdout: '{"examined":2,"requeued":0}\n',
      stderr: '',
    });
  });

  it('refuses an unknown or unscheduled name in one line, listing the scheduled ones', async () => {
    const dir = localDir();
    const [unknown, unscheduled, none] = await Promise.all([
      job(['nope'], { LOCAL_DIR: dir }),
      job(['paymentIntake'], { LOCAL_DIR: dir }),
      job([], { LOCAL_DIR: dir }),
    ]);
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'nope is not a function of the manifest; scheduled functions: paymentRequeue, nfceContingencySender, nfceInutilizacao, cieloVerifySweep, caratReconciler, sicoobSweep, boletoPitrExport\n',
    });
    expect(unscheduled).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'paymentIntake is not a scheduled function; scheduled functions: paymentRequeue, nfceContingencySender, nfceInutilizacao, cieloVerifySweep, caratReconciler, sicoobSweep, boletoPitrExport\n',
    });
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toMatch(
      /^usage: npm run job -- <functionName> .*; scheduled functions: paymentRequeue, nfceContingencySender, nfceInutilizacao, cieloVerifySweep, caratReconciler, sicoobSweep, boletoPitrExport\n$/,
    );
  });

  it('fails with the error alone on stderr, and its stack trace with DEBUG', async () => {
    const dir = localDir({ handlerEnv: { ...stack.env, QUEUE_NFCE_REQUESTS_URL: 'not a url' } });
    const failed = await job(['paymentRequeue'], { LOCAL_DIR: dir });
    expect(failed).toMatchObject({ code: 1, stdout: '' });
    expect(failed.stderr).toMatch(/^invalid function environment: QUEUE_NFCE_REQUESTS_URL: [^\n]+\n$/);
    const debug = await job(['paymentRequeue'], { LOCAL_DIR: dir, DEBUG: '1' });
    expect(debug).toMatchObject({ code: 1, stdout: '' });
    expect(debug.stderr).toMatch(/^Error: invalid function environment: QUEUE_NFCE_REQUESTS_URL: .*\n {4}at /);
  });

  it('says so when there is no local stack', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'checkout-job-'));
    dirs.push(empty);
    expect(await job(['paymentRequeue'], { LOCAL_DIR: empty })).toEqual({
      code: 1,
      stdout: '',
      stderr: `no local stack: ${join(empty, 'demo.json')} does not exist; start one with npm start, or run in AWS with --aws\n`,
    });
    // A demo.json left by an npm start that has stopped: nothing answers at its emulators' ports.
    const stale = localDir({ emulators: { ...stack.emulators, dynamodb: 'http://127.0.0.1:1' } });
    expect(await job(['paymentRequeue'], { LOCAL_DIR: stale })).toEqual({
      code: 1,
      stdout: '',
      stderr: `the local stack of ${join(stale, 'demo.json')} is not running: nothing answers at http://127.0.0.1:1 (dynamodb); start npm start\n`,
    });
  });
});

describe('npm run job against AWS', () => {
  let lambda: Server;
  const invoked: { path: string; event: any }[] = [];

  beforeAll(async () => {
    // A stand-in for the Lambda API: ListFunctions and Invoke.
    lambda = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const path = decodeURIComponent(new URL(request.url!, 'http://x').pathname);
        response.setHeader('content-type', 'application/json');
        if (request.method === 'GET' && /^\/2015-03-31\/functions\/?$/.test(path)) {
          const fn = (name: string, service: string) => ({
            FunctionName: name,
            Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } },
          });
          response.end(
            JSON.stringify({
              Functions: [
                fn('CheckoutStateless-PaymentIntakeFunction5B1E2C0A-Q1w2E3r4T5y6', 'paymentIntake'),
                fn('CheckoutStateless-PaymentRequeueFunction2F9D3A71-A1b2C3d4E5f6', 'paymentRequeue'),
                fn('OtherStack-PaymentRequeueFunction0C1D2E3F-Z9y8X7w6V5u4', 'paymentRequeue'),
              ],
            }),
          );
          return;
        }
        const invocation = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
        if (request.method === 'POST' && invocation) {
          invoked.push({ path: invocation[1]!, event: JSON.parse(body) });
          if (invocation[1] === 'broken') {
            response.setHeader('x-amz-function-error', 'Unhandled');
            response.end(
              JSON.stringify({ errorType: 'TypeError', errorMessage: 'boom', trace: ['TypeError: boom', '    at x'] }),
            );
          } else {
            response.end(JSON.stringify({ examined: 3, requeued: 1 }));
          }
          return;
        }
        response.statusCode = 404;
        response.end(JSON.stringify({ message: `no route ${request.method} ${path}` }));
      });
    });
    await new Promise<void>((resolve) => lambda.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => lambda.close(() => resolve())));

  const aws = () => ({
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(lambda.address() as AddressInfo).port}`,
    AWS_REGION: 'sa-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });

  it('invokes the stack function that runs it, found by its manifest name, with a scheduled event', async () => {
    invoked.length = 0;
    expect(await job(['paymentRequeue', '--aws'], aws())).toEqual({
      code: 0,
      stdout: '{"examined":3,"requeued":1}\n',
      stderr: '',
    });
    expect(invoked).toEqual([
      {
        path: 'CheckoutStateless-PaymentRequeueFunction2F9D3A71-A1b2C3d4E5f6',
        event: expect.objectContaining({
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          region: 'sa-east-1',
          detail: {},
        }),
      },
    ]);
  });

  it('invokes the function named by --function-name, and reports its error', async () => {
    invoked.length = 0;
    const [named, broken] = await Promise.all([
      job(['paymentRequeue', '--function-name', 'CheckoutStateless-Given-1'], aws()),
      job(['paymentRequeue', '--function-name', 'broken'], aws()),
    ]);
    expect(named).toEqual({ code: 0, stdout: '{"examined":3,"requeued":1}\n', stderr: '' });
    expect(broken).toEqual({ code: 1, stdout: '', stderr: 'broken failed (Unhandled): TypeError: boom\n' });
    expect(invoked.map((i) => i.path).sort()).toEqual(['CheckoutStateless-Given-1', 'broken']);
  });

  it('says which output to pass when the stack has no such function', async () => {
    expect(await job(['paymentRequeue', '--aws', '--stack', 'Elsewhere'], aws())).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'no function of stack Elsewhere runs paymentRequeue; pass --function-name <PaymentRequeueFunctionName output of Elsewhere>\n',
    });
  });
});
