import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { CIELO_PARTNER } from '../../functions/cielo/partner.ts';
import { envName } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { functionsWithout, post, SEED_INTEGRATION, startTestRuntime } from '../support/runtime.ts';

let stack: LocalRuntime;
let secret: string;

beforeAll(async () => {
  // Without the verifier: its API calls are not what this test looks at.
  stack = await startTestRuntime({ functions: functionsWithout('cieloVerify'), env: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } });
  const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  secret = await integrations.issuePartnerSecret(await integrations.ensure(SEED_INTEGRATION, 'test'), CIELO_PARTNER);
});
afterAll(() => stack?.close());

it('logs each Cielo notification without its secret, card data or authorization code, readable or not', async () => {
  const status = readFileSync(new URL('../../fixtures/cielo/status-change.json', import.meta.url), 'utf8');
  // Unreadable, but full of card data: Node's JSON error would quote it.
  const broken = '{"pan":"5555666677778884","mask":"************3026" "finalCryptogram":"21FDEF2548665F36"}';
  const lines: string[] = [];
  // Powertools writes warnings and errors to stderr, the rest to stdout.
  const capture = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    expect((await post(stack, `/cielo/notifications/${secret}`, status)).status).toBe(200);
    expect((await post(stack, `/cielo/notifications/${secret}`, broken)).status).toBe(200);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const entries = lines
    .join('')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(entries.map((e) => e.message)).toEqual([
    'Cielo notification applied',
    'Cielo notification could not be read; archived and flagged for an operator',
  ]);
  expect(entries[0]).toMatchObject({ orderId: '943f2276-5e2b-44bb-a68a-fd9b6418afa4', kind: 'status', duplicate: false });
  expect(entries[1]).toMatchObject({ reason: 'not JSON' });
  const text = lines.join('');
  for (const kept of [
    secret,
    '************3332',
    '************3026',
    '21FDEF2548665F36',
    '5555666677778884',
    '123562',
    'MASTERCARD',
  ])
    expect(text).not.toContain(kept);
});
