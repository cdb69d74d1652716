import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { takePayment, type IntakeDeps } from '../../functions/payments/intake.ts';
import type { PaymentJob } from '../../functions/payments/job.ts';
import { orderRef, type PaymentAnswer } from '../../functions/payments/record.ts';
import { validatePaymentRequest, type ValidPayment } from '../../functions/payments/request.ts';
import { seedPayment } from '../support/fixtures.ts';
import { MemoryPaymentStore } from '../support/memory-payments.ts';

/**
 * The POST/poll protocol against any interleaving of two (or three) terminals, the issuer and new
 * tabs: a request keeps its answer while the tab is unchanged, no poll creates a payment, a tab is
 * paid at most once, and every payment has exactly one job.
 */
function valid(mutate: (body: any) => void): ValidPayment {
  const body = seedPayment();
  mutate(body);
  const validation = validatePaymentRequest(body);
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  return validation.payment;
}

const requests = [
  valid(() => undefined),
  valid((b) => {
    b.paymentObject.methods[0].method = 'PIX';
    delete b.paymentObject.methods[0].methodInfo;
  }),
  valid((b) => (b.paymentObject.numberPersons = 3)),
];
const ref = orderRef(requests[0]!.request.integrationHubServiceId, 'TABLE', requests[0]!.request.orderKey);

type Action = { kind: 'send'; request: number } | { kind: 'issue'; success: boolean } | { kind: 'newTab' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), request: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('issue' as const), success: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'newTab' as const }) },
);

async function run(actions: Action[]) {
  const store = new MemoryPaymentStore();
  const jobs: PaymentJob[] = [];
  let clock = Date.parse('2026-11-29T12:00:00-03:00');
  const deps: IntakeDeps = {
    store,
    queue: { send: async (job) => void jobs.push(job) },
    now: () => new Date((clock += 1000)),
    enqueueStaleMs: 10_000,
    onEnqueueFailure: () => undefined,
    documents: { get: async (key) => `<document ${key}/>`, find: async (key) => `<document ${key}/>` },
  };

  let tab = 0;
  const accepted: { tab: number; request: number; paymentId: string }[] = [];
  const successes: { tab: number; paymentId: string }[] = [];
  /** The 200 answer each request got in the current tab. */
  let answered = new Map<number, PaymentAnswer>();
  let queuedAt = 0;

  for (const step of actions) {
    if (step.kind === 'send') {
      const outcome = await takePayment(requests[step.request]!, 'corr-12345678', deps);
      const earlier = answered.get(step.request);
      if (earlier) expect(outcome).toMatchObject({ kind: 'finished', answer: earlier });
      if (outcome.kind === 'finished') answered.set(step.request, outcome.answer);
      if (outcome.kind === 'accepted') {
        expect(accepted.filter((a) => a.tab === tab && a.request === step.request)).toEqual([]);
        expect(successes.filter((s) => s.tab === tab)).toEqual([]);
        accepted.push({ tab, request: step.request, paymentId: outcome.record.paymentId });
      }
    } else if (step.kind === 'issue') {
      const job = jobs[queuedAt];
      if (!job) continue;
      queuedAt++;
      if (!(await store.startProcessing(job.orderRef, job.paymentId, 'now'))) continue;
      await store.finish(
        job.orderRef,
        job.paymentId,
        step.success
          ? { success: true, invoice: { chave: '3'.repeat(44), qrCode: 'qr', nfeProcKey: 'k/nfeProc.xml' }, error: null }
          : { success: false, invoice: null, error: { code: '539', message: 'rejected' } },
        'now',
      );
      if (step.success)
        successes.push({ tab: accepted.find((a) => a.paymentId === job.paymentId)!.tab, paymentId: job.paymentId });
    } else {
      // PUT /orders/…: refused while a payment holds the order; otherwise the slot is released.
      if (store.holds(ref)) continue;
      const current = await store.get(ref);
      if (current) expect(await store.release(current)).toBe(true);
      tab++;
      answered = new Map();
    }
  }

  // Every accepted payment has its job and no job names anything else; a job the issuer has not
  // started within the stale period is sent again (the issuer skips the duplicate).
  expect([...new Set(jobs.map((j) => j.paymentId))].sort()).toEqual(accepted.map((a) => a.paymentId).sort());
  // Each send is one claim on the record: its enqueueAttempts count them exactly.
  const slot = await store.get(ref);
  for (const { paymentId } of accepted) {
    const record = slot?.paymentId === paymentId ? slot : await store.getArchived(paymentId);
    expect(jobs.filter((j) => j.paymentId === paymentId).length).toBe(record!.enqueueAttempts);
  }
  for (let t = 0; t <= tab; t++) expect(successes.filter((s) => s.tab === t).length).toBeLessThanOrEqual(1);
}

describe('POST /order/payment under any interleaving of terminals, issuer and new tabs', () => {
  it('keeps each request’s answer, pays a tab once, and never lets a poll create a payment', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 40 }), (actions) => run(actions)),
      { numRuns: 500 },
    );
  });

  it('the ping-pong of the issue report: A paid, B refused, A’s polls keep A’s answer', async () => {
    await run([
      { kind: 'send', request: 0 },
      { kind: 'send', request: 1 },
      { kind: 'issue', success: true },
      { kind: 'send', request: 0 },
      { kind: 'send', request: 1 },
      { kind: 'send', request: 0 },
      { kind: 'send', request: 1 },
      { kind: 'send', request: 0 },
    ]);
  });
});
