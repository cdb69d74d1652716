import { ClientError, PartnerFailure } from '../shared/http.ts';
import { saoPauloIso } from '../shared/time.ts';
import { EsitefNoAnswer, type EsitefAnswer, type EsitefApi } from './esitef.ts';
import {
  chooseAmount,
  describeStatus,
  expectedStep,
  expectedStepText,
  FINAL_STATUSES,
  type AmountRange,
  type Decision,
  type EsitefStep,
  type Recharge,
  type StepRecord,
} from './recharge.ts';
import { updateRecharge, type RechargeStore } from './store.ts';

/**
 * The store's recharge flow (seed 002; spec §2): begin → the NIT from the authenticity POST →
 * carriers → branch values → the recharge (PPC) → confirm or undo. Each use case loads the
 * recharge, refuses a step out of order (409 naming the expected one), calls e-SiTef, and records
 * the answer before answering. A call whose answer is lost leaves `inFlight` for the reconciler
 * (reconcile.ts), which settles it with the same {@link settle}.
 *
 * Errors: ClientError 400 / 404 / 409 / 422 (e-SiTef refused or denied the store's recharge),
 * PartnerFailure 502 (e-SiTef failed or answered nonsense) / 504 (no answer: for do and confirm,
 * the outcome is unknown and the reconciler settles it).
 */
export interface RechargeDeps {
  recharges: RechargeStore;
  /** The integration's e-SiTef client; undefined when it has no merchant key configured. */
  esitef(integrationHubServiceId: string): Promise<EsitefApi | undefined>;
  now(): Date;
  newId(): string;
  /** How long POST /recharges waits for the authenticity POST after begin answered, in ms. */
  nitWaitMs: number;
  /** After a do whose answer was lost, e-SiTef's NOV means "never applied" only this long after it was sent. */
  notAppliedAfterMs: number;
  sleep(ms: number): Promise<void>;
}

/** Steps kept on a recharge: beyond this, the oldest reads (dealers, branches, status) make room. */
const MAX_STEPS = 60;
/** Branch data kept per recharge (by DDD and carrier). */
const MAX_BRANCHES = 4;
/** A do or confirm still waiting for its answer this long is taken as lost (beyond any client timeout). */
export const IN_FLIGHT_LOST_AFTER_MS = 60_000;

/** Starts a recharge, or answers the one the store's `orderId` already has (a retried start never begins twice). */
export async function startRecharge(
  deps: RechargeDeps,
  integration: string,
  input: { orderId?: string },
): Promise<{ created: boolean; recharge: Recharge }> {
  const api = await esitefFor(deps, integration);
  let rechargeId = deps.newId();
  let replacing: string | undefined;
  if (input.orderId !== undefined) {
    const existingId = await deps.recharges.rechargeForOrder(integration, input.orderId);
    if (existingId) {
      const existing = await deps.recharges.get(integration, existingId);
      if (!existing)
        rechargeId = existingId; // a start that crashed before its record: finish it
      else if (!restartable(existing, deps.now())) return { created: false, recharge: existing };
      else replacing = existingId;
    }
    const owner = await deps.recharges.pointOrder(integration, input.orderId, rechargeId, replacing);
    if (owner !== rechargeId) {
      const theirs = await deps.recharges.get(integration, owner);
      if (theirs) return { created: false, recharge: theirs };
      rechargeId = owner;
    }
  }
  const at = saoPauloIso(deps.now());
  const merchantUsn = await deps.recharges.nextUsn(integration);
  const fresh: Recharge = {
    integrationHubServiceId: integration,
    rechargeId,
    merchantUsn,
    ...(input.orderId !== undefined ? { orderId: input.orderId } : {}),
    status: 'BEGIN',
    steps: [],
    createdAt: at,
    updatedAt: at,
    version: 0,
  };
  if (!(await deps.recharges.save(fresh))) {
    const raced = await deps.recharges.get(integration, rechargeId);
    if (raced) return { created: false, recharge: raced };
  }
  // Before begin: its authenticity POST finds the recharge by this usn.
  await deps.recharges.pointUsn(integration, merchantUsn, rechargeId);

  let answer: EsitefAnswer;
  try {
    answer = await api.begin({ merchantUsn, ...(input.orderId !== undefined ? { orderId: input.orderId } : {}) });
  } catch (error) {
    if (!(error instanceof EsitefNoAnswer)) throw error;
    const recharge = await record(deps, integration, rechargeId, (r) => {
      r.steps = withStep(r.steps, lostStep(deps, error));
      // Never sent: e-SiTef began nothing, and a new start for the same orderId may begin again.
      if (!error.sent && r.status === 'BEGIN') r.status = 'INV';
    });
    if (recharge.nit) return { created: true, recharge };
    throw new PartnerFailure(error.sent ? 504 : 502, [
      {
        key: 'esitef.begin',
        message: error.sent
          ? `${error.message}; recharge ${rechargeId} has no NIT yet: GET /recharges/${rechargeId} shows whether e-SiTef’s authenticity POST brings it, or POST /recharges again (the same orderId starts anew)`
          : `${error.message}; nothing was begun: repeat the request`,
      },
    ]);
  }
  if (!answer.ok) {
    await record(deps, integration, rechargeId, (r) => {
      r.steps = withStep(r.steps, answeredStep(deps, answer));
      // A refused begin leaves no usable NIT (one that arrived is invalidated by e-SiTef).
      r.status = 'INV';
    });
    throw new PartnerFailure(502, [
      { key: 'esitef.begin', message: `e-SiTef refused to begin the recharge: ${codeText(answer)}` },
    ]);
  }
  let recharge = await record(deps, integration, rechargeId, (r) => {
    r.steps = withStep(r.steps, answeredStep(deps, answer));
  });
  // The authenticity POST comes while begin is open (seed 002, step 1.1); allow a late one a moment.
  for (const until = Date.now() + deps.nitWaitMs; !recharge.nit && Date.now() < until;) {
    await deps.sleep(100);
    recharge = (await deps.recharges.get(integration, rechargeId)) ?? recharge;
  }
  return { created: true, recharge };
}

/** A begin whose NIT has not come this long never will (e-SiTef waits seconds for the authenticity POST). */
const NIT_GIVEN_UP_AFTER_MS = 2 * 60_000;

/**
 * A recharge that can no longer move money and never did: no recharge sent, and e-SiTef refused
 * or lost its begin, its NIT never came, or the NIT is dead (INV, EXP: expired unused). Its
 * orderId may start a new one.
 */
function restartable(recharge: Recharge, now: Date): boolean {
  // INV and EXP only ever follow NOV: whatever was chosen, nothing was recharged.
  if (recharge.status === 'INV' || recharge.status === 'EXP') return true;
  if (recharge.status !== 'BEGIN' || recharge.nit) return false;
  const begin = recharge.steps.find((step) => step.step === 'begin');
  return (
    (begin !== undefined && begin.outcome !== 'answered') ||
    now.getTime() - Date.parse(recharge.createdAt) >= NIT_GIVEN_UP_AFTER_MS
  );
}

/** The carriers e-SiTef offers (NOV only), by unpadded code. */
export async function listDealers(deps: RechargeDeps, integration: string, rechargeId: string) {
  const { recharge, api } = await loadForStep(deps, integration, rechargeId, 'recharge');
  const answer = await ask(deps, recharge, () => api.dealers(recharge.nit!));
  await record(deps, integration, rechargeId, (r) => {
    r.steps = withStep(r.steps, answeredStep(deps, answer));
    deadNit(r, answer);
    if (answer.ok) r.dealers = Object.fromEntries(answer.dealers.map((d) => [d.code, d.name]));
  });
  refuseUnlessOk(answer);
  return answer.dealers;
}

/**
 * The NIT died at e-SiTef (expired, or a transaction e-SiTef does not know: 404) while nothing was
 * recharged: the recharge takes that status (INV for unknown), so its orderId may start again.
 */
function deadNit(recharge: Recharge, answer: EsitefAnswer): void {
  if (answer.ok || recharge.status !== 'NOV' || recharge.inFlight) return;
  if (answer.status && answer.status !== 'NOV') recharge.status = answer.status as Recharge['status'];
  else if (answer.httpStatus === 404) recharge.status = 'INV';
}

/** Throws the store's 400 unless e-SiTef offers `dealer` (its carriers listed now when the store has not asked yet). */
async function assertDealer(deps: RechargeDeps, recharge: Recharge, dealer: string): Promise<void> {
  const dealers =
    recharge.dealers ??
    Object.fromEntries(
      (await listDealers(deps, recharge.integrationHubServiceId, recharge.rechargeId)).map((d) => [d.code, d.name]),
    );
  if (dealers[dealer]) return;
  const offered = Object.entries(dealers).map(([code, name]) => `${code} (${name})`);
  throw new ClientError(400, [
    { key: 'dealer', message: `dealer ${dealer} is not one of e-SiTef’s carriers: ${offered.join(', ')}` },
  ]);
}

/** A carrier's values for a DDD (NOV only); kept on the recharge for the PUT's checks. */
export async function listBranches(
  deps: RechargeDeps,
  integration: string,
  rechargeId: string,
  query: { ddd: string; dealer: string },
): Promise<AmountRange[]> {
  const { recharge, api } = await loadForStep(deps, integration, rechargeId, 'recharge');
  await assertDealer(deps, recharge, query.dealer);
  return branchesOf(deps, api, recharge, query);
}

async function branchesOf(deps: RechargeDeps, api: EsitefApi, recharge: Recharge, query: { ddd: string; dealer: string }) {
  const answer = await ask(deps, recharge, () => api.branches(recharge.nit!, query.ddd, query.dealer));
  await record(deps, recharge.integrationHubServiceId, recharge.rechargeId, (r) => {
    r.steps = withStep(r.steps, answeredStep(deps, answer));
    deadNit(r, answer);
    if (answer.ok) {
      const kept = Object.entries(r.branches ?? {}).filter(([key]) => key !== `${query.ddd}:${query.dealer}`);
      r.branches = Object.fromEntries([...kept.slice(-(MAX_BRANCHES - 1)), [`${query.ddd}:${query.dealer}`, answer.ranges]]);
    }
  });
  refuseUnlessOk(answer);
  return answer.ranges;
}

/** The store's recharge request; amounts in centavos, the card only as an e-SiTef token. */
export interface RechargeRequest {
  dealer: string;
  ddd: string;
  phone: string;
  amountCentavos?: number;
  amountKey?: string;
  payment?: { cardToken: string; authorizerId?: string; installments: number; customerId?: string };
}

/**
 * The recharge itself (do, spec §2.4): checked against the carriers and the branch values e-SiTef
 * gave (read now when the store did not), recorded as in flight before it is sent, PPC when
 * e-SiTef accepts. Lost answer → 504 and the reconciler settles; refusal or denial → 422.
 */
export async function doRecharge(deps: RechargeDeps, integration: string, rechargeId: string, request: RechargeRequest) {
  const loaded = await loadForStep(deps, integration, rechargeId, 'recharge');
  const { api } = loaded;
  let { recharge } = loaded;
  await assertDealer(deps, recharge, request.dealer);
  const ranges =
    recharge.branches?.[`${request.ddd}:${request.dealer}`] ??
    (await branchesOf(deps, api, recharge, { ddd: request.ddd, dealer: request.dealer }));
  if (ranges.length === 0)
    throw new ClientError(400, [
      { key: 'dealer', message: `e-SiTef offers no recharge values for dealer ${request.dealer} in DDD ${request.ddd}` },
    ]);
  const chosen = chooseAmount(ranges, {
    ...(request.amountCentavos !== undefined ? { amountCentavos: request.amountCentavos } : {}),
    ...(request.amountKey !== undefined ? { amountKey: request.amountKey } : {}),
  });
  if ('field' in chosen) throw new ClientError(400, [{ key: chosen.field, message: chosen.message }]);

  const since = saoPauloIso(deps.now());
  const prior = recharge.choice;
  recharge = await record(deps, integration, rechargeId, (r) => {
    if (expectedStep(r) !== 'recharge') throw outOfOrder(r);
    r.choice = {
      dealer: request.dealer,
      ddd: request.ddd,
      phone: request.phone,
      amountCentavos: chosen.amountCentavos,
      amountKey: chosen.amountKey,
      withPayment: request.payment !== undefined,
      at: since,
    };
    r.inFlight = { step: 'do', since, lost: false };
  });
  let answer: EsitefAnswer;
  try {
    answer = await api.doRecharge(recharge.nit!, {
      amountCentavos: chosen.amountCentavos,
      amountKey: chosen.amountKey,
      dealer: request.dealer,
      ddd: request.ddd,
      phone: request.phone,
      ...(request.payment ? { payment: request.payment } : {}),
    });
  } catch (error) {
    if (!(error instanceof EsitefNoAnswer)) throw error;
    await record(deps, integration, rechargeId, (r) => {
      r.steps = withStep(r.steps, lostStep(deps, error));
      if (r.inFlight?.step !== 'do' || r.inFlight.since !== since) return;
      if (error.sent) r.inFlight.lost = true;
      else delete r.inFlight;
    });
    throw unknownOutcome('do', rechargeId, error.message, error.sent);
  }
  recharge = await applyAnswer(deps, integration, rechargeId, answer, since);
  if (answer.httpStatus >= 500) throw unknownOutcome('do', rechargeId, `e-SiTef answered HTTP ${answer.httpStatus}`, true);
  if (!answer.ok && answer.status && !['NOV', 'NEG'].includes(answer.status))
    // Refused because the NIT already holds another recharge (or ended): this one was not made.
    recharge = await record(deps, integration, rechargeId, (r) => {
      if (prior) r.choice = prior;
      else delete r.choice;
    });
  if (!answer.ok && answer.status === undefined)
    recharge = await record(deps, integration, rechargeId, (r) => deadNit(r, answer));
  if (!answer.ok || FINAL_STATUSES.has(recharge.status))
    throw new ClientError(422, [
      {
        key: 'esitef.do',
        message: `e-SiTef ${answer.status === 'NEG' ? 'denied' : 'refused'} the recharge: ${codeText(answer)}; the recharge is ${recharge.status} (${describeStatus(recharge.status)})`,
      },
    ]);
  if (recharge.status !== 'PPC')
    throw new PartnerFailure(502, [
      {
        key: 'esitef.do',
        message: `e-SiTef took the recharge but has it as ${recharge.status} (${describeStatus(recharge.status)}), not pending confirmation; the reconciler settles it (GET /recharges/${rechargeId})`,
      },
    ]);
  return recharge;
}

/**
 * The store's decision (spec §2.5, mandatory): recorded before it is sent, then confirm or undo.
 * A repeated decision answers the finished recharge (or sends it again while unsettled); the
 * opposite of a recorded one is a 409. After a do whose answer was lost, e-SiTef is asked first.
 */
export async function decideRecharge(deps: RechargeDeps, integration: string, rechargeId: string, confirm: boolean) {
  const { api } = await load(deps, integration, rechargeId);
  const decided = await record(deps, integration, rechargeId, (r) => {
    if (r.decision) {
      if (r.decision.confirm !== confirm)
        throw new ClientError(409, [
          {
            key: 'confirm',
            message: `recharge ${rechargeId} was already ${r.decision.confirm ? 'confirmed' : 'undone'} by ${r.decision.by === 'store' ? 'the store' : 'the reconciler (no decision in time)'} at ${r.decision.at}; it is ${r.status}`,
          },
        ]);
      return;
    }
    const doPending = r.inFlight?.step === 'do';
    if (doPending && !isLost(r.inFlight!, deps.now()))
      throw new ClientError(409, [
        { key: 'step', message: `recharge ${rechargeId} is still being sent to e-SiTef (do); wait for its answer, then confirm` },
      ]);
    if (r.status !== 'PPC' && !doPending) throw outOfOrder(r);
    r.decision = { confirm, by: 'store', at: saoPauloIso(deps.now()) };
  });
  let settled = decided;
  if (!FINAL_STATUSES.has(decided.status) || decided.inFlight) {
    settled = await settle(deps, api, decided, {
      query: decided.inFlight !== undefined,
      notAppliedAfterMs: deps.notAppliedAfterMs,
    });
    // Another request is sending the same decision: its answer comes within one e-SiTef call.
    for (let waited = 0; settled.inFlight?.step === 'confirm' && !settled.inFlight.lost && waited < MAX_WAIT_MS; waited += 200) {
      await deps.sleep(200);
      settled = (await deps.recharges.get(integration, rechargeId)) ?? settled;
    }
  }
  return decisionAnswer(settled, confirm);
}

/** Longest a confirmation waits for another request's confirm of the same recharge to be answered. */
const MAX_WAIT_MS = 10_000;

/**
 * The store's answer to its decision, from the recharge as stored (so a repeated request answers
 * the same): the recharge when it ended as decided; 422 when it ended otherwise; 502/504 while the
 * decision is not applied (refused / no answer), the reconciler applying it later.
 */
function decisionAnswer(settled: Recharge, confirm: boolean): Recharge {
  const verb = confirm ? 'confirm' : 'undo';
  const id = settled.rechargeId;
  if (!FINAL_STATUSES.has(settled.status) || settled.inFlight) {
    const why = settled.settleProblem ?? `e-SiTef has it as ${settled.status}`;
    const refused = !settled.inFlight && settled.settleProblem?.startsWith('e-SiTef refused');
    throw new PartnerFailure(refused ? 502 : 504, [
      {
        key: 'esitef.confirm',
        message: `the decision to ${verb} is recorded but not yet applied (${why}); the reconciler applies it (GET /recharges/${id})`,
      },
    ]);
  }
  if (settled.status === (confirm ? 'CON' : 'PPN')) return settled;
  const refusal = [...settled.steps].reverse().find((step) => step.step === 'confirm' && step.outcome === 'answered');
  const said =
    refusal?.esitef && refusal.esitef.code !== '0'
      ? `e-SiTef refused to ${verb}: code ${refusal.esitef.code}: ${refusal.esitef.message}; `
      : '';
  throw new ClientError(422, [
    {
      key: 'esitef.confirm',
      message: `${said}the recharge is ${settled.status} (${describeStatus(settled.status)}) at e-SiTef: it was not ${confirm ? 'confirmed' : 'undone'}`,
    },
  ]);
}

/** The recharge as kept, for GET /recharges/{id} (404 for another integration's). */
export async function getRecharge(
  deps: Pick<RechargeDeps, 'recharges'>,
  integration: string,
  rechargeId: string,
): Promise<Recharge> {
  const recharge = await deps.recharges.get(integration, rechargeId);
  if (!recharge) throw notFound(rechargeId);
  return recharge;
}

/** What {@link settle} did, for the reconciler's report. */
export type Settlement = 'confirmed' | 'undone' | 'notApplied' | 'final' | 'pending';

/**
 * Brings an unsettled recharge to an end (spec §4). With `query` (always for the reconciler; for
 * the store after a lost answer) e-SiTef's status is read first: NOV after a lost do → it was not
 * applied; final → recorded as is; PPC → the recorded decision is sent, or, with none, an undo
 * recorded as the reconciler's (the TEF rule: a recharge the store never confirmed is undone).
 * Never throws for e-SiTef's failures: they are recorded (`settleProblem`, attempts) and the
 * recharge stays pending for the next run. Returns the recharge as stored afterwards.
 */
export async function settle(
  deps: Pick<RechargeDeps, 'recharges' | 'now'>,
  api: EsitefApi,
  start: Recharge,
  options: { query: boolean; undoWithoutDecision?: boolean; notAppliedAfterMs: number },
): Promise<Recharge> {
  const integration = start.integrationHubServiceId;
  const id = start.rechargeId;
  let recharge = start;
  const problem = (text: string) => noteProblem(deps, recharge, text);
  if (options.query) {
    let noLongerUnknown = true;
    let answer;
    try {
      answer = await api.status(recharge.nit!);
    } catch (error) {
      if (!(error instanceof EsitefNoAnswer)) throw error;
      await record(deps, integration, id, (r) => void (r.steps = withStep(r.steps, lostStep(deps, error))));
      return problem(error.message);
    }
    recharge = await record(deps, integration, id, (r) => {
      noLongerUnknown = true;
      r.steps = withStep(r.steps, answeredStep(deps, answer));
      if (answer.receipts.customer || answer.receipts.merchant) r.receipts = { ...r.receipts, ...answer.receipts };
      if (!answer.ok || !answer.status) return;
      const status = answer.status as Recharge['status'];
      // NOV right after a lost do may be e-SiTef still applying it: it counts as "not applied" only
      // once the do is old enough; until then the recharge stays as it is, pending.
      if (
        status === 'NOV' &&
        r.inFlight?.step === 'do' &&
        deps.now().getTime() - Date.parse(r.inFlight.since) < options.notAppliedAfterMs
      ) {
        noLongerUnknown = false;
        return;
      }
      r.status = status;
      if (FINAL_STATUSES.has(r.status)) delete r.settleProblem;
      // What e-SiTef holds now answers every call that was lost.
      if (r.status === 'PPC' && r.inFlight?.step === 'do') delete r.inFlight;
      if (r.status === 'NOV' || FINAL_STATUSES.has(r.status)) delete r.inFlight;
      if (r.status === 'NOV') delete r.decision;
    });
    if (!answer.ok || !answer.status) return problem(`e-SiTef refused the status query: ${codeText(answer)}`);
    if (!noLongerUnknown)
      return problem('e-SiTef still has it as NOV: the lost recharge may still be applied; asked again on the next run');
    if (recharge.status === 'NOV' || FINAL_STATUSES.has(recharge.status)) return recharge;
    if (recharge.status !== 'PPC')
      return problem(`e-SiTef has it as ${recharge.status} (${describeStatus(recharge.status)}); asked again on the next run`);
  }
  if (recharge.status !== 'PPC' || (recharge.inFlight && !options.query)) return recharge;
  if (!recharge.decision && !options.undoWithoutDecision) return recharge;

  const since = saoPauloIso(deps.now());
  let sending = false;
  recharge = await record(deps, integration, id, (r) => {
    // Run again after a lost race: only the attempt that writes decides.
    sending = false;
    // Only one confirm at a time, and only on a recharge still pending: a concurrent request's
    // confirm is left to finish (one older than any request's life is lost: sent again).
    if (r.status !== 'PPC' || (r.inFlight && !isLost(r.inFlight, deps.now()))) return;
    if (!r.decision && !options.undoWithoutDecision) return;
    r.decision ??= { confirm: false, by: 'reconciler', at: since } satisfies Decision;
    r.inFlight = { step: 'confirm', since, lost: false };
    sending = true;
  });
  if (!sending) return recharge;
  const confirm = recharge.decision!.confirm;
  let answer: EsitefAnswer;
  try {
    answer = await api.confirm(recharge.nit!, confirm);
  } catch (error) {
    if (!(error instanceof EsitefNoAnswer)) throw error;
    await record(deps, integration, id, (r) => {
      r.steps = withStep(r.steps, lostStep(deps, error));
      if (r.inFlight?.step !== 'confirm' || r.inFlight.since !== since) return;
      if (error.sent) r.inFlight.lost = true;
      else delete r.inFlight;
    });
    return problem(error.message);
  }
  recharge = await applyAnswer(deps, integration, id, answer, since);
  const ended = FINAL_STATUSES.has(recharge.status) && !recharge.inFlight;
  if (answer.httpStatus >= 500)
    return problem(
      `e-SiTef answered the ${confirm ? 'confirmation' : 'undo'} with HTTP ${answer.httpStatus}: its outcome is unknown`,
    );
  // A refusal of a recharge e-SiTef has already ended settles it too: nothing to retry.
  if (!answer.ok) return ended ? recharge : problem(`e-SiTef refused to ${confirm ? 'confirm' : 'undo'}: ${codeText(answer)}`);
  if (!ended) return problem(`e-SiTef answered the ${confirm ? 'confirmation' : 'undo'} with ${recharge.status}`);
  // The receipts come with the status query (spec §2.6); without them the recharge is still settled.
  try {
    const status = await api.status(recharge.nit!);
    recharge = await record(deps, integration, id, (r) => {
      r.steps = withStep(r.steps, answeredStep(deps, status));
      if (status.receipts.customer || status.receipts.merchant) r.receipts = { ...r.receipts, ...status.receipts };
    });
  } catch (error) {
    if (!(error instanceof EsitefNoAnswer)) throw error;
  }
  return recharge;
}

/** Records why the recharge could not be settled now (and one more attempt); it stays pending. */
export function noteProblem(
  deps: Pick<RechargeDeps, 'recharges' | 'now'>,
  recharge: Recharge,
  problem: string,
): Promise<Recharge> {
  return record(deps, recharge.integrationHubServiceId, recharge.rechargeId, (r) => {
    r.settleProblem = problem;
    r.settleAttempts = (r.settleAttempts ?? 0) + 1;
  });
}

/** What a settled recharge came to. */
export function settlementOf(recharge: Recharge): Settlement {
  if (recharge.inFlight || !FINAL_STATUSES.has(recharge.status)) return recharge.status === 'NOV' ? 'notApplied' : 'pending';
  if (recharge.status === 'CON') return 'confirmed';
  if (recharge.status === 'PPN') return 'undone';
  return 'final';
}

/** Applies a do or confirm answer sent at `since`: its status, usn and the end of the in-flight call. */
async function applyAnswer(
  deps: Pick<RechargeDeps, 'recharges' | 'now'>,
  integration: string,
  id: string,
  answer: EsitefAnswer,
  since: string,
) {
  return record(deps, integration, id, (r) => {
    r.steps = withStep(r.steps, answeredStep(deps, answer));
    const ours = r.inFlight?.since === since;
    if (answer.httpStatus >= 500) {
      if (ours) r.inFlight!.lost = true;
      return;
    }
    if (ours) delete r.inFlight;
    if (answer.status && (ours || !FINAL_STATUSES.has(r.status))) r.status = answer.status as Recharge['status'];
    // An accepting answer without a status: PPC after do, and what was asked after confirm.
    else if (answer.ok && ours) r.status = answer.step === 'do' ? 'PPC' : r.decision?.confirm ? 'CON' : 'PPN';
    if (answer.esitef.usn && answer.step === 'do') r.esitefUsn = answer.esitef.usn;
    if (FINAL_STATUSES.has(r.status)) delete r.settleProblem;
  });
}

function isLost(inFlight: NonNullable<Recharge['inFlight']>, now: Date): boolean {
  return inFlight.lost || now.getTime() - Date.parse(inFlight.since) >= IN_FLIGHT_LOST_AFTER_MS;
}

/** Re-reads the recharge and applies `change` to it (a copy), written conditionally; returns what is stored. */
async function record(
  deps: Pick<RechargeDeps, 'recharges' | 'now'>,
  integration: string,
  rechargeId: string,
  change: (recharge: Recharge) => void,
): Promise<Recharge> {
  const stored = await updateRecharge(deps.recharges, integration, rechargeId, (current) => {
    if (!current) throw notFound(rechargeId);
    const next = structuredClone(current);
    change(next);
    // Nothing changed: no write (a repeated decision does not push the reconciler's due time).
    if (JSON.stringify(next) === JSON.stringify(current)) return undefined;
    next.updatedAt = saoPauloIso(deps.now());
    return next;
  });
  return stored!;
}

async function esitefFor(deps: RechargeDeps, integration: string): Promise<EsitefApi> {
  const api = await deps.esitef(integration);
  if (!api)
    throw new ClientError(409, [
      {
        key: 'integration',
        message: 'this integration has no Carat e-SiTef merchant key; an operator sets it with npm run integration -- carat',
      },
    ]);
  return api;
}

async function load(deps: RechargeDeps, integration: string, rechargeId: string) {
  const recharge = await getRecharge(deps, integration, rechargeId);
  return { recharge, api: await esitefFor(deps, integration) };
}

async function loadForStep(deps: RechargeDeps, integration: string, rechargeId: string, step: 'recharge') {
  const loaded = await load(deps, integration, rechargeId);
  if (expectedStep(loaded.recharge) !== step) throw outOfOrder(loaded.recharge);
  return loaded;
}

/** A read (dealers, branches): a lost answer is recorded and answered 504 (repeat it; nothing changed). */
async function ask<T extends EsitefAnswer>(deps: RechargeDeps, recharge: Recharge, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof EsitefNoAnswer)) throw error;
    await record(deps, recharge.integrationHubServiceId, recharge.rechargeId, (r) => {
      r.steps = withStep(r.steps, lostStep(deps, error));
    });
    throw new PartnerFailure(error.httpStatus ? 502 : 504, [
      { key: `esitef.${error.step}`, message: `${error.message}; nothing changed: repeat the request` },
    ]);
  }
}

function refuseUnlessOk(answer: EsitefAnswer): void {
  if (answer.ok) return;
  if ((answer.status && answer.status !== 'NOV') || answer.httpStatus === 404)
    throw new ClientError(409, [
      {
        key: 'step',
        message: `e-SiTef refused ${answer.step}: ${codeText(answer)}; the recharge is ${answer.status ? `${answer.status} (${describeStatus(answer.status)})` : 'unknown to e-SiTef'}: nothing was recharged; POST /recharges starts a new one (the same orderId too)`,
      },
    ]);
  throw new PartnerFailure(502, [
    { key: `esitef.${answer.step}`, message: `e-SiTef refused ${answer.step}: ${codeText(answer)}` },
  ]);
}

/** A do without a readable answer: 502 when it never left (repeat it), else 504: its outcome is unknown. */
function unknownOutcome(step: 'do', rechargeId: string, why: string, sent: boolean): PartnerFailure {
  if (!sent) return new PartnerFailure(502, [{ key: `esitef.${step}`, message: `${why}; nothing was sent: repeat the request` }]);
  return new PartnerFailure(504, [
    {
      key: `esitef.${step}`,
      message: `${why}: whether the recharge was made is unknown; the reconciler asks e-SiTef and settles it (GET /recharges/${rechargeId} shows the outcome; POST …/confirmation records your decision meanwhile)`,
    },
  ]);
}

function outOfOrder(recharge: Recharge): ClientError {
  return new ClientError(409, [
    {
      key: 'step',
      message: `recharge ${recharge.rechargeId} is ${recharge.status} (${describeStatus(recharge.status)}); expected step: ${expectedStepText(recharge)}`,
    },
  ]);
}

function notFound(rechargeId: string): ClientError {
  return new ClientError(404, [{ key: 'rechargeId', message: `no recharge ${rechargeId} for this integration` }]);
}

/** `code 5: Transação negada` (HTTP status too when not 200). */
function codeText(answer: EsitefAnswer): string {
  const http = answer.httpStatus === 200 ? '' : ` (HTTP ${answer.httpStatus})`;
  return `code ${answer.esitef.code}: ${answer.esitef.message || 'no message'}${http}`;
}

function answeredStep(deps: Pick<RechargeDeps, 'now'>, answer: EsitefAnswer): StepRecord {
  return {
    step: answer.step,
    at: saoPauloIso(deps.now()),
    outcome: answer.httpStatus >= 500 ? 'unknown' : 'answered',
    httpStatus: answer.httpStatus,
    esitef: answer.esitef,
    ...(answer.status ? { status: answer.status } : {}),
    ...(answer.sitef ? { sitef: answer.sitef } : {}),
    ...(answer.host ? { host: answer.host } : {}),
    ...(answer.paymentStatus ? { paymentStatus: answer.paymentStatus } : {}),
  };
}

function lostStep(deps: Pick<RechargeDeps, 'now'>, error: EsitefNoAnswer): StepRecord {
  return {
    step: error.step,
    at: saoPauloIso(deps.now()),
    outcome: error.sent ? 'unknown' : 'unreachable',
    ...(error.httpStatus ? { httpStatus: error.httpStatus } : {}),
    detail: error.message,
  };
}

const READS: ReadonlySet<string> = new Set<EsitefStep>(['dealers', 'branches', 'status']);

/** Appends a step; past MAX_STEPS the oldest read goes (a store polling dealers cannot grow the item without end). */
export function withStep(steps: readonly StepRecord[], step: StepRecord): StepRecord[] {
  const next = [...steps, step];
  while (next.length > MAX_STEPS) {
    const read = next.findIndex((s) => READS.has(s.step));
    next.splice(read === -1 ? 0 : read, 1);
  }
  return next;
}
