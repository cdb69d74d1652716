import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SicoobRefused, type CobrancaApi, type Readiness } from '../../functions/sicoob/api.ts';
import type { Boleto } from '../../functions/sicoob/boleto.ts';
import { matchBoleto } from '../../functions/sicoob/matching.ts';
import { DynamoBoletos } from '../../functions/sicoob/store.ts';
import { sweepLiquidations, type SweepDeps } from '../../functions/sicoob/sweep.ts';
import { addDays, saoPauloDay, windowOf } from '../../functions/sicoob/windows.ts';
import { envName, functions } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * Matching and the sweep's own bookkeeping on the local DynamoDB, against a scripted Sicoob (a
 * narrow seam: which report is ready when): a number that could name two boletos is never guessed;
 * the first run fixes where an account's sweep starts, so a window not done never slides out of the
 * horizon; a report Sicoob refuses or never readies is asked for anew.
 */
let stack: LocalRuntime;
let store: DynamoBoletos;
const AT = '2026-11-01T10:00:00.000-03:00';

beforeAll(async () => {
  // The emulators and tables only: no route or schedule is under test here.
  stack = await startTestRuntime({ functions: { authorizer: functions.authorizer } });
  store = new DynamoBoletos(stack.documents, stack.env[envName.table('boletos')]!);
});
afterAll(() => stack?.close());

async function save(numeroCliente: string, nossoNumero: string, seuNumero: string): Promise<void> {
  const boleto: Boleto = {
    numeroCliente,
    nossoNumero,
    seuNumero,
    valor: 10000,
    dataVencimento: '2026-12-01',
    pagador: { nome: 'Ana', cpfCnpj: '52998224725' },
    status: 'ABERTO',
    history: [],
    createdAt: AT,
    updatedAt: AT,
    version: 0,
  };
  expect(await store.save(boleto)).toBe(true);
}

describe('matching a record to a boleto', () => {
  it('never guesses between the number with and without its check digit', async () => {
    await save('1001', '611', 'S-611');
    await save('1001', '6114', 'S-6114');
    const which = async (nossoNumero: string, seuNumero?: string) => {
      const match = await matchBoleto(store, '01001', nossoNumero, seuNumero);
      return match.kind === 'one' ? match.boleto.nossoNumero : match.kind;
    };
    // Both readings name a boleto: the seuNumero decides, or nothing does.
    expect(await which('00006114', 'S-6114')).toBe('6114');
    expect(await which('6114', 'S-611')).toBe('611');
    expect(await which('6114')).toBe('ambiguous');
    // One reading names a boleto, the seuNumero another: not applied.
    await save('1001', '700', 'S-700');
    expect(await which('7005', 'S-611')).toBe('ambiguous');
    expect(await which('7005', 'S-700')).toBe('700');
    expect(await which('7005')).toBe('700');
    expect(await which('9999', 'S-611')).toBe('611');
    expect(await which('9999', 'nobody')).toBe('none');
    expect(await matchBoleto(store, '1001', '6114', 'S-9')).toEqual({
      kind: 'ambiguous',
      detail: 'nosso número 6114 with seuNumero S-9 could be 6114 (S-6114), 611 (S-611)',
    });
  });
});

/** A Sicoob whose reports are ready, or not, as the test says. */
function scripted(ready: (codigo: string) => Readiness | Error): CobrancaApi & { requested: string[] } {
  const requested: string[] = [];
  return {
    requested,
    requestLiquidations: async (window) => {
      requested.push(window.dataInicial);
      return `${window.dataInicial}#${requested.length}`;
    },
    readiness: async (codigo) => {
      const answer = ready(codigo);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    download: async () => {
      throw new Error('no files in these reports');
    },
    registerWebhook: async () => '1',
    webhooks: async () => [],
    deleteWebhook: async () => undefined,
  };
}

const deps = (numeroCliente: string, api: CobrancaApi, now: Date): SweepDeps => ({
  boletos: store,
  sweep: {
    ...store,
    accounts: async () => [{ numeroCliente, clientId: 'c' }],
    cursor: (n) => store.cursor(n),
    advanceCursor: (n, d) => store.advanceCursor(n, d),
    window: (n, d) => store.window(n, d),
    saveWindow: (w) => store.saveWindow(w),
    file: (n, c, i) => store.file(n, c, i),
    saveFile: (f) => store.saveFile(f),
  },
  api: async () => api,
  archive: { put: async () => undefined },
  now: () => now,
  horizonDays: 4,
  claimMs: 60_000,
  checkpointEvery: 100,
  maxWindows: 60,
});

describe('the sweep’s bookkeeping', () => {
  it('starts where its first run started: a window whose report never comes is never skipped', async () => {
    const start = new Date();
    const first = windowOf(addDays(saoPauloDay(start), -4));
    // Every report is ready and empty, except the first window's, which never is.
    const api = scripted((codigo) =>
      codigo.startsWith(`${first.dataInicial}#`) ? { ready: false } : { ready: true, total: 0, idArquivos: [] },
    );
    await sweepLiquidations(deps('2002', api, start));
    const later = new Date(start.getTime() + 3 * 86_400_000);
    const [run] = await sweepLiquidations(deps('2002', api, later));
    // Still swept (its stale report given up, a new one asked for), and the alarm sees it.
    expect(run!.windows[0]).toMatchObject({ ...first, step: 'failed' });
    expect(run!.problems[0]).toMatch(/not ready after 6 hours; a new report is requested next run$/);
    expect(run!.oldestOpenWindowSeconds).toBeGreaterThan(0);
    expect(await store.cursor('2002')).toBe(addDays(first.dataInicial, -1));
  });

  it('asks anew for a report Sicoob refuses, or that is not ready after 6 hours', async () => {
    const now = new Date();
    let refuse = true;
    const api = scripted(() =>
      refuse
        ? new SicoobRefused(400, [{ codigo: '400', mensagem: 'Solicitação não encontrada' }], 'the movement query')
        : { ready: false },
    );
    const [refused] = await sweepLiquidations({ ...deps('3003', api, now), horizonDays: 0 });
    expect(refused!.windows.at(-1)!.step).toBe('failed');
    expect(refused!.problems[0]).toMatch(
      /Sicoob refused the movement query \(HTTP 400\): 400 Solicitação não encontrada; a new report is requested next run$/,
    );
    refuse = false;
    await sweepLiquidations({ ...deps('3003', api, now), horizonDays: 0 });
    expect(api.requested).toHaveLength(2);
    const [stale] = await sweepLiquidations({ ...deps('3003', api, new Date(now.getTime() + 7 * 3_600_000)), horizonDays: 0 });
    expect(stale!.problems.some((p) => /not ready after 6 hours; a new report is requested next run$/.test(p))).toBe(true);
  });
});
