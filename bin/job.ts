/**
 * `npm run job -- <functionName>`: runs one scheduled function once, now, and prints its result as
 * JSON on stdout (exit 0); on failure, the error on stderr (exit 1; DEBUG=1 adds the stack trace).
 *
 *   npm run job -- paymentRequeue                  against the running `npm start` (its demo.json)
 *   npm run job -- paymentRequeue --aws [--stack CheckoutStateless]
 *   npm run job -- paymentRequeue --function-name <PaymentRequeueFunctionName output>
 *
 * Locally the handler is loaded in this process with the environment `npm start` gives its
 * handlers (`handlerEnv` in demo.json, under LOCAL_DIR or .local/), so it works on the running
 * stack's emulators; its log lines go to stderr, keeping stdout for the result. In AWS the
 * deployed Lambda is invoked (RequestResponse) with a scheduled event: by name with
 * --function-name, or with --aws found among the stack's functions by its manifest name
 * (POWERTOOLS_SERVICE_NAME). Scheduled functions are safe to run twice at once (EventBridge
 * delivers at least once), so a job may run beside the schedule.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { InvokeCommand, LambdaClient, paginateListFunctions } from '@aws-sdk/client-lambda';
import * as z from 'zod';
import { functions, type FunctionSpec } from '../lib/manifest.ts';
import { readSchedules } from '../lib/schedule.ts';
import { invoke, loadHandler, projectRoot } from '../lib/local/invoke.ts';
import { scheduledEvent } from '../lib/local/scheduler.ts';

/** What ends the job with a message and exit code 1, without a stack trace. */
class JobError extends Error {}

const USAGE =
  'usage: npm run job -- <functionName> [--aws [--stack CheckoutStateless] | --function-name <name>] (see bin/job.ts)';

/** Where the result goes: stdout itself, which the handler's logs no longer reach (see runLocally). */
const writeResult = process.stdout.write.bind(process.stdout);

async function main(): Promise<unknown> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      aws: { type: 'boolean', default: false },
      'function-name': { type: 'string' },
      stack: { type: 'string', default: 'CheckoutStateless' },
    },
  });
  const scheduled = Object.keys(readSchedules(functions));
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new JobError(`${USAGE}; scheduled functions: ${scheduled.join(', ')}`);
  if (!scheduled.includes(name)) {
    const what = Object.hasOwn(functions, name) ? 'is not a scheduled function' : 'is not a function of the manifest';
    throw new JobError(`${name} ${what}; scheduled functions: ${scheduled.join(', ')}`);
  }
  const spec: FunctionSpec = functions[name as keyof typeof functions];
  if (values['function-name'] || values.aws) return runInAws(name, values['function-name'], values.stack);
  return runLocally(name, spec);
}

const demoSchema = z.object({
  emulators: z.object({ dynamodb: z.url(), sqs: z.url(), s3: z.url() }),
  handlerEnv: z.record(z.string(), z.string(), {
    error: 'missing: this demo.json was written by an older npm start; restart npm start',
  }),
});

async function runLocally(name: string, spec: FunctionSpec): Promise<unknown> {
  const demoFile = resolve(projectRoot, process.env.LOCAL_DIR || '.local', 'demo.json');
  const shown = demoFile.startsWith(projectRoot + sep) ? `./${relative(projectRoot, demoFile)}` : demoFile;
  if (!existsSync(demoFile)) {
    throw new JobError(`no local stack: ${shown} does not exist; start one with npm start, or run in AWS with --aws`);
  }
  const parsed = demoSchema.safeParse(JSON.parse(readFileSync(demoFile, 'utf8')));
  if (!parsed.success) {
    throw new JobError(`${shown}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const demo = parsed.data;
  for (const [service, url] of Object.entries(demo.emulators)) {
    if (!(await answers(url))) {
      throw new JobError(`the local stack of ${shown} is not running: nothing answers at ${url} (${service}); start npm start`);
    }
  }
  // The handler reads its environment once, when loaded: the same one npm start gives its handlers.
  Object.assign(process.env, demo.handlerEnv);
  // Handlers log to stdout (as in Lambda, where it goes to CloudWatch); here stdout is the result's.
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const handler = await loadHandler(spec);
  return invoke(handler, name, spec, scheduledEvent(name, new Date()));
}

/** Whether something accepts TCP connections at the URL's host and port (within a second). */
function answers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = connect({ host: hostname, port: Number(port), timeout: 1000 });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.once('timeout', () => finish(false));
  });
}

async function runInAws(name: string, functionName: string | undefined, stack: string): Promise<unknown> {
  const lambda = new LambdaClient({});
  const target = functionName ?? (await findDeployed(lambda, name, stack));
  const event = scheduledEvent(name, new Date(), await lambda.config.region());
  const { FunctionError, Payload } = await lambda.send(
    new InvokeCommand({ FunctionName: target, InvocationType: 'RequestResponse', Payload: JSON.stringify(event) }),
  );
  const text = Payload ? Buffer.from(Payload).toString('utf8') : '';
  const payload: unknown = text ? JSON.parse(text) : null;
  if (FunctionError) {
    const { errorType, errorMessage } = (payload ?? {}) as { errorType?: string; errorMessage?: string };
    throw new JobError(`${target} failed (${FunctionError}): ${errorType ?? 'Error'}: ${errorMessage ?? text}`);
  }
  return payload;
}

/**
 * The stack's Lambda for a manifest function: CloudFormation names it `<stack>-<id>-<suffix>`, and
 * the CDK app sets POWERTOOLS_SERVICE_NAME to the manifest name (its output
 * `<Name>FunctionName` holds the same name, for --function-name).
 */
async function findDeployed(lambda: LambdaClient, name: string, stack: string): Promise<string> {
  const found: string[] = [];
  for await (const page of paginateListFunctions({ client: lambda }, {})) {
    for (const fn of page.Functions ?? []) {
      if (fn.FunctionName?.startsWith(`${stack}-`) && fn.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === name) {
        found.push(fn.FunctionName);
      }
    }
  }
  if (found.length === 1) return found[0]!;
  const output = `${name.charAt(0).toUpperCase()}${name.slice(1)}FunctionName`;
  if (found.length === 0) {
    throw new JobError(`no function of stack ${stack} runs ${name}; pass --function-name <${output} output of ${stack}>`);
  }
  throw new JobError(`several functions of stack ${stack} run ${name} (${found.join(', ')}); pass --function-name`);
}

main().then(
  (result) => writeResult(`${JSON.stringify(result ?? null)}\n`, () => process.exit(0)),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(process.env.DEBUG && error instanceof Error && !(error instanceof JobError) ? error.stack : message);
    process.exit(1);
  },
);
