import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuthenticityForm, receiveAuthenticity } from '../../functions/carat/authenticity.ts';
import { esitefApi, type EsitefApi } from '../../functions/carat/esitef.ts';
import { needsSettlement } from '../../functions/carat/recharge.ts';
import {
  decideRecharge,
  doRecharge,
  IN_FLIGHT_LOST_AFTER_MS,
  startRecharge,
  type RechargeDeps,
} from '../../functions/carat/recharges.ts';
import { reconcileRecharges } from '../../functions/carat/reconcile.ts';
import { ClientError, PartnerFailure } from '../../functions/shared/http.ts';
import { startCaratSimulator, type CaratFault, type CaratSimulator } from '../../lib/simulators/carat/index.ts';
import { MemoryRecharges } from '../support/memory-recharges.ts';

/**
 * Whatever fails where — our process dying before or after an e-SiTef call took effect, e-SiTef's
 * answer lost (timeout, reset) after or without applying the call, a 5xx, a denial, a status
 * query that fails once — and whatever the store decides (confirm, undo, nothing, twice), after the
 * reconciler has run no recharge is left pending at e-SiTef (PPC), ours agrees with e-SiTef's, a
 * decision the store recorded is the one applied, none means undo, and no phone got two recharges.
 * The use cases run in process on an in-memory store against the e-SiTef simulator over HTTP, its
 * authenticity POST answered by the real receiving use case.
 */
const INTEGRATION = 'efdd6093-5539-4ac4-ad84-7423a8078dde';
const MERCHANT_KEY = 'property-store-key';

class InjectedCrash extends Error {}
type Crash = 'before' | 'after' | undefined;

let simulator: CaratSimulator;
let receiver: Server;
let store: MemoryRecharges;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      receiveAuthenticity({ recharges: store, now: () => new Date() }, INTEGRATION, readAuthenticityForm(body)).then(
        () => res.writeHead(200).end('OK'),
        (error: unknown) => res.writeHead(error instanceof ClientError ? error.statusCode : 500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/authenticity`;
  simulator = await startCaratSimulator({ merchants: [{ merchantKey: MERCHANT_KEY, authenticityUrl: url }] });
});
afterAll(async () => {
  await simulator?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

/** The real client, dying before or after the calls the plan names (a Lambda that crashed there). */
function crashing(api: EsitefApi, plan: { do?: Crash; confirm?: Crash }): EsitefApi {
  const wrap =
    <A extends unknown[], R>(crash: Crash, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (crash === 'before') throw new InjectedCrash('crashed before the call');
      const result = await call(...args);
      if (crash === 'after') throw new InjectedCrash('crashed after the call');
      return result;
    };
  return {
    ...api,
    doRecharge: wrap(plan.do, api.doRecharge),
    confirm: wrap(plan.confirm, api.confirm),
  };
}

const FAULTS: Record<string, CaratFault | Crash> = {
  none: undefined,
  crashBefore: 'before',
  crashAfter: 'after',
  timeoutApplied: { kind: 'timeout', apply: true },
  timeoutNotApplied: { kind: 'timeout', apply: false },
  resetApplied: { kind: 'reset', apply: true },
  resetNotApplied: { kind: 'reset', apply: false },
  http500: { kind: 'http', status: 500 },
};
const fault = fc.constantFrom(...Object.keys(FAULTS));

/** Runs a store call; what a caller may see (a refusal, a partner failure, our crash) is swallowed, anything else fails the run. */
async function survive(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (error instanceof ClientError || error instanceof PartnerFailure || error instanceof InjectedCrash) return;
    throw error;
  }
}

describe('settlement under failures', () => {
  it('leaves nothing pending, agrees with e-SiTef and applies the recorded decision (none → undo)', async () => {
    const real = esitefApi(simulator.url, { merchantKey: MERCHANT_KEY, timeoutMs: 100 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          doFault: fc.oneof(fault, fc.constant('deny')),
          decision: fc.constantFrom('none', 'confirm', 'undo'),
          confirmFault: fault,
          repeat: fc.boolean(),
          statusFails: fc.boolean(),
        }),
        async ({ doFault, decision, confirmFault, repeat, statusFails }) => {
          store = new MemoryRecharges();
          simulator.control.clearFaults();
          const injected = (name: string) => (typeof FAULTS[name] === 'string' ? (FAULTS[name] as Crash) : undefined);
          const api = crashing(real, { do: injected(doFault), confirm: injected(confirmFault) });
          const deps: RechargeDeps = {
            recharges: store,
            esitef: async () => api,
            now: () => new Date(),
            newId: randomUUID,
            nitWaitMs: 500,
            // The property's runs take the lost do's NOV as final at once (e-SiTef here answers synchronously).
            notAppliedAfterMs: 0,
            sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          };
          const { recharge } = await startRecharge(deps, INTEGRATION, {});
          expect(recharge.status).toBe('NOV');
          const id = recharge.rechargeId;

          const simulated = (name: string) => (typeof FAULTS[name] === 'object' ? (FAULTS[name] as CaratFault) : undefined);
          if (doFault === 'deny') simulator.control.failNext('do', { kind: 'deny' });
          else if (simulated(doFault)) simulator.control.failNext('do', simulated(doFault)!);
          await survive(() =>
            doRecharge(deps, INTEGRATION, id, { dealer: '1', ddd: '11', phone: '987654321', amountCentavos: 1500 }),
          );
          if (decision !== 'none') {
            if (simulated(confirmFault)) simulator.control.failNext('confirm', simulated(confirmFault)!);
            await survive(() => decideRecharge(deps, INTEGRATION, id, decision === 'confirm'));
            if (repeat)
              await survive(() => decideRecharge({ ...deps, esitef: async () => real }, INTEGRATION, id, decision === 'confirm'));
          }
          const decided = (await store.get(INTEGRATION, id))!.decision;

          if (statusFails) simulator.control.failNext('status', { kind: 'http', status: 503 });
          const reconcile = () =>
            reconcileRecharges(
              {
                recharges: store,
                esitef: async () => real,
                // The reconciler runs later than any request lives: a call a crash left "in flight" is lost by then.
                now: () => new Date(Date.now() + 2 * IN_FLIGHT_LOST_AFTER_MS),
                afterMs: 0,
                claimMs: 60_000,
                notAppliedAfterMs: 0,
                log: { info: () => undefined, warn: () => undefined },
              },
              10,
            );
          for (let run = 0; run < 3 && (await store.unsettled(new Date(Date.now() + 1000).toISOString(), 10)).length > 0; run++)
            await reconcile();

          const ours = (await store.get(INTEGRATION, id))!;
          const theirs = simulator.control.transactionByUsn(MERCHANT_KEY, ours.merchantUsn)!;
          expect(theirs.status, JSON.stringify({ ours, theirs })).not.toBe('PPC');
          expect(ours.status).toBe(theirs.status);
          expect(needsSettlement(ours)).toBe(false);
          expect(ours.inFlight).toBeUndefined();
          expect(theirs.history.filter((s) => s === 'PPC').length).toBeLessThanOrEqual(1);
          if (theirs.history.includes('PPC')) {
            // The store's recorded decision is what happened; without one, the TEF rule: undo.
            const expected = decided?.by === 'store' ? (decided.confirm ? 'CON' : 'PPN') : 'PPN';
            expect(theirs.status, JSON.stringify({ decided, ours })).toBe(expected);
            expect(ours.decision?.confirm).toBe(expected === 'CON');
          }
        },
      ),
      { numRuns: 100 },
    );
  }, 120_000);
});
