import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { CARAT_PARTNER } from '../../functions/carat/partner.ts';
import { envName } from '../../lib/manifest.ts';
import { provisionCarat } from '../../lib/local/carat.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { issueToken, post, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

let stack: LocalRuntime;
let token: string;
let secret: string;
const MERCHANT_KEY = 'merchant-key-of-the-test-store';

beforeAll(async () => {
  stack = await startTestRuntime({
    partnerRateLimitPerSecond: 1e6,
    partnerBurstLimit: 1e6,
    env: { CARAT_TIMEOUT_SECONDS: '2', CARAT_NIT_WAIT_SECONDS: '1' },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
  const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  secret = await integrations.issuePartnerSecret(await integrations.ensure(SEED_INTEGRATION, 'test'), CARAT_PARTNER);
  provisionCarat(stack.env, { integrationHubServiceId: SEED_INTEGRATION, merchantKey: MERCHANT_KEY });
  stack.carat.control.addMerchant(MERCHANT_KEY, `${stack.baseUrl}/carat/authenticity/${secret}`);
});
afterAll(() => stack?.close());

describe('a recharge through the store API', () => {
  it('begin → dealers → branches → recharge → confirm ends CON', async () => {
    const started = await post(stack, '/recharges', { orderId: 'pedido-1' }, token);
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.rechargeId;
    const dealers = await send(stack, 'GET', `/recharges/${id}/dealers`, undefined, token);
    expect(dealers.status, JSON.stringify(dealers.body)).toBe(200);
    const branches = await send(stack, 'GET', `/recharges/${id}/branches?ddd=11&dealer=001`, undefined, token);
    expect(branches.status, JSON.stringify(branches.body)).toBe(200);
    const done = await send(stack, 'PUT', `/recharges/${id}`, { dealer: 1, ddd: '11', phone: '987654321', amount: 15 }, token);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const confirmed = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    console.log(JSON.stringify(confirmed.body, null, 1));
  });
});
