import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { unlessConditionFails } from '../shared/conditional.ts';
import type { Numbering } from './document.ts';

/**
 * nNF allocation per (CNPJ, série). The counter is one item incremented atomically (never two
 * payments with one number); the number then belongs to the payment in `NUMBERED#<paymentId>`,
 * written once, so every retry of the payment reuses the same nNF, cNF and dhEmi — the same key.
 * If two deliveries of one job race past the first read, the loser's number is recorded as a gap
 * (`GAP#…`) for inutilização instead of being used.
 */
const reservation = z.object({ nNF: z.number().int().positive(), cNF: z.string().regex(/^\d{8}$/), dhEmi: z.string() });

export interface NumberSource {
  reserve(paymentId: string, cnpj: string, serie: number, fresh: (nNF: number) => Omit<Numbering, 'nNF'>): Promise<Numbering>;
  /** The number this payment holds, if it took one. */
  reserved(paymentId: string): Promise<Numbering | undefined>;
  /** A number that will never be authorized (rejected, or lost to a race): kept for inutilização. */
  recordGap(cnpj: string, serie: number, nNF: number, paymentId: string, reason: string): Promise<void>;
}

export class DynamoNumbering implements NumberSource {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserved(paymentId: string): Promise<Numbering | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `NUMBERED#${paymentId}` }, ConsistentRead: true }),
    );
    return Item ? reservation.parse(Item) : undefined;
  }

  async reserve(
    paymentId: string,
    cnpj: string,
    serie: number,
    fresh: (nNF: number) => Omit<Numbering, 'nNF'>,
  ): Promise<Numbering> {
    const key = { pk: `NUMBERED#${paymentId}` };
    const existing = await this.reserved(paymentId);
    if (existing) return existing;

    const series = `NNF#${cnpj}#${serie}`;
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: series },
        UpdateExpression: 'ADD lastNNF :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const nNF = z.number().int().positive().parse(Attributes?.lastNNF);
    const numbering: Numbering = { nNF, ...fresh(nNF) };
    const written = await unlessConditionFails(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, ...numbering, cnpj, serie },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (written) return numbering;
    // Another delivery of the same job reserved first: its number stands, this one is a gap.
    await this.recordGap(cnpj, serie, nNF, paymentId, 'race');
    return reservation.parse(await this.reserved(paymentId));
  }

  async recordGap(cnpj: string, serie: number, nNF: number, paymentId: string, reason: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `GAP#NNF#${cnpj}#${serie}#${nNF}`, cnpj, serie, nNF, paymentId, reason },
      }),
    );
  }
}
