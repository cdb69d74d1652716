import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import { ClientError, type FieldError } from '../shared/http.ts';
import { toCentavos } from '../shared/money.ts';
import { fieldErrors, guid, reais } from '../shared/validation.ts';
import { BRAZILIAN_DDDS, containsCardNumber, MOBILE_NUMBER } from './recharge.ts';
import type { RechargeRequest } from './recharges.ts';

/**
 * The store API's requests (auth mode `bearer`), validated with zod into the project's error
 * format: every problem named with its field. `dealer`, `ddd` and `phone` come as strings or
 * numbers; `amount` in reais (at most 2 decimals) becomes centavos; a card only as e-SiTef's token.
 */

/** A string or a whole number, as text. */
const textOrNumber = z
  .union([z.string(), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)], {
    error: 'must be a string or a whole number',
  })
  .transform((v) => String(v).trim());

/** A carrier's code, padded ("001") or not: unpadded, as e-SiTef's later calls take it (spec §2.3). */
export const dealerCode = textOrNumber.pipe(
  z
    .string()
    .regex(/^\d{1,3}$/, { message: 'must be the carrier’s code from GET /recharges/{id}/dealers, such as 1' })
    .transform((code) => String(Number(code))),
);

export const ddd = textOrNumber.pipe(
  z.string().refine((value) => BRAZILIAN_DDDS.has(value), { message: 'must be a Brazilian area code (DDD) such as 11' }),
);

const phone = textOrNumber.pipe(
  z
    .string()
    .transform((value) => value.replace(/[\s().-]/g, ''))
    .pipe(z.string().regex(MOBILE_NUMBER, { message: 'must be a mobile number: 9 digits starting with 9, without the DDD' })),
);

const amountKey = textOrNumber.pipe(
  z.string().regex(/^[A-Za-z0-9]{1,10}$/, { message: 'must be an amountKey from GET /recharges/{id}/branches' }),
);

/** e-SiTef's card token (the store tokenizes the card with e-SiTef; a card number never reaches us). */
const cardToken = z.string().regex(/^[A-Za-z0-9+/=_.:-]{16,512}$/, {
  message: 'must be the card token e-SiTef issued (16 to 512 letters, digits or +/=_.:-)',
});
// (A card number written as the token is refused by cardDataErrors, with its own message.)

const paymentSchema = z.strictObject({
  cardToken,
  /** e-SiTef's authorizer (card brand) code. */
  authorizerId: textOrNumber
    .pipe(z.string().regex(/^\d{1,5}$/, { message: 'must be e-SiTef’s authorizer code (digits)' }))
    .optional(),
  installments: z.number().int().min(1).max(12).default(1),
  customerId: z
    .string()
    .regex(/^[\x21-\x7e]{1,40}$/, { message: 'must be 1 to 40 printable characters' })
    .optional(),
});

export const startBodySchema = z.strictObject({
  /** The store's reference (e-SiTef's order_id): the same orderId again answers the same recharge. */
  orderId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,20}$/, { message: 'must be 1 to 20 letters, digits or ._-' })
    .optional(),
});

export const rechargeBodySchema = z
  .strictObject({
    dealer: dealerCode,
    ddd,
    phone,
    amount: reais({ positive: true }).optional(),
    amountKey: amountKey.optional(),
    payment: paymentSchema.optional(),
  })
  .refine((body) => body.amount !== undefined || body.amountKey !== undefined, {
    message: 'or body.amountKey is required (amount in reais)',
    path: ['amount'],
  });

export const confirmationBodySchema = z.strictObject({ confirm: z.boolean() });

export const branchesQuerySchema = z.strictObject({ ddd, dealer: dealerCode });

const pathSchema = z.object({ rechargeId: guid });

/** Names that hold card data; refused wherever they appear in a body (PCI: the backend never takes a card). */
const CARD_FIELD = /^(card_?number|number|pan|cvv2?|cvc2?|security_?code|expir(y|ation)(_?date)?|card)$/i;

/**
 * Card numbers and security codes anywhere in a body: a property named like one, or a string or
 * number that is a valid card number (13–19 digits passing Luhn). Never quotes the value.
 */
export function cardDataErrors(body: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const walk = (value: unknown, path: string[], depth: number) => {
    if (depth > 4 || errors.length >= 10) return;
    if ((typeof value === 'string' || typeof value === 'number') && containsCardNumber(String(value)))
      errors.push({
        key: path.join('.') || 'body',
        message: `${['body', ...path].join('.')} holds a card number: send only payment.cardToken, e-SiTef’s token`,
      });
    if (value === null || typeof value !== 'object') return;
    for (const [name, inner] of Object.entries(value)) {
      if (CARD_FIELD.test(name))
        errors.push({
          key: [...path, name].join('.'),
          message: `body.${[...path, name].join('.')}: card numbers, security codes and expiry dates are not accepted; tokenize the card with e-SiTef and send payment.cardToken`,
        });
      else walk(inner, [...path, name], depth + 1);
    }
  };
  walk(body, [], 0);
  return errors;
}

/** The rechargeId of the path; ClientError 400 when it is not a GUID. */
export function rechargeIdOf(event: Pick<APIGatewayProxyEvent, 'pathParameters'>): string {
  return parse(pathSchema, event.pathParameters ?? {}, 'path').rechargeId;
}

/** Parses `value` or throws ClientError 400 with every problem (card data first, for bodies). */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'path' | 'query'): z.output<T> {
  const card = where === 'body' ? cardDataErrors(value) : [];
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success && card.length === 0) return parsed.data;
  // A card field named above is not listed again as an unknown key.
  const issues = parsed.success
    ? []
    : parsed.error.issues.filter((issue) => card.length === 0 || issue.code !== 'unrecognized_keys');
  throw new ClientError(400, [...card, ...(issues.length > 0 ? fieldErrors(new z.ZodError(issues), where) : [])]);
}

/** The PUT body as the use case takes it (amount in centavos). */
export function rechargeRequest(body: z.output<typeof rechargeBodySchema>): RechargeRequest {
  return {
    dealer: body.dealer,
    ddd: body.ddd,
    phone: body.phone,
    ...(body.amount !== undefined ? { amountCentavos: toCentavos(body.amount) } : {}),
    ...(body.amountKey !== undefined ? { amountKey: body.amountKey } : {}),
    ...(body.payment ? { payment: body.payment } : {}),
  };
}
