import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CieloConfig } from '../../functions/cielo/config.ts';
import { caratSecretSchema } from '../../functions/carat/wiring.ts';
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
    Object.entries(process.env).filter(([key]) => !(key in stack.env) && !key.startsWith('CIELO_') && !key.startsWith('CARAT_')),
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
