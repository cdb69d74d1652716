import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { envName, queues } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { provisionDemoFiscal } from '../support/nfce.ts';
import { issueToken, post, SEED_INTEGRATION, send, startTestRuntime, pollUntilFinished } from '../support/runtime.ts';

/**
 * The operator's dead-letter routes settle a payment held after a SEFAZ outage: the job that ran
 * out of attempts is listed with its payment's state, redriven once SEFAZ is back, and the POS's
 * next poll gets the authorized NFC-e.
 */
let stack: LocalRuntime;
let token: string;
let admin: string;

beforeAll(async () => {
  stack = await startTestRuntime({ env: { RETRY_BASE_SECONDS: '0.1', SEFAZ_TIMEOUT_SECONDS: '1' } });
  token = await issueToken(stack, SEED_INTEGRATION);
  admin = await new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!).issueAdminToken('ops');
  // Contingency off: the payment waits for SEFAZ and lands in the DLQ (with it on, it would get a tpEmis 9 NFC-e).
  await provisionDemoFiscal(stack, SEED_INTEGRATION, { offlineContingency: false });
});
afterAll(() => stack?.close());

describe('GET /admin/dead-letters and POST /admin/dead-letters/redrive', () => {
  it('settle a payment held after a SEFAZ outage', async () => {
    const order = await send(stack, 'PUT', '/orders/TABLE/DL1', fixture('order-mesa/order-table-2.json'), token);
    expect(order.status).toBe(201);
    const payment = { ...seedPayment(), orderKey: 'DL1' };
    await stack.sefaz.control.down('reset');
    const accepted = await post(stack, '/order/payment', payment, token);
    const held = await pollUntilFinished(stack, payment, token);
    expect(held.body.error.code).toBe('SEFAZ_UNAVAILABLE');

    const listed = await expect
      .poll(async () => (await send(stack, 'GET', '/admin/dead-letters', undefined, admin)).body.deadLetters, { timeout: 5_000 })
      .toHaveLength(1);
    void listed;
    const { body } = await send(stack, 'GET', '/admin/dead-letters', undefined, admin);
    const [dead] = body.deadLetters;
    expect(dead).toEqual({
      queue: 'nfceRequests',
      messageId: expect.any(String),
      paymentId: accepted.body.paymentId,
      orderRef: `ORDER#${SEED_INTEGRATION}#TABLE#DL1`,
      error: { code: 'SEFAZ_UNAVAILABLE', message: expect.stringMatching(/^SEFAZ did not answer after 5 attempts/) },
      attempts: queues.nfceRequests.maxReceiveCount,
      receiveCount: expect.any(Number),
      ageSeconds: expect.any(Number),
    });
    // Listing leaves the job where it is.
    expect((await send(stack, 'GET', '/admin/dead-letters', undefined, admin)).body.deadLetters).toHaveLength(1);
    // Still held: no other tab while the NFC-e's fate is unknown.
    expect((await send(stack, 'PUT', '/orders/TABLE/DL1', fixture('order-mesa/order-table-2.json'), token)).status).toBe(409);

    await stack.sefaz.control.up();
    const redrive = await send(stack, 'POST', '/admin/dead-letters/redrive', { ids: [dead.messageId, 'no-such-id'] }, admin);
    expect(redrive).toMatchObject({
      status: 200,
      body: { redriven: [{ queue: 'nfceRequests', messageId: dead.messageId }], notFound: ['no-such-id'] },
    });
    // Reopened: the POS's poll follows the redriven job (208) until it settles, never the old failure.
    const next = await post(stack, '/order/payment', payment, token);
    expect(next.status === 208 || (next.status === 200 && next.body.success === true)).toBe(true);
    const settled = await pollUntilFinished(stack, payment, token);
    expect(settled.body).toMatchObject({ success: true, error: null });
    expect(stack.sefaz.control.authorized()).toHaveLength(1);
    expect((await send(stack, 'GET', '/admin/dead-letters', undefined, admin)).body.deadLetters).toEqual([]);
    expect((await send(stack, 'PUT', '/orders/TABLE/DL1', fixture('order-mesa/order-table-2.json'), token)).status).toBe(200);
  });

  it('an empty dead-letter queue redrives nothing', async () => {
    expect(await send(stack, 'POST', '/admin/dead-letters/redrive', {}, admin)).toMatchObject({
      status: 200,
      body: { redriven: [], notFound: [] },
    });
  });
});
