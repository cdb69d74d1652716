import * as z from 'zod';
import type { AmountRange, EsitefStep, ResultCode } from './recharge.ts';

/**
 * Carat e-SiTef "Recarga REST" client (spec ../shared/specs/carat-esitef-recarga.md §2): the
 * `/v3` calls under the base URL (`https://esitef-ec.softwareexpress.com.br/e-sitef` in
 * production), JSON bodies under their root keys (`begin_recharge_request`…), the store
 * authenticated by `merchant_key` (the authenticity-POST mode, §1.1).
 *
 * Every answer is validated (zod): values may come as strings or numbers, unknown fields are
 * ignored (§0: e-SiTef adds fields without notice). An answer with its root key is returned, at
 * any HTTP status (`ok` only for HTTP 200 with `esitef.code` "0"): a refusal is an answer. What is
 * not an answer throws {@link EsitefNoAnswer}: nothing came back (timeout, reset), the call never
 * left (refused connection), or what came back cannot be read.
 */

/** The base URL of e-SiTef's production environment (§0); homologation: esitef-homologacao. */
export const ESITEF_PRODUCTION_URL = 'https://esitef-ec.softwareexpress.com.br/e-sitef';

/**
 * A value e-SiTef sends as a string (documented) or a number (seen in other Carat APIs), cut to a
 * bound: what it says is kept on the recharge, whose record must stay far below DynamoDB's 400 KB.
 */
const bounded = (max: number) => z.union([z.string(), z.number()]).transform((value) => String(value).slice(0, max));
const text = bounded(300);
/** Receipts are whole texts, for printing. */
const receiptText = bounded(8000);
/** Lists kept on the recharge: more carriers or values than any store shows are dropped. */
const MAX_DEALERS = 50;
const MAX_RANGES = 40;
const digits = text.pipe(
  z
    .string()
    .trim()
    .regex(/^\d{1,12}$/, 'must be digits'),
);
const result = z.object({ code: text, message: text.optional().default('') });
const esitefResult = result.extend({ usn: text.optional() });

/** One answer; `ok` is HTTP 200 with esitef.code "0". */
export interface EsitefAnswer {
  step: EsitefStep;
  httpStatus: number;
  ok: boolean;
  esitef: ResultCode & { usn?: string };
  /** The transaction's status, when the answer gives one. */
  status?: string;
  sitef?: ResultCode;
  host?: ResultCode;
  paymentStatus?: string;
}

export interface DealersAnswer extends EsitefAnswer {
  /** Carriers by unpadded code (`"1"`), as the later calls take them (§2.3). */
  dealers: { code: string; name: string }[];
}

export interface BranchesAnswer extends EsitefAnswer {
  ranges: AmountRange[];
}

export interface StatusAnswer extends EsitefAnswer {
  receipts: { customer?: string; merchant?: string };
}

/** `do_recharge_request` as we send it; amounts in centavos. */
export interface DoRequest {
  amountCentavos: number;
  amountKey?: string;
  dealer: string;
  ddd: string;
  phone: string;
  /** A card payment by e-SiTef token only (the backend never sees a card number). */
  payment?: { cardToken: string; authorizerId?: string; installments: number; customerId?: string };
}

/** No answer: `sent` says whether e-SiTef may have received (and applied) the call. */
export class EsitefNoAnswer extends Error {
  override name = 'EsitefNoAnswer';
  constructor(
    readonly step: EsitefStep,
    readonly sent: boolean,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export interface EsitefApi {
  begin(request: { merchantUsn: string; orderId?: string }): Promise<EsitefAnswer>;
  dealers(nit: string): Promise<DealersAnswer>;
  branches(nit: string, ddd: string, dealer: string): Promise<BranchesAnswer>;
  doRecharge(nit: string, request: DoRequest): Promise<EsitefAnswer>;
  confirm(nit: string, confirm: boolean): Promise<EsitefAnswer>;
  status(nit: string): Promise<StatusAnswer>;
}

export interface EsitefClientOptions {
  /** The store's `merchant_key` (< 80 characters): a secret, never logged. */
  merchantKey: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

const beginAnswer = z.object({ begin_recharge_response: z.object({ esitef: esitefResult, status: text.optional() }) });
const dealersAnswer = z.object({
  list_dealers_response: z.object({
    status: text.optional(),
    esitef: esitefResult,
    dealers: z.array(z.object({ name: text, code: digits })).optional(),
  }),
});
const rangeSchema = z.object({
  amount_key: text,
  message: text.optional().default(''),
  min_amount: digits,
  max_amount: digits,
  bonus: digits.optional(),
  bonus_in_percentage: text.optional().default(''),
  expiry_date: text.optional().default(''),
  bonus_expiry_date: text.optional().default(''),
});
const branchesAnswer = z.object({
  list_branch_data_response: z.object({
    status: text.optional(),
    esitef: esitefResult,
    categories: z
      .array(
        z.object({
          code: text.optional(),
          description: text.optional().default(''),
          amount_ranges: z.array(rangeSchema).optional(),
        }),
      )
      .optional(),
  }),
});
const paymentStatus = z.object({ status: text.optional() }).optional();
const doAnswer = z.object({
  do_recharge_response: z.object({
    status: text.optional(),
    esitef: esitefResult,
    sitef: result.optional(),
    host: result.optional(),
    payment: paymentStatus,
  }),
});
const confirmAnswer = z.object({
  confirm_recharge_response: z.object({ status: text.optional(), esitef: esitefResult, payment: paymentStatus }),
});
const receipt = z.object({ receipt: receiptText.optional() }).optional();
const statusAnswer = z.object({
  get_status_recharge_response: z.object({
    status: text.optional(),
    esitef: esitefResult,
    payment: paymentStatus,
    customer: receipt,
    merchant: receipt,
  }),
});

/** A client for one store; `baseUrl` such as {@link ESITEF_PRODUCTION_URL}. */
export function esitefApi(baseUrl: string, options: EsitefClientOptions): EsitefApi {
  const doFetch = options.fetch ?? fetch;
  const base = baseUrl.replace(/\/+$/, '');

  /** The call's HTTP status and parsed JSON body (undefined when not JSON). */
  async function call(step: EsitefStep, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers:
          body === undefined
            ? { accept: 'application/json' }
            : { accept: 'application/json', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw noAnswer(step, error);
    }
    let raw: string;
    try {
      raw = await response.text();
    } catch (error) {
      throw noAnswer(step, error);
    }
    let parsed: unknown;
    try {
      parsed = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    return { httpStatus: response.status, body: parsed };
  }

  /** Reads an answer with `schema`, or throws EsitefNoAnswer (sent) saying what came instead. */
  function read<T>(step: EsitefStep, schema: z.ZodType<T>, { httpStatus, body }: { httpStatus: number; body: unknown }): T {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const what = body === undefined ? 'no JSON body' : 'an answer without the documented fields';
    throw new EsitefNoAnswer(step, true, `e-SiTef answered ${step} with HTTP ${httpStatus} and ${what}`, httpStatus);
  }

  const answer = (
    step: EsitefStep,
    httpStatus: number,
    r: { esitef: EsitefAnswer['esitef']; status?: string | undefined; payment?: { status?: string | undefined } | undefined },
  ): EsitefAnswer => ({
    step,
    httpStatus,
    ok: httpStatus === 200 && r.esitef.code === '0',
    esitef: { code: r.esitef.code, message: r.esitef.message, ...(r.esitef.usn ? { usn: r.esitef.usn } : {}) },
    ...(r.status ? { status: r.status.toUpperCase() } : {}),
    ...(r.payment?.status ? { paymentStatus: r.payment.status.toUpperCase() } : {}),
  });
  const nitPath = (nit: string) => `/v3/recharge/${encodeURIComponent(nit)}`;

  return {
    async begin({ merchantUsn, orderId }) {
      const reply = await call('begin', 'POST', '/v3/recharge', {
        begin_recharge_request: {
          merchant_key: options.merchantKey,
          merchant_usn: merchantUsn,
          ...(orderId ? { order_id: orderId } : {}),
          recharge_type: 'normal',
        },
      });
      return answer('begin', reply.httpStatus, read('begin', beginAnswer, reply).begin_recharge_response);
    },
    async dealers(nit) {
      const reply = await call('dealers', 'GET', `/v3/rechargedealers?${new URLSearchParams({ nit })}`);
      const r = read('dealers', dealersAnswer, reply).list_dealers_response;
      return {
        ...answer('dealers', reply.httpStatus, r),
        // §2.3: listed "001", called "1".
        dealers: (r.dealers ?? [])
          .slice(0, MAX_DEALERS)
          .map((d) => ({ code: String(Number(d.code)), name: d.name.slice(0, 60) })),
      };
    },
    async branches(nit, ddd, dealer) {
      const reply = await call(
        'branches',
        'GET',
        `/v3/rechargebranches?${new URLSearchParams({ nit, ddd, dealercode: dealer })}`,
      );
      const r = read('branches', branchesAnswer, reply).list_branch_data_response;
      const ranges = (r.categories ?? []).flatMap((category) =>
        (category.amount_ranges ?? []).map((range): AmountRange => ({
          amountKey: range.amount_key,
          category: category.description,
          message: range.message,
          minCentavos: Number(range.min_amount),
          maxCentavos: Number(range.max_amount),
          bonusCentavos: Number(range.bonus ?? 0),
          bonusPercent: range.bonus_in_percentage,
          validity: range.expiry_date,
          bonusValidity: range.bonus_expiry_date,
        })),
      );
      return {
        ...answer('branches', reply.httpStatus, r),
        ranges: ranges.filter((range) => range.minCentavos <= range.maxCentavos).slice(0, MAX_RANGES),
      };
    },
    async doRecharge(nit, request) {
      const amount = String(request.amountCentavos);
      const reply = await call('do', 'PUT', nitPath(nit), {
        do_recharge_request: {
          amount,
          ...(request.amountKey ? { amount_key: request.amountKey } : {}),
          dealer: { code: request.dealer },
          phone: { ddd: request.ddd, number: request.phone },
          ...(request.payment
            ? {
                payment: {
                  amount,
                  merchant_key: options.merchantKey,
                  ...(request.payment.authorizerId ? { authorizer_id: request.payment.authorizerId } : {}),
                  ...(request.payment.customerId ? { customer_id: request.payment.customerId } : {}),
                  // type 4: the store's own installment plan ("parcelado loja"); 1 = à vista.
                  installment: {
                    number: String(request.payment.installments),
                    type: request.payment.installments > 1 ? '4' : '1',
                  },
                  card: { token: request.payment.cardToken },
                },
              }
            : {}),
        },
      });
      const r = read('do', doAnswer, reply).do_recharge_response;
      return {
        ...answer('do', reply.httpStatus, r),
        ...(r.sitef ? { sitef: r.sitef } : {}),
        ...(r.host ? { host: r.host } : {}),
      };
    },
    async confirm(nit, confirm) {
      const reply = await call('confirm', 'PUT', nitPath(nit), {
        confirm_recharge_request: { confirm: String(confirm), merchant_key: options.merchantKey },
      });
      return answer('confirm', reply.httpStatus, read('confirm', confirmAnswer, reply).confirm_recharge_response);
    },
    async status(nit) {
      const reply = await call('status', 'GET', `${nitPath(nit)}?${new URLSearchParams({ merchantkey: options.merchantKey })}`);
      const r = read('status', statusAnswer, reply).get_status_recharge_response;
      return {
        ...answer('status', reply.httpStatus, r),
        receipts: {
          ...(r.customer?.receipt ? { customer: r.customer.receipt } : {}),
          ...(r.merchant?.receipt ? { merchant: r.merchant.receipt } : {}),
        },
      };
    },
  };
}

/** A failed fetch: refused or unresolvable → never sent; timeout, reset, TLS after connect → may have been. */
function noAnswer(step: EsitefStep, error: unknown): EsitefNoAnswer {
  const cause = (error as { cause?: { code?: string } }).cause;
  const code = cause?.code ?? (error as Error).name;
  const neverSent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
  const why = (error as Error).name === 'TimeoutError' ? 'no answer in time' : `the connection failed (${code})`;
  return new EsitefNoAnswer(step, !neverSent, `e-SiTef ${step}: ${why}`);
}
