import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import type { FunctionSpec } from '../manifest.ts';

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * Every function runs in this one process, many invocations at once, as in Lambda Managed
 * Instances: each invocation gets its own InvokeStore context (AsyncLocalStorage), where Powertools
 * keeps per-invocation state (the logger's Lambda context and appended keys, the batch processor's
 * records) once AWS_LAMBDA_MAX_CONCURRENCY is set (the local stack sets it). Created here, at
 * import, before any AWS SDK call can create the single-invocation store in its place.
 */
const invokeStore = await InvokeStore.getInstanceAsync(true);
if (!isolatesContexts(invokeStore)) {
  throw new Error('the InvokeStore was created for one invocation at a time before lib/local/invoke.ts was imported');
}

/** Where the project root is: the manifest's entries are relative to it. */
export const projectRoot = resolve(import.meta.dirname, '../..');

/**
 * Loads a function's handler in this process, as the Lambda runtime would load its bundle. The
 * environment must be set before the first load: handlers read it once, at "cold start".
 */
export async function loadHandler(spec: Pick<FunctionSpec, 'entry'>): Promise<Handler> {
  // In a context of its own, like an invocation's: Powertools' per-invocation state needs one, so
  // without it a log line written while the module initializes would throw "No context available".
  const url = pathToFileURL(resolve(projectRoot, spec.entry)).href;
  const module = (await invokeStore.run({}, () => import(url))) as { handler?: unknown };
  if (typeof module.handler !== 'function') throw new Error(`${spec.entry} does not export a handler function`);
  return module.handler as Handler;
}

/** A Lambda context with the deadline of the function's configured timeout. */
export function lambdaContext(name: string, spec: Pick<FunctionSpec, 'timeoutSeconds' | 'memoryMb'>): Context {
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:sa-east-1:000000000000:function:${name}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Wraps every invocation, when set: the bench's meter (test/bench/meter.ts) counts invocations,
 * their duration and the SDK calls made inside each. `run` performs the invocation; the observer
 * must call it once and return (or throw) what it gives.
 */
export type InvocationObserver = (
  invocation: { name: string; spec: Pick<FunctionSpec, 'timeoutSeconds' | 'memoryMb'>; event: unknown },
  run: () => Promise<unknown>,
) => Promise<unknown>;
let observer: InvocationObserver | undefined;

/** Sets (or, with undefined, removes) the one invocation observer of this process. Test-only. */
export function observeInvocations(next: InvocationObserver | undefined): void {
  observer = next;
}

/** Runs a handler with the function's timeout, like Lambda: past it the invocation fails. */
export async function invoke(
  handler: Handler,
  name: string,
  spec: Pick<FunctionSpec, 'timeoutSeconds' | 'memoryMb'>,
  event: unknown,
): Promise<unknown> {
  const run = async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} timed out after ${spec.timeoutSeconds} s`)), spec.timeoutSeconds * 1000);
    });
    const context = lambdaContext(name, spec);
    try {
      return await invokeStore.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () =>
        Promise.race([handler(event, context), timeout]),
      );
    } finally {
      clearTimeout(timer);
    }
  };
  return observer ? observer({ name, spec, event }, run) : run();
}

/** True for the multi-invocation store: an inner context does not replace the outer one. */
function isolatesContexts(store: InvokeStoreBase): boolean {
  return store.run({ probe: 'outer' }, () => {
    store.run({ probe: 'inner' }, () => undefined);
    return store.get('probe') === 'outer';
  });
}
