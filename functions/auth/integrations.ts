import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { newToken, newUsageKey, tokenHash } from './tokens.ts';

/** What a valid token resolves to. */
export interface Caller {
  integrationHubServiceId: string;
  /** The API Gateway usage-plan key value the integration is throttled under. */
  usageKey: string;
}

const tokenItem = z.object({
  pk: z.string(),
  integrationHubServiceId: z.string(),
  usageKey: z.string(),
});

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
    const { integrationHubServiceId, usageKey } = tokenItem.parse(Item);
    return { integrationHubServiceId, usageKey };
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
