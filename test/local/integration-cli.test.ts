import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CieloConfig } from '../../functions/cielo/config.ts';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { caratSecretSchema } from '../../functions/carat/wiring.ts';
import { createTestA1 } from '../../functions/nfce/pkcs12.ts';
import { localSecretFile, secretStore } from '../../functions/shared/secrets.ts';
import { envName, secrets } from '../../lib/manifest.ts';
import { projectRoot } from '../../lib/local/invoke.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';

/** `npm run integration -- cielo … --local` as an operator runs it, against a running local stack. */
const ID = '5b0d5f1e-7a6b-4c41-9a0e-3c2d1e0f9a8b';
let stack: LocalRuntime;
let dir: string;

beforeAll(async () => {
  stack = await startTestRuntime();
  dir = mkdtempSync(join(tmpdir(), 'checkout-cli-'));
  // What bin/local.ts writes, as far as the CLI reads it.
  writeFileSync(join(dir, 'demo.json'), JSON.stringify({ emulators: { dynamodb: stack.emulators.dynamodb } }));
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !(key in stack.env) && !key.startsWith('CIELO_') && !key.startsWith('CARAT_') && !key.startsWith('SICOOB_'),
    ),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/integration.ts', ...args], {
    cwd: projectRoot,
    env: { ...inherited, LOCAL_DIR: dir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run integration -- cielo', () => {
  it('stores the settings item and the credentials secret, which the Cielo functions then read', async () => {
    const run = await cli(
      [
        'cielo',
        '--id',
        ID,
        '--client-id',
        'client-9',
        '--merchant-id',
        'merchant-9',
        '--invoice-when-paid',
        '--table-rule',
        '^mesa (\\d+)',
        '--local',
      ],
      { CIELO_ACCESS_TOKEN: 'token-9' },
    );
    expect(run).toEqual({
      code: 0,
      stdout: `Cielo setup of ${ID} stored locally (merchant merchant-9, invoiceWhenPaid true)\n`,
      stderr: '',
    });
    const { Item } = await stack.documents.send(
      new GetCommand({ TableName: stack.env[envName.table('integrations')]!, Key: { pk: `CIELO#${ID}` } }),
    );
    expect(Item).toEqual({ pk: `CIELO#${ID}`, invoiceWhenPaid: true, tableRule: '^mesa (\\d+)' });
    const file = localSecretFile(join(dir, 'secrets'), `${secrets.cielo.prefix}${ID}`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      clientId: 'client-9',
      accessToken: 'token-9',
      merchantId: 'merchant-9',
    });
    const config = new CieloConfig(
      stack.documents,
      stack.env[envName.table('integrations')]!,
      secretStore({ LOCAL_SECRETS_DIR: join(dir, 'secrets') }),
      secrets.cielo.prefix,
    );
    expect(await config.load(ID)).toEqual({
      settings: { invoiceWhenPaid: true, tableRule: '^mesa (\\d+)' },
      credentials: { clientId: 'client-9', accessToken: 'token-9', merchantId: 'merchant-9' },
    });
  }, 30_000);

  it('refuses in one line: no access token, a table rule without one group, no --id', async () => {
    const noToken = await cli(['cielo', '--id', ID, '--client-id', 'c', '--merchant-id', 'm', '--local']);
    expect(noToken).toEqual({
      code: 1,
      stdout: '',
      stderr: 'integration: ✖ CIELO_ACCESS_TOKEN is required;   → at accessToken\n',
    });
    const badRule = await cli(
      ['cielo', '--id', ID, '--client-id', 'c', '--merchant-id', 'm', '--table-rule', 'mesa \\d+', '--local'],
      {
        CIELO_ACCESS_TOKEN: 't',
      },
    );
    expect(badRule.code).toBe(1);
    expect(badRule.stderr).toBe(
      'integration: ✖ must be a regular expression with exactly one capture group (the table number);   → at tableRule\n',
    );
    const noId = await cli(['cielo', '--client-id', 'c', '--merchant-id', 'm', '--local'], { CIELO_ACCESS_TOKEN: 't' });
    expect(noId).toEqual({ code: 1, stdout: '', stderr: 'integration: ✖ --id is required\n' });
  }, 30_000);
});

describe('npm run integration -- carat', () => {
  it('stores the merchant key secret the recharge functions read', async () => {
    const run = await cli(['carat', '--id', ID, '--local'], { CARAT_MERCHANT_KEY: 'merchant-key-9' });
    expect(run).toEqual({ code: 0, stdout: `Carat merchant key of ${ID} stored locally\n`, stderr: '' });
    const file = localSecretFile(join(dir, 'secrets'), `${secrets.carat.prefix}${ID}`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ merchantKey: 'merchant-key-9' });
    // What the recharge functions read (functions/carat/wiring.ts).
    expect(caratSecretSchema.parse(JSON.parse(readFileSync(file, 'utf8')))).toEqual({ merchantKey: 'merchant-key-9' });
  }, 30_000);

  it('refuses in one line: no key, a key too long, neither --local nor --aws', async () => {
    expect(await cli(['carat', '--id', ID, '--local'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'integration: ✖ CARAT_MERCHANT_KEY must hold the store’s e-SiTef merchant key (1 to 80 characters);   → at merchantKey\n',
    });
    expect((await cli(['carat', '--id', ID, '--local'], { CARAT_MERCHANT_KEY: 'k'.repeat(81) })).code).toBe(1);
    expect(await cli(['carat', '--id', ID], { CARAT_MERCHANT_KEY: 'k' })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'integration: carat needs --local (the running npm start) or --aws (Secrets Manager)\n',
    });
  }, 30_000);
});

describe('npm run integration -- sicoob-account / sicoob-webhook', () => {
  it('stores an account with its certificate, registers the webhook with Sicoob (validated by our route) and shows it', async () => {
    const pfx = join(dir, 'sicoob-a1.p12');
    writeFileSync(pfx, createTestA1({ name: 'PLATAFORMA LTDA', cnpj: '82373077000171', password: 'pw' }));
    const stored = await cli(
      ['sicoob-account', '--numero-cliente', '707091', '--client-id', 'cli-sicoob', '--pfx', pfx, '--local'],
      {
        A1_PASSWORD: 'pw',
      },
    );
    expect(stored).toEqual({ code: 0, stdout: 'Sicoob account 707091 stored locally (client_id cli-sicoob)\n', stderr: '' });
    stack.sicoob.control.addClient('cli-sicoob', 707091);
    const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
    const secret = await integrations.issuePartnerSecret(await integrations.ensure(ID, 'cli test'), 'sicoob');
    const webhookUrl = `${stack.baseUrl}/sicoob/webhook/${secret}`;
    const sicoob = {
      apiUrl: stack.partnerUrls.sicoob,
      authUrl: stack.partnerUrls.sicoobAuth,
      numeroCliente: '707091',
      webhookUrl,
    };
    writeFileSync(join(dir, 'demo.json'), JSON.stringify({ emulators: { dynamodb: stack.emulators.dynamodb }, sicoob }));

    const registered = await cli(['sicoob-webhook', 'register', '--email', 'financeiro@example.com', '--local']);
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toMatch(/^webhook (\d+) registered for account 707091; Sicoob now validates the URL/);
    const id = /^webhook (\d+)/.exec(registered.stdout)![1]!;
    await expect
      .poll(async () => (await cli(['sicoob-webhook', 'show', '--local'])).stdout, { timeout: 10_000 })
      .toContain(`webhook ${id}: 2 `);
    const shown = (await cli(['sicoob-webhook', 'show', '--local'])).stdout;
    expect(shown).not.toContain(secret);
    expect(await cli(['sicoob-webhook', 'delete', '--webhook-id', id, '--local'])).toMatchObject({
      code: 0,
      stdout: `webhook ${id} deleted\n`,
    });
    expect((await cli(['sicoob-webhook', 'show', '--local'])).stdout).toBe('account 707091 has no webhook registered\n');
  }, 60_000);

  it('refuses a URL Sicoob would not take (not https on 443) before sending anything', async () => {
    const calls = stack.sicoob.control.calls().webhooks;
    // Not the local simulator (another host name): Sicoob's rule applies.
    const apiUrl = stack.partnerUrls.sicoob.replace('127.0.0.1', 'localhost');
    const sicoob = {
      apiUrl,
      authUrl: stack.partnerUrls.sicoobAuth,
      numeroCliente: '707091',
      webhookUrl: 'http://example.com:8080/sicoob/webhook/x',
    };
    writeFileSync(join(dir, 'demo.json'), JSON.stringify({ emulators: { dynamodb: stack.emulators.dynamodb }, sicoob }));
    expect(await cli(['sicoob-webhook', 'register', '--local'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'integration: Sicoob takes only https URLs on port 443 for webhooks; http://example.com:8080 is not one: put the API behind https on 443 (the deployed API Gateway URL is)\n',
    });
    expect(stack.sicoob.control.calls().webhooks).toBe(calls);
  }, 30_000);
});
