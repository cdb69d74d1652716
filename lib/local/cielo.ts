import { mkdirSync, writeFileSync } from 'node:fs';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  cieloCredentialsSchema,
  cieloSettingsSchema,
  type CieloCredentials,
  type CieloSettings,
} from '../../functions/cielo/config.ts';
import { localSecretFile } from '../../functions/shared/secrets.ts';
import { envName, secrets } from '../manifest.ts';

/**
 * An integration's Cielo setup on the local stack: its settings in the integrations table
 * (`CIELO#<id>`) and its Order Manager credentials as the local stand-in of the Secrets Manager
 * secret (`.local/secrets`), as functions/cielo/config.ts reads them. Throws on invalid values.
 */
export async function provisionCielo(
  db: DynamoDBDocumentClient,
  env: Record<string, string>,
  setup: { integrationHubServiceId: string; credentials: CieloCredentials; settings: Partial<CieloSettings> },
): Promise<void> {
  const settings = cieloSettingsSchema.parse(setup.settings);
  const credentials = cieloCredentialsSchema.parse(setup.credentials);
  await db.send(
    new PutCommand({
      TableName: env[envName.table('integrations')]!,
      Item: { pk: `CIELO#${setup.integrationHubServiceId}`, ...settings },
    }),
  );
  const dir = env.LOCAL_SECRETS_DIR!;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(localSecretFile(dir, `${secrets.cielo.prefix}${setup.integrationHubServiceId}`), JSON.stringify(credentials), {
    mode: 0o600,
  });
}
