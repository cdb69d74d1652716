/** A step of the recharge flow: what control.calls() counts and control.failNext() targets. */
export type CaratStep = 'begin' | 'dealers' | 'branches' | 'do' | 'confirm' | 'status';

/**
 * A failure injected into one call of a step (control.failNext), taken when the call arrives:
 * - `http`: answered HTTP `status` with `body` (default: a JSON esitef error, code "99"); step not applied.
 * - `esitef`: HTTP 200 whose `esitef.code` is `code` (≠ "0"); step not applied.
 * - `deny` ('do' only): the request is checked as usual, then the carrier denies it: the transaction
 *   goes NEG and the answer is HTTP 400 `do_recharge_response` {status "NEG", esitef {code (default "5"), message}}.
 * - `timeout`: the step is applied first when `apply`; then no answer ever comes (the socket stays open
 *   until the client gives up or the simulator closes).
 * - `reset`: the step is applied first when `apply`; then the socket is destroyed without an answer.
 * - `body`: answered `body` verbatim (HTTP `status`, default 200; content-type application/json),
 *   for malformed answers; step not applied.
 */
export type CaratFault =
  | { kind: 'http'; status: number; body?: string }
  | { kind: 'esitef'; code: string; message: string }
  | { kind: 'deny'; code?: string; message?: string }
  | { kind: 'timeout'; apply: boolean }
  | { kind: 'reset'; apply: boolean }
  | { kind: 'body'; status?: number; body: string };

/**
 * How begin delivers the authenticity POST: `during` (synchronously, before begin answers) or
 * `after` (begin answers success at once, the POST goes `delayMs` later, default 0); `repeat`
 * (default 1) POSTs of the same form, one after the other; the first one's answer decides.
 */
export interface AuthenticityMode {
  when: 'during' | 'after';
  delayMs?: number;
  repeat?: number;
}

/**
 * One authenticity POST made: the URL, the form body sent, the store's HTTP status and answer
 * text; status 0 and `error` when no answer came (timeout, connection failure).
 */
export interface AuthenticityPost {
  url: string;
  body: string;
  status: number;
  answer: string;
  error?: string;
}

/** The card payment of a recharge with payment; never any card data but its last 4 digits. */
export interface CaratPayment {
  /** centavos */
  amount: number;
  /** The last 4 characters of card.token (or of card.number, when a number was sent). */
  tokenLast4: string;
  authorizerId?: string;
  installments?: number;
  /** Follows the transaction's status (PPC, CON, PPN, NEG…). */
  status: string;
}

/** A recharge transaction as control reads it: always a copy, never the simulator's live object. */
export interface CaratTransaction {
  /** 64 alphanumeric characters. */
  nit: string;
  merchantKey: string;
  merchantUsn?: string;
  orderId?: string;
  /** NOV, INV, PPC, CON, PPN, NEG, EXP, or whatever control.setStatus set. */
  status: string;
  /** Every status it went through, in order, starting with NOV. */
  history: string[];
  /** The recharge value in centavos, once a do passed its checks. */
  amount?: number;
  /** The carrier's zero-padded code ("001"). */
  dealer?: string;
  ddd?: string;
  /** The phone number without its DDD, 8 or 9 digits. */
  phone?: string;
  /** The amount range used: the request's amount_key, or the key of the range the amount fell in. */
  amountKey?: string;
  payment?: CaratPayment;
  /** do calls that reached this transaction (refused ones included). */
  doCalls: number;
  /** confirm calls that reached this transaction (refused ones included). */
  confirmCalls: number;
  /** The decision of the last accepted confirm: true confirm, false undo. */
  confirmed?: boolean;
  /** 15 digits, set by a successful do. */
  esitefUsn?: string;
}
