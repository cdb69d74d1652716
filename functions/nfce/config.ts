import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { SecretStore } from '../shared/secrets.ts';
import { a1FromPem, type A1Certificate } from './certificate.ts';
import type { ClientTls } from './sefaz.ts';
import { catalogSchema, emitterSchema, type Catalog, type Emitter } from './fiscal.ts';

/**
 * An integration's fiscal setup: emitter and catalog in the integrations table (`FISCAL#<id>`),
 * the A1 certificate and the CSC in a secret (`<prefix><id>`): `{"privateKeyPem","certificatePem","csc":{"id","token"}}`.
 */
export const fiscalItemSchema = z.object({
  emitter: emitterSchema.omit({ csc: true }),
  catalog: catalogSchema,
  /** Receipt width for the card machine's printer. */
  receiptColumns: z.union([z.literal(32), z.literal(48)]).default(32),
  /**
   * Offline contingency (tpEmis 9) when SEFAZ does not answer a payment's NFC-e (spec §4): on unless
   * the store turns it off; then the payment waits for SEFAZ through the queue's retries.
   */
  offlineContingency: z.boolean().default(true),
});
export type FiscalItem = z.infer<typeof fiscalItemSchema>;

/**
 * The A1 as PEM (the provisioning CLI converts the PKCS#12 file: pkcs12.ts) and the CSC. A secret
 * stored before, with `pfxBase64` and `password`, is refused: provision it again with the CLI.
 */
export const nfceSecretSchema = z.object({
  privateKeyPem: z.string().includes('PRIVATE KEY-----'),
  certificatePem: z.string().includes('-----BEGIN CERTIFICATE-----'),
  csc: emitterSchema.shape.csc,
});

export interface FiscalSetup {
  emitter: Emitter;
  catalog: Catalog;
  receiptColumns: 32 | 48;
  offlineContingency: boolean;
  certificate: A1Certificate;
}

/** The emitter's side of SEFAZ's mutual TLS: its A1 certificate. */
export function clientTls(setup: Pick<FiscalSetup, 'certificate'>): ClientTls {
  return { key: setup.certificate.privateKeyPem, cert: setup.certificate.certificatePem };
}

/** The integration's fiscal setup is missing or unusable: the store's operator must fix it. */
export class FiscalSetupProblem extends Error {
  override name = 'FiscalSetupProblem';
}

const TTL_MS = 5 * 60_000;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class FiscalConfig {
  private readonly cache = new Map<string, { setup: FiscalSetup; until: number }>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly integrationsTable: string,
    private readonly secrets: SecretStore,
    private readonly secretPrefix: string,
  ) {}

  /**
   * An integration whose fiscal setup is this CNPJ's (the first found): what signs the CNPJ's
   * inutilização, a matter of the CNPJ and its série rather than of one POS. Undefined when none.
   */
  async integrationFor(cnpj: string): Promise<string | undefined> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.integrationsTable,
          FilterExpression: 'begins_with(pk, :fiscal) AND emitter.cnpj = :cnpj',
          ExpressionAttributeValues: { ':fiscal': 'FISCAL#', ':cnpj': cnpj },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const found = page.Items?.[0];
      if (found) return String(found.pk).slice('FISCAL#'.length);
      start = page.LastEvaluatedKey;
    } while (start);
    return undefined;
  }

  /** Parsed once per container and integration for a few minutes. */
  async load(integrationHubServiceId: string): Promise<FiscalSetup> {
    const hit = this.cache.get(integrationHubServiceId);
    if (hit && hit.until > Date.now()) return hit.setup;
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.integrationsTable, Key: { pk: `FISCAL#${integrationHubServiceId}` } }),
    );
    if (!Item)
      throw new FiscalSetupProblem(`integration ${integrationHubServiceId} has no fiscal configuration (emitter and catalog)`);
    const fiscal = fiscalItemSchema.safeParse(Item);
    if (!fiscal.success)
      throw new FiscalSetupProblem(
        `the fiscal configuration of ${integrationHubServiceId} is invalid: ${z.prettifyError(fiscal.error)}`,
      );
    const raw = await this.secrets.get(`${this.secretPrefix}${integrationHubServiceId}`);
    if (!raw) throw new FiscalSetupProblem(`integration ${integrationHubServiceId} has no A1 certificate and CSC secret`);
    const secret = nfceSecretSchema.safeParse(parseJson(raw));
    if (!secret.success)
      throw new FiscalSetupProblem(
        `the certificate secret of ${integrationHubServiceId} is invalid (privateKeyPem, certificatePem, csc expected; a secret with pfxBase64 is from before: provision it again with npm run integration -- fiscal)`,
      );
    let certificate;
    try {
      certificate = a1FromPem(secret.data.privateKeyPem, secret.data.certificatePem);
    } catch (error) {
      throw new FiscalSetupProblem(`the A1 certificate of ${integrationHubServiceId} does not open: ${(error as Error).message}`);
    }
    const setup: FiscalSetup = {
      emitter: { ...fiscal.data.emitter, csc: secret.data.csc },
      catalog: fiscal.data.catalog,
      receiptColumns: fiscal.data.receiptColumns,
      offlineContingency: fiscal.data.offlineContingency,
      certificate,
    };
    if (setup.certificate.cnpj !== setup.emitter.cnpj) {
      throw new FiscalSetupProblem(
        `the A1 certificate belongs to CNPJ ${setup.certificate.cnpj}, not to the emitter ${setup.emitter.cnpj}`,
      );
    }
    this.cache.set(integrationHubServiceId, { setup, until: Date.now() + TTL_MS });
    return setup;
  }
}
