import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { envName, functions, type FunctionName, type FunctionSpec } from '../../lib/manifest.ts';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../lib/local/runtime.ts';

export const SEED_INTEGRATION = 'efdd6093-5539-4ac4-ad84-7423a8078dde';
export const OTHER_INTEGRATION = '3f1b6c2e-8d4a-4e7b-9c1d-2a5e6f708192';

/** The local stack in memory on free ports, quiet, with the schedules fired by hand. */
export function startTestRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  return startLocalRuntime({
    port: 0,
    timers: false,
    log: () => undefined,
    ...options,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', ...options.env },
  });
}

/** The manifest's functions but these: e.g. a test that reads the queue itself leaves out its consumer. */
export function functionsWithout(...names: FunctionName[]): Record<string, FunctionSpec> {
  return Object.fromEntries(Object.entries(functions).filter(([name]) => !names.includes(name as FunctionName)));
}

/** Creates an integration and returns a fresh bearer token for it. */
export async function issueToken(stack: LocalRuntime, integrationHubServiceId: string): Promise<string> {
  const store = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  return store.issueToken(await store.ensure(integrationHubServiceId, `test ${integrationHubServiceId}`));
}

export async function post(
  stack: LocalRuntime,
  path: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
) {
  return send(stack, 'POST', path, body, token, headers);
}

export async function send(
  stack: LocalRuntime,
  method: string,
  path: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const json = (response.headers.get('content-type') ?? '').includes('json');
  return {
    status: response.status,
    headers: response.headers,
    body: (json ? await response.json() : await response.text()) as any,
  };
}

/**
 * Polls POST /order/payment with the same request, as a POS does, until it is neither 202 nor 208;
 * the final answer with every status seen. Throws after `timeoutMs`.
 */
export async function pollUntilFinished(runtime: LocalRuntime, payment: unknown, token: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  const statuses: number[] = [];
  for (;;) {
    const answer = await post(runtime, '/order/payment', payment, token);
    statuses.push(answer.status);
    if (answer.status !== 208 && answer.status !== 202) return { ...answer, statuses };
    if (Date.now() > deadline) throw new Error(`still ${answer.status} after ${timeoutMs} ms: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
