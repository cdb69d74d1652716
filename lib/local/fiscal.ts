import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fiscalItemSchema, nfceSecretSchema } from '../../functions/nfce/config.ts';
import type { Catalog, Emitter } from '../../functions/nfce/fiscal.ts';
import { openA1 } from '../../functions/nfce/pkcs12.ts';
import { localSecretFile } from '../../functions/shared/secrets.ts';
import { envName, secrets } from '../manifest.ts';
import { sefazServices } from '../simulators/sefaz/index.ts';

export interface LocalFiscalSetup {
  integrationHubServiceId: string;
  emitter: Emitter;
  catalog: Catalog;
  receiptColumns?: 32 | 48;
  /** Offline contingency when SEFAZ does not answer; on unless false. */
  offlineContingency?: boolean;
  pfx: Buffer;
  password: string;
}

/**
 * Gives an integration what the NFC-e issuer reads in AWS: emitter and catalog in the
 * integrations table, certificate and CSC as a secret file, with the emitter's web services
 * pointed at the local SEFAZ simulator.
 */
export async function provisionFiscal(
  db: DynamoDBDocumentClient,
  env: Record<string, string>,
  sefazUrl: string,
  setup: LocalFiscalSetup,
): Promise<Emitter> {
  const { csc, ...stored } = setup.emitter;
  const emitter = { ...stored, urls: simulatorUrls(stored.urls, sefazUrl) };
  const item = fiscalItemSchema.parse({
    emitter,
    catalog: setup.catalog,
    receiptColumns: setup.receiptColumns ?? 32,
    offlineContingency: setup.offlineContingency ?? true,
  });
  await db.send(
    new PutCommand({
      TableName: env[envName.table('integrations')]!,
      Item: { pk: `FISCAL#${setup.integrationHubServiceId}`, ...item },
    }),
  );
  const { privateKeyPem, certificatePem } = openA1(setup.pfx, setup.password);
  const secret = nfceSecretSchema.parse({ privateKeyPem, certificatePem, csc });
  const dir = env.LOCAL_SECRETS_DIR!;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = `${secrets.nfce.prefix}${setup.integrationHubServiceId}`;
  writeFileSync(localSecretFile(dir, name), JSON.stringify(secret), { mode: 0o600 });
  return { ...emitter, csc };
}

/** The emitter's SEFAZ web services at `sefazUrl` (the QR code and urlChave stay SEFAZ-SP's). */
function simulatorUrls<T extends Emitter['urls']>(urls: T, sefazUrl: string): T {
  return {
    ...urls,
    autorizacao: `${sefazUrl}${sefazServices.authorization.path}`,
    statusServico: `${sefazUrl}${sefazServices.status.path}`,
    consultaProtocolo: `${sefazUrl}${sefazServices.consultation.path}`,
    recepcaoEvento: `${sefazUrl}${sefazServices.event.path}`,
    inutilizacao: `${sefazUrl}${sefazServices.inutilization.path}`,
  };
}

/**
 * Points every locally provisioned emitter at this run's SEFAZ: the simulator listens on a new
 * port each start, and an emitter still naming the last run's port would fail every send. Runs
 * before any job is re-queued. Returns how many emitters it rewrote.
 */
export async function pointEmittersAt(
  db: DynamoDBDocumentClient,
  env: Record<string, string>,
  sefazUrl: string,
): Promise<number> {
  let pointed = 0;
  for (const item of await fiscalItems(db, env)) {
    const fiscal = fiscalItemSchema.safeParse(item);
    if (!fiscal.success) continue;
    const urls = simulatorUrls(fiscal.data.emitter.urls, sefazUrl);
    await db.send(
      new UpdateCommand({
        TableName: env[envName.table('integrations')]!,
        Key: { pk: item.pk },
        UpdateExpression: 'SET emitter.urls = :urls',
        ExpressionAttributeValues: { ':urls': urls },
      }),
    );
    pointed++;
  }
  return pointed;
}

async function fiscalItems(db: DynamoDBDocumentClient, env: Record<string, string>): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await db.send(
    new ScanCommand({
      TableName: env[envName.table('integrations')]!,
      FilterExpression: 'begins_with(pk, :fiscal)',
      ExpressionAttributeValues: { ':fiscal': 'FISCAL#' },
    }),
  );
  return Items;
}

/**
 * Every locally provisioned emitter's CSC, for the SEFAZ simulator to check QR codes with. An
 * emitter whose secret file is gone is skipped (its payments end FISCAL_SETUP, saying why).
 */
export async function storedCscs(
  db: DynamoDBDocumentClient,
  env: Record<string, string>,
): Promise<Map<string, { id: string; token: string }>> {
  const cscs = new Map<string, { id: string; token: string }>();
  for (const item of await fiscalItems(db, env)) {
    const id = String(item.pk).slice('FISCAL#'.length);
    const file = localSecretFile(env.LOCAL_SECRETS_DIR!, `${secrets.nfce.prefix}${id}`);
    if (!existsSync(file)) continue;
    const secret = nfceSecretSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    const fiscal = fiscalItemSchema.safeParse(item);
    if (secret.success && fiscal.success) cscs.set(fiscal.data.emitter.cnpj, secret.data.csc);
  }
  return cscs;
}
