import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { a1FromPem } from '../../functions/nfce/certificate.ts';
import { createTestA1, openA1 } from '../../functions/nfce/pkcs12.ts';
import { provisionFiscal } from '../../lib/local/fiscal.ts';
import { LocalSecretsProvider, SECRET_MAX_AGE_SECONDS, localSecretFile, secretStore } from '../../functions/shared/secrets.ts';
import { envName, secrets } from '../../lib/manifest.ts';
import { demoCatalog, demoEmitter } from '../support/nfce.ts';

const NAME = `${secrets.nfce.prefix}efdd6093-5539-4ac4-ad84-7423a8078dde`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'secrets-test-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local provider (LOCAL_SECRETS_DIR)', () => {
  it('is a Powertools provider reading <dir>/<name, URI-encoded>.json', async () => {
    expect(new LocalSecretsProvider(dir)).toBeInstanceOf(BaseProvider);
    expect(localSecretFile('/s', NAME)).toBe('/s/checkout%2Fnfce%2Fefdd6093-5539-4ac4-ad84-7423a8078dde.json');
    writeFileSync(localSecretFile(dir, NAME), '{"a":1}');
    expect(await secretStore({ LOCAL_SECRETS_DIR: dir }).get(NAME)).toBe('{"a":1}');
  });

  it('reads what the local runtime provisions (npm start, npm run integration -- fiscal --local)', async () => {
    const put = vi.fn(async () => ({}));
    const pfx = createTestA1({ name: 'ALBINO LTDA', cnpj: '82373077000171', password: 'p' });
    const env = { [envName.table('integrations')]: 'integrations', LOCAL_SECRETS_DIR: dir };
    await provisionFiscal({ send: put } as never, env, 'http://sefaz', {
      integrationHubServiceId: 'efdd6093-5539-4ac4-ad84-7423a8078dde',
      emitter: demoEmitter(),
      catalog: demoCatalog(),
      pfx,
      password: 'p',
    });
    expect(put).toHaveBeenCalledTimes(1);
    expect(readdirSync(dir)).toEqual([`${encodeURIComponent(NAME)}.json`]);
    const stored = JSON.parse((await secretStore({ LOCAL_SECRETS_DIR: dir }).get(NAME))!);
    // The A1 as PEM: the Lambdas read it with Node's crypto, no PKCS#12 parser in their bundles.
    const { privateKeyPem, certificatePem } = openA1(pfx, 'p');
    expect(stored).toEqual({ privateKeyPem, certificatePem, csc: { id: expect.any(String), token: expect.any(String) } });
    expect(a1FromPem(stored.privateKeyPem, stored.certificatePem).cnpj).toBe('82373077000171');
  });

  it('answers undefined for a missing secret, without caching that: a secret written next is read at once', async () => {
    const store = secretStore({ LOCAL_SECRETS_DIR: dir });
    expect(await store.get(NAME)).toBeUndefined();
    writeFileSync(localSecretFile(dir, NAME), 'first');
    expect(await store.get(NAME)).toBe('first');
  });

  it(`keeps a value ${SECRET_MAX_AGE_SECONDS} s, then reads the file again (a rotated secret)`, async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = secretStore({ LOCAL_SECRETS_DIR: dir });
    writeFileSync(localSecretFile(dir, NAME), 'first');
    expect(await store.get(NAME)).toBe('first');
    writeFileSync(localSecretFile(dir, NAME), 'rotated');
    vi.advanceTimersByTime((SECRET_MAX_AGE_SECONDS - 1) * 1000);
    expect(await store.get(NAME)).toBe('first');
    vi.advanceTimersByTime(2000);
    expect(await store.get(NAME)).toBe('rotated');
  });

  it('fails on anything but a missing file (e.g. a folder where the file should be)', async () => {
    rmSync(dir, { recursive: true });
    mkdirSync(localSecretFile(dir, NAME), { recursive: true });
    await expect(secretStore({ LOCAL_SECRETS_DIR: dir }).get(NAME)).rejects.toThrow(/EISDIR/);
  });
});

describe('in AWS (no LOCAL_SECRETS_DIR): Secrets Manager through SecretsProvider', () => {
  function stubbedClient(answer: (secretId: string) => unknown) {
    const client = new SecretsManagerClient({ region: 'sa-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const send = vi.spyOn(client, 'send').mockImplementation(async (command: unknown) => {
      expect(command).toBeInstanceOf(GetSecretValueCommand);
      return answer((command as GetSecretValueCommand).input.SecretId!);
    });
    return { client, send };
  }

  it('reads SecretString by name once per max age', async () => {
    const { client, send } = stubbedClient((id) => ({ SecretString: `value of ${id}` }));
    const store = secretStore({}, { client });
    expect(await store.get(NAME)).toBe(`value of ${NAME}`);
    expect(await store.get(NAME)).toBe(`value of ${NAME}`);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('answers undefined for a secret Secrets Manager does not have, and fails on other errors', async () => {
    const missing = stubbedClient(() => {
      throw new ResourceNotFoundException({ message: 'Secrets Manager can’t find the specified secret.', $metadata: {} });
    });
    expect(await secretStore({}, { client: missing.client }).get(NAME)).toBeUndefined();

    const denied = stubbedClient(() => {
      throw Object.assign(new Error('not authorized to perform secretsmanager:GetSecretValue'), {
        name: 'AccessDeniedException',
      });
    });
    await expect(secretStore({}, { client: denied.client }).get(NAME)).rejects.toThrow(/not authorized/);
  });
});
