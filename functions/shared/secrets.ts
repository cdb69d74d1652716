import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Secret strings by name: Secrets Manager in AWS; locally, files under LOCAL_SECRETS_DIR
 * (git-ignored .local/secrets) named after the secret. Values are cached per container for a few
 * minutes so a rotated secret is picked up without a deploy.
 */
export interface SecretStore {
  get(name: string): Promise<string | undefined>;
}

const TTL_MS = 5 * 60_000;

class Cached implements SecretStore {
  private readonly cache = new Map<string, { value: string | undefined; until: number }>();
  constructor(private readonly read: (name: string) => Promise<string | undefined>) {}

  async get(name: string): Promise<string | undefined> {
    const hit = this.cache.get(name);
    if (hit && hit.until > Date.now()) return hit.value;
    const value = await this.read(name);
    this.cache.set(name, { value, until: Date.now() + TTL_MS });
    return value;
  }
}

export function secretStore(env: NodeJS.ProcessEnv = process.env): SecretStore {
  const dir = env.LOCAL_SECRETS_DIR;
  if (dir) {
    return new Cached(async (name) => {
      try {
        return await readFile(join(dir, `${encodeURIComponent(name)}.json`), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    });
  }
  const client = new SecretsManagerClient({});
  return new Cached(async (name) => {
    try {
      return (await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  });
}
