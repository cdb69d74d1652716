import { createHash } from 'node:crypto';
import * as z from 'zod';

/**
 * Cielo LIO Order Manager notifications (spec cielo-order-manager.md §2, seed 001 "Notificações de
 * Mudanças na Order"), read as leniently as Cielo asks ("o PARSE do json seja dinâmico"): four
 * shapes are recognised — the current status change (the whole order), the current transaction
 * notification (`trasaction`, as documented, or `transaction`), and the legacy `STATUS_CHANGED` /
 * `TRANSACTION_ADDED` — with amounts as numbers or numeric strings, unknown fields ignored, unknown
 * enum values kept as sent (upper-cased), and nulls wherever the examples show values. Only what
 * identifies the order (its id) and the claim (a status, a transaction id) is required; a body
 * without those is `unreadable`, never an exception.
 */

/** An order status as Cielo sends it, upper-cased; `RE_ENTERED` (SDK, sample code) is `RE-ENTERED` (docs). */
export type CieloStatus = string;

/** A transaction with Cielo's field names; `amount` in centavos. */
export interface CieloTransaction {
  id: string;
  external_id: string | null;
  status: string | null;
  terminal_number: string | null;
  authorization_code: string | null;
  /** NSU. */
  number: string | null;
  /** Centavos (Cielo: 1000 = R$ 10,00); null when the notification's value is not a whole number. */
  amount: number | null;
  transaction_type: string | null;
  payment_fields: {
    primary_product_name: string | null;
    secondary_product_name: string | null;
    number_of_quotas: number | null;
  };
  card: { brand: string | null; mask: string | null };
  /** ISO 8601 UTC, or null. */
  updated_at: string | null;
}

/** An order item with Cielo's field names; `unit_price` in centavos, `quantity` as sent (default 1). */
export interface CieloItem {
  id: string | null;
  sku: string | null;
  name: string | null;
  description: string | null;
  unit_price: number | null;
  quantity: number;
  unit_of_measure: string | null;
  details: string | null;
}

/** The order as a status-change notification (or the API) shows it; money in centavos. */
export interface CieloOrderSnapshot {
  number: string | null;
  reference: string | null;
  notes: string | null;
  price: number | null;
  remaining: number | null;
  items: CieloItem[];
  transactions: CieloTransaction[];
}

export type Notification =
  | {
      kind: 'status';
      orderId: string;
      status: CieloStatus;
      /** When the status changed (ISO 8601 UTC): the order's `updated_at`; null when not sent (legacy). */
      at: string | null;
      /** Only the legacy STATUS_CHANGED says what the status was before. */
      previousStatus: CieloStatus | null;
      /** The whole order (current format only). */
      order: CieloOrderSnapshot | null;
    }
  | { kind: 'transaction'; orderId: string; transaction: CieloTransaction }
  | { kind: 'unreadable'; reason: string };

/**
 * A notification's id: the SHA-256 of its raw bytes. Cielo's current formats carry no notification
 * id (`id` is the order's), and a retry repeats the same bytes, so duplicates share it.
 */
export function notificationId(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** `RE_ENTERED` → `RE-ENTERED`; upper case; trimmed. */
export function normalizeStatus(status: string): CieloStatus {
  const upper = status.trim().toUpperCase();
  return upper === 'RE_ENTERED' ? 'RE-ENTERED' : upper;
}

/** Order and transaction ids end up in keys and logs: printable ASCII, no spaces, at most 100 characters. */
const ID = /^[\x21-\x7e]{1,100}$/;

/** A status is a word or two (`RE-ENTERED`, `RE_ENTERED`, a new one): letters, `_`, `-`, spaces. */
const statusText = z
  .string()
  .trim()
  .regex(/^[A-Za-z][A-Za-z _-]{0,39}$/);
const idText = z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(ID));
/** A free text field: a string (numbers become strings); anything else is null. */
const text = z
  .union([z.string(), z.number()])
  // Long enough for any real field (a body cannot make the order's item grow without bound); a lone
  // surrogate, which DynamoDB cannot store as UTF-8, becomes U+FFFD.
  .transform((v) =>
    String(v)
      .slice(0, 500)
      .replace(/\p{Cs}/gu, '\uFFFD'),
  )
  .nullish()
  .catch(null)
  .transform((v) => v ?? null);
const upperText = text.transform((v) => (v === null || v.trim() === '' ? null : v.trim().toUpperCase()));
/** Centavos as a number or a numeric string ("1"); anything else (negative, fractions, words) is null. */
const centavos = z
  .union([z.number(), z.string().trim().regex(/^\d+$/).transform(Number)])
  .pipe(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
  .nullish()
  .catch(null)
  .transform((v) => v ?? null);
const count = z
  .union([
    z.number(),
    z
      .string()
      .trim()
      .regex(/^\d+(\.\d+)?$/)
      .transform(Number),
  ])
  .pipe(z.number().gt(0).max(1_000_000))
  .nullish()
  .catch(null);
const quotas = z
  .union([z.number(), z.string().trim().regex(/^\d+$/).transform(Number)])
  .pipe(z.number().int().min(0).max(999))
  .nullish()
  .catch(null)
  .transform((v) => v ?? null);

/**
 * Cielo's dates: `2023-04-04T16:19:37Z`, with or without fractions, or the compact
 * `20151020T13:13:29.000Z` of the legacy format → ISO 8601 UTC with milliseconds; null otherwise.
 */
export function cieloTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const compact = /^(\d{4})(\d{2})(\d{2})T(.*)$/.exec(value.trim());
  const iso = compact ? `${compact[1]}-${compact[2]}-${compact[3]}T${compact[4]}` : value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/.test(iso)) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
const time = z.unknown().optional().transform(cieloTime);

const object = z.record(z.string(), z.unknown());

/** A transaction in any of the formats: snake_case or camelCase payment fields, legacy `payment_product`. */
const transactionSchema = z
  .object({
    id: idText,
    external_id: text,
    status: upperText,
    terminal_number: text,
    authorization_code: text,
    number: text,
    amount: centavos,
    transaction_type: upperText,
    payment_fields: object.nullish().catch(null),
    paymentFields: object.nullish().catch(null),
    payment_product: object.nullish().catch(null),
    card: object.nullish().catch(null),
    updated_at: time,
  })
  .transform((t): CieloTransaction => {
    const fields = { ...t.paymentFields, ...t.payment_fields };
    const product = t.payment_product ?? {};
    const sub = object.safeParse(product.sub);
    const card = t.card ?? {};
    const bin = text.parse(card.bin);
    const last = text.parse(card.last);
    return {
      id: t.id,
      external_id: t.external_id,
      status: t.status,
      terminal_number: t.terminal_number,
      authorization_code: t.authorization_code,
      number: t.number,
      amount: t.amount,
      transaction_type: t.transaction_type,
      payment_fields: {
        primary_product_name: upperText.parse(fields.primary_product_name ?? fields.primaryProductName ?? product.name),
        secondary_product_name: upperText.parse(
          fields.secondary_product_name ?? fields.secondaryProductName ?? (sub.success ? sub.data.name : undefined),
        ),
        number_of_quotas: quotas.parse(fields.number_of_quotas ?? fields.numberOfQuotas),
      },
      // The legacy card has `bin` and `last`: the mask keeps what PCI DSS allows (first six, last four).
      card: {
        brand: upperText.parse(card.brand),
        mask: text.parse(card.mask) ?? (bin || last ? `${bin ?? ''}******${last ?? ''}` : null),
      },
      updated_at: t.updated_at,
    };
  });

const itemSchema = z
  .object({
    id: text,
    uuid: text,
    sku: text,
    name: text,
    description: text,
    unit_price: centavos,
    quantity: count,
    unit_of_measure: upperText,
    details: text,
  })
  .transform((i): CieloItem => ({
    id: i.id ?? i.uuid,
    sku: i.sku,
    name: i.name,
    description: i.description,
    unit_price: i.unit_price,
    quantity: i.quantity ?? 1,
    unit_of_measure: i.unit_of_measure,
    details: i.details,
  }));

/** A list where each entry that cannot be read is left out rather than failing the whole order. */
function lenientList<T>(schema: z.ZodType<T>) {
  return z
    .array(z.unknown())
    .nullish()
    .catch(null)
    .transform((list) =>
      (list ?? []).flatMap((entry) => {
        const parsed = schema.safeParse(entry);
        return parsed.success ? [parsed.data] : [];
      }),
    );
}

/** The whole order, as the current status change and `GET /orders/{id}` carry it. */
export const orderSnapshotSchema = z
  .object({
    id: idText,
    status: statusText.transform(normalizeStatus),
    number: text,
    reference: text,
    notes: text,
    price: centavos,
    remaining: centavos,
    updated_at: time,
    items: lenientList(itemSchema),
    transactions: lenientList(transactionSchema),
  })
  .transform((o) => ({
    id: o.id,
    status: o.status,
    at: o.updated_at,
    order: {
      number: o.number,
      reference: o.reference,
      notes: o.notes,
      price: o.price,
      remaining: o.remaining,
      items: o.items,
      transactions: o.transactions,
    } satisfies CieloOrderSnapshot,
  }));

const legacyStatusSchema = z.object({
  type: z.literal('STATUS_CHANGED'),
  order_id: idText,
  status: z.object({
    old: statusText.nullish().catch(null),
    new_status: statusText.optional(),
    new: statusText.optional(),
  }),
  updated_at: time,
});

const transactionNotificationSchema = z.object({
  order_id: idText,
  trasaction: z.unknown().optional(),
  transaction: z.unknown().optional(),
});

/** The problem of a zod failure, in a few words (paths, no values: the body may hold card data). */
function problem(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || 'body'}: ${i.code}`)
    .join('; ');
}

/** Reads one notification body (the raw text). Never throws. */
export function parseNotification(body: string): Notification {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // Not the parser's message: Node's quotes the body, which may hold card data, into the logs.
    return { kind: 'unreadable', reason: 'not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { kind: 'unreadable', reason: 'not a JSON object' };
  const fields = json as Record<string, unknown>;

  if (fields.type === 'STATUS_CHANGED') {
    const legacy = legacyStatusSchema.safeParse(json);
    const status = legacy.success ? (legacy.data.status.new_status ?? legacy.data.status.new) : undefined;
    if (!legacy.success || !status)
      return {
        kind: 'unreadable',
        reason: `STATUS_CHANGED without ${legacy.success ? 'status.new_status' : problem(legacy.error)}`,
      };
    const old = legacy.data.status.old;
    return {
      kind: 'status',
      orderId: legacy.data.order_id,
      status: normalizeStatus(status),
      at: legacy.data.updated_at,
      previousStatus: old ? normalizeStatus(old) : null,
      order: null,
    };
  }
  if ('order_id' in fields || fields.type === 'TRANSACTION_ADDED') {
    const envelope = transactionNotificationSchema.safeParse(json);
    if (!envelope.success) return { kind: 'unreadable', reason: `transaction notification: ${problem(envelope.error)}` };
    const transaction = transactionSchema.safeParse(envelope.data.trasaction ?? envelope.data.transaction);
    if (!transaction.success) return { kind: 'unreadable', reason: `transaction: ${problem(transaction.error)}` };
    return { kind: 'transaction', orderId: envelope.data.order_id, transaction: transaction.data };
  }
  const order = orderSnapshotSchema.safeParse(json);
  if (!order.success) return { kind: 'unreadable', reason: `status change: ${problem(order.error)}` };
  return {
    kind: 'status',
    orderId: order.data.id,
    status: order.data.status,
    at: order.data.at,
    previousStatus: null,
    order: order.data.order,
  };
}
