import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { saoPauloIso } from '../shared/time.ts';
import type { DocumentStore, InvoiceIndex } from './issuer.ts';
import { nProtSchema } from './sefaz.ts';

/** Fiscal XML in the fiscal bucket (versioned, kept six years). */
export class S3Documents implements DocumentStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: `${contentType}; charset=utf-8` }),
    );
  }

  async get(key: string): Promise<string> {
    const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!Body) throw new Error(`s3://${this.bucket}/${key} has no body`);
    return Body.transformToString('utf8');
  }
}

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
