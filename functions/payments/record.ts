import { createHash } from 'node:crypto';
import { parseTaxDocument } from '../shared/documents.ts';
import type { IntegratedPayment, PaymentAmounts, PaymentRequest } from './request.ts';

/**
 * A payment as stored. The order's slot item (`pk = ORDER#…`) holds the payment in flight or the
 * last finished one; a finished payment is copied to `PAYMENT#<paymentId>` before a new payment
 * for the same order replaces it. All state changes are single-item conditional writes.
 */
export type PaymentStatus = 'QUEUED' | 'PROCESSING' | 'DONE';

/** The 200 answer of the contract ("JSON da resposta do processamento"), assembled when read. */
export interface PaymentAnswer {
  integrationHubServiceId: string;
  success: boolean;
  orderKeyType: string;
  orderKey: string;
  paymentObject: PaymentRequest['paymentObject'];
  /**
   * `contingency`: the NFC-e was issued in offline contingency (tpEmis 9); `orderXML` is then the
   * signed `NFe` until SEFAZ authorizes it and the `nfeProc` after (a later poll gets the newer).
   */
  invoiceDetails: { orderXML: string; invoiceKey: string; qrCode: string; receiptText?: string; contingency: boolean } | null;
  error: { code: string; message: string } | null;
}

/**
 * Where a finished payment's NFC-e lives: keys in the fiscal bucket, never the documents
 * themselves, so a 500-item nfeProc cannot outgrow the record (DynamoDB items stop at 400 KB).
 */
export interface StoredInvoice {
  chave: string;
  qrCode: string;
  /** S3 key of the authorized `nfeProc` (the answer's `orderXML`). */
  nfeProcKey: string;
  /** S3 key of the DANFE NFC-e text, when the payment asked for `printInvoiceAtPos`. */
  receiptKey?: string;
  /** Offline contingency (tpEmis 9): the signed NFe, answered until the nfeProc exists. */
  contingency?: true;
  signedKey?: string;
}

/** How a payment finished, as stored in its record; `answerFor` turns it into the 200 answer. */
export interface PaymentResult {
  success: boolean;
  invoice: StoredInvoice | null;
  error: { code: string; message: string } | null;
  /**
   * The Cielo order the tab came from, when the POS pushed none: the POS has no tab to push for the
   * table's next order, so a paid Cielo tab does not refuse the next payment (the Cielo order
   * paid is no longer a candidate for it).
   */
  cieloOrderId?: string;
}

export interface PaymentRecord {
  pk: string;
  paymentId: string;
  /** SHA-256 of the canonical request: the same POST again is a poll, not a new payment. */
  fingerprint: string;
  status: PaymentStatus;
  integrationHubServiceId: string;
  orderKeyType: string;
  orderKey: string;
  request: PaymentRequest;
  amounts: PaymentAmounts;
  /** CPF/CNPJ digits for the NFC-e `dest` when documentInReceipt; never logged. */
  customerDocument: string | null;
  /** Only for a sale paid at the acquirer's terminal (Cielo LIO): the NFC-e's tpIntegra 1 data. */
  integrated?: IntegratedPayment;
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  /** Present (sparse index key) until the job is confirmed on the queue. */
  enqueuePending?: 'PENDING';
  /** Epoch ms of the last attempt to queue the job: whoever holds a fresh claim sends it. */
  enqueueClaimedAtMs: number;
  enqueueAttempts: number;
  enqueuedAt?: string;
  /**
   * When a POS first read this payment's 200 (`-03:00`). Until then, and for a short while after it
   * finished, a new tab may not replace it: the POS could lose the answer of an authorized sale.
   */
  answeredAt?: string;
  /** How many times the issuer started on this payment (retries and redrives included). */
  processingAttempts?: number;
  result?: PaymentResult;
  /**
   * Fingerprint → paymentId of the finished payments this order's slot held before this one, for
   * the current tab: the same request again answers its own stored result, never a new payment.
   * Dropped with the slot when a new tab is pushed.
   */
  replaced?: Record<string, string>;
}

export const PENDING = 'PENDING';

/**
 * Failures an operator's redrive of the job may restart. The first two also hold the order: the
 * NFC-e was sent to SEFAZ and its fate is unknown, so no other payment or tab may replace it
 * before the retry settles it (otherwise one sale could end with two authorized NFC-e).
 */
export const SEFAZ_UNAVAILABLE = 'SEFAZ_UNAVAILABLE';
export const ISSUE_INCOMPLETE = 'ISSUE_INCOMPLETE';
export const ISSUE_FAILED = 'ISSUE_FAILED';
export const RESTARTABLE_FAILURES = [SEFAZ_UNAVAILABLE, ISSUE_INCOMPLETE, ISSUE_FAILED] as const;
const UNSETTLED_FAILURES: readonly string[] = [SEFAZ_UNAVAILABLE, ISSUE_INCOMPLETE];

/** True while the payment keeps its order: in progress, or finished with its NFC-e unsettled. */
export function holdsOrder(record: Pick<PaymentRecord, 'status' | 'result'>): boolean {
  return record.status !== 'DONE' || UNSETTLED_FAILURES.includes(record.result?.error?.code ?? '');
}

export function orderRef(integrationHubServiceId: string, orderKeyType: string, orderKey: string): string {
  // orderKey is last, so a `#` inside it cannot make two orders share a key.
  return `ORDER#${integrationHubServiceId}#${orderKeyType}#${orderKey}`;
}

/**
 * SHA-256 of the canonical request. Values that mean the same are the same request: key order,
 * a null or absent optional field (`brand`, `numberPersons`…), no `discounts` and `discounts: 0`,
 * no `changeFor` and `changeFor: 0`, an empty or absent `customerDocument`, a CPF/CNPJ with or
 * without its punctuation.
 */
export function fingerprint(request: PaymentRequest): string {
  const { paymentObject } = request;
  const canonical = canonicalJson({
    ...request,
    paymentObject: {
      ...paymentObject,
      // The document's digits: "529.982.247-25" and "52998224725" are one customer.
      customerDocument:
        parseTaxDocument(paymentObject.customerDocument ?? '')?.number ?? (paymentObject.customerDocument?.trim() || undefined),
      discounts: paymentObject.discounts ?? 0,
      // changeFor 0 (or null) asks for no change: the same as leaving it out.
      methods: paymentObject.methods.map((method) => ({ ...method, changeFor: method.changeFor || undefined })),
    },
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** JSON with object keys sorted and null or absent members left out: one text per meaning. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
