import { z } from 'zod';
import { parseTaxDocument, type TaxDocument } from '../shared/documents.ts';
import type { FieldError } from '../shared/http.ts';
import { formatReais, isWholeCentavos, toCentavos } from '../shared/money.ts';

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

/**
 * Lower-case hex only: the seed rejects `02990348-9d85-416d-a573-6dc83eee52eA` as "not a valid
 * GUID", and that string differs from a valid one only by its upper-case last character.
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const CENTAVOS_MESSAGE = 'must be an amount in reais with at most 2 decimal places (whole centavos)';
const amount = z.number().min(0).refine(isWholeCentavos, { message: CENTAVOS_MESSAGE });
const positiveAmount = z.number().gt(0).refine(isWholeCentavos, { message: CENTAVOS_MESSAGE });

const method = z.object({
  value: positiveAmount,
  currency: z.string().regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 currency code such as BRL' }),
  type: z.enum(METHOD_TYPES),
  method: z.enum(PAYMENT_METHODS),
  brand: z.enum(BRANDS).nullish(),
  methodInfo: z.string().max(100).nullish(),
  changeFor: amount.nullish(),
});

export const paymentRequestSchema = z.object({
  integrationHubServiceId: z.string().regex(GUID, { message: 'must be a valid GUID' }),
  orderKeyType: z.enum(ORDER_KEY_TYPES),
  orderKey: z.string().trim().min(1).max(60),
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

export type ValidPayment = {
  request: PaymentRequest;
  amounts: PaymentAmounts;
  customer: TaxDocument | null;
};

export type Validation = { ok: true; payment: ValidPayment } | { ok: false; errors: FieldError[] };

export function validatePaymentRequest(body: unknown): Validation {
  const parsed = paymentRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map(toFieldError) };
  return checkSemantics(parsed.data);
}

function toFieldError(issue: z.core.$ZodIssue): FieldError {
  const key = issue.path.map(String).join('.');
  const subject = key === '' ? 'body' : `body.${key}`;
  return { key: key === '' ? 'body' : key, message: `${subject} ${describe(issue)}` };
}

function describe(issue: z.core.$ZodIssue): string {
  const missing = issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value');
  if (missing) return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.path.length === 0) return 'must be a JSON object';
      return `must be ${article(issue.expected)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return issue.inclusive ? `must be at least ${issue.minimum}` : `must be greater than ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_format':
    case 'custom':
      return issue.message;
    default:
      return `is invalid (${issue.message})`;
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'object' || expected === 'array') return `an ${expected}`;
  return `a ${expected}`;
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
