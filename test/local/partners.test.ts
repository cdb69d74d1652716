import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestA1 } from '../../functions/nfce/pkcs12.ts';
import { provisionFiscal } from '../../lib/local/fiscal.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { sefaz, startPartner } from '../../lib/simulators/index.ts';
import { startSefazSimulator, type SefazSimulator } from '../../lib/simulators/sefaz/index.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { demoCatalog, demoEmitter } from '../support/nfce.ts';
import { issueToken, post, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * SEFAZ_URL points the backend at another SEFAZ (an integrator's sandbox): no simulator starts
 * and every call goes there. Here "the other SEFAZ" is a second simulator the test runs itself.
 */
let elsewhere: SefazSimulator;
let runtime: LocalRuntime;
let token: string;
const emitter = demoEmitter();

beforeAll(async () => {
  elsewhere = await startSefazSimulator({ csc: (cnpj) => (cnpj === emitter.cnpj ? emitter.csc : undefined) });
  runtime = await startTestRuntime({ partnerEnv: { SEFAZ_URL: `${elsewhere.url}/` } });
  token = await issueToken(runtime, SEED_INTEGRATION);
  await provisionFiscal(runtime.documents, runtime.env, runtime.partnerUrls.sefaz, {
    integrationHubServiceId: SEED_INTEGRATION,
    emitter,
    catalog: demoCatalog(),
    pfx: createTestA1({ name: 'ALBINO LTDA', cnpj: emitter.cnpj, password: 'x' }),
    password: 'x',
  });
});
afterAll(async () => {
  await runtime?.close();
  await elsewhere?.close();
});

describe('SEFAZ_URL', () => {
  it('starts no simulator and sends every NFC-e to the URL given', async () => {
    expect(runtime.partnerUrls.sefaz).toBe(elsewhere.url);
    expect(() => runtime.sefaz).toThrow(`SEFAZ_URL points at ${elsewhere.url}: no SEFAZ simulator runs`);
    expect((await send(runtime, 'PUT', '/orders/TABLE/EXT1', fixture('order-mesa/order-table-2.json'), token)).status).toBe(201);
    const payment = { ...seedPayment(), orderKey: 'EXT1' };
    await post(runtime, '/order/payment', payment, token);
    await expect.poll(async () => (await post(runtime, '/order/payment', payment, token)).status, { timeout: 10_000 }).toBe(200);
    const [authorized] = elsewhere.control.authorized();
    expect((await post(runtime, '/order/payment', payment, token)).body.invoiceDetails.invoiceKey).toBe(authorized!.chNFe);
  });

  it('unset or blank, the partner’s simulator starts', async () => {
    const started = await startPartner(sefaz, { csc: () => undefined }, { SEFAZ_URL: '  ' });
    try {
      expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(started.simulator?.url).toBe(started.url);
    } finally {
      await started.simulator?.close();
    }
  });
});
