import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unlessConditionFails, updateVersioned } from '../shared/conditional.ts';
import { needsSettlement, type Recharge } from './recharge.ts';

/**
 * The recharges table: one item per recharge (`R#<integration>#<rechargeId>`), written whole with
 * optimistic concurrency (`version`); pointers that find a recharge by e-SiTef's `merchant_usn`
 * (`USN#<integration>#<usn>`, for the authenticity POST) and by the store's `orderId`
 * (`ORDER#<integration>#<orderId>`, so a repeated start is the same recharge); and each store's
 * usn counter (`USNSEQ#<integration>`). Sparse index `unsettled`: `settle` = "PENDING" and
 * `settleDue` = the last change, while the recharge waits for the reconciler.
 */
export interface RechargeStore {
  get(integrationHubServiceId: string, rechargeId: string): Promise<Recharge | undefined>;
  /** Writes the recharge if nobody wrote since `version` was read (version 0: a new one); false otherwise. */
  save(recharge: Recharge): Promise<boolean>;
  /** The store's next `merchant_usn` (1, 2, 3…; a number a crash skipped is never reused). */
  nextUsn(integrationHubServiceId: string): Promise<string>;
  /** Points `usn` at the recharge (idempotent). */
  pointUsn(integrationHubServiceId: string, usn: string, rechargeId: string): Promise<void>;
  rechargeForUsn(integrationHubServiceId: string, usn: string): Promise<string | undefined>;
  /**
   * The recharge of the store's `orderId`: `rechargeId` when the order had none (or had
   * `replacing`, a recharge e-SiTef never began), else the one it has.
   */
  pointOrder(integrationHubServiceId: string, orderId: string, rechargeId: string, replacing?: string): Promise<string>;
  rechargeForOrder(integrationHubServiceId: string, orderId: string): Promise<string | undefined>;
  /** Recharges waiting for the reconciler whose last change is at or before `dueBy` (ISO), oldest first. */
  unsettled(dueBy: string, limit: number): Promise<Recharge[]>;
  /** How many wait for the reconciler and since when the oldest's do was sent (ISO), for the alarm. */
  unsettledSummary(): Promise<{ count: number; oldestSince?: string }>;
}

const rechargePk = (integration: string, rechargeId: string) => `R#${integration}#${rechargeId}`;
const usnPk = (integration: string, usn: string) => `USN#${integration}#${usn}`;
const orderPk = (integration: string, orderId: string) => `ORDER#${integration}#${orderId}`;

/** Read → change → conditional write, until it applies (see updateVersioned). */
export function updateRecharge(
  store: Pick<RechargeStore, 'get' | 'save'>,
  integrationHubServiceId: string,
  rechargeId: string,
  change: (current: Recharge | undefined) => Recharge | undefined,
): Promise<Recharge | undefined> {
  return updateVersioned(
    () => store.get(integrationHubServiceId, rechargeId),
    (next) => store.save(next),
    change,
    `recharge ${rechargeId}`,
  );
}

export class DynamoRecharges implements RechargeStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(integrationHubServiceId: string, rechargeId: string): Promise<Recharge | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: rechargePk(integrationHubServiceId, rechargeId) },
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  async save(recharge: Recharge): Promise<boolean> {
    const pending = needsSettlement(recharge);
    const item = {
      ...recharge,
      pk: rechargePk(recharge.integrationHubServiceId, recharge.rechargeId),
      version: recharge.version + 1,
      ...(pending ? { settle: 'PENDING', settleDue: recharge.updatedAt } : {}),
    };
    const written = await unlessConditionFails(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(recharge.version === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': recharge.version } }),
        }),
      ),
    );
    return written !== undefined;
  }

  async nextUsn(integrationHubServiceId: string): Promise<string> {
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `USNSEQ#${integrationHubServiceId}` },
        UpdateExpression: 'ADD #next :one',
        ExpressionAttributeNames: { '#next': 'next' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return String(Attributes?.next);
  }

  async pointUsn(integrationHubServiceId: string, usn: string, rechargeId: string): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: usnPk(integrationHubServiceId, usn), rechargeId } }),
    );
  }

  async rechargeForUsn(integrationHubServiceId: string, usn: string): Promise<string | undefined> {
    return this.pointer(usnPk(integrationHubServiceId, usn));
  }

  async pointOrder(integrationHubServiceId: string, orderId: string, rechargeId: string, replacing?: string): Promise<string> {
    const pk = orderPk(integrationHubServiceId, orderId);
    const written = await unlessConditionFails(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk, rechargeId },
          ...(replacing
            ? {
                ConditionExpression: 'attribute_not_exists(pk) OR rechargeId = :replacing',
                ExpressionAttributeValues: { ':replacing': replacing },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      ),
    );
    if (written) return rechargeId;
    return (await this.pointer(pk))!;
  }

  async rechargeForOrder(integrationHubServiceId: string, orderId: string): Promise<string | undefined> {
    return this.pointer(orderPk(integrationHubServiceId, orderId));
  }

  async unsettled(dueBy: string, limit: number): Promise<Recharge[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'unsettled',
        KeyConditionExpression: 'settle = :pending AND settleDue <= :dueBy',
        ExpressionAttributeValues: { ':pending': 'PENDING', ':dueBy': dueBy },
        Limit: limit,
      }),
    );
    return (Items ?? []).map(fromItem);
  }

  async unsettledSummary(): Promise<{ count: number; oldestSince?: string }> {
    let count = 0;
    let oldestSince: string | undefined;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'unsettled',
          KeyConditionExpression: 'settle = :pending',
          ExpressionAttributeValues: { ':pending': 'PENDING' },
          ProjectionExpression: 'choice.#at',
          ExpressionAttributeNames: { '#at': 'at' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        count++;
        const since = (item.choice as { at?: string } | undefined)?.at;
        // Times are all `-03:00`: they compare as text.
        if (since && (!oldestSince || since < oldestSince)) oldestSince = since;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return { count, ...(oldestSince ? { oldestSince } : {}) };
  }

  private async pointer(pk: string): Promise<string | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }));
    return typeof Item?.rechargeId === 'string' ? Item.rechargeId : undefined;
  }
}

function fromItem(item: Record<string, unknown>): Recharge {
  const { pk: _pk, settle: _settle, settleDue: _due, ...recharge } = item;
  return recharge as unknown as Recharge;
}
