import type { CieloOrderSnapshot, CieloStatus, CieloTransaction, Notification } from './notification.ts';

/**
 * A Cielo order as the backend keeps it: what every notification claimed, merged so that the
 * result does not depend on the order, the number of times or the interleaving of deliveries
 * (Cielo retries, duplicates and reorders them: spec §2 "Política de retentativa"). Each part is a
 * join of what was seen — a set of status observations, the latest snapshot, a per-field latest
 * value of each transaction — so `apply` is commutative, associative and idempotent. Cielo's
 * docs ask the partner to keep the previous status (the current format does not carry it): it is
 * the status before the current one in the history.
 */

/**
 * The status order a tie in `updated_at` is settled with (one second of resolution: place, pay and
 * close may share it). RE-ENTERED (the order payable again, after a payment was cancelled on the
 * LIO) comes after PAID; CANCELED and CLOSED end an order. An unknown status ranks below all.
 */
const STATUS_RANK: Record<string, number> = { DRAFT: 0, ENTERED: 1, PAID: 2, 'RE-ENTERED': 3, CANCELED: 4, CLOSED: 5 };
export const statusRank = (status: CieloStatus): number => STATUS_RANK[status] ?? -1;

/** Statuses that claim money was taken: verified with the API before anything acts on them. */
export const PAID_STATUSES: readonly CieloStatus[] = ['PAID', 'CLOSED'];
/** Progress along the way to CLOSED: what "at or past" means for a money claim (CLOSED confirms PAID). */
export const PAID_PROGRESS: Readonly<Record<string, number>> = { PAID: 1, CLOSED: 2 };
/** Statuses after which an order takes no payment: it stops being "open" for Order Mesa. */
const ENDED: readonly CieloStatus[] = ['CLOSED', 'CANCELED'];

export interface HistoryEntry {
  status: CieloStatus;
  /** ISO 8601 UTC: the notification's `updated_at` (or when it arrived, when it had none). */
  updatedAt: string;
  notificationId: string;
}

/** What the API said about a claim: kept with the claim, so an operator sees both sides. */
export interface Contradiction {
  claim: string;
  claimed: string;
  api: string;
  checkedAt: string;
}

export type VerificationState = 'NONE' | 'PENDING' | 'CONFIRMED' | 'CONTRADICTED';

export interface OrderVerification {
  /** NONE: nothing claimed money; PENDING: a claim waits for the API; CONFIRMED; CONTRADICTED (flagged). */
  state: VerificationState;
  /** The status claim being (or last) verified, `STATUS@updatedAt`. */
  claim: string | null;
  /** The highest status the API confirmed (PAID or CLOSED), and the time of the claim it confirmed (ISO UTC). */
  confirmedStatus: CieloStatus | null;
  confirmedAt: string | null;
  /** The API's status at the last check. */
  apiStatus: CieloStatus | null;
  /** When the current PENDING began, when its job was last queued, when the API was last asked (ISO, -03:00). */
  pendingSince: string | null;
  queuedAt: string | null;
  checkedAt: string | null;
  attempts: number;
  /** Why the last attempt could not reach a verdict (the API down, …). */
  lastError: string | null;
  contradictions: Contradiction[];
}

/** A transaction as kept: Cielo's fields, and its own verification against the API. */
export interface KeptTransaction extends CieloTransaction {
  verification: {
    /** NOT_NEEDED for anything but a CONFIRMED PAYMENT. */
    state: 'NOT_NEEDED' | 'PENDING' | 'CONFIRMED' | 'CONTRADICTED';
    /** The claim verified: `status|type|amount`. */
    claim: string;
    /** The authorization code the API answered (the NFC-e's cAut comes from here). */
    authorization_code?: string | null;
  };
}

export interface InvoiceLink {
  /** The payment (Order Mesa's, or the LIO sale's) issuing the NFC-e. */
  paymentId: string;
  via: 'ORDER_MESA' | 'LIO';
  /**
   * CONTINGENCY: issued offline (tpEmis 9), SEFAZ has not authorized it yet (GET /invoices/{key}
   * says where it stands). CANCELLED: a cancellation Cielo confirmed after the NFC-e cancelled it too.
   */
  status: 'ISSUING' | 'AUTHORIZED' | 'CONTINGENCY' | 'FAILED' | 'CANCELLED';
  key: string | null;
  error: string | null;
  /** The NFC-e's cancellation: its event protocol, or why it was not done (past the 30 minutes, SEFAZ's refusal). */
  cancellation?: { protocol: string } | { refused: string };
}

/** The order's own fields (`number` … `items`, money in centavos) are its latest snapshot's. */
export interface CieloOrderState extends Omit<CieloOrderSnapshot, 'transactions'> {
  /** `<integrationHubServiceId>#<Cielo order id>`. */
  pk: string;
  integrationHubServiceId: string;
  id: string;
  /** The current status (null while only transactions were notified). */
  status: CieloStatus | null;
  previousStatus: CieloStatus | null;
  history: HistoryEntry[];
  transactions: KeptTransaction[];
  verification: OrderVerification;
  invoice: InvoiceLink | null;
  /**
   * Internal: every distinct (status, updatedAt) seen; the history is derived from it. `timed`:
   * the notification had its own `updated_at` (a legacy one is dated when it arrived).
   */
  observations: (HistoryEntry & { previousStatus: CieloStatus | null; timed: boolean })[];
  /** Internal: per order field (number … items), the status notification its value came from: `at|rank|id`. */
  snapshotKeys: Record<string, string>;
  /**
   * Internal: per transaction (`tx:<id>`: an id such as `__proto__` never names a property of the
   * object itself) and field, the version its value came from.
   */
  fieldVersions: Record<string, Record<string, string>>;
  /** Items left out because the order would not fit in one DynamoDB item (400 KB); the archive has them. */
  itemsOmitted?: number;
  /** Notifications applied, most recent last (duplicates are recognised without a write). */
  notificationIds: string[];
  /** Where the order came from: notifications, or the API (an Order Mesa payment looked it up). */
  source: 'NOTIFICATIONS' | 'API';
  createdAt: string;
  updatedAt: string;
  /** Optimistic concurrency: incremented by every write. */
  version: number;
}

const NOTIFICATION_IDS_KEPT = 200;
const OBSERVATIONS_KEPT = 200;

export function orderPk(integrationHubServiceId: string, orderId: string): string {
  return `${integrationHubServiceId}#${orderId}`;
}

export function emptyOrder(integrationHubServiceId: string, orderId: string, now: string): CieloOrderState {
  return {
    pk: orderPk(integrationHubServiceId, orderId),
    integrationHubServiceId,
    id: orderId,
    number: null,
    reference: null,
    notes: null,
    price: null,
    remaining: null,
    items: [],
    status: null,
    previousStatus: null,
    history: [],
    transactions: [],
    verification: {
      state: 'NONE',
      claim: null,
      confirmedStatus: null,
      confirmedAt: null,
      apiStatus: null,
      pendingSince: null,
      queuedAt: null,
      checkedAt: null,
      attempts: 0,
      lastError: null,
      contradictions: [],
    },
    invoice: null,
    observations: [],
    snapshotKeys: {},
    fieldVersions: {},
    notificationIds: [],
    source: 'NOTIFICATIONS',
    createdAt: now,
    updatedAt: now,
    version: 0,
  };
}

/** Sortable key of a status observation: time, then the status order, then the notification. */
function observationKey(o: { updatedAt: string; status: CieloStatus; notificationId: string }): string {
  return `${o.updatedAt}|${String(statusRank(o.status) + 1).padStart(2, '0')}|${o.notificationId}`;
}

const TX_RANK: Record<string, number> = { PENDING: 0, CONFIRMED: 1, CANCELLED: 2 };

/** A transaction version's key: its status order, its time, then its content (a total order). */
function transactionVersion(t: CieloTransaction, notificationId: string): string {
  return `${TX_RANK[t.status ?? ''] ?? -1}|${t.updated_at ?? ''}|${notificationId}`;
}

/** The claim a transaction makes, which its verification is about. */
export function transactionClaim(t: Pick<CieloTransaction, 'status' | 'transaction_type' | 'amount'>): string {
  return `${t.status}|${t.transaction_type}|${t.amount}`;
}

/** A CONFIRMED PAYMENT: money taken (an untyped transaction is a payment, as most are). */
export function claimsPayment(t: Pick<CieloTransaction, 'status' | 'transaction_type'>): boolean {
  return t.status === 'CONFIRMED' && (t.transaction_type === 'PAYMENT' || t.transaction_type === null);
}

/**
 * A CONFIRMED PAYMENT or CANCELLATION moves money, and a cancellation after the NFC-e calls for
 * cancelling it: both are verified with the API before anything acts on them.
 */
export function claimsMoney(t: Pick<CieloTransaction, 'status' | 'transaction_type'>): boolean {
  return claimsPayment(t) || (t.status === 'CONFIRMED' && t.transaction_type === 'CANCELLATION');
}

const TRANSACTION_FIELDS = [
  'external_id',
  'status',
  'terminal_number',
  'authorization_code',
  'number',
  'amount',
  'transaction_type',
  'payment_fields',
  'card',
  'updated_at',
] as const;

/**
 * Merges one version of a transaction: each field keeps the value of the highest version that had
 * one (a later notification's null does not erase what an earlier one said).
 */
function mergeTransaction(state: CieloOrderState, incoming: CieloTransaction, notificationId: string): void {
  const version = transactionVersion(incoming, notificationId);
  const existing = state.transactions.find((t) => t.id === incoming.id);
  const versions = (state.fieldVersions[`tx:${incoming.id}`] ??= {});
  const merged: Record<string, unknown> = existing
    ? { ...existing }
    : { id: incoming.id, verification: { state: 'NOT_NEEDED', claim: '' } };
  const take = (target: Record<string, unknown>, field: string, value: unknown, versionKey: string) => {
    if (value === null) {
      if (!(field in target)) target[field] = null;
      return;
    }
    if (versions[versionKey] === undefined || version > versions[versionKey]!) {
      target[field] = value;
      versions[versionKey] = version;
    }
  };
  for (const field of TRANSACTION_FIELDS) {
    const value = incoming[field];
    if (field === 'card' || field === 'payment_fields') {
      // Field by field: a later notification without the card's brand keeps the earlier one's.
      const group = { ...(merged[field] as Record<string, unknown> | undefined) };
      for (const [name, inner] of Object.entries(value as Record<string, unknown>)) take(group, name, inner, `${field}.${name}`);
      merged[field] = group;
    } else take(merged, field, value, field);
  }
  const kept = merged as unknown as KeptTransaction;
  const claim = transactionClaim(kept);
  if (kept.verification.claim !== claim) {
    kept.verification = { state: claimsMoney(kept) ? 'PENDING' : 'NOT_NEEDED', claim };
  }
  if (existing) state.transactions[state.transactions.indexOf(existing)] = kept;
  else state.transactions.push(kept);
  state.transactions.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** History: the observations in time order, a repeated status folded into its first appearance. */
function deriveHistory(state: CieloOrderState): void {
  // A status without its own time (legacy) that ranks below one Cielo dated is a late notice of an
  // earlier state: dated on arrival, it would move the order back.
  const highestTimed = Math.max(-1, ...state.observations.filter((o) => o.timed).map((o) => statusRank(o.status)));
  const sorted = state.observations
    .filter((o) => o.timed || statusRank(o.status) >= highestTimed)
    .sort((a, b) => (observationKey(a) < observationKey(b) ? -1 : 1));
  const history: HistoryEntry[] = [];
  for (const o of sorted) {
    if (history.at(-1)?.status !== o.status)
      history.push({ status: o.status, updatedAt: o.updatedAt, notificationId: o.notificationId });
  }
  state.history = history;
  state.status = history.at(-1)?.status ?? null;
  // The legacy STATUS_CHANGED said what came before; the history says it better when it knows.
  const legacyPrevious = sorted.at(-1)?.previousStatus ?? null;
  state.previousStatus = history.at(-2)?.status ?? (legacyPrevious !== state.status ? legacyPrevious : null);
}

/**
 * Applies one notification (never an `unreadable` one) to the order's state and returns the new
 * state (the argument is not changed). `receivedAt` (ISO UTC) dates a status without `updated_at`.
 */
export function applyNotification(
  current: CieloOrderState,
  notification: Exclude<Notification, { kind: 'unreadable' }>,
  id: string,
  receivedAt: string,
): CieloOrderState {
  const state: CieloOrderState = structuredClone(current);
  if (!state.notificationIds.includes(id)) state.notificationIds = [...state.notificationIds, id].slice(-NOTIFICATION_IDS_KEPT);

  if (notification.kind === 'transaction') {
    mergeTransaction(state, notification.transaction, id);
  } else {
    const observation = {
      status: notification.status,
      updatedAt: notification.at ?? receivedAt,
      notificationId: id,
      previousStatus: notification.previousStatus,
      timed: notification.at !== null,
    };
    const same = state.observations.find((o) => o.status === observation.status && o.updatedAt === observation.updatedAt);
    if (!same) state.observations = [...state.observations, observation].slice(-OBSERVATIONS_KEPT);
    else if (id < same.notificationId)
      Object.assign(same, { notificationId: id, previousStatus: observation.previousStatus ?? same.previousStatus });
    else same.previousStatus ??= observation.previousStatus;
    deriveHistory(state);

    if (notification.order) {
      // Field by field: a later notification's null (or empty item list) keeps what an earlier one said.
      const key = observationKey(observation);
      const order = notification.order;
      for (const field of ['number', 'reference', 'notes', 'price', 'remaining', 'items'] as const) {
        const value = order[field];
        if (value === null || (Array.isArray(value) && value.length === 0)) continue;
        const held = state.snapshotKeys[field];
        if (held === undefined || key > held) {
          Object.assign(state, { [field]: value });
          state.snapshotKeys[field] = key;
        }
      }
      for (const t of notification.order.transactions) mergeTransaction(state, t, id);
    }
  }
  return state;
}

/** The status claim waiting for the API: PAID or CLOSED, not yet covered by what the API confirmed. */
export function pendingStatusClaim(state: CieloOrderState): string | null {
  const { status } = state;
  if (!status || !PAID_STATUSES.includes(status)) return null;
  const at = state.history.at(-1)!.updatedAt;
  const claim = `${status}@${at}`;
  const { confirmedStatus, confirmedAt, contradictions } = state.verification;
  // Payable again since the API confirmed a payment (RE-ENTERED after a cancellation): a new claim.
  const reopened =
    confirmedAt !== null && state.history.some((h) => !PAID_STATUSES.includes(h.status) && h.updatedAt > confirmedAt);
  if (confirmedStatus && !reopened && (PAID_PROGRESS[confirmedStatus] ?? 0) >= (PAID_PROGRESS[status] ?? 0)) return null;
  if (contradictions.some((c) => c.claim === claim)) return null;
  return claim;
}

/** The current PAID / CLOSED claim when the API contradicted it (and confirmed nothing that covers it). */
export function contradictedStatusClaim(state: CieloOrderState): string | null {
  const { status } = state;
  if (!status || !PAID_STATUSES.includes(status)) return null;
  const claim = `${status}@${state.history.at(-1)!.updatedAt}`;
  return state.verification.contradictions.some((c) => c.claim === claim) ? claim : null;
}

/** The verdict of the order's claims once none waits: CONTRADICTED while any stands contradicted. */
export function verdictOf(state: CieloOrderState): VerificationState {
  if (needsVerification(state)) return 'PENDING';
  if (contradictedStatusClaim(state) || state.transactions.some((t) => t.verification.state === 'CONTRADICTED'))
    return 'CONTRADICTED';
  return state.verification.confirmedStatus || state.transactions.some((t) => t.verification.state === 'CONFIRMED')
    ? 'CONFIRMED'
    : 'NONE';
}

/** True when a claim (the status, a CONFIRMED PAYMENT) waits for the Order Manager API. */
export function needsVerification(state: CieloOrderState): boolean {
  return pendingStatusClaim(state) !== null || state.transactions.some((t) => t.verification.state === 'PENDING');
}

/** True while the order can still take a payment (Order Mesa looks only at these). */
export function isOpen(state: Pick<CieloOrderState, 'status'>): boolean {
  return state.status !== null && !ENDED.includes(state.status);
}

/**
 * A CANCELLATION the API confirmed, after the order's NFC-e: the NFC-e must be cancelled too
 * (verify.ts does it within the 30 minutes; an operator past them).
 */
export function cancellationAfterInvoice(state: CieloOrderState): KeptTransaction | undefined {
  if (!state.invoice?.key) return undefined;
  return state.transactions.find((t) => t.transaction_type === 'CANCELLATION' && t.verification.state === 'CONFIRMED');
}

/** The confirmed cancellation whose NFC-e is still to be cancelled (not tried, or SEFAZ was away). */
export function pendingNfceCancellation(state: CieloOrderState): KeptTransaction | undefined {
  // CONTINGENCY: SEFAZ may have authorized it since (the link is not updated); the cancellation says.
  const cancellable = state.invoice?.status === 'AUTHORIZED' || state.invoice?.status === 'CONTINGENCY';
  if (!cancellable || (state.invoice!.cancellation && 'refused' in state.invoice!.cancellation)) return undefined;
  return cancellationAfterInvoice(state);
}

/** A payment the API confirmed at the LIO for an order the POS paid through Order Mesa: paid twice. */
function paidTwice(state: CieloOrderState): KeptTransaction | undefined {
  if (state.invoice?.via !== 'ORDER_MESA' || state.invoice.status === 'FAILED') return undefined;
  return state.transactions.find((t) => claimsPayment(t) && t.verification.state === 'CONFIRMED');
}

/** What an operator must look at in this order, in words (empty when nothing). */
export function attentionOf(state: CieloOrderState): string[] {
  const reasons: string[] = [];
  const contradicted = contradictedStatusClaim(state);
  if (contradicted) reasons.push(`the Order Manager API contradicts a claim (${contradicted}): nothing was done with it`);
  for (const t of state.transactions)
    if (t.verification.state === 'CONTRADICTED') reasons.push(`transaction ${t.id} is contradicted by the Order Manager API`);
  if (state.invoice?.status === 'FAILED')
    reasons.push(`the NFC-e of this order failed: ${state.invoice.error ?? 'see the payment'}`);
  const twice = paidTwice(state);
  if (twice)
    reasons.push(
      `PAID_TWICE: the POS paid this order through Order Mesa (NFC-e ${state.invoice!.key ?? 'being issued'}) and the LIO took payment ${twice.id} too; refund one`,
    );
  if (state.itemsOmitted)
    reasons.push(
      `${state.itemsOmitted} items were not kept (the order exceeds what one record holds); the archived notification has them`,
    );
  const cancellation = cancellationAfterInvoice(state);
  const refused =
    state.invoice?.cancellation && 'refused' in state.invoice.cancellation ? state.invoice.cancellation.refused : null;
  if (cancellation && state.invoice?.status !== 'CANCELLED')
    reasons.push(
      `NFCE_CANCELLATION: transaction ${cancellation.id} cancelled the sale whose NFC-e ${state.invoice!.key} was authorized; ${refused ? `it could not be cancelled (${refused}): cancel or handle it by hand` : 'the NFC-e must be cancelled'}`,
    );
  return reasons;
}
