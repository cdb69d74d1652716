import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { assertRoutes, buckets, envName, functions, queues, tables, type FunctionSpec } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { seedPayment } from '../support/fixtures.ts';
import { functionsWithout, issueToken, post, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * The three auth modes through the local gateway: `bearer` (POS tokens), `admin` (operator tokens,
 * /admin/ only) and `partner` (a per-integration secret as the path's last segment, no token). The
 * partner routes here are a test-only manifest fragment.
 */
/** A test-only `partner` route of the partner `probe`, served by a test handler. */
const partnerRoute = (path: string, handler: 'partner-probe' | 'echo'): FunctionSpec => ({
  entry: `test/support/handlers/${handler}.ts`,
  description: `test-only partner route (${handler})`,
  trigger: { kind: 'http', method: 'POST', path, auth: 'partner', partner: 'probe' },
  timeoutSeconds: 5,
  memoryMb: 128,
});

let stack: LocalRuntime;
let posToken: string;
let adminToken: string;
let store: IntegrationStore;

beforeAll(async () => {
  stack = await startTestRuntime({
    functions: {
      ...functionsWithout('nfceIssuer'),
      probeNotification: partnerRoute('/probe/notifications/{secret}', 'partner-probe'),
      // Declared before the literal route on purpose: the literal segment must still win.
      probeAny: partnerRoute('/probe/{kind}/{secret}', 'echo'),
    },
    resources: {
      tables: { ...tables, probe: { partitionKey: 'pk' } },
      queues,
      buckets,
    },
  });
  posToken = await issueToken(stack, SEED_INTEGRATION);
  store = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  adminToken = await store.issueAdminToken('test operator');
});
afterAll(() => stack?.close());

const stored = async () =>
  (await stack.documents.send(new ScanCommand({ TableName: stack.env[envName.table('probe' as never)] }))).Items ?? [];

describe('bearer and admin tokens each open only their own routes', () => {
  it('an admin token on a POS route and a POS token on an admin route: 403', async () => {
    const denied = { errors: [{ key: 'authorization', message: 'this token may not call this route' }] };
    expect(await post(stack, '/order/payment', seedPayment(), adminToken)).toMatchObject({ status: 403, body: denied });
    expect(await send(stack, 'GET', '/admin/dead-letters', undefined, posToken)).toMatchObject({ status: 403, body: denied });
    expect(await send(stack, 'POST', '/admin/dead-letters/redrive', {}, posToken)).toMatchObject({ status: 403, body: denied });
  });

  it('a POS token’s cached policy opens every POS route, not only the first one it was asked for', async () => {
    const token = await issueToken(stack, SEED_INTEGRATION);
    expect((await post(stack, '/order/payment', { probe: true }, token)).status).toBe(400);
    // The gateway reuses the authorizer's answer for this token on another method and route.
    expect(await send(stack, 'GET', `/invoices/${'3'.repeat(44)}`, undefined, token)).toMatchObject({
      status: 404,
      body: { errors: [{ key: 'invoiceKey', message: `no NFC-e ${'3'.repeat(44)} for this integration` }] },
    });
  });

  it('an admin token opens the admin routes; none is a 401', async () => {
    expect(await send(stack, 'GET', '/admin/dead-letters', undefined, adminToken)).toMatchObject({
      status: 200,
      body: { deadLetters: [] },
    });
    expect((await send(stack, 'GET', '/admin/dead-letters', undefined)).status).toBe(401);
  });

  it('admin routes take JSON only (415) and say what is wrong with a body (400)', async () => {
    const form = await send(stack, 'POST', '/admin/dead-letters/redrive', 'ids=1', adminToken, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    expect(await send(stack, 'POST', '/admin/dead-letters/redrive', { ids: 'all' }, adminToken)).toMatchObject({
      status: 400,
      body: { errors: [{ key: 'ids', message: 'body.ids must be an array' }] },
    });
  });
});

describe('partner routes: the secret in the path, no token', () => {
  it('a wrong or missing secret is a 401 in the error format, and nothing is stored', async () => {
    const before = (await stored()).length;
    const refused = { errors: [{ key: 'secret', message: 'missing or unknown partner secret' }] };
    expect(await send(stack, 'POST', '/probe/notifications/ps_not-a-secret-of-anyone', { a: 1 })).toMatchObject({
      status: 401,
      body: refused,
    });
    // A POS token is no partner secret either.
    expect(await send(stack, 'POST', `/probe/notifications/${posToken}`, { a: 1 }, posToken)).toMatchObject({
      status: 401,
      body: refused,
    });
    expect((await stored()).length).toBe(before);
  });

  it('the integration’s secret opens it with the partner’s own format (a form is no 415); two valid at once, then the old one revoked', async () => {
    const integration = (await store.get(SEED_INTEGRATION))!;
    const old = await store.issuePartnerSecret(integration, 'probe');
    const fresh = await store.issuePartnerSecret(integration, 'probe');
    for (const secret of [old, fresh]) {
      const answer = await send(stack, 'POST', `/probe/notifications/${secret}`, 'status=PAID&order=1', undefined, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(answer).toMatchObject({ status: 200, body: { integrationHubServiceId: SEED_INTEGRATION } });
    }
    expect((await stored()).filter((item) => item.body === 'status=PAID&order=1')).toHaveLength(2);
    expect(await store.revokePartnerSecret('probe', old)).toBe(true);
    expect((await send(stack, 'POST', `/probe/notifications/${old}`, {})).status).toBe(401);
    expect((await send(stack, 'POST', `/probe/notifications/${fresh}`, {})).status).toBe(200);
    // A secret opens its own partner's routes only.
    expect(await store.integrationForPartnerSecret('cielo', fresh)).toBeUndefined();
  });

  it('a literal path segment beats a {param} (API Gateway precedence), whatever the declaration order', async () => {
    const integration = (await store.get(SEED_INTEGRATION))!;
    const secret = await store.issuePartnerSecret(integration, 'probe');
    expect((await send(stack, 'POST', `/probe/notifications/${secret}`, {})).body).toEqual({
      integrationHubServiceId: SEED_INTEGRATION,
    });
    expect((await send(stack, 'POST', `/probe/other/${secret}`, {})).body).toMatchObject({
      pathParameters: { kind: 'other', secret },
    });
  });

  it('a flood of partner calls is throttled on its own: POS traffic still passes', async () => {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 300 }, () => send(stack, 'POST', '/probe/notifications/ps_flood', {})),
    );
    const seconds = (performance.now() - started) / 1000;
    const passed = answers.filter((a) => a.status === 401).length;
    // A token bucket of 100 refilled at 50/s lets through at most that many while the flood lasts.
    expect(passed).toBeLessThanOrEqual(100 + Math.ceil(50 * seconds));
    expect(answers.filter((a) => a.status === 429).length).toBe(300 - passed);
    expect((await post(stack, '/order/payment', { probe: true }, posToken)).status).toBe(400);
  });
});

describe('the manifest’s route rules', () => {
  it('refuses admin routes outside /admin/, other routes inside it, and partner routes without a secret segment', () => {
    const http = (trigger: object) => ({ ...functions.paymentIntake, trigger }) as unknown as FunctionSpec;
    expect(() => assertRoutes({ a: http({ kind: 'http', method: 'GET', path: '/ops', auth: 'admin' }) })).toThrow(
      'invalid routes in the manifest: a: admin route /ops must start with /admin/',
    );
    expect(() => assertRoutes({ b: http({ kind: 'http', method: 'GET', path: '/admin/x', auth: 'bearer' }) })).toThrow(
      'b: /admin/x is under /admin/ but its auth is bearer',
    );
    expect(() =>
      assertRoutes({
        c: http({ kind: 'http', method: 'POST', path: '/cielo/notifications', auth: 'partner', partner: 'cielo' }),
      }),
    ).toThrow('c: partner route /cielo/notifications must end with /{secret} and name its partner');
    expect(() => assertRoutes(functions)).not.toThrow();
  });
});
