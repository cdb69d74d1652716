import { saoPauloIso } from '../shared/time.ts';
import type { EsitefApi } from './esitef.ts';
import { noteProblem, settle, settlementOf, type Settlement } from './recharges.ts';
import type { Recharge } from './recharge.ts';
import { updateRecharge, type RechargeStore } from './store.ts';

/**
 * The reconciler (spec §4; the TEF rule of seed 002: confirm or undo, "impreterivelmente"): every
 * recharge left unsettled — PPC waiting for a decision, a do or confirm whose answer was lost, a
 * status to check again — whose last change is older than `afterMs` is claimed, e-SiTef is asked
 * for its status, and the recorded decision is applied (none → undo, recorded as the
 * reconciler's). Safe to run twice at once: each recharge is claimed conditionally for
 * `claimMs`. What cannot be settled stays pending with its problem and attempts, and is reported.
 */
export interface ReconcileDeps {
  recharges: RechargeStore;
  /** The integration's e-SiTef client; undefined when it has no merchant key (reported, never dropped). */
  esitef(integrationHubServiceId: string): Promise<EsitefApi | undefined>;
  now(): Date;
  /** How old (since its last change) an unsettled recharge must be: CARAT_RECONCILE_AFTER_SECONDS. */
  afterMs: number;
  /** How long a run holds a recharge it is settling. */
  claimMs: number;
  /** After a do whose answer was lost, e-SiTef's NOV means "never applied" only this long after it was sent. */
  notAppliedAfterMs: number;
  log: {
    warn(message: string, extra: Record<string, unknown>): void;
    info(message: string, extra: Record<string, unknown>): void;
  };
}

export interface ReconcileReport {
  checked: number;
  confirmed: number;
  undone: number;
  /** A do whose answer was lost, found never applied (NOV): nothing to settle. */
  notApplied: number;
  /** Ended otherwise (NEG, EXP…). */
  final: number;
  /** Claimed by another run at the same time. */
  skipped: number;
  /** Still unsettled after this run, with why (also in the log and the metric). */
  unsettled: { integrationHubServiceId: string; rechargeId: string; status: string; attempts: number; problem: string }[];
  /** Settled against the store's decision (e-SiTef undid one it confirmed, or the reverse). */
  contradicted: { integrationHubServiceId: string; rechargeId: string; status: string; decision: 'confirm' | 'undo' }[];
  /** Recharges still waiting for the reconciler (all, not only the due ones), and the age of the oldest's do in seconds. */
  pending: number;
  oldestPendingSeconds: number;
}

/** One run over at most `limit` due recharges, oldest first. */
export async function reconcileRecharges(deps: ReconcileDeps, limit: number): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    checked: 0,
    confirmed: 0,
    undone: 0,
    notApplied: 0,
    final: 0,
    skipped: 0,
    unsettled: [],
    contradicted: [],
    pending: 0,
    oldestPendingSeconds: 0,
  };
  const dueBy = saoPauloIso(new Date(deps.now().getTime() - deps.afterMs));
  for (const due of await deps.recharges.unsettled(dueBy, limit)) {
    const claimed = await claim(deps, due, dueBy);
    if (!claimed) {
      report.skipped++;
      continue;
    }
    report.checked++;
    const api = await deps.esitef(claimed.integrationHubServiceId);
    const settled = api
      ? await settle(deps, api, claimed, { query: true, undoWithoutDecision: true, notAppliedAfterMs: deps.notAppliedAfterMs })
      : await noteProblem(
          deps,
          claimed,
          'the integration has no Carat e-SiTef merchant key: set it with npm run integration -- carat',
        );
    await release(deps, settled);
    tally(report, settled, settlementOf(settled));
  }
  const summary = await deps.recharges.unsettledSummary();
  report.pending = summary.count;
  report.oldestPendingSeconds = summary.oldestSince
    ? Math.max(0, Math.round((deps.now().getTime() - Date.parse(summary.oldestSince)) / 1000))
    : 0;
  for (const entry of report.unsettled) deps.log.warn('recharge left unsettled', { ...entry });
  for (const entry of report.contradicted) deps.log.warn('recharge settled against the decision', { ...entry });
  return report;
}

function tally(report: ReconcileReport, recharge: Recharge, outcome: Settlement): void {
  const ids = { integrationHubServiceId: recharge.integrationHubServiceId, rechargeId: recharge.rechargeId };
  if (outcome === 'pending') {
    report.unsettled.push({
      ...ids,
      status: recharge.status,
      attempts: recharge.settleAttempts ?? 0,
      problem: recharge.settleProblem ?? `e-SiTef has it as ${recharge.status}; asked again on the next run`,
    });
    return;
  }
  report[outcome]++;
  const decision = recharge.decision;
  if (decision && ((recharge.status === 'CON' && !decision.confirm) || (recharge.status === 'PPN' && decision.confirm)))
    report.contradicted.push({ ...ids, status: recharge.status, decision: decision.confirm ? 'confirm' : 'undo' });
}

/** Takes the recharge for this run, unless another holds it or it changed since it became due. */
async function claim(deps: ReconcileDeps, due: Recharge, dueBy: string): Promise<Recharge | undefined> {
  const now = deps.now();
  let claimed: Recharge | undefined;
  await updateRecharge(deps.recharges, due.integrationHubServiceId, due.rechargeId, (current) => {
    claimed = undefined;
    if (!current || current.updatedAt > dueBy) return undefined;
    if (current.claimedUntil && Date.parse(current.claimedUntil) > now.getTime()) return undefined;
    claimed = { ...current, claimedUntil: new Date(now.getTime() + deps.claimMs).toISOString() };
    return claimed;
  });
  return claimed && { ...claimed, version: claimed.version + 1 };
}

async function release(deps: ReconcileDeps, recharge: Recharge): Promise<void> {
  await updateRecharge(deps.recharges, recharge.integrationHubServiceId, recharge.rechargeId, (current) => {
    if (!current?.claimedUntil) return undefined;
    const { claimedUntil: _released, ...rest } = current;
    return rest;
  });
}
