import { mkdirSync, writeFileSync } from 'node:fs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoBoletos } from '../../functions/sicoob/store.ts';
import { sicoobSecretSchema } from '../../functions/sicoob/wiring.ts';
import { localSecretFile } from '../../functions/shared/secrets.ts';
import { envName, secrets } from '../manifest.ts';

/**
 * A Sicoob account on the local stack: its settings in the boletos table (`ACCOUNT#<numeroCliente>`,
 * what the sweep reads) and its A1 certificate as the local stand-in of the Secrets Manager secret
 * `checkout/sicoob/<numeroCliente>` (`.local/secrets`). Throws on an invalid certificate.
 */
export async function provisionSicoob(
  db: DynamoDBDocumentClient,
  env: Record<string, string>,
  account: { numeroCliente: string; clientId: string; privateKeyPem: string; certificatePem: string },
): Promise<void> {
  const certificate = sicoobSecretSchema.parse({ privateKeyPem: account.privateKeyPem, certificatePem: account.certificatePem });
  await new DynamoBoletos(db, env[envName.table('boletos')]!).putAccount({
    numeroCliente: account.numeroCliente,
    clientId: account.clientId,
  });
  const dir = env.LOCAL_SECRETS_DIR!;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(localSecretFile(dir, `${secrets.sicoob.prefix}${account.numeroCliente}`), JSON.stringify(certificate), {
    mode: 0o600,
  });
}
