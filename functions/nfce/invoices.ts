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
  /** Offline contingency (tpEmis 9) only. */
  contingencyState: contingencyInvoiceSchema.shape.contingencyState.optional(),
});
export type Invoice = z.infer<typeof invoiceSchema>;

/** One page of contingency NFC-e in a state; `more` when the index holds others. */
export interface ContingencyPage {
  items: ContingencyInvoice[];
  more: boolean;
}

/** The contingency NFC-e the sender and the operator work through. */
export interface ContingencyQueue {
  /** Those in `state`, oldest dhEmi first (`newestFirst` reverses), at most `limit`. */
  inState(state: ContingencyState, limit: number, newestFirst?: boolean): Promise<ContingencyPage>;
  /**
   * Replaces the record if it is still in the state `from` (what the caller read); false when
   * another run moved it meanwhile, and then nothing is written.
   */
  save(entry: ContingencyInvoice, from: ContingencyState): Promise<boolean>;
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
          Item: { pk: `INVOICE#${entry.chave}`, ...entry, createdAt: saoPauloIso(new Date()) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(chave: string): Promise<Invoice | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: `INVOICE#${chave}` } }));
    return Item ? invoiceSchema.parse(Item) : undefined;
  }

  async inState(state: ContingencyState, limit: number, newestFirst = false): Promise<ContingencyPage> {
    const { Items, LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'contingency',
        KeyConditionExpression: 'contingencyState = :state',
        ExpressionAttributeValues: { ':state': state },
        ScanIndexForward: !newestFirst,
        Limit: limit,
      }),
    );
    return { items: (Items ?? []).map((item) => contingencyInvoiceSchema.parse(item)), more: LastEvaluatedKey !== undefined };
  }

  async save(entry: ContingencyInvoice, from: ContingencyState): Promise<boolean> {
    // What the sender changes: the state, the protocol once authorized, the contingency details.
    const written = await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `INVOICE#${entry.chave}` },
          UpdateExpression: `SET contingencyState = :state, contingency = :detail${entry.nProt ? ', nProt = :nProt' : ''}`,
          ConditionExpression: 'contingencyState = :from',
          ExpressionAttributeValues: {
            ':state': entry.contingencyState,
            ':detail': entry.contingency,
            ':from': from,
            ...(entry.nProt ? { ':nProt': entry.nProt } : {}),
          },
        }),
      ),
    );
    return written !== undefined;
  }
}
