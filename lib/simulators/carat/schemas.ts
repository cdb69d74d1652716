import * as z from 'zod';
import { ESITEF_CODES, EsitefError } from './errors.ts';

/** Every value e-SiTef takes is a JSON string (the docs' examples); unknown fields are dropped. */
const text = z.string();

/** `begin_recharge_request`: only merchant_key is required; recharge_type "normal" (the only one simulated). */
export const beginRequest = z.object({
  merchant_key: text.min(1),
  merchant_usn: text.optional(),
  order_id: text.optional(),
  general_hash: text.optional(),
  recharge_type: z.literal('normal').default('normal'),
});
export type BeginRequest = z.infer<typeof beginRequest>;

/** `do_recharge_request`: amounts in centavos as digit strings; card data other than its last 4 is never kept. */
export const doRequest = z.object({
  amount: text,
  amount_key: text.optional(),
  dealer: z.object({ code: text }),
  phone: z.object({ ddd: text, number: text }),
  hashes: z.object({ general: text.optional() }).optional(),
  terminal_type: text.optional(),
  payment: z
    .object({
      amount: text,
      authorizer_id: text.optional(),
      customer_id: text.optional(),
      merchant_key: text.optional(),
      installment: z.object({ number: text.regex(/^\d{1,2}$/), type: text.optional() }).optional(),
      card: z.object({
        token: text.optional(),
        number: text.optional(),
        security_code: text.optional(),
        expiry_date: text.optional(),
      }),
    })
    .optional(),
});
export type DoRequest = z.infer<typeof doRequest>;

/** `confirm_recharge_request`: "true" confirms, "false" undoes. */
export const confirmRequest = z.object({
  confirm: z.enum(['true', 'false']),
  merchant_key: text,
});

/**
 * `input` checked against `schema`; a mismatch is an HTTP 400 EsitefError whose code names the
 * field's kind (dealer, DDD, phone, amount, payment; anything else INVALID_REQUEST).
 */
export function parseRequest<Schema extends z.ZodType>(schema: Schema, input: unknown, status?: string): z.infer<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const path = result.error.issues[0]?.path.map(String) ?? [];
  const field = path.join('.') || 'corpo';
  const [code, what] = fieldKind(path);
  throw new EsitefError(400, code, `${what}: campo ${field} inválido`, status);
}

function fieldKind(path: string[]): [string, string] {
  switch (path[0]) {
    case 'dealer':
      return [ESITEF_CODES.DEALER_INVALID, 'Concessionária inválida'];
    case 'phone':
      return path[1] === 'ddd' ? [ESITEF_CODES.DDD_INVALID, 'DDD inválido'] : [ESITEF_CODES.PHONE_INVALID, 'Telefone inválido'];
    case 'amount':
    case 'amount_key':
      return [ESITEF_CODES.AMOUNT_INVALID, 'Valor inválido'];
    case 'payment':
      return [ESITEF_CODES.PAYMENT_INVALID, 'Pagamento inválido'];
    default:
      return [ESITEF_CODES.INVALID_REQUEST, 'Requisição inválida'];
  }
}
