import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { itemTotal, type OrderItem } from '../nfce/document.ts';
import { toCentavos } from '../shared/money.ts';
import { unlessConditionFails } from '../shared/conditional.ts';
import { identifier, nfceText } from '../shared/text.ts';
import { guid, MAX_AMOUNT_REAIS, reais } from '../shared/validation.ts';
import { ORDER_KEY_TYPES, orderKeySchema } from '../payments/request.ts';

/**
 * The open order of a table, card or order id: the items its NFC-e lists. Pushed by the POS (and,
 * later, by Cielo's Order Manager); money in reais as in the Order Mesa API, kept in centavos.
 */

// Bounds keep quantity (ten-thousandths) × unit price (centavos) below 2^53, so totals are exact.
const quantity = z
  .number()
  .gt(0)
  .max(9_999)
  .refine((q) => Math.abs(q * 10_000 - Math.round(q * 10_000)) < 1e-6, { message: 'must have at most 4 decimal places' })
  .refine((q) => q <= 0 || Math.round(q * 10_000) >= 1, { message: 'must be at least 0.0001' })
  // The exact ten-thousandths: float dust never reaches storage (DynamoDB numbers stop at 1e-130).
  .transform((q) => Math.round(q * 10_000) / 10_000);

export const orderBodySchema = z.object({
  integrationHubServiceId: guid,
  items: z
    .array(
      z.object({
        // cProd (TString 1–60) and xProd (TString 1–120).
        sku: identifier(60),
        name: nfceText({ max: 120, required: true }),
        quantity,
        unitPrice: reais({ max: 100_000 }),
        // uCom / uTrib (TString 1–6).
        unit: nfceText({ max: 6, required: true }).default('UN'),
      }),
    )
    .min(1)
    .max(500)
    // A tab no payment could match is refused now, not when it is paid.
    .refine(
      (items) =>
        items.reduce(
          (sum, i) => sum + itemTotal({ quantity: Math.round(i.quantity * 10_000), unitPrice: toCentavos(i.unitPrice) }),
          0,
        ) <=
        MAX_AMOUNT_REAIS * 100,
      {
        message: `must add up to at most ${MAX_AMOUNT_REAIS} reais (the largest orderAmount a payment can have)`,
        // Only for items that are each valid: an item's own problem is reported for that item.
        when: (payload) => payload.issues.length === 0,
      },
    ),
  // Part of infCpl (TString 1–5000); may map to nothing.
  notes: nfceText({ max: 500 }).nullish(),
});
export type OrderBody = z.infer<typeof orderBodySchema>;

export const orderPathSchema = z.object({
  orderKeyType: z.enum(ORDER_KEY_TYPES),
  // In infCpl and in the order's key.
  orderKey: orderKeySchema,
});

export interface StoredOrder {
  pk: string;
  integrationHubServiceId: string;
  orderKeyType: (typeof ORDER_KEY_TYPES)[number];
  orderKey: string;
  items: OrderItem[];
  notes?: string;
  /** Who gave the items: the POS (PUT /orders/…) or a Cielo LIO order (`cieloOrderId`). */
  source: 'POS' | 'CIELO';
  cieloOrderId?: string;
  updatedAt: string;
  /** Set when an NFC-e for this order is authorized: another payment needs a new PUT first. */
  invoicedByPaymentId?: string;
  /** The payment issuing (or last issued) from this order: a PUT may not change it meanwhile. */
  lockedByPaymentId?: string;
}

export function toOrderItems(body: OrderBody): OrderItem[] {
  return body.items.map((i) => ({
    sku: i.sku,
    name: i.name,
    quantity: Math.round(i.quantity * 10_000),
    unitPrice: toCentavos(i.unitPrice),
    unit: i.unit,
  }));
}

export class OrderStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(orderRef: string): Promise<StoredOrder | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: orderRef }, ConsistentRead: true }),
    );
    return Item as StoredOrder | undefined;
  }

  /**
   * Replaces the order (true when it existed), unless a payment is issuing from it: only an
   * unlocked order, or one locked by the finished payment `released`, may change. Undefined when
   * it may not.
   */
  async put(order: StoredOrder, released?: string): Promise<boolean | undefined> {
    const written = await unlessConditionFails(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: order,
          ConditionExpression: 'attribute_not_exists(lockedByPaymentId) OR lockedByPaymentId = :released',
          ExpressionAttributeValues: { ':released': released ?? '-' },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return written && written.Attributes !== undefined;
  }

  /**
   * The issuer's read: locks the order for this payment (the slot's current payment, so any other
   * lock belongs to a finished one) and returns it; undefined when there is no order.
   */
  async lockFor(orderRef: string, paymentId: string): Promise<StoredOrder | undefined> {
    const locked = await unlessConditionFails(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: orderRef },
          UpdateExpression: 'SET lockedByPaymentId = :id',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':id': paymentId },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return locked?.Attributes as StoredOrder | undefined;
  }

  /** Marks the order the payment locked (and read) as invoiced by it. */
  async markInvoiced(orderRef: string, paymentId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: orderRef },
        UpdateExpression: 'SET invoicedByPaymentId = :id',
        ConditionExpression: 'lockedByPaymentId = :id',
        ExpressionAttributeValues: { ':id': paymentId },
      }),
    );
  }
}
