import * as z from 'zod';
import { parseTaxDocument, type TaxDocument } from '../shared/documents.ts';
import type { FieldError } from '../shared/http.ts';
import { formatReais, toCentavos } from '../shared/money.ts';
import { identifier } from '../shared/text.ts';
import { amount, fieldErrors, guid, positiveAmount } from '../shared/validation.ts';

/**
 * The Order Mesa payment request (seed 003) and its validation. Error messages follow the seed's
 * exact style: `body.<path> must be a string`, `body.<path> is required`,
 * `body.integrationHubServiceId must be a valid GUID`.
 */

export const ORDER_KEY_TYPES = ['TABLE', 'CARD', 'ORDER_ID'] as const;
export const METHOD_TYPES = ['OFFLINE', 'ONLINE'] as const;
export const PAYMENT_METHODS = [
  'CREDIT',
  'DEBIT',
  'MEAL_VOUCHER',
  'FOOD_VOUCHER',
  'DIGITAL_WALLET',
  'PIX',
  'CASH',
  'CREDIT_DEBIT',
  'COUPON',
  'REDEEM',
  'PREPAID_REDEEM',
  'OTHER',
] as const;
export const CARD_METHODS: readonly PaymentMethod[] = ['CREDIT', 'DEBIT', 'CREDIT_DEBIT', 'MEAL_VOUCHER', 'FOOD_VOUCHER'];
export const BRANDS = [
  'VISA',
  'MASTERCARD',
  'DINERS',
  'AMEX',
  'HIPERCARD',
  'ELO',
  'AURA',
  'DISCOVER',
  'VR_BENEFICIOS',
  'SODEXO',
  'TICKET',
  'GOOD_CARD',
  'BANESCARD',
  'SOROCARD',
  'POLICARD',
  'VALECARD',
  'AGICARD',
  'JCB',
  'CREDSYSTEM',
  'CABAL',
  'GREEN_CARD',
  'VEROCHEQUE',
  'AVISTA',
  'OTHER',
] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

const method = z.object({
  value: positiveAmount,
  currency: z.string().regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 currency code such as BRL' }),
  type: z.enum(METHOD_TYPES),
  method: z.enum(PAYMENT_METHODS),
  brand: z.enum(BRANDS).nullish(),
  methodInfo: z.string().max(100).nullish(),
  changeFor: amount.nullish(),
});

/**
 * An order's key, in the payment's body and in `PUT /orders/{orderKeyType}/{orderKey}`: an
 * identifier the NFC-e can carry (shared/text.ts), and one a URL path can name (`.` and `..` are
 * resolved away by every HTTP client, so no PUT could push that order's tab).
 */
export const orderKeySchema = identifier(60).refine((key) => key !== '.' && key !== '..', {
  message: 'must not be "." or ".." (a URL path cannot name that order)',
});

export const paymentRequestSchema = z.object({
  integrationHubServiceId: guid,
  orderKeyType: z.enum(ORDER_KEY_TYPES),
  // In the NFC-e's infCpl and in the order's key: the same rule as the path's orderKey.
  orderKey: orderKeySchema,
  paymentObject: z.object({
    printOrderAtPos: z.boolean(),
    generateInvoice: z.boolean(),
    printInvoiceAtPos: z.boolean(),
    sendInvoiceEmail: z.boolean(),
    summaryExtract: z.boolean(),
    customerDocument: z.string().max(20).nullish(),
    documentInReceipt: z.boolean(),
    numberPersons: z.number().int().min(0).max(9999).nullish(),
    removeServiceFee: z.boolean(),
    methods: z.array(method).min(1).max(20),
    orderAmount: amount,
    discounts: amount.nullish(),
    fees: amount,
    total: positiveAmount,
  }),
});

export type PaymentRequest = z.infer<typeof paymentRequestSchema>;

/** The request's money in integer centavos, as the rest of the backend uses it. */
export interface PaymentAmounts {
  orderAmount: number;
  /** The service fee charged: 0 when `removeServiceFee` is true. */
  fees: number;
  discounts: number;
  total: number;
  methods: { value: number; changeFor: number | null; change: number }[];
}

/**
 * Payments integrated with the store's system (the NFC-e's `tpIntegra` 1): a sale paid on the
 * acquirer's own terminal (Cielo LIO) whose transactions the backend received, so the acquirer's
 * CNPJ and each method's authorization code (`cAut`, index-aligned with `methods`) are known.
 */
export interface IntegratedPayment {
  /** The acquirer's CNPJ, 14 digits (Cielo: 01027058000191). */
  acquirerCnpj: string;
  cAut: (string | null)[];
}

export type ValidPayment = {
  request: PaymentRequest;
  amounts: PaymentAmounts;
  customer: TaxDocument | null;
  integrated?: IntegratedPayment;
};

export type Validation = { ok: true; payment: ValidPayment } | { ok: false; errors: FieldError[] };

export function validatePaymentRequest(body: unknown): Validation {
  const parsed = paymentRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error, 'body') };
  return checkSemantics(parsed.data);
}

/** Checks that need several fields: documents, card brands, cash change and the amounts. */
function checkSemantics(request: PaymentRequest): Validation {
  const errors: FieldError[] = [];
  const fail = (key: string, message: string) => errors.push({ key, message: `body.${key} ${message}` });
  const p = request.paymentObject;

  let customer: TaxDocument | null = null;
  const document = p.customerDocument?.trim() ? p.customerDocument : null;
  if (document !== null) {
    customer = parseTaxDocument(document) ?? null;
    if (!customer)
      fail('paymentObject.customerDocument', 'must be a valid CPF (11 digits) or CNPJ (14 characters) with correct check digits');
  } else if (p.documentInReceipt) {
    fail('paymentObject.customerDocument', 'is required when body.paymentObject.documentInReceipt is true');
  }

  const methods = p.methods.map((m, i) => {
    const key = `paymentObject.methods.${i}`;
    if (m.currency !== 'BRL') fail(`${key}.currency`, 'must be BRL (an NFC-e is issued in reais)');
    if (m.brand && !CARD_METHODS.includes(m.method)) {
      fail(`${key}.brand`, `is only allowed for ${CARD_METHODS.join(', ')} (method is ${m.method})`);
    }
    const value = toCentavos(m.value);
    const changeFor = m.changeFor == null ? null : toCentavos(m.changeFor);
    if (m.method === 'CASH') {
      if (changeFor === null) fail(`${key}.changeFor`, 'is required when method is CASH');
      else if (changeFor < value) fail(`${key}.changeFor`, `must be at least the value paid in cash (${formatReais(value)})`);
    } else if (changeFor !== null && changeFor > 0) {
      fail(`${key}.changeFor`, `is only allowed when method is CASH (method is ${m.method})`);
    }
    return { value, changeFor, change: m.method === 'CASH' && changeFor !== null ? Math.max(0, changeFor - value) : 0 };
  });

  const orderAmount = toCentavos(p.orderAmount);
  const fees = p.removeServiceFee ? 0 : toCentavos(p.fees);
  const discounts = toCentavos(p.discounts ?? 0);
  const total = toCentavos(p.total);
  const expected = orderAmount + fees - discounts;
  if (discounts > orderAmount + fees) {
    fail('paymentObject.discounts', `must not exceed orderAmount + fees (${formatReais(orderAmount + fees)})`);
  } else if (total !== expected) {
    const formula = p.removeServiceFee
      ? `orderAmount − discounts, the fee being removed by removeServiceFee (${formatReais(orderAmount)} − ${formatReais(discounts)} = ${formatReais(expected)})`
      : `orderAmount + fees − discounts (${formatReais(orderAmount)} + ${formatReais(fees)} − ${formatReais(discounts)} = ${formatReais(expected)})`;
    fail('paymentObject.total', `must equal ${formula}, got ${formatReais(total)}`);
  }
  const paid = methods.reduce((sum, m) => sum + m.value, 0);
  if (paid !== total) {
    fail(
      'paymentObject.methods',
      `values must add up to body.paymentObject.total (${formatReais(total)}), got ${formatReais(paid)}`,
    );
  }

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, payment: { request, amounts: { orderAmount, fees, discounts, total, methods }, customer } };
}
