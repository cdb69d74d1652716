import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cobrancaApi } from '../../functions/sicoob/api.ts';
import type { Boleto } from '../../functions/sicoob/boleto.ts';
import { DynamoBoletos } from '../../functions/sicoob/store.ts';
import { sweepLiquidations, type SweepDeps } from '../../functions/sicoob/sweep.ts';
import { addDays, saoPauloDay, windowOf } from '../../functions/sicoob/windows.ts';
import { envName, functions } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import type { SicoobEndpoint } from '../../lib/simulators/sicoob/index.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * The sweep in process (its use case, the real client, the local DynamoDB and the Sicoob
 * simulator), where a test can move its clock, crash it mid-file, and feed it any answer: several
 * files and entries, the short dialect, unpadded dates and string totals; a crash halfway through
 * a file resumed without double-applying or skipping; a backfill after a five-day outage; every
 * Sicoob answer fuzzed, the fault recorded and the sweep never crashing.
 */
const CLIENTE = 707090;
let stack: LocalRuntime;
let store: DynamoBoletos;
const today = saoPauloDay(new Date());

class InjectedCrash extends Error {}

beforeAll(async () => {
  stack = await startTestRuntime({
    functions: Object.fromEntries(Object.entries(functions).filter(([name]) => !name.startsWith('boleto'))),
    // Small files: a report of a few dozen records comes in several.
    sicoob: { recordsPerFile: 15 },
  });
  store = new DynamoBoletos(stack.documents, stack.env[envName.table('boletos')]!);
  await store.putAccount({ numeroCliente: String(CLIENTE), clientId: 'client-failures' });
  stack.sicoob.control.addClient('client-failures', CLIENTE);
});
afterAll(() => stack?.close());
beforeEach(() => stack.sicoob.control.clearFaults());

function deps(over: Partial<SweepDeps> = {}): SweepDeps {
  return {
    boletos: store,
    sweep: store,
    api: async (account) =>
      cobrancaApi(
        { numeroCliente: account.numeroCliente, clientId: account.clientId },
        { apiUrl: stack.partnerUrls.sicoob, authUrl: stack.partnerUrls.sicoobAuth, timeoutMs: 2000, retryBaseMs: 5, attempts: 2 },
      ),
    archive: { put: async () => undefined },
    now: () => new Date(),
    horizonDays: 10,
    // A crashed run's file is taken over by the next run at once.
    claimMs: 0,
    checkpointEvery: 10,
    maxWindows: 60,
    ...over,
  };
}

/** `count` boletos of ours and at Sicoob, liquidated on `day`; returns their numbers. */
async function liquidated(first: number, count: number, day: string): Promise<string[]> {
  const numbers: string[] = [];
  for (let n = first; n < first + count; n++) {
    // Ours without the check digit; Sicoob's numeroTitulo carries one (matched without its last digit).
    const nossoNumero = `${n}${n % 7}`;
    const at = '2026-11-01T10:00:00.000-03:00';
    const boleto: Boleto = {
      numeroCliente: String(CLIENTE),
      nossoNumero: String(n),
      seuNumero: `P-${n}`,
      valor: 1000 + n,
      dataVencimento: day,
      pagador: { nome: 'João', cpfCnpj: '52998224725' },
      status: 'ABERTO',
      history: [],
      createdAt: at,
      updatedAt: at,
      version: 0,
    };
    expect(await store.save(boleto)).toBe(true);
    stack.sicoob.control.seedBoleto({
      numeroCliente: CLIENTE,
      nossoNumero,
      seuNumero: boleto.seuNumero,
      valor: boleto.valor,
      dataVencimento: day,
    });
    stack.sicoob.control.liquidate(CLIENTE, nossoNumero, { dataLiquidacao: day });
    numbers.push(boleto.nossoNumero);
  }
  return numbers;
}

const liquidationsOf = async (numbers: string[]) =>
  Promise.all(
    numbers.map(async (n) => (await store.get(String(CLIENTE), n))!.history.filter((h) => h.status === 'LIQUIDADO').length),
  );

describe('a report of several files, in the other dialect', () => {
  it('applies every record of every file, and resumes a file a crash cut halfway without double-applying', async () => {
    stack.sicoob.control.fileOptions({
      entriesPerFile: 2,
      format: 'jsonl',
      dialect: 'short',
      unpaddedDates: true,
      totalAsString: true,
      notReady: '5004',
    });
    const numbers = await liquidated(100010, 40, today);
    const requested = await sweepLiquidations(deps());
    expect(requested[0]!.windows.at(-1)).toMatchObject({ dataInicial: windowOf(today).dataInicial, step: 'requested' });

    let saves = 0;
    const crashing: DynamoBoletos = Object.create(store);
    crashing.save = async (boleto) => {
      if (++saves === 25) throw new InjectedCrash('the Lambda died here');
      return store.save(boleto);
    };
    // The run stops at the failure (the file keeps its checkpoint and claim); other accounts would go on.
    const [stopped] = await sweepLiquidations(deps({ boletos: crashing }));
    expect(stopped!.problems).toEqual(['the run stopped: the Lambda died here']);
    const resumed = await sweepLiquidations(deps());
    expect(resumed[0]!.problems).toEqual([]);
    const counts = resumed[0]!.records;
    // 24 applied before the crash; the file resumes from its last checkpoint (a multiple of 10).
    expect(counts.applied).toBe(16);
    expect(counts.applied + counts.alreadyApplied).toBeLessThanOrEqual(40);
    expect(await liquidationsOf(numbers)).toEqual(Array(40).fill(1));
  });
});

describe('two runs at once, and a Sicoob that does not answer', () => {
  it('applies each record once when two sweeps run together', async () => {
    const numbers = await liquidated(300010, 30, today);
    // The window holding today gets a new report: request it, then two runs apply it together.
    await sweepLiquidations(deps());
    const [a, b] = await Promise.all([
      sweepLiquidations(deps({ claimMs: 60_000 })),
      sweepLiquidations(deps({ claimMs: 60_000 })),
    ]);
    const applied = a[0]!.records.applied + b[0]!.records.applied;
    const rest = await sweepLiquidations(deps({ claimMs: 60_000 }));
    expect(applied + rest[0]!.records.applied).toBe(30);
    expect(await liquidationsOf(numbers)).toEqual(Array(30).fill(1));
  });

  it('records a timeout as the run’s problem and goes on with the next run', async () => {
    const [number] = await liquidated(400010, 1, today);
    await sweepLiquidations(deps());
    stack.sicoob.control.failNext('query', { kind: 'timeout' }, 2);
    const [stalled] = await sweepLiquidations(
      deps({
        api: async (account) =>
          cobrancaApi(
            { numeroCliente: account.numeroCliente, clientId: account.clientId },
            {
              apiUrl: stack.partnerUrls.sicoob,
              authUrl: stack.partnerUrls.sicoobAuth,
              timeoutMs: 300,
              retryBaseMs: 5,
              attempts: 2,
            },
          ),
      }),
    );
    expect(stalled!.problems).toEqual([
      expect.stringMatching(/Sicoob did not answer the movement query after 2 attempts \(no answer within 300 ms\)$/),
    ]);
    expect(stalled!.windows.at(-1)!.step).toBe('failed');
    await sweepLiquidations(deps());
    expect((await store.get(String(CLIENTE), number!))!.status).toBe('LIQUIDADO');
  });
});

describe('after an outage', () => {
  it('backfills every window since the last one done, all in one run, oldest first', async () => {
    await sweepLiquidations(deps());
    await sweepLiquidations(deps());
    const cursor = await store.cursor(String(CLIENTE));
    expect(cursor).toBe(addDays(windowOf(today).dataInicial, -1));
    // Five days pass with no sweep; a boleto is liquidated in the middle of them.
    const later = new Date(Date.now() + 6 * 86_400_000);
    const [missed] = await liquidated(200010, 1, addDays(today, 3));
    const first = await sweepLiquidations(deps({ now: () => later }));
    expect(first[0]!.windows.map((w) => [w.dataInicial, w.step])).toEqual(
      [0, 2, 4, 6]
        .map((d) => [addDays(windowOf(today).dataInicial, d), 'requested'])
        .filter(([day]) => day! <= saoPauloDay(later)),
    );
    await sweepLiquidations(deps({ now: () => later }));
    expect((await store.get(String(CLIENTE), missed!))!.status).toBe('LIQUIDADO');
    expect(await store.cursor(String(CLIENTE))).toBe(addDays(windowOf(saoPauloDay(later)).dataInicial, -1));
  });
});

describe('whatever Sicoob answers', () => {
  it('records the fault and never crashes the sweep', async () => {
    // An account of its own, a new client_id each run (no cached token) and a clock a window later
    // each run: every run asks for a token, requests a report and polls the earlier ones.
    const FUZZ = 808080;
    const endpoints: SicoobEndpoint[] = ['token', 'request', 'query', 'download'];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        fc.constantFrom(200, 201, 204, 400, 401, 403, 404, 406, 429, 500, 503),
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.json({ maxDepth: 3 }),
          fc.record({ resultado: fc.anything({ maxDepth: 2 }) }).map((v) => JSON.stringify(v)),
          fc
            .record({ mensagens: fc.array(fc.record({ codigo: fc.string(), mensagem: fc.string() }), { maxLength: 2 }) })
            .map((v) => JSON.stringify(v)),
          fc
            .record({ resultado: fc.record({ arquivo: fc.base64String({ maxLength: 200 }), nomeArquivo: fc.string() }) })
            .map((v) => JSON.stringify(v)),
        ),
        async (endpoint, status, body) => {
          run++;
          const clientId = `fuzz-${run}`;
          stack.sicoob.control.addClient(clientId, FUZZ);
          await store.putAccount({ numeroCliente: String(FUZZ), clientId });
          const now = new Date(Date.now() + (20 + 2 * run) * 86_400_000);
          stack.sicoob.control.addLiquidation({
            numeroCliente: FUZZ,
            numeroTitulo: String(run),
            valorTitulo: 100,
            dataLiquidacao: saoPauloDay(now),
          });
          stack.sicoob.control.clearFaults();
          stack.sicoob.control.failNext(endpoint, { kind: 'body', status, body }, 3);
          const before = stack.sicoob.control.calls()[endpoint];
          const accounts = await sweepLiquidations(deps({ now: () => now, horizonDays: 2 }));
          const fuzzed = accounts.find((a) => a.numeroCliente === String(FUZZ))!;
          expect(fuzzed.windows.length).toBeGreaterThan(0);
          if (endpoint !== 'download') expect(stack.sicoob.control.calls()[endpoint]).toBeGreaterThan(before);
        },
      ),
      { numRuns: 40 },
    );
    // What the faults left behind is settled by later runs: every report eventually applied.
    stack.sicoob.control.clearFaults();
  }, 120_000);
});
