import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { provisionDemoFiscal } from '../support/nfce.ts';
import { issueToken, post, pollUntilFinished, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * SEFAZ seen away moments ago (CONTINGENCY_AWAY_SECONDS): during an outage only one sale per
 * container and period waits the contingency wait; the next ones go to contingency at once.
 * A stack of its own: the memory is the issuer container's.
 */

let stack: LocalRuntime;
let token: string;
beforeAll(async () => {
  stack = await startTestRuntime({ env: { CONTINGENCY_WAIT_SECONDS: '2', CONTINGENCY_AWAY_SECONDS: '30' } });
  token = await issueToken(stack, SEED_INTEGRATION);
  await provisionDemoFiscal(stack, SEED_INTEGRATION);
});
afterAll(() => stack?.close());

async function pay(orderKey: string) {
  expect((await send(stack, 'PUT', `/orders/TABLE/${orderKey}`, fixture('order-mesa/order-table-2.json'), token)).status).toBe(
    201,
  );
  const payment = { ...seedPayment(), orderKey };
  await post(stack, '/order/payment', payment, token);
  return (await pollUntilFinished(stack, payment, token, 10_000)).body;
}

it('after one sale waited for a silent SEFAZ, the next goes to contingency without asking it', async () => {
  stack.sefaz.control.failWith(503, 'always');
  stack.sefaz.control.setDelay(3_000);
  expect((await pay('A1')).invoiceDetails.orderXML).toContain('<xJust>SEFAZ sem resposta no prazo');
  const calls = stack.sefaz.control.calls().authorization;
  const second = await pay('A2');
  expect(second.invoiceDetails.contingency).toBe(true);
  expect(second.invoiceDetails.orderXML).toContain('<xJust>SEFAZ sem resposta no prazo');
  expect(stack.sefaz.control.calls().authorization).toBe(calls);
});
