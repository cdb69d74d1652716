import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { unlessConditionFails } from '../shared/conditional.ts';
import type { Numbering } from './document.ts';

/**
 * nNF allocation per (CNPJ, série). The counter is one item incremented atomically (never two
 * payments with one number); the number then belongs to the payment in `NUMBERED#<paymentId>`,
 * written once, so every retry of the payment reuses the same nNF, cNF and dhEmi — the same key.
 * If two deliveries of one job race past the first read, the loser's number is recorded as a gap
 * (`GAP#…`) for inutilização instead of being used. Before each send to SEFAZ the reservation is
 * marked `sending` (write-ahead: a crash mid-call leaves it), cleared only when the connection was
 * never made; a send that may have reached SEFAZ is kept as `sentAt`. A number never sent can be
 * withdrawn (a gap) when the payment gives up; one that may have been sent may be authorized and
 * holds its order until a retry settles it.
 */
const reservation = z.object({
  nNF: z.number().int().positive(),
  cNF: z.string().regex(/^\d{8}$/),
  dhEmi: z.string(),
  cnpj: z.string(),
  serie: z.number().int(),
  /** When a send that may have reached SEFAZ happened (`-03:00`); absent while none did. */
  sentAt: z.string().optional(),
  /** The attempt now sending (or that crashed while sending): its outcome is unknown. */
  sending: z.string().optional(),
});
export type Reservation = z.infer<typeof reservation>;

export interface NumberSource {
  reserve(
    paymentId: string,
    cnpj: string,
    serie: number,
    firstAttempt: boolean,
    fresh: (nNF: number) => Omit<Numbering, 'nNF'>,
  ): Promise<Numbering>;
  /** The number this payment holds, if it took one, and whether it was sent. */
  reserved(paymentId: string): Promise<Reservation | undefined>;
  /**
   * Marks the payment's number as being sent by `attempt`, before the call; an earlier attempt
   * that crashed while sending is kept as `sentAt`. Throws when the reservation was withdrawn
   * meanwhile (the payment gave up): nothing may be sent under that number.
   */
  beginSend(paymentId: string, attempt: string, at: string): Promise<void>;
  /** `attempt` never connected to SEFAZ: its send did not happen. */
  notSent(paymentId: string, attempt: string): Promise<void>;
  /**
   * Gives up a number that was never sent: the reservation is dropped (a redriven payment takes a
   * new number) and the number recorded as a gap for inutilização. False when it was sent.
   */
  withdraw(paymentId: string, reason: string): Promise<boolean>;
  /** A number that will never be authorized (rejected, or lost to a race): kept for inutilização. */
  recordGap(cnpj: string, serie: number, nNF: number, paymentId: string, reason: string): Promise<void>;
}

export class DynamoNumbering implements NumberSource {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserved(paymentId: string): Promise<Reservation | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `NUMBERED#${paymentId}` }, ConsistentRead: true }),
    );
    return Item ? reservation.parse(Item) : undefined;
  }

  async reserve(
    paymentId: string,
    cnpj: string,
    serie: number,
    firstAttempt: boolean,
    fresh: (nNF: number) => Omit<Numbering, 'nNF'>,
  ): Promise<Numbering> {
    const key = { pk: `NUMBERED#${paymentId}` };
    // A retry keeps its number (and key); a first attempt has none yet, and a race is caught below.
    const existing = firstAttempt ? undefined : await this.reserved(paymentId);
    if (existing) return numberingOf(existing);

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
    return numberingOf(reservation.parse(await this.reserved(paymentId)));
  }

  async beginSend(paymentId: string, attempt: string, at: string): Promise<void> {
    const key = { pk: `NUMBERED#${paymentId}` };
    const marked = await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET sending = :attempt',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':attempt': attempt },
          ReturnValues: 'UPDATED_OLD',
        }),
      ),
    );
    if (!marked) throw new Error(`the number of payment ${paymentId} was withdrawn; nothing is sent under it`);
    if (marked.Attributes?.sending === undefined) return;
    // An earlier attempt was sending when it died: its NFC-e may have reached SEFAZ.
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET sentAt = if_not_exists(sentAt, :at)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async notSent(paymentId: string, attempt: string): Promise<void> {
    await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `NUMBERED#${paymentId}` },
          UpdateExpression: 'REMOVE sending',
          ConditionExpression: 'sending = :attempt',
          ExpressionAttributeValues: { ':attempt': attempt },
        }),
      ),
    );
  }

  async withdraw(paymentId: string, reason: string): Promise<boolean> {
    const removed = await unlessConditionFails(() =>
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: `NUMBERED#${paymentId}` },
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(sentAt) AND attribute_not_exists(sending)',
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    if (!removed?.Attributes) return false;
    const { cnpj, serie, nNF } = reservation.parse(removed.Attributes);
    await this.recordGap(cnpj, serie, nNF, paymentId, reason);
    return true;
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

function numberingOf({ nNF, cNF, dhEmi }: Reservation): Numbering {
  return { nNF, cNF, dhEmi };
}
