import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
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
}

export class DynamoNumbering implements NumberSource {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserve(
    paymentId: string,
    cnpj: string,
    serie: number,
    fresh: (nNF: number) => Omit<Numbering, 'nNF'>,
  ): Promise<Numbering> {
    const key = { pk: `NUMBERED#${paymentId}` };
    const existing = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    if (existing.Item) return reservation.parse(existing.Item);

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
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, ...numbering, cnpj, serie },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return numbering;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: { pk: `GAP#${series}#${nNF}`, cnpj, serie, nNF, paymentId } }),
      );
      const winner = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      return reservation.parse(winner.Item);
    }
  }
}
