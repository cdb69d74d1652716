import {
  bonusOf,
  CARAT_CATALOGUE,
  CREDIT_VALIDITY_DAYS,
  findDealer,
  findRange,
  type CaratAmountRange,
  type CaratDealer,
} from './catalogue.ts';
import type { EsitefError } from './errors.ts';
import type { Authorization, Merchant, StoredRecharge } from './recharges.ts';
import type { CaratTransaction } from './types.ts';

/** An answer's JSON: one root key ("begin_recharge_response"…) holding the response object; every value a string. */
export type Envelope = Record<string, Record<string, unknown>>;

const TRANSACTION_OK = { message: 'OK. Transaction successful.', code: '0' };
const OK = { message: 'OK', code: '0' };
/** Id of the carriers/branches/amounts table (hashes.general): the docs' example value, never changing here. */
const GENERAL_HASH = '09A9681D09A9681D';
/** The acquirer's branch of every store. */
const BRANCH_CODE = '0001';
/** Brasília is UTC−3 (no daylight saving since 2019): authorizer dates and receipts use it. */
const BRASILIA_OFFSET_MS = -3 * 60 * 60 * 1000;

export function beginResponse(): Envelope {
  return { begin_recharge_response: { esitef: TRANSACTION_OK } };
}

/** The four carriers, codes zero-padded. */
export function dealersResponse(): Envelope {
  return {
    list_dealers_response: {
      status: 'NOV',
      esitef: TRANSACTION_OK,
      authorizer: { message: '', code: '000' },
      hashes: { general: GENERAL_HASH },
      dealers: CARAT_CATALOGUE.map(({ name, code }) => ({ name, code })),
    },
  };
}

/** `dealer`'s amount ranges, in one "Recarga" category. */
export function branchesResponse(dealer: CaratDealer): Envelope {
  return {
    list_branch_data_response: {
      status: 'NOV',
      esitef: TRANSACTION_OK,
      sitef: { code: '0' },
      hashes: { general: GENERAL_HASH },
      questions: [],
      general: [{ message: `Recarga ${dealer.name}: créditos válidos por ${CREDIT_VALIDITY_DAYS} dias.` }],
      categories: [{ code: '1', description: 'Recarga', amount_ranges: dealer.ranges.map(amountRange) }],
    },
  };
}

/** A fixed range's payment_amount is its value; a free range's is "" (the amount the customer picks). */
function amountRange(range: CaratAmountRange): Record<string, string> {
  const fixed = range.min === range.max;
  return {
    message: fixed ? reais(range.min) : `${reais(range.min)} a ${reais(range.max)}`,
    amount_key: range.amountKey,
    bonus_in_percentage: String(range.bonusPercent),
    bonus: String(fixed ? bonusOf(range, range.min) : 0),
    payment_amount: fixed ? String(range.min) : '',
    bonus_category: '',
    expiry_date: String(CREDIT_VALIDITY_DAYS),
    bonus_expiry_date: range.bonusPercent > 0 ? String(CREDIT_VALIDITY_DAYS) : '',
    min_amount: String(range.min),
    max_amount: String(range.max),
  };
}

/** A successful do: PPC with its esitef usn. */
export function doResponse({ transaction }: StoredRecharge, merchant: Merchant): Envelope {
  return {
    do_recharge_response: {
      status: transaction.status,
      order_id: transaction.orderId ?? '',
      merchant_usn: transaction.merchantUsn ?? '',
      esitef: { ...OK, usn: transaction.esitefUsn ?? '' },
      sitef: OK,
      host: OK,
      acquirer: acquirer(merchant),
      ...paymentStatus(transaction.payment),
    },
  };
}

/** A do the carrier denied (NEG). */
export function deniedResponse({ transaction, denial }: StoredRecharge): Envelope {
  return {
    do_recharge_response: {
      status: transaction.status,
      esitef: { code: denial?.code ?? '', message: denial?.message ?? '' },
      ...paymentStatus(transaction.payment),
    },
  };
}

export function confirmResponse({ transaction }: StoredRecharge): Envelope {
  return { confirm_recharge_response: { esitef: OK, status: transaction.status, ...paymentStatus(transaction.payment) } };
}

/**
 * Carat's record of the transaction: the amount and authorizers once a do got through its checks,
 * the authorization and both receipts once a do succeeded.
 */
export function statusResponse(stored: StoredRecharge, merchant: Merchant): Envelope {
  const { transaction, authorization, denial } = stored;
  const dealer = transaction.dealer === undefined ? undefined : findDealer(transaction.dealer);
  const carrier = { name: dealer?.name ?? '', message: denial?.message ?? 'OK', code: (denial?.code ?? '0').padStart(2, '0') };
  return {
    get_status_recharge_response: {
      status: transaction.status,
      order_id: transaction.orderId ?? '',
      merchant_usn: transaction.merchantUsn ?? '',
      ...(transaction.amount === undefined ? {} : { amount: String(transaction.amount) }),
      esitef: OK,
      ...(dealer ? { authorizers: [{ name: 'SiTef', ...OK }, carrier] } : {}),
      acquirer: acquirer(merchant),
      ...(authorization && dealer ? authorized(transaction, authorization, dealer, merchant) : {}),
    },
  };
}

/** An error under `root`: {status? , esitef {code, message}}. */
export function errorResponse(root: string, error: EsitefError): Envelope {
  return {
    [root]: {
      ...(error.status === undefined ? {} : { status: error.status }),
      esitef: { code: error.code, message: error.message },
    },
  };
}

/**
 * `envelope` with fields Carat may add without notice (spec §0), which clients must ignore:
 * "tef_version" and "extra" on the response object, "ext" on every object nested in it.
 */
export function withUnknownFields(envelope: Envelope): Envelope {
  return Object.fromEntries(
    Object.entries(envelope).map(([root, response]) => [
      root,
      { ...taggedFields(response), tef_version: '3.1', extra: { x: '1' } },
    ]),
  );
}

function taggedFields(object: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, tagged(value)]));
}

function tagged(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tagged);
  if (value === null || typeof value !== 'object') return value;
  return { ...taggedFields(value), ext: '1' };
}

function acquirer(merchant: Merchant): Record<string, string> {
  return { branch_code: BRANCH_CODE, merchant_code: merchant.merchantCode };
}

function paymentStatus(payment: { status: string } | undefined): { payment?: { status: string } } {
  return payment ? { payment: { status: payment.status } } : {};
}

/**
 * The authorization block and both receipts (the phone masked but its last 4 digits, no card data
 * at all) of a successful do.
 */
function authorized(transaction: CaratTransaction, authorization: Authorization, dealer: CaratDealer, merchant: Merchant) {
  const amount = transaction.amount ?? 0;
  const range = findRange(dealer, amount, transaction.amountKey);
  const bonus = range ? bonusOf(range, amount) : 0;
  const phone = `${transaction.ddd ?? ''}${transaction.phone ?? ''}`;
  const time = brasilia(authorization.at);
  const recharge = [
    `OPERADORA: ${dealer.name.toUpperCase()}`,
    `TELEFONE: ${'*'.repeat(Math.max(phone.length - 4, 0))}${phone.slice(-4)}`,
    `VALOR: ${reais(amount)}`,
    ...(bonus > 0 ? [`BONUS: ${reais(bonus)}`] : []),
    `DATA: ${time.display}`,
    `NSU SITEF: ${authorization.sitefUsn}`,
    `AUTORIZACAO: ${authorization.number}`,
  ];
  const customer = ['COMPROVANTE DE RECARGA', 'VIA CLIENTE', ...recharge, `CREDITOS VALIDOS POR ${CREDIT_VALIDITY_DAYS} DIAS`];
  const store = [
    'COMPROVANTE DE RECARGA',
    'VIA ESTABELECIMENTO',
    `ESTAB: ${merchant.merchantCode}`,
    ...recharge,
    `NSU HOST: ${authorization.hostUsn}`,
  ];
  return {
    authorization: {
      confirmation_data: authorization.confirmationData,
      authorizer_date: time.yyyymmdd,
      authorizer_time: time.hhmm,
      host_usn: authorization.hostUsn,
      sitef_usn: authorization.sitefUsn,
      number: authorization.number,
    },
    customer: { total_copies: '1', receipt: customer.join('\n') },
    merchant: { total_copies: '1', receipt: store.join('\n') },
  };
}

/** "R$ 1.234,50" for 123450 centavos. */
function reais(centavos: number): string {
  const whole = String(Math.floor(centavos / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `R$ ${whole},${String(centavos % 100).padStart(2, '0')}`;
}

/** Brasília date and time of epoch `ms`: yyyyMMdd, HHmm and "dd/MM/yyyy HH:mm". */
function brasilia(ms: number): { yyyymmdd: string; hhmm: string; display: string } {
  const iso = new Date(ms + BRASILIA_OFFSET_MS).toISOString();
  const [year, month, day, hour, minute] = [
    iso.slice(0, 4),
    iso.slice(5, 7),
    iso.slice(8, 10),
    iso.slice(11, 13),
    iso.slice(14, 16),
  ];
  return { yyyymmdd: `${year}${month}${day}`, hhmm: `${hour}${minute}`, display: `${day}/${month}/${year} ${hour}:${minute}` };
}
