/**
 * A mobile recharge as the backend keeps it (Carat e-SiTef "Recarga REST", spec
 * ../shared/specs/carat-esitef-recarga.md and seed 002): its e-SiTef status, the NIT the
 * authenticity POST brought, what the store chose, the store's decision to confirm or undo, the
 * call whose answer is still unknown, and every e-SiTef answer. Plain data and rules; no AWS.
 */
import { formatReais } from '../shared/money.ts';

/**
 * e-SiTef's transaction statuses (spec §3), and ours: `BEGIN` — begun, its NIT not yet received
 * (e-SiTef has it as NOV already).
 */
export const ESITEF_STATUSES = {
  NOV: 'new',
  INV: 'invalid (creation failed)',
  PPC: 'pending confirmation',
  PPN: 'undone (pending, not confirmed)',
  PEN: 'awaiting the financial institution',
  CON: 'confirmed',
  NEG: 'denied',
  ERR: 'authorizer communication error',
  BLQ: 'blocked',
  EXP: 'expired',
  EST: 'reversed',
  AGU: 'awaiting the user',
  ABA: 'abandoned',
  CAN: 'cancelled by the user',
  RET: 'denied, scheduled for retry',
} as const;
export type EsitefStatus = keyof typeof ESITEF_STATUSES;
export type RechargeStatus = EsitefStatus | 'BEGIN';

/** Statuses after which nothing more happens to the recharge (spec §4: CON, PPN, NEG, CAN final; EXP and INV never moved money). */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['CON', 'PPN', 'NEG', 'CAN', 'EST', 'ABA', 'EXP', 'INV', 'BLQ']);

export function describeStatus(status: string): string {
  if (status === 'BEGIN') return 'begun; waiting for e-SiTef’s authenticity POST with the NIT';
  return (ESITEF_STATUSES as Record<string, string>)[status] ?? 'a status e-SiTef did not document';
}

/** An e-SiTef call of the flow, in its order. */
export type EsitefStep = 'begin' | 'dealers' | 'branches' | 'do' | 'confirm' | 'status';

/** e-SiTef's result blocks of one answer: `esitef` (with the usn of a recharge), `sitef`, `host`. */
export interface ResultCode {
  code: string;
  message: string;
}

/** One call to e-SiTef and what came back; kept on the recharge in order (every answer recorded). */
export interface StepRecord {
  step: EsitefStep | 'authenticity';
  /** `-03:00` */
  at: string;
  /** `answered` (an answer, accepting or refusing), `unknown` (sent, no answer: timeout, reset, 5xx, unreadable), `unreachable` (never sent). */
  outcome: 'answered' | 'unknown' | 'unreachable';
  httpStatus?: number;
  /** The transaction status the answer gave. */
  status?: string;
  esitef?: ResultCode & { usn?: string };
  sitef?: ResultCode;
  host?: ResultCode;
  /** The card payment's status, when the recharge is paid by card. */
  paymentStatus?: string;
  /** What went wrong, in our words (no NIT, token or phone in it). */
  detail?: string;
}

/** What the store chose for the recharge; amounts in centavos. */
export interface RechargeChoice {
  /** The carrier code as the store and the wire use it, unpadded (`"1"`; e-SiTef lists `"001"`). */
  dealer: string;
  ddd: string;
  /** 9 digits, starting with 9. */
  phone: string;
  amountCentavos: number;
  amountKey?: string;
  withPayment: boolean;
  /** When the do was sent (`-03:00`): the age of an unsettled recharge counts from here. */
  at: string;
}

/** The store's decision (or the reconciler's, which is always undo), recorded before it is sent. */
export interface Decision {
  confirm: boolean;
  by: 'store' | 'reconciler';
  /** `-03:00` */
  at: string;
}

/** A value range of a carrier for a DDD, from e-SiTef's branch data; amounts in centavos. */
export interface AmountRange {
  amountKey: string;
  category: string;
  message: string;
  minCentavos: number;
  maxCentavos: number;
  bonusCentavos: number;
  bonusPercent: string;
  /** e-SiTef's `expiry_date` / `bonus_expiry_date`, as given (days or a date: not documented). */
  validity: string;
  bonusValidity: string;
}

export interface Recharge {
  integrationHubServiceId: string;
  rechargeId: string;
  /** e-SiTef's `merchant_usn`: a numeric sequence per store. */
  merchantUsn: string;
  /** The store's reference, e-SiTef's `order_id`. */
  orderId?: string;
  status: RechargeStatus;
  /** The 64-character NIT; never logged. */
  nit?: string;
  /** e-SiTef's usn of the recharge (do's answer). */
  esitefUsn?: string;
  /** The carriers e-SiTef listed (unpadded code → name). */
  dealers?: Record<string, string>;
  /** Branch data read, by `<ddd>:<dealer>`. */
  branches?: Record<string, AmountRange[]>;
  choice?: RechargeChoice;
  decision?: Decision;
  /** A call sent to e-SiTef whose answer is not known (in flight, or lost): the reconciler settles it. */
  inFlight?: { step: 'do' | 'confirm'; since: string; lost: boolean };
  receipts?: { customer?: string; merchant?: string };
  steps: StepRecord[];
  /** Reconciliation: attempts so far and the last problem, while the recharge is unsettled. */
  settleAttempts?: number;
  settleProblem?: string;
  /** A reconciler run holds the recharge until then (ISO): a second run at once skips it. */
  claimedUntil?: string;
  createdAt: string;
  updatedAt: string;
  /** Optimistic concurrency: every write is conditional on the version read. */
  version: number;
}

/**
 * Whether the recharge waits for the reconciler: a do was sent and the recharge is not final —
 * its answer lost, PPC waiting for the decision, the decision not yet applied, or a status to
 * check again (ERR, PEN…). A do refused while the NIT stays NOV moved nothing: not pending.
 */
export function needsSettlement(recharge: Pick<Recharge, 'choice' | 'status' | 'inFlight'>): boolean {
  if (!recharge.choice || FINAL_STATUSES.has(recharge.status)) return false;
  return recharge.inFlight !== undefined || recharge.status !== 'NOV';
}

/** The step the store should call next, for answers and 409s. */
export type ExpectedStep = 'authenticity' | 'recharge' | 'confirmation' | 'reconciliation' | 'none';

/**
 * What may happen next: `authenticity` (the NIT has not arrived), `recharge` (NOV: dealers,
 * branches and the PUT), `confirmation` (PPC), `reconciliation` (a do or confirm whose answer was
 * lost, or a status to check again), `none` (final).
 */
export function expectedStep(recharge: Pick<Recharge, 'status' | 'inFlight' | 'decision' | 'nit'>): ExpectedStep {
  if (recharge.inFlight) return 'reconciliation';
  if (FINAL_STATUSES.has(recharge.status)) return 'none';
  if (recharge.status === 'BEGIN') return 'authenticity';
  if (recharge.status === 'NOV') return recharge.nit ? 'recharge' : 'authenticity';
  if (recharge.status === 'PPC') return recharge.decision ? 'reconciliation' : 'confirmation';
  return 'reconciliation';
}

const STEP_TEXT: Record<ExpectedStep, string> = {
  authenticity: 'wait for e-SiTef’s authenticity POST with the NIT (GET /recharges/{id} shows when it arrived)',
  recharge: 'PUT /recharges/{id} with the recharge (GET …/dealers and …/branches first)',
  confirmation: 'POST /recharges/{id}/confirmation',
  reconciliation: 'none now: e-SiTef’s answer to the last call is awaited, or the reconciler settles it (GET /recharges/{id})',
  none: 'none: the recharge is finished',
};

/** `expected step: POST /recharges/{id}/confirmation` (for a 409). */
export function expectedStepText(recharge: Pick<Recharge, 'status' | 'inFlight' | 'decision' | 'nit'>): string {
  return STEP_TEXT[expectedStep(recharge)];
}

/**
 * Brazil's 67 area codes (Anatel's Plano de Numeração; the 2-digit DDDs in use since 1999). A
 * number such as 20 or 23 is no area code.
 */
export const BRAZILIAN_DDDS: ReadonlySet<string> = new Set(
  [
    '11 12 13 14 15 16 17 18 19',
    '21 22 24 27 28',
    '31 32 33 34 35 37 38',
    '41 42 43 44 45 46 47 48 49',
    '51 53 54 55',
    '61 62 63 64 65 66 67 68 69',
    '71 73 74 75 77 79',
    '81 82 83 84 85 86 87 88 89',
    '91 92 93 94 95 96 97 98 99',
  ].flatMap((row) => row.split(' ')),
);

/** Every Brazilian mobile number has had 9 digits starting with 9 since Anatel's change of 2016. */
export const MOBILE_NUMBER = /^9\d{8}$/;

/**
 * True when the text holds a card number (PAN), which must never reach us: 13–19 digits passing
 * Luhn's check, written together (`4111111111111111`, inside track data `…=2512…` or
 * `…:123:1228`) or split by anything but letters (`4111.1111.1111.1111`, `4111_1111 1111-1111`).
 */
export function containsCardNumber(text: string): boolean {
  const candidates = [...(text.match(/\d+/g) ?? []), ...text.split(/[A-Za-z]+/).map((part) => part.replace(/\D/g, ''))];
  return candidates.some(passesLuhn);
}

function passesLuhn(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * The range `amount` falls in for the chosen key (or, without a key, the first range that holds
 * it; without an amount, the key's fixed value). Returns the amount and key, or the reason the
 * choice does not fit (naming the field and the allowed values).
 */
export function chooseAmount(
  ranges: readonly AmountRange[],
  wanted: { amountCentavos?: number; amountKey?: string },
): { amountCentavos: number; amountKey: string } | { field: 'amount' | 'amountKey'; message: string } {
  const allowed = ranges.map(describeRange).join(', ');
  if (wanted.amountKey !== undefined) {
    const range = ranges.find((r) => r.amountKey === wanted.amountKey);
    if (!range)
      return { field: 'amountKey', message: `body.amountKey ${wanted.amountKey} is not offered here; offered: ${allowed}` };
    if (wanted.amountCentavos === undefined) {
      if (range.minCentavos !== range.maxCentavos)
        return {
          field: 'amount',
          message: `body.amount is required with amountKey ${range.amountKey} (${describeRange(range)})`,
        };
      return { amountCentavos: range.minCentavos, amountKey: range.amountKey };
    }
    if (wanted.amountCentavos < range.minCentavos || wanted.amountCentavos > range.maxCentavos)
      return { field: 'amount', message: `body.amount must be within amountKey ${range.amountKey}: ${describeRange(range)}` };
    return { amountCentavos: wanted.amountCentavos, amountKey: range.amountKey };
  }
  const amount = wanted.amountCentavos!;
  const range = ranges.find((r) => amount >= r.minCentavos && amount <= r.maxCentavos);
  if (!range) return { field: 'amount', message: `body.amount ${reaisText(amount)} is not offered here; offered: ${allowed}` };
  return { amountCentavos: amount, amountKey: range.amountKey };
}

/** `key 2: R$ 15.00` or `key 99: R$ 10.00 to R$ 500.00`. */
function describeRange(range: AmountRange): string {
  const value =
    range.minCentavos === range.maxCentavos
      ? reaisText(range.minCentavos)
      : `${reaisText(range.minCentavos)} to ${reaisText(range.maxCentavos)}`;
  return `key ${range.amountKey}: ${value}`;
}

function reaisText(centavos: number): string {
  return `R$ ${formatReais(centavos)}`;
}
