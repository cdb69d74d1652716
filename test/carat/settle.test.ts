import { describe, expect, it } from 'vitest';
import type { EsitefAnswer, EsitefApi, StatusAnswer } from '../../functions/carat/esitef.ts';
import type { Recharge } from '../../functions/carat/recharge.ts';
import { doRecharge, settle, type RechargeDeps } from '../../functions/carat/recharges.ts';
import { MemoryRecharges } from '../support/memory-recharges.ts';

/**
 * settle and the do against a scripted e-SiTef (a narrow seam: what matters is which answer comes
 * when): a NOV read right after a lost do is not taken as "never applied" until the do is old
 * enough, and a do refused because the NIT already holds a recharge keeps the recorded choice.
 */
const INTEGRATION = 'efdd6093-5539-4ac4-ad84-7423a8078dde';
const SENT = '2026-11-30T10:00:00.000-03:00';

const answer = (step: EsitefAnswer['step'], status: string, ok = true, httpStatus = 200): EsitefAnswer => ({
  step,
  httpStatus,
  ok,
  esitef: { code: ok ? '0' : '6', message: ok ? 'OK' : 'status não permite' },
  status,
});
function scripted(statuses: string[]): EsitefApi & { confirms: boolean[] } {
  const confirms: boolean[] = [];
  return {
    confirms,
    begin: async () => answer('begin', 'NOV'),
    dealers: async () => ({ ...answer('dealers', 'NOV'), dealers: [{ code: '1', name: 'Vivo' }] }),
    branches: async () => ({ ...answer('branches', 'NOV'), ranges: [] }),
    doRecharge: async () => answer('do', 'PPC', false, 400),
    confirm: async (_nit, confirm) => {
      confirms.push(confirm);
      return answer('confirm', confirm ? 'CON' : 'PPN');
    },
    status: async (): Promise<StatusAnswer> => ({ ...answer('status', statuses.shift() ?? 'NOV'), receipts: {} }),
  };
}

async function stored(store: MemoryRecharges, change: Partial<Recharge>): Promise<Recharge> {
  const recharge: Recharge = {
    integrationHubServiceId: INTEGRATION,
    rechargeId: '0b7c9a52-5b1e-4c43-9e8f-6a1d2c3b4a5f',
    merchantUsn: '7',
    status: 'NOV',
    nit: 'N'.repeat(64),
    steps: [],
    createdAt: SENT,
    updatedAt: SENT,
    version: 0,
    ...change,
  };
  await store.save(recharge);
  return (await store.get(INTEGRATION, recharge.rechargeId))!;
}

const choice = { dealer: '1', ddd: '11', phone: '987654321', amountCentavos: 1500, amountKey: '2', withPayment: false, at: SENT };

describe('a NOV read after a lost do', () => {
  it('keeps the recharge pending while the do is recent, and calls it not applied once it is old', async () => {
    const store = new MemoryRecharges();
    const lost = await stored(store, { choice, inFlight: { step: 'do', since: SENT, lost: true } });
    const api = scripted(['NOV', 'NOV']);
    const at = (iso: string) => ({ recharges: store, now: () => new Date(iso) });
    const early = await settle(at('2026-11-30T10:01:00.000-03:00'), api, lost, {
      query: true,
      undoWithoutDecision: true,
      notAppliedAfterMs: 300_000,
    });
    expect(early).toMatchObject({ status: 'NOV', inFlight: { step: 'do' }, settleAttempts: 1 });
    expect(early.settleProblem).toBe(
      'e-SiTef still has it as NOV: the lost recharge may still be applied; asked again on the next run',
    );
    const late = await settle(at('2026-11-30T10:06:00.000-03:00'), api, early, {
      query: true,
      undoWithoutDecision: true,
      notAppliedAfterMs: 300_000,
    });
    expect(late.status).toBe('NOV');
    expect(late.inFlight).toBeUndefined();
    expect(api.confirms).toEqual([]);
  });

  it('a PPC read after it is undone without a decision (the TEF rule), confirmed with one', async () => {
    for (const [decision, expected] of [
      [undefined, false],
      [{ confirm: true, by: 'store' as const, at: SENT }, true],
    ] as const) {
      const store = new MemoryRecharges();
      const lost = await stored(store, {
        choice,
        inFlight: { step: 'do', since: SENT, lost: true },
        ...(decision ? { decision } : {}),
      });
      const api = scripted(['PPC', expected ? 'CON' : 'PPN']);
      const done = await settle({ recharges: store, now: () => new Date('2026-11-30T10:02:00.000-03:00') }, api, lost, {
        query: true,
        undoWithoutDecision: true,
        notAppliedAfterMs: 300_000,
      });
      expect(api.confirms).toEqual([expected]);
      expect(done.status).toBe(expected ? 'CON' : 'PPN');
    }
  });
});

describe('a do refused because the NIT already holds a recharge', () => {
  it('keeps the choice that was made (here none: the PUT is dropped) and reports the refusal', async () => {
    const store = new MemoryRecharges();
    await stored(store, {
      dealers: { '1': 'Vivo' },
      branches: {
        '11:1': [
          {
            amountKey: '2',
            category: 'Recarga',
            message: '',
            minCentavos: 1500,
            maxCentavos: 1500,
            bonusCentavos: 0,
            bonusPercent: '0',
            validity: '',
            bonusValidity: '',
          },
        ],
      },
    });
    const deps: RechargeDeps = {
      recharges: store,
      esitef: async () => scripted([]),
      now: () => new Date(),
      newId: () => 'unused',
      nitWaitMs: 0,
      notAppliedAfterMs: 300_000,
      sleep: async () => undefined,
    };
    await expect(
      doRecharge(deps, INTEGRATION, '0b7c9a52-5b1e-4c43-9e8f-6a1d2c3b4a5f', {
        dealer: '1',
        ddd: '11',
        phone: '987654321',
        amountKey: '2',
      }),
    ).rejects.toMatchObject({ statusCode: 422 });
    const after = (await store.get(INTEGRATION, '0b7c9a52-5b1e-4c43-9e8f-6a1d2c3b4a5f'))!;
    expect(after.choice).toBeUndefined();
    expect(after.status).toBe('PPC');
  });
});
