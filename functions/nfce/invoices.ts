import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { unlessConditionFails } from '../shared/conditional.ts';
import { saoPauloIso } from '../shared/time.ts';
import { contingencyInvoiceSchema, type ContingencyInvoice, type ContingencyState } from './contingency.ts';
import type { InvoiceIndex } from './issuer.ts';
import { nProtSchema } from './sefaz.ts';

export const invoiceSchema = z.object({
  /** TChNFe: letters in positions 7–18 for an alphanumeric CNPJ (NT 2026.004). */
  chave: z.string().regex(/^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/),
  integrationHubServiceId: z.string(),
  paymentId: z.string(),
  nfeProcKey: z.string(),
  signedKey: z.string(),
  /** 15 or 17 digits (TProt); absent while a contingency NFC-e waits for SEFAZ. */
  nProt: nProtSchema.optional(),
  /** SEFAZ's dhRecbto of the authorization: the 30 minutes to cancel count from it. Absent on records from before it was kept. */
  authorizedAt: z.string().optional(),
  /** The NFC-e's cancellation (event 110111), once SEFAZ registered it. */
  cancellation: z
    .object({
      /** The event's protocol (TProt) and registration time (`dhRegEvento`). */
      nProt: nProtSchema,
      dhRegEvento: z.string(),
      /** S3 key of the procEventoNFe. */
      eventKey: z.string(),
      justification: z.string(),
    })
    .optional(),
  /** Offline contingency (tpEmis 9) only. */
  contingencyState: contingencyInvoiceSchema.shape.contingencyState.optional(),
});
export type Invoice = z.infer<typeof invoiceSchema>;
export type InvoiceCancellation = NonNullable<Invoice['cancellation']>;

/** One page of contingency NFC-e in a state; `more` when the index holds others, `next` where they start. */
export interface ContingencyPage {
  items: ContingencyInvoice[];
  more: boolean;
  next?: Record<string, unknown>;
}

/** The contingency NFC-e the sender and the operator work through. */
export interface ContingencyQueue {
  /** Those in `state`, oldest dhEmi first (`newestFirst` reverses), at most `limit`, from `after` (a page's `next`). */
  inState(
    state: ContingencyState,
    limit: number,
    newestFirst?: boolean,
    after?: Record<string, unknown>,
  ): Promise<ContingencyPage>;
  /**
   * Replaces the record if it is still in the state `from` (what the caller read), and gives its
   * claim back; false when another run moved it meanwhile, and then nothing is written.
   */
  save(entry: ContingencyInvoice, from: ContingencyState): Promise<boolean>;
  /**
   * Claims the record for one run (epoch ms): false when it left `state`, or another run holds a
   * claim newer than `staleBeforeMs`.
   */
  claim(chave: string, state: ContingencyState, nowMs: number, staleBeforeMs: number): Promise<boolean>;
  /** Gives a claim back without changing anything else. */
  release(chave: string): Promise<void>;
}

/**
 * NFC-e by key (`INVOICE#<chave>`): who owns it, where its XML is; for a contingency NFC-e also its
 * transmission state, in the sparse `contingency` index (`contingencyState`, `dhEmi`).
 */
export class DynamoInvoices implements InvoiceIndex, ContingencyQueue {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(invoice: Invoice): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `INVOICE#${invoice.chave}`, ...invoice, createdAt: saoPauloIso(new Date()) },
      }),
    );
  }

  async recordContingency(entry: ContingencyInvoice): Promise<void> {
    // Once: a retry of the issuer must not reset what the sender has done since.
    await unlessConditionFails(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `INVOICE#${entry.chave}`,
            ...entry,
            // The contingency index's sort key: oldest first, and by number within a second.
            contingencyOrder: `${entry.dhEmi}#${String(entry.contingency.nNF).padStart(9, '0')}`,
            createdAt: saoPauloIso(new Date()),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  /**
   * Takes the right to send the invoice's cancellation: true unless it is cancelled already or
   * another request holds a claim younger than `staleBeforeMs` (epoch ms; a crashed one expires).
   */
  async claimCancellation(chave: string, claim: string, nowMs: number, staleBeforeMs: number): Promise<boolean> {
    const written = await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `INVOICE#${chave}` },
          UpdateExpression: 'SET cancelling = :claim, cancellingSince = :now',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(cancellation) AND (attribute_not_exists(cancellingSince) OR cancellingSince < :stale)',
          ExpressionAttributeValues: { ':claim': claim, ':now': nowMs, ':stale': staleBeforeMs },
        }),
      ),
    );
    return written !== undefined;
  }

  /** The registered cancellation, kept for good; the claim goes. */
  async recordCancellation(chave: string, cancellation: InvoiceCancellation): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `INVOICE#${chave}` },
        UpdateExpression: 'SET cancellation = :cancellation REMOVE cancelling, cancellingSince',
        ExpressionAttributeValues: { ':cancellation': cancellation },
      }),
    );
  }

  /** Gives the claim back (SEFAZ refused or did not answer): the next request may try. */
  async releaseCancellation(chave: string, claim: string): Promise<void> {
    await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `INVOICE#${chave}` },
          UpdateExpression: 'REMOVE cancelling, cancellingSince',
          ConditionExpression: 'cancelling = :claim',
          ExpressionAttributeValues: { ':claim': claim },
        }),
      ),
    );
  }

  async get(chave: string): Promise<Invoice | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: `INVOICE#${chave}` } }));
    return Item ? invoiceSchema.parse(Item) : undefined;
  }

  async inState(
    state: ContingencyState,
    limit: number,
    newestFirst = false,
    after?: Record<string, unknown>,
  ): Promise<ContingencyPage> {
    const { Items, LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'contingency',
        KeyConditionExpression: 'contingencyState = :state',
        ExpressionAttributeValues: { ':state': state },
        ScanIndexForward: !newestFirst,
        Limit: limit,
        ...(after ? { ExclusiveStartKey: after } : {}),
      }),
    );
    return {
      items: (Items ?? []).map((item) => contingencyInvoiceSchema.parse(item)),
      more: LastEvaluatedKey !== undefined,
      ...(LastEvaluatedKey ? { next: LastEvaluatedKey } : {}),
    };
  }

  async save(entry: ContingencyInvoice, from: ContingencyState): Promise<boolean> {
    // What the sender changes: the state, the protocol once authorized, the contingency details.
    const written = await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `INVOICE#${entry.chave}` },
          // authorizedAt beside nProt, where every invoice keeps it (the cancellation's 30 minutes).
          UpdateExpression: `SET contingencyState = :state, contingency = :detail${entry.nProt ? ', nProt = :nProt, authorizedAt = :authorizedAt' : ''} REMOVE claimedAt`,
          ConditionExpression: 'contingencyState = :from',
          ExpressionAttributeValues: {
            ':state': entry.contingencyState,
            ':detail': entry.contingency,
            ':from': from,
            ...(entry.nProt ? { ':nProt': entry.nProt, ':authorizedAt': entry.contingency.authorizedAt } : {}),
          },
        }),
      ),
    );
    return written !== undefined;
  }

  async claim(chave: string, state: ContingencyState, nowMs: number, staleBeforeMs: number): Promise<boolean> {
    const written = await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `INVOICE#${chave}` },
          UpdateExpression: 'SET claimedAt = :now',
          ConditionExpression: 'contingencyState = :state AND (attribute_not_exists(claimedAt) OR claimedAt < :stale)',
          ExpressionAttributeValues: { ':now': nowMs, ':state': state, ':stale': staleBeforeMs },
        }),
      ),
    );
    return written !== undefined;
  }

  async release(chave: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({ TableName: this.tableName, Key: { pk: `INVOICE#${chave}` }, UpdateExpression: 'REMOVE claimedAt' }),
    );
  }
}
