import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { unlessConditionFails } from '../shared/conditional.ts';
import type { Contingency, Numbering } from './document.ts';

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
 *
 * Offline contingency (spec §4) gives the payment a second number in the same item
 * (`contingency`, written once): from then on every retry issues that tpEmis 9 NFC-e and the online
 * number is never sent again; the contingency sender settles it (110112 or inutilização).
 */
const numbered = z.object({
  nNF: z.number().int().positive(),
  cNF: z.string().regex(/^\d{8}$/),
  dhEmi: z.string(),
});
/** The offline-contingency number of a payment: its own nNF, cNF and dhEmi, with dhCont and xJust. */
export type ContingencyNumbering = Numbering & Contingency;
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
  /** The tpEmis 9 number, once the payment went to offline contingency. */
  contingency: numbered.extend({ dhCont: z.string(), xJust: z.string() }).optional(),
});
export type Reservation = z.infer<typeof reservation>;

/** The payment's online number, and its contingency number once it has one. */
export type Reserved = Numbering & { contingency?: ContingencyNumbering };

export interface NumberSource {
  reserve(
    paymentId: string,
    cnpj: string,
    serie: number,
    firstAttempt: boolean,
    fresh: (nNF: number) => Omit<Numbering, 'nNF'>,
  ): Promise<Reserved>;
  /**
   * Gives the payment its offline-contingency number, once: a retry (or a racing delivery) gets the
   * one written first, and a number lost to such a race is a gap. Throws when the payment holds no
   * online number (it was withdrawn: the payment gave up).
   */
  reserveContingency(
    paymentId: string,
    cnpj: string,
    serie: number,
    fresh: (nNF: number) => Omit<ContingencyNumbering, 'nNF'>,
  ): Promise<ContingencyNumbering>;
  /**
   * Drops the payment's online number `nNF` for a new one (normal emission past its age, with
   * contingency off): recorded first as a gap with the key built for it (`chave`, queried before
   * any inutilização), then the reservation removed, so the next reserve() takes a fresh number.
   * Nothing happens when the payment holds another number or a contingency one.
   */
  renumber(paymentId: string, nNF: number, chave: string, reason: string): Promise<void>;
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
  /**
   * A number that will never be authorized (rejected, lost to a race, abandoned): kept for
   * inutilização (`GAP#NNF#<cnpj>#<serie>#<nNF>`), with every key built for it (`chaves`), which
   * must be queried at SEFAZ before the number is declared unused.
   */
  recordGap(cnpj: string, serie: number, nNF: number, paymentId: string, reason: string, chave?: string): Promise<void>;
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
  ): Promise<Reserved> {
    const key = { pk: `NUMBERED#${paymentId}` };
    // A retry keeps its number (and key); a first attempt has none yet, and a race is caught below.
    const existing = firstAttempt ? undefined : await this.reserved(paymentId);
    if (existing) return reservedOf(existing);

    const nNF = await this.nextNumber(cnpj, serie);
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
    return reservedOf(reservation.parse(await this.reserved(paymentId)));
  }

  async reserveContingency(
    paymentId: string,
    cnpj: string,
    serie: number,
    fresh: (nNF: number) => Omit<ContingencyNumbering, 'nNF'>,
  ): Promise<ContingencyNumbering> {
    const existing = await this.reserved(paymentId);
    if (!existing) throw new Error(`payment ${paymentId} holds no number; it cannot go to contingency`);
    if (existing.contingency) return existing.contingency;
    const nNF = await this.nextNumber(cnpj, serie);
    const contingency: ContingencyNumbering = { nNF, ...fresh(nNF) };
    const written = await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `NUMBERED#${paymentId}` },
          UpdateExpression: 'SET contingency = :contingency',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(contingency)',
          ExpressionAttributeValues: { ':contingency': contingency },
        }),
      ),
    );
    if (written) return contingency;
    await this.recordGap(cnpj, serie, nNF, paymentId, 'race');
    const winner = (await this.reserved(paymentId))?.contingency;
    if (!winner) throw new Error(`payment ${paymentId} lost its number while going to contingency`);
    return winner;
  }

  async renumber(paymentId: string, nNF: number, chave: string, reason: string): Promise<void> {
    const existing = await this.reserved(paymentId);
    if (!existing || existing.nNF !== nNF || existing.contingency) return;
    // The gap first: a crash before the delete repeats both, and the number is never lost.
    await this.recordGap(existing.cnpj, existing.serie, nNF, paymentId, reason, chave);
    await unlessConditionFails(() =>
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: `NUMBERED#${paymentId}` },
          ConditionExpression: 'nNF = :nNF AND attribute_not_exists(contingency)',
          ExpressionAttributeValues: { ':nNF': nNF },
        }),
      ),
    );
  }

  /** The series' next nNF: one atomic increment of its counter item. */
  private async nextNumber(cnpj: string, serie: number): Promise<number> {
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `NNF#${cnpj}#${serie}` },
        UpdateExpression: 'ADD lastNNF :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return z.number().int().positive().parse(Attributes?.lastNNF);
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
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(sentAt) AND attribute_not_exists(sending) AND attribute_not_exists(contingency)',
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    if (!removed?.Attributes) return false;
    const { cnpj, serie, nNF } = reservation.parse(removed.Attributes);
    await this.recordGap(cnpj, serie, nNF, paymentId, reason);
    return true;
  }

  async recordGap(cnpj: string, serie: number, nNF: number, paymentId: string, reason: string, chave?: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `GAP#NNF#${cnpj}#${serie}#${nNF}` },
        UpdateExpression: `SET cnpj = :cnpj, serie = :serie, nNF = :nNF, paymentId = :paymentId, reason = :reason${chave ? ' ADD chaves :chaves' : ''}`,
        ExpressionAttributeValues: {
          ':cnpj': cnpj,
          ':serie': serie,
          ':nNF': nNF,
          ':paymentId': paymentId,
          ':reason': reason,
          ...(chave ? { ':chaves': new Set([chave]) } : {}),
        },
      }),
    );
  }
}

function reservedOf({ nNF, cNF, dhEmi, contingency }: Reservation): Reserved {
  return { nNF, cNF, dhEmi, ...(contingency ? { contingency } : {}) };
}
