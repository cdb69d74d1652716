import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { unlessConditionFails } from '../shared/conditional.ts';
import { saoPauloIso } from '../shared/time.ts';
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

/**
 * Where a skipped number stands (issue "inutilização"): PENDING to be declared; DECLARED unused
 * at SEFAZ (`nProt`, `procKey` of the ProcInutNFe); USED — one of its keys exists at SEFAZ, so it is
 * never declared; REFUSED by SEFAZ (`refusal`), for an operator.
 */
export const GAP_STATES = ['PENDING', 'DECLARED', 'USED', 'REFUSED'] as const;
export type GapState = (typeof GAP_STATES)[number];

export const gapSchema = z.object({
  cnpj: z.string(),
  serie: z.number().int(),
  nNF: z.number().int().positive(),
  paymentId: z.string(),
  reason: z.string(),
  /** When it was first recorded (`-03:00`); absent on gaps from before it was kept. */
  at: z.string().optional(),
  /** Every key built for the number: queried before it is declared. */
  chaves: z.preprocess((v) => (v instanceof Set ? [...v].sort() : v), z.array(z.string())).optional(),
  /** `GAP#<state>` (absent on gaps from before the states: PENDING). */
  listing: z.string().optional(),
  nProt: z.string().optional(),
  procKey: z.string().optional(),
  /** The key found at SEFAZ (USED), or SEFAZ's refusal (REFUSED). */
  usedBy: z.string().optional(),
  refusal: z.object({ cStat: z.string(), xMotivo: z.string() }).optional(),
});
export type Gap = z.infer<typeof gapSchema> & { state: GapState };

/** A CNPJ's série and its last number taken. */
export interface Series {
  cnpj: string;
  serie: number;
  lastNNF: number;
}

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
   * meanwhile (the payment gave up) or the payment went to contingency (another delivery of its
   * job): nothing may be sent under that number; a retry takes the contingency path.
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

/** The skipped numbers and the series, for the inutilização job and the operator's listing. */
export interface GapRegister {
  /** Gaps in `state`, by CNPJ, série and number; at most `limit` from `after` (a page's `next`), `more` when others remain. */
  gaps(
    state: GapState,
    limit: number,
    after?: Record<string, unknown>,
  ): Promise<{ gaps: Gap[]; more: boolean; next?: Record<string, unknown> }>;
  /** Moves a gap from `from` to a new state with its details; false when it was not in `from`. */
  settleGap(
    gap: Pick<Gap, 'cnpj' | 'serie' | 'nNF'>,
    from: GapState,
    to: Exclude<GapState, 'PENDING'>,
    details: Pick<Gap, 'nProt' | 'procKey' | 'usedBy' | 'refusal'>,
  ): Promise<boolean>;
  /** Every CNPJ's série with its last number. */
  series(): Promise<Series[]>;
}

/** The `numbering` index's sort key: CNPJ, série and number, each fixed-width so they sort as numbers. */
const position = (cnpj: string, serie: number, nNF?: number) =>
  `${cnpj}#${String(serie).padStart(3, '0')}${nNF === undefined ? '' : `#${String(nNF).padStart(9, '0')}`}`;

export class DynamoNumbering implements NumberSource, GapRegister {
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
        // Listed in the `numbering` index (SERIES) for the operator's view.
        UpdateExpression: 'ADD lastNNF :one SET listing = :series, #position = :position, cnpj = :cnpj, serie = :serie',
        ExpressionAttributeNames: { '#position': 'position' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':series': 'SERIES',
          ':position': position(cnpj, serie),
          ':cnpj': cnpj,
          ':serie': serie,
        },
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
          // Withdrawn, or gone to contingency (a racing delivery): the online document stays unsent.
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(contingency)',
          ExpressionAttributeValues: { ':attempt': attempt },
          ReturnValues: 'UPDATED_OLD',
        }),
      ),
    );
    if (!marked)
      throw new Error(`the number of payment ${paymentId} was withdrawn or replaced by contingency; nothing is sent under it`);
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
        // A gap recorded again (a retry) keeps its state and first time.
        UpdateExpression:
          'SET cnpj = :cnpj, serie = :serie, nNF = :nNF, paymentId = :paymentId, reason = :reason, ' +
          `listing = if_not_exists(listing, :pending), #position = :position, #at = if_not_exists(#at, :at)${chave ? ' ADD chaves :chaves' : ''}`,
        ExpressionAttributeNames: { '#position': 'position', '#at': 'at' },
        ExpressionAttributeValues: {
          ':cnpj': cnpj,
          ':serie': serie,
          ':nNF': nNF,
          ':paymentId': paymentId,
          ':reason': reason,
          ':pending': 'GAP#PENDING',
          ':position': position(cnpj, serie, nNF),
          ':at': saoPauloIso(new Date()),
          ...(chave ? { ':chaves': new Set([chave]) } : {}),
        },
      }),
    );
  }

  async gaps(
    state: GapState,
    limit: number,
    after?: Record<string, unknown>,
  ): Promise<{ gaps: Gap[]; more: boolean; next?: Record<string, unknown> }> {
    const { Items = [], LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'numbering',
        KeyConditionExpression: 'listing = :listing',
        ExpressionAttributeValues: { ':listing': `GAP#${state}` },
        Limit: limit,
        ...(after ? { ExclusiveStartKey: after } : {}),
      }),
    );
    return {
      gaps: Items.map((item) => ({ ...gapSchema.parse(item), state })),
      more: LastEvaluatedKey !== undefined,
      ...(LastEvaluatedKey ? { next: LastEvaluatedKey } : {}),
    };
  }

  async settleGap(
    gap: Pick<Gap, 'cnpj' | 'serie' | 'nNF'>,
    from: GapState,
    to: Exclude<GapState, 'PENDING'>,
    details: Pick<Gap, 'nProt' | 'procKey' | 'usedBy' | 'refusal'>,
  ): Promise<boolean> {
    const set = Object.entries(details).filter(([, value]) => value !== undefined);
    const written = await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `GAP#NNF#${gap.cnpj}#${gap.serie}#${gap.nNF}` },
          UpdateExpression: `SET listing = :to${set.map(([name]) => `, ${name} = :${name}`).join('')}`,
          // Gaps from before the states have no listing: they are PENDING.
          ConditionExpression: from === 'PENDING' ? '(listing = :from OR attribute_not_exists(listing))' : 'listing = :from',
          ExpressionAttributeValues: {
            ':to': `GAP#${to}`,
            ':from': `GAP#${from}`,
            ...Object.fromEntries(set.map(([name, value]) => [`:${name}`, value])),
          },
        }),
      ),
    );
    return written !== undefined;
  }

  async series(): Promise<Series[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'numbering',
        KeyConditionExpression: 'listing = :series',
        ExpressionAttributeValues: { ':series': 'SERIES' },
      }),
    );
    return Items.map((item) => z.object({ cnpj: z.string(), serie: z.number().int(), lastNNF: z.number().int() }).parse(item));
  }
}

function reservedOf({ nNF, cNF, dhEmi, contingency }: Reservation): Reserved {
  return { nNF, cNF, dhEmi, ...(contingency ? { contingency } : {}) };
}
