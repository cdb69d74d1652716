import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { seedPayment } from '../support/fixtures.ts';
import { functionsWithout, issueToken, post, SEED_INTEGRATION, startTestRuntime } from '../support/runtime.ts';

let stack: LocalRuntime;
let token: string;

beforeAll(async () => {
  stack = await startTestRuntime({ functions: functionsWithout('nfceIssuer'), env: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } });
  token = await issueToken(stack, SEED_INTEGRATION);
});
afterAll(() => stack?.close());

it('logs the correlation id of each request and never the customer document or the token', async () => {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const body = seedPayment();
    body.paymentObject.documentInReceipt = true;
    body.paymentObject.customerDocument = '529.982.247-25';
    const headers = { 'x-correlation-id': 'pos-log-check-0001' };
    expect((await post(stack, '/order/payment', body, token, headers)).status).toBe(202);
    expect((await post(stack, '/order/payment', body, token, headers)).status).toBe(208);
    body.paymentObject.customerDocument = '529.982.247-24';
    expect((await post(stack, '/order/payment', body, token, headers)).status).toBe(400);
  } finally {
    write.mockRestore();
  }
  const entries = lines
    .join('')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(entries.map((e) => e.message)).toEqual(['payment request answered', 'payment request answered', 'request refused']);
  expect(entries.map((e) => e.correlationId)).toEqual(Array(3).fill('pos-log-check-0001'));
  expect(entries[2]).toMatchObject({ statusCode: 400, keys: ['paymentObject.customerDocument'] });
  const text = lines.join('');
  for (const secret of ['52998224725', '529.982.247-25', '52998224724', '529.982.247-24', token])
    expect(text).not.toContain(secret);
});
