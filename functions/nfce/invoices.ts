import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { saoPauloIso } from '../shared/time.ts';
import type { InvoiceIndex } from './issuer.ts';
import { nProtSchema } from './sefaz.ts';

export const invoiceSchema = z.object({
  /** TChNFe: letters in positions 7–18 for an alphanumeric CNPJ (NT 2026.004). */
  chave: z.string().regex(/^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/),
  integrationHubServiceId: z.string(),
  paymentId: z.string(),
  nfeProcKey: z.string(),
  signedKey: z.string(),
  /** 15 or 17 digits (TProt). */
  nProt: nProtSchema,
});
export type Invoice = z.infer<typeof invoiceSchema>;

/** Authorized NFC-e by key: who owns it and where its XML is. */
export class DynamoInvoices implements InvoiceIndex {
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

  async get(chave: string): Promise<Invoice | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: `INVOICE#${chave}` } }));
    return Item ? invoiceSchema.parse(Item) : undefined;
  }
}
