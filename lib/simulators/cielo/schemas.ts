import * as z from 'zod';
import { ApiError } from './errors.ts';

const centavos = z.number().int().min(0);
const text = z.string().nullish();

const itemFields = {
  sku: z.string(),
  name: text,
  description: text,
  unit_price: centavos,
  quantity: z.number().int().min(1),
  unit_of_measure: z.enum(['EACH', 'HOURS', 'DAYS', 'SECONDS', 'CRATE_OF_12', 'SIX_PACK', 'GALLON', 'LITRE']),
  details: text,
  sku_type: z.enum(['PTY', 'UPC', 'EAN', 'GTIN', 'APN']).nullish(),
};

/** `POST /orders/{id}/items`: one item; `quantity` defaults to 1. */
export const itemInput = z.object({ ...itemFields, quantity: itemFields.quantity.default(1) });
export type ItemInput = z.infer<typeof itemInput>;

/** `PUT /orders/{id}/items/{itemId}`: the fields to change; the others keep their values. */
export const itemPatch = z.object(itemFields).partial();
export type ItemPatch = z.infer<typeof itemPatch>;

/** `POST /orders`: DRAFT unless "ENTERED" is asked for; `price` in centavos, kept as given. */
export const orderInput = z.object({
  number: text,
  reference: text,
  status: z.enum(['DRAFT', 'ENTERED']).default('DRAFT'),
  items: z.array(itemInput).min(1),
  notes: text,
  price: centavos,
});
export type OrderInput = z.infer<typeof orderInput>;

const quotas = z.union([z.number().int().min(0), z.string().regex(/^\d+$/).transform(Number)]);
/** The sandbox's payment fields, each key in camelCase (as the docs' example) or snake_case. */
const paymentFields = z.object({
  primaryProductName: text,
  primary_product_name: text,
  secondaryProductName: text,
  secondary_product_name: text,
  numberOfQuotas: quotas.optional(),
  number_of_quotas: quotas.optional(),
});

/** `POST /orders/{id}/transactions` (sandbox): `amount` in centavos; `paymentFields` or `payment_fields`. */
export const transactionInput = z.object({
  external_id: text,
  status: z.enum(['CONFIRMED', 'PENDING', 'CANCELLED']).default('CONFIRMED'),
  terminal_number: text,
  authorization_code: text,
  number: text,
  amount: centavos,
  transaction_type: z.enum(['PAYMENT', 'CANCELLATION']).default('PAYMENT'),
  paymentFields: paymentFields.optional(),
  payment_fields: paymentFields.optional(),
  card: z.object({ brand: text, mask: text }).nullish(),
});
export type TransactionInput = z.infer<typeof transactionInput>;

/**
 * `input` (parsed JSON) checked against `schema`: a required field absent or null (or an empty
 * `items`) is a 422 REQUIRED_FIELD_MISSING, any other mismatch a 400 INVALID_PARAMETER, each naming the field.
 */
export function parseBody<Schema extends z.ZodType>(schema: Schema, input: unknown): z.infer<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const missing = result.error.issues.find(
    (issue) => valueAt(input, issue.path) == null || (issue.code === 'too_small' && issue.origin === 'array'),
  );
  if (missing) throw new ApiError(422, 'REQUIRED_FIELD_MISSING', `${fieldName(missing.path)} is required`);
  const [issue] = result.error.issues;
  throw new ApiError(400, 'INVALID_PARAMETER', issue ? `${fieldName(issue.path)}: ${issue.message}` : 'invalid body');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path)
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.length === 0 ? 'body' : path.map(String).join('.');
}
