import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { newPartnerSecret, newToken, newUsageKey, sameHash, tokenHash } from './tokens.ts';

/** What a valid token resolves to: a POS integration, or an operator (admin routes only). */
export type Caller =
  | {
      kind: 'pos';
      integrationHubServiceId: string;
      /** The API Gateway usage-plan key value the integration is throttled under. */
      usageKey: string;
    }
  | { kind: 'admin'; adminName: string };

const tokenItem = z.union([
  z.object({ kind: z.literal('admin'), adminName: z.string() }),
  // POS tokens issued before token kinds existed carry no `kind`.
  z.object({ kind: z.literal('pos').optional(), integrationHubServiceId: z.string(), usageKey: z.string() }),
]);

const partnerSecretItem = z.object({ integrationHubServiceId: z.string(), secretHash: z.string() });

const integrationItem = z.object({
  pk: z.string(),
  integrationHubServiceId: z.string(),
  name: z.string(),
  usageKey: z.string(),
  createdAt: z.string(),
});
export type Integration = z.infer<typeof integrationItem>;

/** Integrations and their hashed tokens in the integrations table. */
export class IntegrationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async callerForToken(token: string): Promise<Caller | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: `TOKEN#${tokenHash(token)}` } }));
    if (!Item) return undefined;
    const item = tokenItem.parse(Item);
    if (item.kind === 'admin') return { kind: 'admin', adminName: item.adminName };
    return { kind: 'pos', integrationHubServiceId: item.integrationHubServiceId, usageKey: item.usageKey };
  }

  /**
   * Issues an operator's token for the admin routes (finance, dead letters); returned once, stored
   * hashed. POS routes refuse it (403), as admin routes refuse POS tokens.
   */
  async issueAdminToken(adminName: string, now = new Date()): Promise<string> {
    const token = newToken('adm');
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `TOKEN#${tokenHash(token)}`, kind: 'admin', adminName, createdAt: now.toISOString() },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return token;
  }

  /**
   * Issues a secret with which `partner` (Cielo, e-SiTef, Sicoob) calls this integration's partner
   * routes, as the URL's last segment; returned once, stored hashed. Several may be valid at once,
   * so a secret is rotated by issuing the new one, switching the partner over, then revoking the old.
   */
  async issuePartnerSecret(integration: Integration, partner: string, now = new Date()): Promise<string> {
    const secret = newPartnerSecret();
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `PARTNER#${partner}#${tokenHash(secret)}`,
          integrationHubServiceId: integration.integrationHubServiceId,
          secretHash: tokenHash(secret),
          createdAt: now.toISOString(),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return secret;
  }

  /**
   * The integration a partner's secret belongs to. The item is found by the secret's SHA-256 and
   * the stored hash compared with `timingSafeEqual`, so timing tells nothing about near misses.
   */
  async integrationForPartnerSecret(partner: string, secret: string): Promise<string | undefined> {
    const hash = tokenHash(secret);
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: `PARTNER#${partner}#${hash}` } }));
    if (!Item) return undefined;
    const item = partnerSecretItem.parse(Item);
    return sameHash(item.secretHash, hash) ? item.integrationHubServiceId : undefined;
  }

  /** Revokes a partner secret; true when it existed. */
  async revokePartnerSecret(partner: string, secret: string): Promise<boolean> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: `PARTNER#${partner}#${tokenHash(secret)}` },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  async get(integrationHubServiceId: string): Promise<Integration | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `INTEGRATION#${integrationHubServiceId}` } }),
    );
    return Item ? integrationItem.parse(Item) : undefined;
  }

  /** Creates the integration if it does not exist yet; returns it either way. */
  async ensure(integrationHubServiceId: string, name: string, now = new Date()): Promise<Integration> {
    const existing = await this.get(integrationHubServiceId);
    if (existing) return existing;
    const item: Integration = {
      pk: `INTEGRATION#${integrationHubServiceId}`,
      integrationHubServiceId,
      name,
      usageKey: newUsageKey(),
      createdAt: now.toISOString(),
    };
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return item;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      const raced = await this.get(integrationHubServiceId);
      if (!raced) throw error;
      return raced;
    }
  }

  /** Issues a new token for an existing integration; the plaintext is returned once, never stored. */
  async issueToken(integration: Integration, now = new Date()): Promise<string> {
    const token = newToken();
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `TOKEN#${tokenHash(token)}`,
          integrationHubServiceId: integration.integrationHubServiceId,
          usageKey: integration.usageKey,
          createdAt: now.toISOString(),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return token;
  }

  /** Revokes a token; true when it existed. API Gateway may honour a cached answer until its TTL. */
  async revokeToken(token: string): Promise<boolean> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: `TOKEN#${tokenHash(token)}` }, ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }
}
