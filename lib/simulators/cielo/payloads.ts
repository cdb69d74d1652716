import { randomUUID } from 'node:crypto';
import type { CieloOrder, CieloStatusNotification, CieloTransaction, CieloTransactionNotification } from './types.ts';

/** The LIO's transaction type codes (v40Code) of the documented products. */
const V40_CODES: Record<string, number> = {
  'CREDITO A VISTA': 4,
  'CREDITO PARCELADO ADM': 5,
  'CREDITO PARCELADO LOJA': 6,
  'DEBITO A VISTA': 8,
};
const CANCELLATION_V40_CODE = 28;

/**
 * The status-change notification's JSON text for the order as it is now. `originals` maps each
 * CANCELLATION transaction's id to the PAYMENT it cancelled.
 */
export function statusNotification(order: CieloOrder, originals: ReadonlyMap<string, string>): string {
  const body: CieloStatusNotification = {
    id: order.id,
    number: order.number,
    reference: order.reference,
    notes: order.notes,
    price: order.price,
    remaining: order.remaining,
    status: order.status,
    created_at: order.created_at,
    updated_at: order.updated_at,
    items: order.items.map((item) => ({
      id: item.id,
      uuid: item.id,
      order_id: order.id,
      sku: item.sku,
      sku_type: item.sku_type,
      name: item.name,
      description: item.description,
      details: item.details,
      quantity: item.quantity,
      unit_price: item.unit_price,
      unit_of_measure: item.unit_of_measure,
      reference: null,
      created_at: item.created_at,
      updated_at: item.updated_at,
    })),
    transactions: order.transactions.map((transaction) => {
      const { primary_product_name: primary, secondary_product_name: secondary } = transaction.payment_fields;
      const productName = [primary, secondary].filter(Boolean).join(' ');
      return {
        id: transaction.id,
        uuid: transaction.id,
        card: { mask: transaction.card.mask, brand: transaction.card.brand },
        amount: transaction.amount,
        number: transaction.number,
        status: transaction.status,
        created_at: transaction.created_at,
        updated_at: transaction.updated_at,
        description: '',
        external_id: transaction.external_id,
        terminal_number: transaction.terminal_number,
        transaction_type: transaction.transaction_type,
        authorization_code: transaction.authorization_code,
        payment_fields: {
          pan: transaction.card.mask,
          v40Code: transaction.transaction_type === 'CANCELLATION' ? CANCELLATION_V40_CODE : (V40_CODES[productName] ?? null),
          typeName: typeName(transaction),
          productName,
          requestDate: Date.parse(transaction.created_at),
          merchantCode: order.merchant,
          applicationId: 'cielo.launcher',
          numberOfQuotas: transaction.payment_fields.number_of_quotas,
          isExternalCall: true,
          applicationName: 'cielo.launcher.ORDER',
          primaryProductName: primary,
          paymentTransactionId: transaction.id,
          secondaryProductName: secondary,
          originalTransactionId: originals.get(transaction.id) ?? '0',
        },
      };
    }),
  };
  return JSON.stringify(jsonbOrdered(body));
}

/** The transaction notification's JSON text for a transaction just added to the order. */
export function transactionNotification(order: CieloOrder, transaction: CieloTransaction): string {
  const body: CieloTransactionNotification = {
    id: randomUUID(),
    order_id: order.id,
    trasaction: {
      id: transaction.id,
      external_id: transaction.external_id,
      description: '',
      status: transaction.status,
      terminal_number: transaction.terminal_number,
      authorization_code: transaction.authorization_code,
      number: transaction.number,
      amount: String(transaction.amount),
      transaction_type: transaction.transaction_type,
      payment_fields: {
        primary_product_name: transaction.payment_fields.primary_product_name,
        secondary_product_name: transaction.payment_fields.secondary_product_name,
        number_of_quotas: String(transaction.payment_fields.number_of_quotas),
      },
      card: { brand: transaction.card.brand, mask: transaction.card.mask },
    },
  };
  return JSON.stringify(body);
}

/** "CANCELAMENTO DE VENDA", "VENDA PIX", "VENDA A <primary product>" or, without one, "VENDA". */
function typeName(transaction: CieloTransaction): string {
  const primary = transaction.payment_fields.primary_product_name;
  if (transaction.transaction_type === 'CANCELLATION') return 'CANCELAMENTO DE VENDA';
  if (primary === 'PIX') return 'VENDA PIX';
  return primary ? `VENDA A ${primary}` : 'VENDA';
}

/**
 * A copy of `value` whose objects list their keys as PostgreSQL's jsonb stores them (shorter keys
 * first, then by bytes), which is the order of every object in Cielo's status-change example.
 */
function jsonbOrdered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonbOrdered);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort(
    (a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  return Object.fromEntries(keys.map((key) => [key, jsonbOrdered((value as Record<string, unknown>)[key])]));
}
