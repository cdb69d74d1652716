import { mkdirSync, writeFileSync } from 'node:fs';
import { caratSecretSchema } from '../../functions/carat/wiring.ts';
import { localSecretFile } from '../../functions/shared/secrets.ts';
import { secrets } from '../manifest.ts';

/**
 * An integration's e-SiTef merchant key on the local stack: the local stand-in of the Secrets
 * Manager secret `checkout/carat/<id>` (`.local/secrets`), as functions/carat/wiring.ts reads it.
 * Throws on an invalid key.
 */
export function provisionCarat(
  env: Record<string, string>,
  setup: { integrationHubServiceId: string; merchantKey: string },
): void {
  const secret = caratSecretSchema.parse({ merchantKey: setup.merchantKey });
  const dir = env.LOCAL_SECRETS_DIR!;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(localSecretFile(dir, `${secrets.carat.prefix}${setup.integrationHubServiceId}`), JSON.stringify(secret), {
    mode: 0o600,
  });
}
