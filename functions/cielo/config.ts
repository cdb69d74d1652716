import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { SecretStore } from '../shared/secrets.ts';

/**
 * An integration's Cielo LIO setup: settings in the integrations table (`CIELO#<id>`), the Order
 * Manager credentials in a secret (`<prefix><id>`, locally .local/secrets): the three headers
 * every API call carries (spec §1: `Client-Id`, `Access-Token`, `Merchant-Id`).
 */
export const cieloCredentialsSchema = z.object({
  clientId: z.string().min(1),
  accessToken: z.string().min(1),
  merchantId: z.string().min(1),
});
export type CieloCredentials = z.infer<typeof cieloCredentialsSchema>;

/** "Mesa 6", "mesa 06", "MESA: 6 - janela" → table 6. */
export const DEFAULT_TABLE_RULE = '^\\s*mesa\\s*:?\\s*0*(\\d+)';

/** A regular expression with one capture group: the table number in an order's `notes`. */
const tableRule = z
  .string()
  .min(1)
  .max(200)
  .refine(
    (source) => {
      try {
        return new RegExp(`${source}|`).exec('')!.length === 2;
      } catch {
        return false;
      }
    },
    { message: 'must be a regular expression with exactly one capture group (the table number)' },
  );

export const cieloSettingsSchema = z.object({
  /** Issue the NFC-e when Cielo reports the order PAID or CLOSED (verified): orders paid at the LIO. */
  invoiceWhenPaid: z.boolean().default(false),
  /** How a table is named in `notes` (case-insensitive); "Mesa N" by default. */
  tableRule: tableRule.default(DEFAULT_TABLE_RULE),
});
export type CieloSettings = z.infer<typeof cieloSettingsSchema>;

export interface CieloSetup {
  settings: CieloSettings;
  credentials: CieloCredentials;
}

/** The integration's Cielo setup is missing or unusable: the store's operator must fix it. */
export class CieloSetupProblem extends Error {
  override name = 'CieloSetupProblem';
}

/** The table an order's notes name under `rule`, without leading zeros; undefined when none. */
export function tableOf(notes: string | null, rule: string): string | undefined {
  if (!notes) return undefined;
  const match = new RegExp(rule, 'iu').exec(notes);
  const table = match?.[1]?.replace(/^0+(?=.)/, '');
  return table || undefined;
}

const TTL_MS = 60_000;

export class CieloConfig {
  private readonly cache = new Map<string, { setup: CieloSetup; until: number }>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly integrationsTable: string,
    private readonly secrets: SecretStore,
    private readonly secretPrefix: string,
  ) {}

  /** Cached a minute per container. Throws CieloSetupProblem when the settings or the credentials are missing or invalid. */
  async load(integrationHubServiceId: string): Promise<CieloSetup> {
    const hit = this.cache.get(integrationHubServiceId);
    if (hit && hit.until > Date.now()) return hit.setup;
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.integrationsTable, Key: { pk: `CIELO#${integrationHubServiceId}` } }),
    );
    const settings = cieloSettingsSchema.safeParse(Item ?? {});
    if (!settings.success)
      throw new CieloSetupProblem(
        `the Cielo settings of ${integrationHubServiceId} are invalid: ${z.prettifyError(settings.error)}`,
      );
    const raw = await this.secrets.get(`${this.secretPrefix}${integrationHubServiceId}`);
    if (!raw) throw new CieloSetupProblem(`integration ${integrationHubServiceId} has no Cielo Order Manager credentials`);
    let credentials;
    try {
      credentials = cieloCredentialsSchema.parse(JSON.parse(raw));
    } catch {
      throw new CieloSetupProblem(
        `the Cielo credentials secret of ${integrationHubServiceId} is invalid (clientId, accessToken, merchantId expected)`,
      );
    }
    const setup = { settings: settings.data, credentials };
    this.cache.set(integrationHubServiceId, { setup, until: Date.now() + TTL_MS });
    return setup;
  }
}
