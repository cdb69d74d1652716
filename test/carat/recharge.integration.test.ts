import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { CARAT_PARTNER } from '../../functions/carat/partner.ts';
import type { ReconcileReport } from '../../functions/carat/reconcile.ts';
import { envName } from '../../lib/manifest.ts';
import { provisionCarat } from '../../lib/local/carat.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import type { CaratTransaction } from '../../lib/simulators/carat/index.ts';
import { issueToken, OTHER_INTEGRATION, post, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * The recharge flow against the whole local stack: the store API's real handlers call the e-SiTef
 * simulator, whose authenticity POST reaches the real partner route during begin; the reconciler
 * runs by hand. The reconciler takes any unsettled recharge at once here
 * (CARAT_RECONCILE_AFTER_SECONDS 0) and e-SiTef calls give up after a second.
 */
let stack: LocalRuntime;
let token: string;
let otherToken: string;
let secret: string;
const MERCHANT_KEY = 'merchant-key-of-the-test-store';
const CARD_TOKEN = 'tok_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c';

beforeAll(async () => {
  stack = await startTestRuntime({
    // The handlers are under test here, not the throttles (their own tests cover them).
    rateLimitPerSecond: 1e6,
    burstLimit: 1e6,
    partnerRateLimitPerSecond: 1e6,
    partnerBurstLimit: 1e6,
    env: {
      CARAT_TIMEOUT_SECONDS: '1',
      CARAT_NIT_WAIT_SECONDS: '1',
      CARAT_RECONCILE_AFTER_SECONDS: '0',
      CARAT_NOT_APPLIED_AFTER_SECONDS: '0',
    },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
  otherToken = await issueToken(stack, OTHER_INTEGRATION);
  const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  secret = await integrations.issuePartnerSecret(await integrations.ensure(SEED_INTEGRATION, 'test'), CARAT_PARTNER);
  provisionCarat(stack.env, { integrationHubServiceId: SEED_INTEGRATION, merchantKey: MERCHANT_KEY });
  stack.carat.control.addMerchant(MERCHANT_KEY, authenticityUrl());
});
afterAll(() => stack?.close());
beforeEach(() => {
  stack.carat.control.clearFaults();
  stack.carat.control.authenticityMode({ when: 'during' });
  stack.carat.control.setAuthenticityUrl(MERCHANT_KEY, authenticityUrl());
});

const authenticityUrl = (s = secret) => `${stack.baseUrl}/carat/authenticity/${s}`;
const get = (path: string, as = token) => send(stack, 'GET', path, undefined, as);
const put = (path: string, body: unknown, as = token) => send(stack, 'PUT', path, body, as);
const reconcile = () => stack.runSchedule('caratReconciler') as Promise<ReconcileReport>;

/** The simulator's transaction of a recharge (found by its merchant_usn). */
async function transactionOf(rechargeId: string): Promise<CaratTransaction> {
  const { body } = await get(`/recharges/${rechargeId}`);
  const transaction = stack.carat.control.transactionByUsn(MERCHANT_KEY, body.merchantUsn);
  if (!transaction) throw new Error(`no e-SiTef transaction for usn ${body.merchantUsn}`);
  return transaction;
}

/** A begun recharge with its NIT (201 NOV). */
async function begun(orderId?: string): Promise<string> {
  const started = await post(stack, '/recharges', orderId ? { orderId } : {}, token);
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  return started.body.rechargeId;
}

/** A recharge done (PPC) for R$ 15.00 on Vivo, DDD 11. */
async function pendingConfirmation(extra: Record<string, unknown> = {}): Promise<string> {
  const id = await begun();
  const done = await put(`/recharges/${id}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15, ...extra });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  expect(done.body.status).toBe('PPC');
  return id;
}

describe('the flow', () => {
  it('begin → dealers → branches → recharge → confirm ends CON, with every answer and the receipts kept', async () => {
    const started = await post(stack, '/recharges', { orderId: 'pedido-1' }, token);
    expect(started.status).toBe(201);
    expect(started.headers.get('location')).toBe(`/recharges/${started.body.rechargeId}`);
    expect(started.body).toMatchObject({ status: 'NOV', expectedStep: 'recharge', nitReceived: true, orderId: 'pedido-1' });
    expect(started.body.merchantUsn).toMatch(/^\d+$/);
    const id = started.body.rechargeId;

    const dealers = await get(`/recharges/${id}/dealers`);
    expect(dealers).toMatchObject({
      status: 200,
      body: {
        rechargeId: id,
        dealers: [
          { dealer: '1', name: 'Vivo' },
          { dealer: '2', name: 'Claro' },
          { dealer: '3', name: 'Oi' },
          { dealer: '4', name: 'Tim' },
        ],
      },
    });
    const branches = await get(`/recharges/${id}/branches?ddd=11&dealer=004`);
    expect(branches.status).toBe(200);
    expect(branches.body).toMatchObject({ rechargeId: id, ddd: '11', dealer: '4' });
    expect(
      branches.body.values.map((v: { amountKey: string; minAmount: number; bonus: number }) => [
        v.amountKey,
        v.minAmount,
        v.bonus,
      ]),
    ).toEqual([
      ['1', 10, 1],
      ['2', 20, 2],
      ['3', 50, 5],
    ]);
    expect(branches.body.values[0]).toMatchObject({
      fixed: true,
      minAmountCentavos: 1000,
      maxAmountCentavos: 1000,
      bonusCentavos: 100,
      bonusPercent: '10',
    });

    // Numbers where e-SiTef sends strings, a padded dealer: all taken.
    const done = await put(`/recharges/${id}`, { dealer: 4, ddd: 11, phone: 987654321, amountKey: 2 });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({
      status: 'PPC',
      expectedStep: 'confirmation',
      recharge: {
        dealer: '4',
        dealerName: 'Tim',
        ddd: '11',
        phone: '987654321',
        amount: 20,
        amountCentavos: 2000,
        amountKey: '2',
        withPayment: false,
      },
      decision: null,
      outcomeUnknown: null,
    });
    expect(done.body.esitefUsn).toMatch(/^\d{15}$/);

    const confirmed = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({
      status: 'CON',
      statusDescription: 'confirmed',
      expectedStep: 'none',
      decision: { confirm: true, by: 'store' },
    });
    expect(confirmed.body.receipts.customer).toContain('4321');
    expect(confirmed.body.receipts.merchant).toEqual(expect.any(String));
    expect(confirmed.body.steps.map((s: { step: string; status?: string }) => `${s.step}:${s.status ?? ''}`)).toEqual([
      'authenticity:NOV',
      'begin:',
      'dealers:NOV',
      'branches:NOV',
      'do:PPC',
      'confirm:CON',
      'status:CON',
    ]);
    expect(JSON.stringify(confirmed.body)).not.toContain((await transactionOf(id)).nit);

    const tx = await transactionOf(id);
    expect(tx).toMatchObject({
      status: 'CON',
      dealer: '004',
      ddd: '11',
      phone: '987654321',
      amount: 2000,
      orderId: 'pedido-1',
      doCalls: 1,
      confirmCalls: 1,
    });
    // Settled: nothing for the reconciler.
    expect((await reconcile()).checked).toBe(0);
  });

  it('with a card payment by token, undone by the store: PPN, and the token is not kept', async () => {
    const id = await pendingConfirmation({ payment: { cardToken: CARD_TOKEN, authorizerId: 2, installments: 1 } });
    const undone = await post(stack, `/recharges/${id}/confirmation`, { confirm: false }, token);
    expect(undone.status).toBe(200);
    expect(undone.body).toMatchObject({
      status: 'PPN',
      decision: { confirm: false, by: 'store' },
      recharge: { withPayment: true },
    });
    expect((await transactionOf(id)).payment).toMatchObject({ amount: 1500, tokenLast4: CARD_TOKEN.slice(-4), status: 'PPN' });
    expect(JSON.stringify((await get(`/recharges/${id}`)).body)).not.toContain(CARD_TOKEN);
  });

  it('answers the same decision again with the same recharge, refuses the opposite one', async () => {
    const id = await pendingConfirmation();
    expect((await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token)).status).toBe(200);
    const again = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(again).toMatchObject({ status: 200, body: { status: 'CON' } });
    const opposite = await post(stack, `/recharges/${id}/confirmation`, { confirm: false }, token);
    expect(opposite.status).toBe(409);
    expect(opposite.body.errors[0].key).toBe('confirm');
    expect(opposite.body.errors[0].message).toContain('already confirmed by the store');
    expect((await transactionOf(id)).confirmCalls).toBe(1);
  });

  it('starts once per orderId: the same orderId answers the same recharge, in parallel too', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => post(stack, '/recharges', { orderId: 'pedido-par' }, token)));
    const ids = new Set([a, b, c].map((r) => r!.body.rechargeId));
    expect(ids.size).toBe(1);
    expect([a, b, c].map((r) => r!.status).sort()).toEqual([200, 200, 201]);
    expect(stack.carat.control.transactions().filter((t) => t.orderId === 'pedido-par')).toHaveLength(1);
  });

  it('keeps each integration to its own recharges (404 for another’s id)', async () => {
    const id = await begun();
    const theirs = await get(`/recharges/${id}`, otherToken);
    expect(theirs).toMatchObject({
      status: 404,
      body: { errors: [{ key: 'rechargeId', message: `no recharge ${id} for this integration` }] },
    });
    // The other integration has no merchant key: it cannot begin at all.
    const start = await post(stack, '/recharges', {}, otherToken);
    expect(start.status).toBe(409);
    expect(start.body.errors[0].key).toBe('integration');
  });
});

describe('steps out of order', () => {
  it('409 naming the expected step', async () => {
    const id = await begun();
    const early = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(early.status).toBe(409);
    expect(early.body.errors[0]).toMatchObject({ key: 'step' });
    expect(early.body.errors[0].message).toContain('expected step: PUT /recharges/{id}');
    await put(`/recharges/${id}`, { dealer: '2', ddd: '21', phone: '991234567', amount: 15 });
    const twice = await put(`/recharges/${id}`, { dealer: '2', ddd: '21', phone: '991234567', amount: 15 });
    expect(twice.status).toBe(409);
    expect(twice.body.errors[0].message).toContain('expected step: POST /recharges/{id}/confirmation');
    expect((await get(`/recharges/${id}/dealers`)).status).toBe(409);
    expect((await transactionOf(id)).doCalls).toBe(1);
    await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    const after = await put(`/recharges/${id}`, { dealer: '2', ddd: '21', phone: '991234567', amount: 15 });
    expect(after.body.errors[0].message).toContain('expected step: none: the recharge is finished');
  });
});

describe('validation', () => {
  it('names each bad field: DDD, phone, amount, dealer, card data', async () => {
    const id = await begun();
    const bad = await put(`/recharges/${id}`, { dealer: 'x', ddd: '20', phone: '87654321', amount: 15.001 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { key: string }) => e.key)).toEqual(['dealer', 'ddd', 'phone', 'amount']);
    expect(bad.body.errors[1].message).toBe('body.ddd must be a Brazilian area code (DDD) such as 11');
    expect(bad.body.errors[2].message).toBe('body.phone must be a mobile number: 9 digits starting with 9, without the DDD');

    const outOfRange = await put(`/recharges/${id}`, {
      dealer: '3',
      ddd: '31',
      phone: '(98) 7654-3210'.replace('(98) ', '9'),
      amount: 250,
    });
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.body.errors).toEqual([
      { key: 'amount', message: 'body.amount R$ 250.00 is not offered here; offered: key 1: R$ 10.00 to R$ 200.00' },
    ]);
    const noKey = await put(`/recharges/${id}`, { dealer: '1', ddd: '31', phone: '987654321', amountKey: '9' });
    expect(noKey.body.errors[0]).toMatchObject({ key: 'amountKey' });
    const card = await put(`/recharges/${id}`, {
      dealer: '1',
      ddd: '11',
      phone: '987654321',
      amount: 15,
      payment: { cardToken: CARD_TOKEN, number: '4111111111111111', cvv: '123' },
    });
    expect(card.status).toBe(400);
    expect(card.body.errors.map((e: { key: string }) => e.key)).toEqual(['payment.number', 'payment.cvv']);
    expect(JSON.stringify(card.body)).not.toContain('4111111111111111');
    const panAsToken = await put(`/recharges/${id}`, {
      dealer: '1',
      ddd: '11',
      phone: '987654321',
      amount: 15,
      payment: { cardToken: '4111111111111111' },
    });
    expect(panAsToken.body.errors[0]).toMatchObject({ key: 'payment.cardToken' });
    const branches = await get(`/recharges/${id}/branches?ddd=23&dealer=1`);
    expect(branches).toMatchObject({ status: 400, body: { errors: [{ key: 'ddd' }] } });
    // Nothing reached e-SiTef's do, and the recharge is untouched.
    expect((await transactionOf(id)).doCalls).toBe(0);
    expect((await get(`/recharges/${id}`)).body).toMatchObject({ status: 'NOV', recharge: null });
  });
});

describe('e-SiTef refusing', () => {
  it('a denial is a 422 with e-SiTef’s code and message; the recharge is NEG, nothing to settle', async () => {
    const id = await begun();
    stack.carat.control.failNext('do', { kind: 'deny', code: '05', message: 'Recarga negada pela operadora' });
    const denied = await put(`/recharges/${id}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 });
    expect(denied.status).toBe(422);
    expect(denied.body.errors).toEqual([
      {
        key: 'esitef.do',
        message: 'e-SiTef denied the recharge: code 05: Recarga negada pela operadora (HTTP 400); the recharge is NEG (denied)',
      },
    ]);
    expect((await get(`/recharges/${id}`)).body).toMatchObject({ status: 'NEG', expectedStep: 'none', outcomeUnknown: null });
    expect((await reconcile()).checked).toBe(0);
  });

  it('a failed read is a 502 naming the step; the store repeats it', async () => {
    const id = await begun();
    stack.carat.control.failNext('dealers', { kind: 'http', status: 503 });
    const failed = await get(`/recharges/${id}/dealers`);
    expect(failed.status).toBe(502);
    expect(failed.body.errors[0].key).toBe('esitef.dealers');
    stack.carat.control.failNext('branches', { kind: 'esitef', code: '77', message: 'Tabela indisponível' });
    const refused = await get(`/recharges/${id}/branches?ddd=11&dealer=1`);
    expect(refused).toMatchObject({
      status: 502,
      body: { errors: [{ key: 'esitef.branches', message: 'e-SiTef refused branches: code 77: Tabela indisponível' }] },
    });
    expect((await get(`/recharges/${id}/dealers`)).status).toBe(200);
  });

  it('a begin e-SiTef refuses is a 502 and INV; the same orderId may start again', async () => {
    stack.carat.control.failNext('begin', { kind: 'esitef', code: '3', message: 'Loja não autorizada' });
    const refused = await post(stack, '/recharges', { orderId: 'pedido-inv' }, token);
    expect(refused.status).toBe(502);
    expect(refused.body.errors[0]).toEqual({
      key: 'esitef.begin',
      message: 'e-SiTef refused to begin the recharge: code 3: Loja não autorizada',
    });
    const again = await post(stack, '/recharges', { orderId: 'pedido-inv' }, token);
    expect(again.status).toBe(201);
  });
});

describe('the authenticity POST', () => {
  it('failing (our route refuses it: a wrong secret registered): begin fails, INV, no NIT', async () => {
    stack.carat.control.setAuthenticityUrl(MERCHANT_KEY, authenticityUrl('not-the-secret'));
    const started = await post(stack, '/recharges', {}, token);
    expect(started.status).toBe(502);
    expect(started.body.errors[0].message).toBe(
      'e-SiTef refused to begin the recharge: code 131: Falha no POST de autenticidade',
    );
    expect(stack.carat.control.authenticityPosts().at(-1)).toMatchObject({ status: 401 });
  });

  it('late: 202 BEGIN first, NOV once it comes', async () => {
    stack.carat.control.authenticityMode({ when: 'after', delayMs: 1500 });
    const started = await post(stack, '/recharges', {}, token);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'BEGIN', expectedStep: 'authenticity', nitReceived: false });
    const id = started.body.rechargeId;
    expect((await get(`/recharges/${id}/dealers`)).status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await get(`/recharges/${id}`)).body).toMatchObject({ status: 'NOV', nitReceived: true });
    expect((await get(`/recharges/${id}/dealers`)).status).toBe(200);
  });

  it('repeated: the first is taken, the repeat refused, the NIT kept', async () => {
    stack.carat.control.authenticityMode({ when: 'during', repeat: 2 });
    const id = await begun();
    expect(
      stack.carat.control
        .authenticityPosts()
        .slice(-2)
        .map((p) => [p.status, p.answer]),
    ).toEqual([
      [200, 'OK'],
      [409, expect.stringContaining('already has its NIT')],
    ]);
    expect((await get(`/recharges/${id}/dealers`)).status).toBe(200);
  });

  it('forged: a wrong secret, an unknown or used merchantUSN, a bad NIT change nothing', async () => {
    const id = await begun();
    const { merchantUsn } = (await get(`/recharges/${id}`)).body;
    const nit = (await transactionOf(id)).nit;
    const form = (fields: Record<string, string>, s = secret) =>
      fetch(authenticityUrl(s), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      }).then(async (r) => [r.status, await r.text()] as const);
    const forgedNit = 'A'.repeat(64);
    expect((await form({ nit: forgedNit, merchantUSN: merchantUsn }, 'wrong-secret'))[0]).toBe(401);
    expect((await form({ nit: forgedNit, merchantUSN: '999999' }))[0]).toBe(404);
    expect((await form({ nit: forgedNit, merchantUSN: merchantUsn }))[0]).toBe(409);
    expect((await form({ nit: 'short', merchantUSN: merchantUsn }))[0]).toBe(400);
    // The recharge still uses e-SiTef's NIT: the do reaches the real transaction.
    await put(`/recharges/${id}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 });
    expect((await transactionOf(id)).nit).toBe(nit);
    expect((await transactionOf(id)).status).toBe('PPC');
    await post(stack, `/recharges/${id}/confirmation`, { confirm: false }, token);
  });
});

describe('outcomes lost in transit, settled by the reconciler', () => {
  it('a do that times out after e-SiTef applied it: 504, then undone by the reconciler (no decision)', async () => {
    const id = await begun();
    stack.carat.control.failNext('do', { kind: 'timeout', apply: true });
    const lost = await put(`/recharges/${id}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 });
    expect(lost.status).toBe(504);
    expect(lost.body.errors[0].key).toBe('esitef.do');
    expect(lost.body.errors[0].message).toContain(
      'whether the recharge was made is unknown; the reconciler asks e-SiTef and settles it',
    );
    expect((await get(`/recharges/${id}`)).body).toMatchObject({
      status: 'NOV',
      expectedStep: 'reconciliation',
      outcomeUnknown: { step: 'do' },
    });
    expect((await transactionOf(id)).status).toBe('PPC');

    const report = await reconcile();
    expect(report).toMatchObject({ checked: 1, undone: 1, confirmed: 0, unsettled: [], pending: 0 });
    expect((await get(`/recharges/${id}`)).body).toMatchObject({
      status: 'PPN',
      decision: { confirm: false, by: 'reconciler' },
      outcomeUnknown: null,
    });
    expect((await transactionOf(id)).history).toEqual(['NOV', 'PPC', 'PPN']);
  });

  it('a lost do the store confirms meanwhile: the confirmation asks e-SiTef and confirms at once', async () => {
    const id = await begun();
    stack.carat.control.failNext('do', { kind: 'reset', apply: true });
    expect((await put(`/recharges/${id}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 })).status).toBe(504);
    const confirmed = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(confirmed).toMatchObject({ status: 200, body: { status: 'CON', decision: { by: 'store' } } });
    expect((await transactionOf(id)).status).toBe('CON');
  });

  it('a do that never applied (reset before): the reconciler finds NOV and the store sends it again', async () => {
    const id = await begun();
    stack.carat.control.failNext('do', { kind: 'reset', apply: false });
    expect((await put(`/recharges/${id}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 })).status).toBe(504);
    expect(await reconcile()).toMatchObject({ checked: 1, notApplied: 1, unsettled: [] });
    expect((await get(`/recharges/${id}`)).body).toMatchObject({ status: 'NOV', expectedStep: 'recharge', outcomeUnknown: null });
    expect((await put(`/recharges/${id}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 })).body.status).toBe('PPC');
    expect((await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token)).body.status).toBe('CON');
    // The first do never reached the transaction: one recharge made.
    expect((await transactionOf(id)).history).toEqual(['NOV', 'PPC', 'CON']);
  });

  it('a confirm whose answer is lost: 504 with the decision recorded; the reconciler confirms (not undoes)', async () => {
    const id = await pendingConfirmation();
    stack.carat.control.failNext('confirm', { kind: 'timeout', apply: false });
    const lost = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(lost.status).toBe(504);
    expect(lost.body.errors[0].message).toContain('the decision to confirm is recorded but not yet applied');
    expect(await reconcile()).toMatchObject({ checked: 1, confirmed: 1 });
    expect((await transactionOf(id)).status).toBe('CON');
  });

  it('left in PPC by the store: undone; two reconcilers at once send one undo', async () => {
    const id = await pendingConfirmation();
    const [a, b] = await Promise.all([reconcile(), reconcile()]);
    expect(a.undone + b.undone).toBe(1);
    expect(a.skipped + b.skipped + a.checked + b.checked).toBeGreaterThanOrEqual(1);
    expect((await transactionOf(id)).confirmCalls).toBe(1);
    expect((await get(`/recharges/${id}`)).body.status).toBe('PPN');
    const late = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(late.status).toBe(409);
    expect(late.body.errors[0].message).toContain('already undone by the reconciler (no decision in time)');
  });

  it('e-SiTef silent: the recharge stays unsettled, reported with its problem, then settled', async () => {
    const id = await pendingConfirmation();
    stack.carat.control.failNext('status', { kind: 'http', status: 503 });
    const first = await reconcile();
    expect(first.unsettled).toEqual([
      {
        integrationHubServiceId: SEED_INTEGRATION,
        rechargeId: id,
        status: 'PPC',
        attempts: 1,
        problem: 'e-SiTef refused the status query: code 99: Serviço temporariamente indisponível (HTTP 503)',
      },
    ]);
    expect(first.pending).toBe(1);
    expect((await get(`/recharges/${id}`)).body.settlement).toEqual({ attempts: 1, problem: first.unsettled[0]!.problem });
    expect(await reconcile()).toMatchObject({ undone: 1, unsettled: [], pending: 0, oldestPendingSeconds: 0 });
  });

  it('e-SiTef undid it by itself: recorded as final, reported as against the store’s decision', async () => {
    const id = await pendingConfirmation();
    stack.carat.control.failNext('confirm', { kind: 'timeout', apply: false });
    expect((await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token)).status).toBe(504);
    stack.carat.control.setStatus((await transactionOf(id)).nit, 'PPN');
    const report = await reconcile();
    expect(report).toMatchObject({ undone: 1, contradicted: [{ rechargeId: id, status: 'PPN', decision: 'confirm' }] });
  });
});

describe('answers that must not read as success', () => {
  it('a confirmation e-SiTef refuses because it already undid the recharge: 422 with its code, not a 200', async () => {
    const id = await pendingConfirmation();
    stack.carat.control.setStatus((await transactionOf(id)).nit, 'PPN');
    const refused = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      {
        key: 'esitef.confirm',
        message: expect.stringMatching(
          /^e-SiTef refused to confirm: code \d+: .+; the recharge is PPN \(undone \(pending, not confirmed\)\) at e-SiTef: it was not confirmed$/,
        ),
      },
    ]);
    expect((await get(`/recharges/${id}`)).body).toMatchObject({ status: 'PPN', expectedStep: 'none', settlement: null });
  });

  it('a confirm e-SiTef refuses outright is a 502 (not "unknown"); the reconciler applies the decision later', async () => {
    const id = await pendingConfirmation();
    stack.carat.control.failNext('confirm', { kind: 'esitef', code: '99', message: 'Erro qualquer' });
    const refused = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(refused.status).toBe(502);
    expect(refused.body.errors[0].message).toBe(
      `the decision to confirm is recorded but not yet applied (e-SiTef refused to confirm: code 99: Erro qualquer); the reconciler applies it (GET /recharges/${id})`,
    );
    expect(await reconcile()).toMatchObject({ confirmed: 1, unsettled: [] });
  });

  it('a do e-SiTef accepts but leaves NEG is a 422; one it leaves ERR is a 502 for the reconciler', async () => {
    const denied = await begun();
    stack.carat.control.failNext('do', {
      kind: 'body',
      body: JSON.stringify({ do_recharge_response: { status: 'NEG', esitef: { code: '0', message: 'OK' } } }),
    });
    const neg = await put(`/recharges/${denied}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 });
    expect(neg.status).toBe(422);
    expect(neg.body.errors[0]).toMatchObject({ key: 'esitef.do' });
    const erred = await begun();
    stack.carat.control.failNext('do', {
      kind: 'body',
      body: JSON.stringify({ do_recharge_response: { status: 'ERR', esitef: { code: '0', message: 'OK' } } }),
    });
    const err = await put(`/recharges/${erred}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 });
    expect(err.status).toBe(502);
    expect(err.body.errors[0].message).toContain('has it as ERR');
    // The simulator never applied it: e-SiTef has it as NOV, so the reconciler finds it not made.
    expect(await reconcile()).toMatchObject({ notApplied: 1, unsettled: [] });
  });

  it('an e-SiTef message of 450 KB is cut, never a 500', async () => {
    const id = await begun();
    const message = 'x'.repeat(450_000);
    stack.carat.control.failNext('dealers', {
      kind: 'body',
      body: JSON.stringify({ list_dealers_response: { esitef: { code: '5', message } } }),
    });
    const answer = await get(`/recharges/${id}/dealers`);
    expect(answer.status).toBe(502);
    expect(answer.body.errors[0].message).toBe(`e-SiTef refused dealers: code 5: ${'x'.repeat(300)}`);
    expect((await get(`/recharges/${id}/dealers`)).status).toBe(200);
  });
});

describe('the review’s inputs', () => {
  it('card numbers behind separators or in track data are refused wherever they are, orderId included', async () => {
    const id = await begun();
    const body = (payment: Record<string, unknown>) => ({ dealer: '1', ddd: '11', phone: '987654321', amount: 15, payment });
    for (const cardToken of [
      '4111.1111.1111.1111',
      '4111111111111111=25121010000000000000',
      '5555555555554444:123:1228',
      '4111111111111111/123',
    ]) {
      const refused = await put(`/recharges/${id}`, body({ cardToken }));
      expect(refused.status, cardToken).toBe(400);
      expect(refused.body.errors.map((e: { key: string }) => e.key)).toEqual(['payment.cardToken']);
    }
    expect(
      (await put(`/recharges/${id}`, body({ cardToken: CARD_TOKEN, customerId: '4111.1111.1111.1111' }))).body.errors[0].key,
    ).toBe('payment.customerId');
    const order = await post(stack, '/recharges', { orderId: '4111_1111_1111_1111' }, token);
    expect(order).toMatchObject({ status: 400, body: { errors: [{ key: 'orderId' }] } });
    expect((await transactionOf(id)).doCalls).toBe(0);
  });

  it('a dealer e-SiTef does not offer is the store’s 400, listed or not; more than 2 decimals are refused', async () => {
    const id = await begun();
    const put999 = await put(`/recharges/${id}`, { dealer: '999', ddd: '11', phone: '987654321', amount: 15 });
    expect(put999.status).toBe(400);
    expect(put999.body.errors[0]).toEqual({
      key: 'dealer',
      message: 'dealer 999 is not one of e-SiTef’s carriers: 1 (Vivo), 2 (Claro), 3 (Oi), 4 (Tim)',
    });
    expect((await get(`/recharges/${id}/branches?ddd=11&dealer=5`)).body.errors[0].key).toBe('dealer');
    const dust = await put(`/recharges/${id}`, { dealer: '2', ddd: '11', phone: '987654321', amount: 10.0000000001 });
    expect(dust.body.errors).toEqual([
      { key: 'amount', message: 'body.amount must be an amount in reais with at most 2 decimal places (whole centavos)' },
    ]);
    const none = await put(`/recharges/${id}`, { dealer: '2', ddd: '11', phone: '987654321' });
    expect(none.body.errors).toEqual([{ key: 'amount', message: 'body.amount or body.amountKey is required (amount in reais)' }]);
    const missing = await get(`/recharges/${id}/branches?ddd=11`);
    expect(missing.body.errors).toEqual([{ key: 'dealer', message: 'query.dealer is required' }]);
  });

  it('an orderId whose NIT expired unused starts again; POST /recharges takes no body at all', async () => {
    const started = await post(stack, '/recharges', { orderId: 'pedido-exp' }, token);
    stack.carat.control.setStatus((await transactionOf(started.body.rechargeId)).nit, 'EXP');
    const expired = await get(`/recharges/${started.body.rechargeId}/dealers`);
    expect(expired.status).toBe(409);
    expect(expired.body.errors[0].message).toContain(
      'the recharge is EXP (expired): nothing was recharged; POST /recharges starts a new one',
    );
    const again = await post(stack, '/recharges', { orderId: 'pedido-exp' }, token);
    expect(again.status).toBe(201);
    expect(again.body.rechargeId).not.toBe(started.body.rechargeId);
    const bare = await fetch(`${stack.baseUrl}/recharges`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(bare.status).toBe(201);
  });
});

describe('the second review’s sequences', () => {
  it('a decision e-SiTef could not apply answers 422 every time, never a 200 on the retry', async () => {
    const id = await pendingConfirmation();
    stack.carat.control.setStatus((await transactionOf(id)).nit, 'PPN');
    const first = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    const again = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect([first.status, again.status]).toEqual([422, 422]);
    expect(again.body.errors[0].message).toBe(first.body.errors[0].message);
  });

  it('five confirmations at once send one confirm and all answer CON', async () => {
    const id = await pendingConfirmation();
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map(() => post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token)),
    );
    expect(answers.map((a) => [a.status, a.body.status])).toEqual(Array(5).fill([200, 'CON']));
    expect((await transactionOf(id)).confirmCalls).toBe(1);
    expect((await get(`/recharges/${id}`)).body).toMatchObject({ settlement: null, outcomeUnknown: null });
  });

  it('a recharge refused because its NIT expired leaves its orderId free to start again', async () => {
    const started = await post(stack, '/recharges', { orderId: 'pedido-exp-2' }, token);
    // Carriers and values read while the NIT lived: the do itself is what e-SiTef refuses.
    await get(`/recharges/${started.body.rechargeId}/branches?ddd=11&dealer=1`);
    stack.carat.control.setStatus((await transactionOf(started.body.rechargeId)).nit, 'EXP');
    const refused = await put(`/recharges/${started.body.rechargeId}`, {
      dealer: '1',
      ddd: '11',
      phone: '987654321',
      amount: 15,
    });
    expect(refused.status).toBe(422);
    expect((await get(`/recharges/${started.body.rechargeId}`)).body).toMatchObject({ status: 'EXP', recharge: null });
    expect((await post(stack, '/recharges', { orderId: 'pedido-exp-2' }, token)).status).toBe(201);
  });

  it('a do answered 5xx is an unknown outcome: 504', async () => {
    const id = await begun();
    stack.carat.control.failNext('do', { kind: 'http', status: 500 });
    const failed = await put(`/recharges/${id}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 });
    expect(failed.status).toBe(504);
    expect(failed.body.errors[0].message).toContain('e-SiTef answered HTTP 500: whether the recharge was made is unknown');
    expect(await reconcile()).toMatchObject({ notApplied: 1, unsettled: [] });
  });
});
