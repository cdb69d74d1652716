import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tables } from '../../lib/manifest.ts';
import { unlessConditionFails } from '../shared/conditional.ts';
import { PENDING, RESTARTABLE_FAILURES, type PaymentRecord, type PaymentResult } from './record.ts';

export interface PaymentStore {
  get(orderRef: string): Promise<PaymentRecord | undefined>;
  /**
   * Writes a new payment into the order's slot: an empty one, or (`replacing`) the one holding that
   * finished payment. When the slot is not as expected nothing is written, and what it holds comes
   * back when the store can tell without another read (DynamoDB's ALL_OLD on a refused write).
   */
  create(record: PaymentRecord, replacing?: string): Promise<{ written: true } | { written: false; current?: PaymentRecord }>;
  /** Copies a finished payment to `PAYMENT#<paymentId>` before its slot is reused. */
  archive(record: PaymentRecord): Promise<void>;
  /** Records that a POS read the finished payment's answer; once. */
  markAnswered(orderRef: string, paymentId: string, at: string): Promise<void>;
  /** An archived payment, by id. */
  getArchived(paymentId: string): Promise<PaymentRecord | undefined>;
  /** Takes the right to (re-)send the job when nobody tried since `staleBeforeMs`. */
  claimEnqueue(orderRef: string, paymentId: string, nowMs: number, staleBeforeMs: number): Promise<boolean>;
  /** Payments whose job is not confirmed on the queue, oldest first. */
  pendingEnqueue(limit: number): Promise<PaymentRecord[]>;
  /**
   * QUEUED → PROCESSING for this payment, unless it finished (a DONE payment whose failure is
   * restartable may start again: an operator redrove its job from the DLQ). False otherwise. It
   * also confirms the job arrived (the re-queue marker goes, `enqueuedAt` is set once). Returns the
   * record as written (the issuer reads nothing before it), or undefined when the slot holds
   * another payment or this one finished.
   */
  startProcessing(orderRef: string, paymentId: string, at: string): Promise<PaymentRecord | undefined>;
  /**
   * Archives a finished payment and frees its order's slot: the next request for the order,
   * even an identical one, is a new payment. False when the slot holds something else.
   */
  release(record: PaymentRecord): Promise<boolean>;
  /**
   * DONE with a restartable failure → QUEUED again, for a job an operator redrove: polls answer
   * 208 until the issuer settles it. Nothing happens when the payment left the slot or finished
   * otherwise meanwhile.
   */
  reopen(orderRef: string, paymentId: string, at: string): Promise<void>;
  /** Stores the result the POS gets with 200; once, for this payment only. */
  finish(orderRef: string, paymentId: string, result: PaymentResult, at: string): Promise<void>;
}

/** A conditional write: true when it applied, false when its condition did not hold. */
const conditionally = async (write: () => Promise<unknown>) => (await unlessConditionFails(write)) !== undefined;

export class DynamoPaymentStore implements PaymentStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(orderRef: string): Promise<PaymentRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: orderRef }, ConsistentRead: true }),
    );
    return Item as PaymentRecord | undefined;
  }

  async create(
    record: PaymentRecord,
    replacing?: string,
  ): Promise<{ written: true } | { written: false; current?: PaymentRecord }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: record,
          ...(replacing
            ? {
                ConditionExpression: 'paymentId = :replacing AND #status = :done',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':replacing': replacing, ':done': 'DONE' },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { written: true };
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      // The document client does not unmarshall an error's item.
      const { Item } = error as ConditionalCheckFailedException;
      return { written: false, ...(Item ? { current: unmarshall(Item) as PaymentRecord } : {}) };
    }
  }

  async archive(record: PaymentRecord): Promise<void> {
    // The tab's list of replaced payments stays with the slot, not with each archived payment.
    const { enqueuePending: _notPending, replaced: _slotOnly, ...rest } = record;
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...rest, pk: `PAYMENT#${record.paymentId}`, orderRef: record.pk } }),
    );
  }

  async markAnswered(orderRef: string, paymentId: string, at: string): Promise<void> {
    await conditionally(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: orderRef },
          UpdateExpression: 'SET answeredAt = :at',
          ConditionExpression: 'paymentId = :id AND #status = :done AND attribute_not_exists(answeredAt)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':at': at, ':id': paymentId, ':done': 'DONE' },
        }),
      ),
    );
  }

  async getArchived(paymentId: string): Promise<PaymentRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `PAYMENT#${paymentId}` }, ConsistentRead: true }),
    );
    return Item ? ({ ...Item, pk: Item.orderRef } as PaymentRecord) : undefined;
  }

  async claimEnqueue(orderRef: string, paymentId: string, nowMs: number, staleBeforeMs: number): Promise<boolean> {
    return conditionally(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: orderRef },
          UpdateExpression: 'SET enqueueClaimedAtMs = :now ADD enqueueAttempts :one',
          ConditionExpression:
            'paymentId = :id AND enqueuePending = :pending AND enqueueClaimedAtMs < :stale AND #status <> :done',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':now': nowMs,
            ':one': 1,
            ':id': paymentId,
            ':pending': PENDING,
            ':stale': staleBeforeMs,
            ':done': 'DONE',
          },
        }),
      ),
    );
  }

  async pendingEnqueue(limit: number): Promise<PaymentRecord[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: tables.payments.indexes[0].name,
        KeyConditionExpression: 'enqueuePending = :pending',
        ExpressionAttributeValues: { ':pending': PENDING },
        Limit: limit,
      }),
    );
    return Items as PaymentRecord[];
  }

  async release(record: PaymentRecord): Promise<boolean> {
    await this.archive(record);
    return conditionally(() =>
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: record.pk },
          ConditionExpression: 'paymentId = :id AND #status = :done',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':id': record.paymentId, ':done': 'DONE' },
        }),
      ),
    );
  }

  async startProcessing(orderRef: string, paymentId: string, at: string): Promise<PaymentRecord | undefined> {
    const written = await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: orderRef },
          UpdateExpression:
            'SET #status = :processing, updatedAt = :at, enqueuedAt = if_not_exists(enqueuedAt, :at), processingAttempts = if_not_exists(processingAttempts, :zero) + :one REMOVE enqueuePending',
          ConditionExpression: 'paymentId = :id AND (#status <> :done OR #result.#error.#code IN (:r0, :r1, :r2))',
          ExpressionAttributeNames: { '#status': 'status', '#result': 'result', '#error': 'error', '#code': 'code' },
          ExpressionAttributeValues: {
            ':processing': 'PROCESSING',
            ':at': at,
            ':zero': 0,
            ':one': 1,
            ':id': paymentId,
            ':done': 'DONE',
            ...Object.fromEntries(RESTARTABLE_FAILURES.map((code, i) => [`:r${i}`, code])),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return written?.Attributes as PaymentRecord | undefined;
  }

  async reopen(orderRef: string, paymentId: string, at: string): Promise<void> {
    await conditionally(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: orderRef },
          UpdateExpression: 'SET #status = :queued, updatedAt = :at REMOVE #result',
          ConditionExpression: 'paymentId = :id AND #status = :done AND #result.#error.#code IN (:r0, :r1, :r2)',
          ExpressionAttributeNames: { '#status': 'status', '#result': 'result', '#error': 'error', '#code': 'code' },
          ExpressionAttributeValues: {
            ':queued': 'QUEUED',
            ':done': 'DONE',
            ':at': at,
            ':id': paymentId,
            ...Object.fromEntries(RESTARTABLE_FAILURES.map((code, i) => [`:r${i}`, code])),
          },
        }),
      ),
    );
  }

  async finish(orderRef: string, paymentId: string, result: PaymentResult, at: string): Promise<void> {
    // Another delivery of the same job finished it first: its result stands.
    await conditionally(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: orderRef },
          // A finished payment needs no job any more, whatever the re-queue marker says.
          UpdateExpression: 'SET #status = :done, #result = :result, updatedAt = :at REMOVE enqueuePending',
          ConditionExpression: 'paymentId = :id AND #status = :processing',
          ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
          ExpressionAttributeValues: {
            ':done': 'DONE',
            ':result': result,
            ':at': at,
            ':id': paymentId,
            ':processing': 'PROCESSING',
          },
        }),
      ),
    );
  }
}
