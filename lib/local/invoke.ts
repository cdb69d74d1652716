import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionSpec } from '../manifest.ts';

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** Where the project root is: the manifest's entries are relative to it. */
export const projectRoot = resolve(import.meta.dirname, '../..');

/**
 * Loads a function's handler in this process, as the Lambda runtime would load its bundle. The
 * environment must be set before the first load: handlers read it once, at "cold start".
 */
export async function loadHandler(spec: Pick<FunctionSpec, 'entry'>): Promise<Handler> {
  const module = (await import(pathToFileURL(resolve(projectRoot, spec.entry)).href)) as { handler?: unknown };
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

/** Runs a handler with the function's timeout, like Lambda: past it the invocation fails. */
export async function invoke(
  handler: Handler,
  name: string,
  spec: Pick<FunctionSpec, 'timeoutSeconds' | 'memoryMb'>,
  event: unknown,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} timed out after ${spec.timeoutSeconds} s`)), spec.timeoutSeconds * 1000);
  });
  try {
    return await Promise.race([handler(event, lambdaContext(name, spec)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
