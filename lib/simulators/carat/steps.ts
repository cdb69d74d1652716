import type { AuthenticitySender } from './authenticity.ts';
import { findDealer, findRange, validDdd } from './catalogue.ts';
import { ESITEF_CODES, EsitefError } from './errors.ts';
import {
  beginResponse,
  branchesResponse,
  confirmResponse,
  deniedResponse,
  dealersResponse,
  doResponse,
  statusResponse,
  type Envelope,
} from './payloads.ts';
import { digits, type RechargeBook, type StoredRecharge } from './recharges.ts';
import { beginRequest, confirmRequest, doRequest, parseRequest, type DoRequest } from './schemas.ts';
import type { CaratPayment, CaratStep } from './types.ts';

/** The HTTP status and JSON body of an answer. */
export interface StepAnswer {
  status: number;
  body: Envelope;
}

/** The root key of each step's answers, errors included. */
export const RESPONSE_ROOTS: Readonly<Record<CaratStep, string>> = Object.freeze({
  begin: 'begin_recharge_response',
  dealers: 'list_dealers_response',
  branches: 'list_branch_data_response',
  do: 'do_recharge_response',
  confirm: 'confirm_recharge_response',
  status: 'get_status_recharge_response',
});

/** The carrier's refusal of a 'deny' fault: esitef code and message. */
export interface Denial {
  code?: string;
  message?: string;
}

/** The six calls of the recharge flow over `book`; each throws EsitefError for what it refuses. */
export class RechargeSteps {
  constructor(
    private readonly book: RechargeBook,
    private readonly authenticity: AuthenticitySender,
    private readonly now: () => number,
  ) {}

  /**
   * `POST /v3/recharge`, `raw` its body: a NOV transaction, then the authenticity POST to the store;
   * when that fails the transaction is INV and begin answers HTTP 200 with code 131.
   */
  async begin(raw: string): Promise<StepAnswer> {
    const request = parseRequest(beginRequest, requestUnder('begin_recharge_request', jsonObject(raw)));
    const { stored, merchant } = this.book.create(request);
    const { transaction } = stored;
    const form = new URLSearchParams({
      merchantUSN: transaction.merchantUsn ?? '',
      nit: transaction.nit,
      ...(transaction.orderId === undefined ? {} : { orderId: transaction.orderId }),
      status: 'NOV',
      transactionType: 'recarga',
    });
    const invalidate = () => {
      if (this.book.get(transaction.nit)?.transaction.status === 'NOV') this.book.move(stored, 'INV');
    };
    if (!(await this.authenticity.deliver(merchant.authenticityUrl, form.toString(), invalidate)))
      throw new EsitefError(200, ESITEF_CODES.AUTHENTICITY_FAILED, 'Falha no POST de autenticidade');
    return { status: 200, body: beginResponse() };
  }

  /** `GET /v3/rechargedealers?nit=…` */
  dealers(query: URLSearchParams): StepAnswer {
    requireNov(this.book.find(query.get('nit')), 200);
    return { status: 200, body: dealersResponse() };
  }

  /** `GET /v3/rechargebranches?nit=…&ddd=…&dealercode=…` */
  branches(query: URLSearchParams): StepAnswer {
    requireNov(this.book.find(query.get('nit')), 200);
    const dealer = findDealer(query.get('dealercode') ?? '');
    if (!dealer) throw new EsitefError(400, ESITEF_CODES.DEALER_INVALID, 'Concessionária inválida', 'NOV');
    if (!validDdd(query.get('ddd') ?? '')) throw new EsitefError(400, ESITEF_CODES.DDD_INVALID, 'DDD inválido', 'NOV');
    return { status: 200, body: branchesResponse(dealer) };
  }

  /**
   * `PUT /v3/recharge/{nit}` with `do_recharge_request` (`input`): checks it (any refusal: HTTP 400,
   * transaction unchanged), then PPC with a 15-digit esitef usn, or NEG when `denial` is given.
   */
  doRecharge(nit: string, input: unknown, denial?: Denial): StepAnswer {
    const stored = this.book.find(nit);
    const { transaction } = stored;
    transaction.doCalls++;
    requireNov(stored, 400);
    const request = parseRequest(doRequest, input, transaction.status);
    const refuse = (code: string, message: string) => new EsitefError(400, code, message, transaction.status);
    const dealer = findDealer(request.dealer.code);
    if (!dealer) throw refuse(ESITEF_CODES.DEALER_INVALID, 'Concessionária inválida');
    if (!validDdd(request.phone.ddd)) throw refuse(ESITEF_CODES.DDD_INVALID, 'DDD inválido');
    if (!/^\d{8,9}$/.test(request.phone.number)) throw refuse(ESITEF_CODES.PHONE_INVALID, 'Telefone inválido');
    const amount = /^\d{1,12}$/.test(request.amount) ? Number(request.amount) : 0;
    const range = amount > 0 ? findRange(dealer, amount, request.amount_key) : undefined;
    if (!range) throw refuse(ESITEF_CODES.AMOUNT_INVALID, `Valor inválido para a operadora ${dealer.name}`);
    const payment = request.payment && paymentOf(request.payment, amount, transaction.status);
    Object.assign(transaction, {
      amount,
      dealer: dealer.code,
      ddd: request.phone.ddd,
      phone: request.phone.number,
      amountKey: range.amountKey,
      ...(payment ? { payment } : {}),
    });
    if (denial) {
      stored.denial = { code: denial.code ?? ESITEF_CODES.DENIED, message: denial.message ?? 'Recarga negada pela operadora' };
      this.book.move(stored, 'NEG');
      return { status: 400, body: deniedResponse(stored) };
    }
    transaction.esitefUsn = digits(15);
    stored.authorization = {
      at: this.now(),
      confirmationData: digits(10),
      hostUsn: digits(9),
      sitefUsn: digits(6),
      number: digits(6),
    };
    this.book.move(stored, 'PPC');
    return { status: 200, body: doResponse(stored, this.book.merchantOf(stored)) };
  }

  /**
   * `PUT /v3/recharge/{nit}` with `confirm_recharge_request` (`input`): PPC → CON ("true") or PPN
   * ("false"); the same decision again on CON/PPN answers the same success; anything else HTTP 400.
   */
  confirm(nit: string, input: unknown): StepAnswer {
    const stored = this.book.find(nit);
    const { transaction } = stored;
    transaction.confirmCalls++;
    const request = parseRequest(confirmRequest, input, transaction.status);
    this.book.authorize(stored, request.merchant_key);
    const decision = request.confirm === 'true';
    const target = decision ? 'CON' : 'PPN';
    if (transaction.status === 'PPC') this.book.move(stored, target);
    else if (transaction.status !== target)
      throw new EsitefError(
        400,
        ESITEF_CODES.INVALID_STATUS,
        `Transação com status ${transaction.status} não pode ser ${decision ? 'confirmada' : 'desfeita'}`,
        transaction.status,
      );
    transaction.confirmed = decision;
    return { status: 200, body: confirmResponse(stored) };
  }

  /** `GET /v3/recharge/{nit}?merchantkey=…` */
  status(nit: string, query: URLSearchParams): StepAnswer {
    const stored = this.book.find(nit);
    this.book.authorize(stored, query.get('merchantkey'));
    return { status: 200, body: statusResponse(stored, this.book.merchantOf(stored)) };
  }
}

/** `raw` parsed as a JSON object, or HTTP 400 INVALID_REQUEST. */
export function jsonObject(raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new EsitefError(400, ESITEF_CODES.INVALID_REQUEST, 'Requisição inválida: o corpo não é JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new EsitefError(400, ESITEF_CODES.INVALID_REQUEST, 'Requisição inválida: o corpo não é um objeto JSON');
  return parsed as Record<string, unknown>;
}

function requestUnder(root: string, body: Record<string, unknown>): unknown {
  if (!(root in body)) throw new EsitefError(400, ESITEF_CODES.INVALID_REQUEST, `Requisição inválida: falta ${root}`);
  return body[root];
}

/** HTTP `httpStatus` INVALID_STATUS with the status unless the transaction is NOV. */
function requireNov({ transaction }: StoredRecharge, httpStatus: number): void {
  if (transaction.status !== 'NOV')
    throw new EsitefError(
      httpStatus,
      ESITEF_CODES.INVALID_STATUS,
      `Transação com status ${transaction.status} não permite esta operação`,
      transaction.status,
    );
}

/**
 * The payment of a recharge of `amount` centavos: the same amount, and a card token (a card number
 * is accepted too, as the real API does); only the last 4 characters of either are kept.
 */
function paymentOf(payment: NonNullable<DoRequest['payment']>, amount: number, status: string): CaratPayment {
  const refuse = (message: string) => new EsitefError(400, ESITEF_CODES.PAYMENT_INVALID, message, status);
  if (!/^\d{1,12}$/.test(payment.amount) || Number(payment.amount) !== amount)
    throw refuse('Valor do pagamento diferente do valor da recarga');
  const card = payment.card.token || payment.card.number;
  if (!card) throw refuse('Token do cartão ausente');
  return {
    amount,
    tokenLast4: card.slice(-4),
    ...(payment.authorizer_id === undefined ? {} : { authorizerId: payment.authorizer_id }),
    ...(payment.installment === undefined ? {} : { installments: Number(payment.installment.number) }),
    status,
  };
}
