import { request } from 'node:http';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { orderRef } from '../../functions/payments/record.ts';
import { envName } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { restoreDeadLetters } from '../../lib/local/seed/payments.ts';
import { functionsWithout, issueToken, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * The SQS emulator forgets its messages on a restart; a payment held for an operator must find its
 * job back in the dead-letter queue, as a durable DLQ in AWS would still hold it.
 */
let runtime: LocalRuntime;
let admin: string;
let pos: string;

beforeAll(async () => {
  runtime = await startTestRuntime({ functions: functionsWithout('nfceIssuer') });
  admin = await new IntegrationStore(runtime.documents, runtime.env[envName.table('integrations')]!).issueAdminToken('ops');
  pos = await issueToken(runtime, SEED_INTEGRATION);
});
afterAll(() => runtime?.close());

const record = (orderKey: string, paymentId: string, status: string, code?: string) => ({
  pk: orderRef(SEED_INTEGRATION, 'TABLE', orderKey),
  paymentId,
  fingerprint: 'f',
  status,
  integrationHubServiceId: SEED_INTEGRATION,
  orderKeyType: 'TABLE',
  orderKey,
  correlationId: `corr-${orderKey}`,
  createdAt: '2026-11-29T12:00:00.000-03:00',
  updatedAt: '2026-11-29T12:00:00.000-03:00',
  ...(code ? { result: { success: false, invoice: null, error: { code, message: 'm' } } } : {}),
});

describe('npm start after a restart', () => {
  it('puts the jobs of held payments back on the dead-letter queue, and only theirs', async () => {
    const table = runtime.env[envName.table('payments')]!;
    const items = [
      record('H1', '11111111-1111-4111-8111-111111111111', 'DONE', 'SEFAZ_UNAVAILABLE'),
      record('H2', '22222222-2222-4222-8222-222222222222', 'DONE', 'ISSUE_INCOMPLETE'),
      record('F1', '33333333-3333-4333-8333-333333333333', 'DONE', 'ISSUE_FAILED'),
      record('P1', '44444444-4444-4444-8444-444444444444', 'PROCESSING'),
    ];
    for (const Item of items) await runtime.documents.send(new PutCommand({ TableName: table, Item }));

    expect(await restoreDeadLetters(runtime)).toBe(2);
    const listed = await send(runtime, 'GET', '/admin/dead-letters', undefined, admin);
    expect(
      listed.body.deadLetters.map((d: { orderRef: string; error: { code: string } }) => [d.orderRef, d.error.code]).sort(),
    ).toEqual([
      [orderRef(SEED_INTEGRATION, 'TABLE', 'H1'), 'SEFAZ_UNAVAILABLE'],
      [orderRef(SEED_INTEGRATION, 'TABLE', 'H2'), 'ISSUE_INCOMPLETE'],
    ]);
  });

  it('a POS token cannot reach an admin route through an empty path segment', async () => {
    const { port } = new URL(runtime.baseUrl);
    // The absolute form of the request target keeps the empty segment (`//admin/…`) intact.
    const response = await new Promise<{ status: number; handled: boolean; json: () => Promise<unknown> }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: `http://127.0.0.1:${port}//admin/dead-letters`,
          headers: { authorization: `Bearer ${pos}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              // Only an invoked handler's answer carries the request id.
              handled: res.headers['x-amzn-requestid'] !== undefined,
              json: async () => JSON.parse(Buffer.concat(chunks).toString()),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect({ status: response.status, handled: response.handled }).toEqual({ status: 403, handled: false });
    expect(await response.json()).toEqual({ errors: [{ key: 'authorization', message: 'this token may not call this route' }] });
  });
});
