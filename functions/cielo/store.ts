import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unlessConditionFails, updateVersioned } from '../shared/conditional.ts';
import { attentionOf, isOpen, needsVerification, orderPk, type CieloOrderState } from './order-state.ts';

/**
 * The Cielo orders table: one item per order (`<integrationHubServiceId>#<order id>`), written
 * whole with optimistic concurrency (`version`), plus one item per unreadable notification
 * (`<integrationHubServiceId>#UNREADABLE#<notification id>`). Sparse index attributes, derived
 * on every write: `openFor` (the integration, while the order is open: Order Mesa's lookups),
 * `verifyPending` (while a claim waits for the API: the sweep and its alarm), `attentionFlag`
 * (what an operator must look at).
 */
export interface CieloOrders {
  get(integrationHubServiceId: string, orderId: string): Promise<CieloOrderState | undefined>;
  /** Writes the state if nobody wrote since `state.version` was read; false otherwise (re-read). */
  save(state: CieloOrderState): Promise<boolean>;
  /** The integration's open orders (not CLOSED or CANCELED), newest first, at most `limit`. */
  openOrders(integrationHubServiceId: string, limit: number): Promise<CieloOrderState[]>;
  /** Orders with a claim waiting for the API, oldest first. */
  pendingVerifications(limit: number): Promise<CieloOrderState[]>;
  /** What an operator must look at (contradicted claims, cancellations after an NFC-e, unreadable bodies), oldest first. */
  needingAttention(limit: number): Promise<AttentionItem[]>;
  recordUnreadable(entry: UnreadableNotification): Promise<void>;
}

/** A notification body that could not be read: archived raw, answered 200, flagged. */
export interface UnreadableNotification {
  integrationHubServiceId: string;
  notificationId: string;
  reason: string;
  /** Where the raw body is, in the partner archive bucket. */
  archiveKey: string;
  receivedAt: string;
}

export type AttentionItem = { kind: 'order'; order: CieloOrderState } | ({ kind: 'unreadable' } & UnreadableNotification);

/**
 * Read → change → conditional write, until it applies (Cielo notifies an order one change at a
 * time, but retries, the verifier and Order Mesa can meet on one order). `change` returns the new
 * state, or undefined to leave the order as it is. Returns what is stored afterwards (undefined
 * when there is no order and `change` created none). Throws after 25 lost races.
 */
export async function updateOrder(
  store: Pick<CieloOrders, 'get' | 'save'>,
  integrationHubServiceId: string,
  orderId: string,
  change: (current: CieloOrderState | undefined) => CieloOrderState | undefined,
): Promise<CieloOrderState | undefined> {
  return updateVersioned(
    () => store.get(integrationHubServiceId, orderId),
    (next) => store.save(next),
    change,
    `Cielo order ${orderId}`,
  );
}

const INDEX_ATTRIBUTES = ['openFor', 'verifyPending', 'verifySince', 'attentionFlag', 'attentionAt'] as const;

export class DynamoCieloOrders implements CieloOrders {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(integrationHubServiceId: string, orderId: string): Promise<CieloOrderState | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: orderPk(integrationHubServiceId, orderId) }, ConsistentRead: true }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  async save(state: CieloOrderState): Promise<boolean> {
    // What an operator must look at is derived (attentionOf); only the index attribute is stored.
    const attention = attentionOf(state);
    const item: Record<string, unknown> = { ...state, version: state.version + 1 };
    if (isOpen(state)) item.openFor = state.integrationHubServiceId;
    if (needsVerification(state)) {
      item.verifyPending = 'PENDING';
      item.verifySince = state.verification.pendingSince ?? state.updatedAt;
    }
    if (attention.length > 0) {
      item.attentionFlag = 'ATTENTION';
      item.attentionAt = state.updatedAt;
    }
    const written = await unlessConditionFails(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: state.version === 0 ? 'attribute_not_exists(pk)' : 'version = :read',
          ...(state.version === 0 ? {} : { ExpressionAttributeValues: { ':read': state.version } }),
        }),
      ),
    );
    return written !== undefined;
  }

  async openOrders(integrationHubServiceId: string, limit: number): Promise<CieloOrderState[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'openOrders',
        KeyConditionExpression: 'openFor = :integration',
        ExpressionAttributeValues: { ':integration': integrationHubServiceId },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (Items ?? []).map(fromItem);
  }

  async pendingVerifications(limit: number): Promise<CieloOrderState[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'pendingVerifications',
        KeyConditionExpression: 'verifyPending = :pending',
        ExpressionAttributeValues: { ':pending': 'PENDING' },
        Limit: limit,
      }),
    );
    return (Items ?? []).map(fromItem);
  }

  async needingAttention(limit: number): Promise<AttentionItem[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'attention',
        KeyConditionExpression: 'attentionFlag = :flag',
        ExpressionAttributeValues: { ':flag': 'ATTENTION' },
        Limit: limit,
      }),
    );
    return (Items ?? []).map((item) =>
      item.kind === 'unreadable'
        ? {
            kind: 'unreadable',
            integrationHubServiceId: item.integrationHubServiceId,
            notificationId: item.notificationId,
            reason: item.reason,
            archiveKey: item.archiveKey,
            receivedAt: item.receivedAt,
          }
        : { kind: 'order', order: fromItem(item) },
    );
  }

  async recordUnreadable(entry: UnreadableNotification): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `${entry.integrationHubServiceId}#UNREADABLE#${entry.notificationId}`,
          kind: 'unreadable',
          ...entry,
          attentionFlag: 'ATTENTION',
          attentionAt: entry.receivedAt,
        },
      }),
    );
  }
}

function fromItem(item: Record<string, unknown>): CieloOrderState {
  const state = { ...item };
  for (const name of INDEX_ATTRIBUTES) delete state[name];
  return state as unknown as CieloOrderState;
}
