import { saoPauloIso } from '../shared/time.ts';
import { CieloRefused, CieloUnavailable, type ApiOrder, type OrderManagerApi } from './api.ts';
import { CieloSetupProblem, type CieloConfig, type CieloCredentials } from './config.ts';
import type { LioSaleOutcome } from './lio-sale.ts';
import type { VerificationJob } from './notify.ts';
import {
  claimsMoney,
  needsVerification,
  PAID_PROGRESS,
  PAID_STATUSES,
  pendingNfceCancellation,
  pendingStatusClaim,
  transactionClaim,
  verdictOf,
  type CieloOrderState,
  type Contradiction,
} from './order-state.ts';
import { updateOrder, type CieloOrders } from './store.ts';

/**
 * Trust, but verify (issue: "before a PAID or CLOSED notification, or a CONFIRMED payment
 * transaction, triggers anything that touches money or fiscal documents, the backend confirms it
 * with the Order Manager API"). The API's answer settles each pending claim:
 * - a PAID or CLOSED status is confirmed by an API status at or past it on the way to CLOSED (the
 *   API saying CLOSED confirms PAID); anything else (ENTERED, RE-ENTERED, CANCELED, no such order)
 *   contradicts it;
 * - a CONFIRMED PAYMENT (or CANCELLATION) is confirmed when the API lists the same transaction,
 *   CONFIRMED, of the same type and amount; its `authorization_code` is taken from the API (the
 *   NFC-e's cAut).
 * A contradicted claim stays in the order, flagged with what each side said, and nothing acts on
 * it. An API that cannot answer (down, 5xx, 429, a timeout) leaves the claim PENDING: the job is
 * retried, and the sweep re-queues what stays pending; it never counts as a confirmation.
 */
export interface VerifyDeps {
  orders: Pick<CieloOrders, 'get' | 'save'>;
  config: Pick<CieloConfig, 'load'>;
  api: (credentials: CieloCredentials) => OrderManagerApi;
  /** Orders paid at the LIO: their NFC-e, when the integration asks for it (lio-sale.ts). */
  startLioSale: (state: CieloOrderState, order: ApiOrder, correlationId: string) => Promise<LioSaleOutcome>;
  /**
   * Cancels the order's NFC-e (110111, functions/nfce/cancellation.ts). Resolves to its protocol, or
   * to why it was refused for good (past the 30 minutes, SEFAZ's rejection); throws when SEFAZ did
   * not answer (the job is retried).
   */
  cancelNfce: (request: {
    chave: string;
    integrationHubServiceId: string;
    justification: string;
  }) => Promise<{ protocol: string } | { refused: string }>;
  now: () => Date;
  log: { info(message: string, extra?: object): void; warn(message: string, extra?: object): void };
}

export type VerifyOutcome = 'confirmed' | 'contradicted' | 'nothing-to-verify' | 'not-configured' | 'refused' | 'nfce-cancelled';

/**
 * Applies the API's answer (undefined: 404) to the stored order's pending claims; returns the new
 * state and whether this check contradicted anything.
 */
export function judge(
  state: CieloOrderState,
  api: ApiOrder | undefined,
  checkedAt: string,
): { state: CieloOrderState; contradicted: boolean } {
  const next = structuredClone(state);
  const v = next.verification;
  const found: Contradiction[] = [];
  const apiStatus = api?.status ?? null;
  const statusClaim = pendingStatusClaim(next);
  if (apiStatus && PAID_STATUSES.includes(apiStatus)) {
    const progress = PAID_PROGRESS[apiStatus]!;
    if (statusClaim && progress >= PAID_PROGRESS[next.status!]!) {
      // The claim is confirmed, as of its time: a later RE-ENTERED makes the next PAID a new claim.
      v.confirmedStatus = apiStatus;
      v.confirmedAt = next.history.at(-1)!.updatedAt;
    } else if (progress > (PAID_PROGRESS[v.confirmedStatus ?? ''] ?? 0)) {
      // What the API confirms counts, whatever was claimed.
      v.confirmedStatus = apiStatus;
    }
  }
  if (statusClaim && pendingStatusClaim(next) === statusClaim) {
    found.push({ claim: statusClaim, claimed: next.status!, api: apiStatus ?? 'no such order (404)', checkedAt });
  }
  for (const t of next.transactions) {
    if (t.verification.state !== 'PENDING') continue;
    const seen = api?.transactions.find((a) => a.id === t.id);
    // The same movement: CONFIRMED, of the same type (a payment or its cancellation) and amount.
    const same =
      seen &&
      claimsMoney(seen) &&
      (seen.transaction_type ?? 'PAYMENT') === (t.transaction_type ?? 'PAYMENT') &&
      (t.amount === null || seen.amount === t.amount);
    if (same) {
      t.verification = { ...t.verification, state: 'CONFIRMED', authorization_code: seen.authorization_code };
    } else {
      t.verification = { ...t.verification, state: 'CONTRADICTED' };
      found.push({
        claim: `transaction ${t.id}`,
        claimed: transactionClaim(t),
        api: seen ? transactionClaim(seen) : api ? 'not on the order' : 'no such order (404)',
        checkedAt,
      });
    }
  }
  v.contradictions = [...v.contradictions, ...found].slice(-20);
  v.apiStatus = apiStatus;
  v.checkedAt = checkedAt;
  v.attempts += 1;
  v.lastError = null;
  v.state = verdictOf(next);
  if (v.state !== 'PENDING') v.pendingSince = null;
  return { state: next, contradicted: found.length > 0 };
}

/** Records why the API gave no verdict this time; the claim stays PENDING. */
function attemptFailed(state: CieloOrderState, why: string, at: string): CieloOrderState {
  const next = structuredClone(state);
  next.verification.attempts += 1;
  next.verification.lastError = why;
  next.verification.checkedAt = at;
  next.updatedAt = at;
  return next;
}

/**
 * Verifies one order's pending claims. Throws CieloUnavailable when the API cannot answer (the
 * job is retried); the order then says why in `verification.lastError`.
 */
export async function verifyOrder(job: VerificationJob, deps: VerifyDeps): Promise<VerifyOutcome> {
  const { integrationHubServiceId, orderId } = job;
  const state = await deps.orders.get(integrationHubServiceId, orderId);
  if (!state) return 'nothing-to-verify';
  const at = saoPauloIso(deps.now());
  const record = (why: string) =>
    updateOrder(deps.orders, integrationHubServiceId, orderId, (current) =>
      current ? attemptFailed(current, why, at) : undefined,
    );

  let setup;
  try {
    setup = await deps.config.load(integrationHubServiceId);
  } catch (error) {
    if (!(error instanceof CieloSetupProblem)) throw error;
    await record(error.message);
    deps.log.warn('Cielo claim left pending: the integration has no usable Cielo setup', { orderId, reason: error.message });
    return 'not-configured';
  }
  const wantsInvoice = (s: CieloOrderState) =>
    setup.settings.invoiceWhenPaid &&
    // A LIO sale cut off after claiming the order (no payment yet) is started again.
    (s.invoice === null || (s.invoice.via === 'LIO' && s.invoice.status === 'ISSUING' && s.invoice.paymentId === '')) &&
    PAID_STATUSES.includes(s.verification.confirmedStatus ?? '');
  if (!needsVerification(state) && !wantsInvoice(state)) {
    return pendingNfceCancellation(state) ? cancelNfce(state, deps) : 'nothing-to-verify';
  }

  let order: ApiOrder | undefined;
  try {
    order = await deps.api(setup.credentials).getOrder(orderId);
  } catch (error) {
    if (error instanceof CieloUnavailable || error instanceof CieloRefused) await record((error as Error).message);
    if (error instanceof CieloRefused) {
      // Credentials refused: retrying at once will not help; the sweep tries again later.
      deps.log.warn('Cielo claim left pending: the Order Manager API refused the call', { orderId, status: error.status });
      return 'refused';
    }
    throw error;
  }

  let contradicted = false;
  const verified = await updateOrder(deps.orders, integrationHubServiceId, orderId, (current) => {
    if (!current) return undefined;
    const judged = judge(current, order, at);
    contradicted = judged.contradicted;
    judged.state.updatedAt = at;
    return judged.state;
  });
  if (contradicted)
    deps.log.warn('Cielo claim contradicted by the Order Manager API; flagged, not acted on', {
      orderId,
      apiStatus: order?.status ?? null,
    });
  if (verified && order && wantsInvoice(verified) && PAID_STATUSES.includes(order.status)) {
    const sale = await deps.startLioSale(verified, order, job.correlationId);
    deps.log.info('order paid at the LIO', { orderId, sale });
  }
  if (verified && pendingNfceCancellation(verified)) await cancelNfce(verified, deps);
  return contradicted ? 'contradicted' : 'confirmed';
}

/**
 * A sale Cielo confirmed cancelled whose NFC-e is authorized: the NFC-e is cancelled too (issue
 * "NFC-e cancellation" 2), and the outcome kept on the order — CANCELLED with the event's protocol,
 * or the refusal an operator sees in the order's attention (past the 30 minutes, SEFAZ's code).
 */
async function cancelNfce(state: CieloOrderState, deps: VerifyDeps): Promise<VerifyOutcome> {
  const transaction = pendingNfceCancellation(state)!;
  const outcome = await deps.cancelNfce({
    chave: state.invoice!.key!,
    integrationHubServiceId: state.integrationHubServiceId,
    justification: `Venda cancelada na Cielo LIO (transacao ${transaction.id})`,
  });
  await updateOrder(deps.orders, state.integrationHubServiceId, state.id, (current) =>
    current?.invoice
      ? {
          ...current,
          invoice: {
            ...current.invoice,
            ...('protocol' in outcome ? { status: 'CANCELLED' as const } : {}),
            cancellation: outcome,
          },
          updatedAt: saoPauloIso(deps.now()),
        }
      : undefined,
  );
  if ('protocol' in outcome) deps.log.info('NFC-e cancelled after Cielo confirmed the sale cancelled', { orderId: state.id });
  else
    deps.log.warn('NFC-e of a sale Cielo cancelled could not be cancelled; flagged', {
      orderId: state.id,
      reason: outcome.refused,
    });
  return 'nfce-cancelled';
}
