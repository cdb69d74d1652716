import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { ParameterNotFoundError } from '@aws-lambda-powertools/parameters/errors';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Secret strings by name, through Powertools Parameters: Secrets Manager in AWS (SecretsProvider);
 * locally, files under LOCAL_SECRETS_DIR (git-ignored .local/secrets) named after the secret
 * (LocalSecretsProvider). Values are cached per container for SECRET_MAX_AGE_SECONDS, so a rotated
 * secret is picked up without a deploy; a missing secret is not cached (one provisioned a moment
 * later is seen at once).
 */
export interface SecretStore {
  /** The secret's string, or undefined when there is no such secret. */
  get(name: string): Promise<string | undefined>;
}

export const SECRET_MAX_AGE_SECONDS = 300;

/** The file that holds secret `name` under `dir`: `checkout/nfce/<id>` → `checkout%2Fnfce%2F<id>.json`. */
export const localSecretFile = (dir: string, name: string) => join(dir, `${encodeURIComponent(name)}.json`);

/** A Powertools provider over the local runtime's secret files (what `npm start` and the tests use). */
export class LocalSecretsProvider extends BaseProvider {
  constructor(private readonly dir: string) {
    super({});
  }

  protected async _get(name: string): Promise<string | undefined> {
    try {
      return await readFile(localSecretFile(this.dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  protected _getMultiple(): Promise<Record<string, unknown> | undefined> {
    throw new Error('secrets are read one by one');
  }
}

export interface SecretStoreOptions {
  /** The Secrets Manager client in AWS (tests pass a stubbed one); a default client otherwise. */
  client?: SecretsManagerClient;
}

export function secretStore(env: NodeJS.ProcessEnv = process.env, options: SecretStoreOptions = {}): SecretStore {
  const dir = env.LOCAL_SECRETS_DIR;
  const provider: BaseProvider = dir ? new LocalSecretsProvider(dir) : new SecretsProvider({ awsSdkV3Client: options.client });
  return {
    async get(name) {
      try {
        const value = await provider.get(name, { maxAge: SECRET_MAX_AGE_SECONDS, throwOnMissing: true });
        return typeof value === 'string' ? value : Buffer.from(value as Uint8Array).toString('utf8');
      } catch (error) {
        if (error instanceof ParameterNotFoundError) return undefined;
        throw error;
      }
    },
  };
}
