import { updateVersioned } from '../shared/conditional.ts';
import { saoPauloIso } from '../shared/time.ts';
import { SicoobRefused, SicoobUnavailable, type CobrancaApi } from './api.ts';
import { normalizeNumero, nossoNumeroCandidates, type Boleto, type ChangeSource } from './boleto.ts';
import { fileRecords, UnreadableFile, type FileRecord, type LiquiRecord } from './files.ts';
import { applyLiquidation } from './liquidation.ts';
import { matchBoleto } from './matching.ts';
import type { AccountSettings, BoletoStore, FileState, SweepStore, WindowState } from './store.ts';
import { addDays, closesAt, saoPauloDay, windowOf, windowsBetween, type SweepWindow } from './windows.ts';

/**
 * The liquidation sweep (seed 004; spec §1): per Sicoob account, every two-day window (windows.ts)
 * from the last one done — or, with none, from today minus the horizon — to the one holding today
 * is advanced at once, without ever waiting inside the run: a window with no report gets one
 * requested (tipoMovimento 5), a pending report is asked whether it is ready, a ready report's
 * files are downloaded, archived raw and applied record by record. The window holding today gets a
 * new report on every run once its last one is applied; a window is done once it has closed and a
 * report requested after its close has been applied. Each window's report and each file are
 * claimed conditionally, so two runs at once do each thing once; a file resumes after a crash from
 * its last checkpoint, and a record applied twice changes nothing.
 */
export interface SweepDeps {
  boletos: BoletoStore;
  sweep: SweepStore;
  /** The account's client (its certificate read from the secret). */
  api(account: AccountSettings): Promise<CobrancaApi>;
  /** Raw ZIPs, as downloaded, in the partner archive. */
  archive: { put(key: string, body: Buffer, contentType: string): Promise<void> };
  now(): Date;
  /** With no window done yet, the sweep starts this many days back (SICOOB_HORIZON_DAYS; Sicoob allows a year). */
  horizonDays: number;
  /** How long a run holds a file it applies (a crashed run's file is taken over after). */
  claimMs: number;
  /** Records between two checkpoints of a file's progress. */
  checkpointEvery: number;
  /** Windows advanced per account and run (a year's backlog takes a few runs). */
  maxWindows: number;
}

export interface RecordCounts {
  applied: number;
  alreadyApplied: number;
  unmatched: number;
  conflicting: number;
  other: number;
  invalid: number;
}

export interface AccountSweep {
  numeroCliente: string;
  windows: { dataInicial: string; dataFinal: string; step: WindowStep; codigoSolicitacao?: string }[];
  files: number;
  records: RecordCounts;
  /** Exceptions this run recorded for the first time (the alarm "exceptions grow"). */
  newExceptions: number;
  problems: string[];
  /** Seconds since the oldest window that has closed but is not done closed (the alarm: 24 h). */
  oldestOpenWindowSeconds: number;
}

/**
 * What a run did to a window: `requested` (a report asked for), `waiting` (not ready yet),
 * `applying` (files left for the next run or another run), `applied` (a report applied; the window
 * stays open), `done`, `failed` (see problems).
 */
export type WindowStep = 'requested' | 'waiting' | 'applying' | 'applied' | 'done' | 'failed';

const zeroCounts = (): RecordCounts => ({ applied: 0, alreadyApplied: 0, unmatched: 0, conflicting: 0, other: 0, invalid: 0 });

/** One run over every account; never throws for Sicoob's failures (they are in each account's problems). */
export async function sweepLiquidations(deps: SweepDeps): Promise<AccountSweep[]> {
  const results: AccountSweep[] = [];
  for (const account of await deps.sweep.accounts()) {
    try {
      results.push(await sweepAccount(deps, account));
    } catch (error) {
      // Storage failing (S3, DynamoDB) stops this account's run, not the others': the next run goes on
      // from the checkpoints.
      results.push({
        numeroCliente: account.numeroCliente,
        windows: [],
        files: 0,
        records: zeroCounts(),
        newExceptions: 0,
        problems: [`the run stopped: ${(error as Error).message.slice(0, 300)}`],
        oldestOpenWindowSeconds: 0,
      });
    }
  }
  return results;
}

async function sweepAccount(deps: SweepDeps, account: AccountSettings): Promise<AccountSweep> {
  const result: AccountSweep = {
    numeroCliente: account.numeroCliente,
    windows: [],
    files: 0,
    records: zeroCounts(),
    newExceptions: 0,
    problems: [],
    oldestOpenWindowSeconds: 0,
  };
  const now = deps.now();
  const today = saoPauloDay(now);
  let cursor = await deps.sweep.cursor(account.numeroCliente);
  if (!cursor) {
    // The first run fixes where the account's sweep starts: later runs go on from there, so a window
    // not done yet can never slide out of the horizon.
    await deps.sweep.advanceCursor(account.numeroCliente, addDays(windowOf(addDays(today, -deps.horizonDays)).dataInicial, -1));
    cursor = (await deps.sweep.cursor(account.numeroCliente))!;
  }
  const from = addDays(cursor, 1);
  let api: CobrancaApi;
  try {
    api = await deps.api(account);
  } catch (error) {
    result.problems.push(`the account's setup: ${(error as Error).message}`);
    return result;
  }
  let doneThrough: string | undefined;
  let contiguous = true;
  for (const window of windowsBetween(from, today).slice(0, deps.maxWindows)) {
    let step: WindowStep;
    let state: WindowState | undefined;
    try {
      ({ step, state } = await advanceWindow(deps, api, account, window, result));
    } catch (error) {
      if (!(error instanceof SicoobUnavailable || error instanceof SicoobRefused)) throw error;
      result.problems.push(`${window.dataInicial}…${window.dataFinal}: ${error.message}`);
      step = 'failed';
    }
    result.windows.push({ ...window, step, ...(state?.report ? { codigoSolicitacao: state.report.codigoSolicitacao } : {}) });
    const closedFor = (now.getTime() - closesAt(window).getTime()) / 1000;
    if (step !== 'done' && closedFor > 0)
      result.oldestOpenWindowSeconds = Math.max(result.oldestOpenWindowSeconds, Math.round(closedFor));
    contiguous &&= step === 'done';
    if (contiguous) doneThrough = window.dataFinal;
  }
  if (doneThrough) await deps.sweep.advanceCursor(account.numeroCliente, doneThrough);
  return result;
}

/** Moves one window as far as it goes without waiting. */
async function advanceWindow(
  deps: SweepDeps,
  api: CobrancaApi,
  account: AccountSettings,
  window: SweepWindow,
  result: AccountSweep,
): Promise<{ step: WindowStep; state?: WindowState }> {
  const cliente = account.numeroCliente;
  const closeIso = closesAt(window).toISOString();
  const now = deps.now();
  let state = (await deps.sweep.window(cliente, window.dataInicial)) ?? {
    numeroCliente: cliente,
    ...window,
    done: false,
    reportsApplied: 0,
    updatedAt: saoPauloIso(now),
    version: 0,
  };
  if (state.done) return { step: 'done', state };
  const closed = now.toISOString() >= closeIso;
  let step: WindowStep = 'waiting';

  // A report: none yet, or the last one applied and the window still open (or that report older than its close).
  if (!state.report || (state.report.appliedAt && (!closed || state.report.requestedAt < closeIso))) {
    const codigoSolicitacao = await api.requestLiquidations(window);
    state = await saveWindow(deps, state, (s) =>
      s.report && !s.report.appliedAt ? undefined : { ...s, report: { codigoSolicitacao, requestedAt: now.toISOString() } },
    );
    step = 'requested';
  }
  const report = state.report!;
  if (!report.idArquivos) {
    let readiness;
    try {
      readiness = await api.readiness(report.codigoSolicitacao);
    } catch (error) {
      // Sicoob no longer knows that request (or refuses it): the next run asks for a new report.
      if (error instanceof SicoobRefused) return dropReport(deps, state, report.codigoSolicitacao, error.message, result);
      throw error;
    }
    if (!readiness.ready) {
      if (now.getTime() - Date.parse(report.requestedAt) > REPORT_GIVEN_UP_AFTER_MS)
        return dropReport(
          deps,
          state,
          report.codigoSolicitacao,
          `report ${report.codigoSolicitacao} not ready after 6 hours`,
          result,
        );
      return { step, state };
    }
    state = await saveWindow(deps, state, (s) =>
      s.report?.codigoSolicitacao !== report.codigoSolicitacao || s.report.idArquivos
        ? undefined
        : { ...s, report: { ...s.report, idArquivos: readiness.idArquivos, total: readiness.total } },
    );
  }
  const files = state.report?.idArquivos ?? [];
  let applied = 0;
  let faulty: string | undefined;
  for (const idArquivo of files) {
    const file = await applyFile(deps, api, account, window, state.report!.codigoSolicitacao, idArquivo, result);
    if (file?.state === 'APPLIED') applied++;
    if (file?.state === 'FAULTY') faulty = file.problem;
  }
  if (faulty) return dropReport(deps, state, report.codigoSolicitacao, faulty, result);
  if (applied < files.length) return { step: 'applying', state };
  const codigo = state.report!.codigoSolicitacao;
  state = await saveWindow(deps, state, (s) => {
    if (s.report?.codigoSolicitacao !== codigo || s.report.appliedAt) return undefined;
    const appliedAt = deps.now().toISOString();
    const { problem: _solved, ...rest } = s;
    return {
      ...rest,
      report: { ...s.report, appliedAt },
      reportsApplied: s.reportsApplied + 1,
      done: closed && s.report.requestedAt >= closeIso,
    };
  });
  return { step: state.done ? 'done' : 'applied', state };
}

/** A report not ready this long is asked for anew (Sicoob's take minutes; its files live 30 days). */
const REPORT_GIVEN_UP_AFTER_MS = 6 * 3_600_000;

/** Forgets the window's report (recording why): the next run requests a new one. */
async function dropReport(
  deps: SweepDeps,
  state: WindowState,
  codigoSolicitacao: string,
  problem: string,
  result: AccountSweep,
): Promise<{ step: WindowStep; state: WindowState }> {
  result.problems.push(`${state.dataInicial}…${state.dataFinal}: ${problem}; a new report is requested next run`);
  const next = await saveWindow(deps, state, (s) => {
    if (s.report?.codigoSolicitacao !== codigoSolicitacao) return undefined;
    const { report: _dropped, ...rest } = s;
    return { ...rest, problem };
  });
  return { step: 'failed', state: next };
}

/** Writes the window as `change` makes it over the stored one (undefined: leave it), re-reading on a lost race. */
async function saveWindow(
  deps: SweepDeps,
  state: WindowState,
  change: (s: WindowState) => WindowState | undefined,
): Promise<WindowState> {
  let first = true;
  const stored = await updateVersioned(
    async () => {
      if (first) {
        first = false;
        return state;
      }
      return deps.sweep.window(state.numeroCliente, state.dataInicial);
    },
    (next) => deps.sweep.saveWindow({ ...next, updatedAt: saoPauloIso(deps.now()) }),
    (current) => (current ? change(current) : change(state)),
    `window ${state.dataInicial} of ${state.numeroCliente}`,
  );
  return stored ?? state;
}

/**
 * Applies one file of a report: claimed (a file another run holds, or already applied, is left),
 * downloaded, archived, its records applied from its checkpoint on. Returns the file's state
 * afterwards (undefined when another run holds it).
 */
async function applyFile(
  deps: SweepDeps,
  api: CobrancaApi,
  account: AccountSettings,
  window: SweepWindow,
  codigoSolicitacao: string,
  idArquivo: string,
  result: AccountSweep,
): Promise<FileState | undefined> {
  const cliente = account.numeroCliente;
  const now = deps.now();
  const existing = await deps.sweep.file(cliente, codigoSolicitacao, idArquivo);
  if (existing?.state === 'APPLIED' || existing?.state === 'FAULTY') return existing;
  if (existing?.claimedUntil && existing.claimedUntil > now.toISOString()) return undefined;
  let file: FileState = {
    ...(existing ?? {
      numeroCliente: cliente,
      codigoSolicitacao,
      idArquivo,
      dataInicial: window.dataInicial,
      state: 'PENDING' as const,
      nextRecord: 0,
      counts: zeroCounts(),
      version: 0,
    }),
    claimedUntil: new Date(now.getTime() + deps.claimMs).toISOString(),
    updatedAt: saoPauloIso(now),
  };
  if (!(await deps.sweep.saveFile(file))) return undefined;
  file = { ...file, version: file.version + 1 };
  result.files++;

  const checkpoint = async (changes: Partial<FileState>): Promise<boolean> => {
    const next: FileState = {
      ...file,
      claimedUntil: new Date(deps.now().getTime() + deps.claimMs).toISOString(),
      ...changes,
      updatedAt: saoPauloIso(deps.now()),
    };
    if (!(await deps.sweep.saveFile(next))) return false;
    file = { ...next, version: next.version + 1 };
    return true;
  };

  let download: { arquivo: string; nomeArquivo: string };
  try {
    download = await api.download(codigoSolicitacao, idArquivo);
  } catch (error) {
    if (error instanceof SicoobRefused) {
      await checkpoint({ state: 'FAULTY', problem: error.message.slice(0, 300) });
      return file;
    }
    // Let the claim lapse soon: the next run downloads it again.
    await checkpoint({ claimedUntil: now.toISOString() });
    throw error;
  }
  const archiveKey = `sicoob/movimentos/${cliente}/${window.dataInicial}/${codigoSolicitacao}/${idArquivo}.zip`;
  await deps.archive.put(archiveKey, Buffer.from(download.arquivo.replace(/\s+/g, ''), 'base64'), 'application/zip');

  const counts = { ...file.counts };
  const problems: string[] = [];
  let next = file.nextRecord;
  /** Applies `entries` in order, their boletos read in one batch first; false when the claim was lost. */
  const applyChunk = async (entries: FileRecord[]): Promise<boolean> => {
    const chunkDeps = { ...deps, boletos: await prefetched(deps.boletos, cliente, entries) };
    for (const entry of entries) {
      const source: ChangeSource = { kind: 'sweep', codigoSolicitacao, idArquivo, record: entry.index };
      if (entry.kind === 'liquidation') {
        const outcome = await applyRecord(chunkDeps, cliente, entry.record, source, result);
        counts[outcome]++;
        result.records[outcome]++;
      } else if (entry.kind === 'other') {
        counts.other++;
        result.records.other++;
      } else {
        counts.invalid++;
        result.records.invalid++;
        if (problems.length < 5) problems.push(`record ${entry.index}: ${entry.problem.slice(0, 200)}`);
      }
      next = entry.index + 1;
      if (next % deps.checkpointEvery === 0 && !(await checkpoint({ nextRecord: next, counts, archiveKey }))) return false;
    }
    return true;
  };
  const chunk: FileRecord[] = [];
  let unreadable: UnreadableFile | undefined;
  try {
    for await (const entry of fileRecords(download.arquivo, file.nextRecord)) {
      chunk.push(entry);
      if (chunk.length === PREFETCH_RECORDS && !(await applyChunk(chunk.splice(0)))) return undefined;
    }
  } catch (error) {
    if (!(error instanceof UnreadableFile)) throw error;
    unreadable = error;
  }
  // The records read before the file broke off are applied, as they were one by one.
  if (!(await applyChunk(chunk.splice(0)))) return undefined;
  if (unreadable) {
    await checkpoint({ state: 'FAULTY', problem: unreadable.message.slice(0, 300), archiveKey });
    return file;
  }
  await checkpoint({
    state: 'APPLIED',
    nextRecord: next,
    counts,
    archiveKey,
    ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
    claimedUntil: undefined,
  });
  return file;
}

/** Records whose boletos are read in one batch before they are applied, one by one, in order. */
const PREFETCH_RECORDS = 100;

/**
 * The boletos store, answering `get` for the numbers `entries` name (both readings of each) from
 * one consistent batch read; a boleto it saves is read afresh after. A record whose boleto changed
 * since (the same boleto twice in the chunk, a notice meanwhile) loses its conditional write and
 * reads it again, as with any concurrent writer.
 */
async function prefetched(store: BoletoStore, cliente: string, entries: FileRecord[]): Promise<BoletoStore> {
  const wanted = new Map<string, Set<string>>();
  for (const entry of entries) {
    if (entry.kind !== 'liquidation') continue;
    const contract = normalizeNumero(entry.record.numeroCliente || cliente);
    const numbers = wanted.get(contract) ?? new Set<string>();
    for (const candidate of nossoNumeroCandidates(entry.record.numeroTitulo)) numbers.add(candidate);
    wanted.set(contract, numbers);
  }
  const known = new Map<string, Boleto | undefined>();
  for (const [contract, numbers] of wanted) {
    const found = await store.getMany(contract, [...numbers]);
    for (const n of numbers) known.set(`${contract}#${n}`, found.get(n));
  }
  return {
    get: (c, n) => (known.has(`${c}#${n}`) ? Promise.resolve(known.get(`${c}#${n}`)) : store.get(c, n)),
    save: (boleto) => {
      known.delete(`${boleto.numeroCliente}#${boleto.nossoNumero}`);
      return store.save(boleto);
    },
    getMany: (c, numbers) => store.getMany(c, numbers),
    bySeuNumero: (c, seuNumero) => store.bySeuNumero(c, seuNumero),
    byNossoNumero: (n) => store.byNossoNumero(n),
    list: (query) => store.list(query),
    putException: (exception) => store.putException(exception),
    exceptions: (query) => store.exceptions(query),
  };
}

type RecordOutcome = 'applied' | 'alreadyApplied' | 'unmatched' | 'conflicting';

/**
 * A LIQUI record against the boleto it names: `numeroCliente` + nosso número (without leading
 * zeros, with or without its check digit), else the only boleto of that contract with its
 * `seuNumero`. No boleto → a reconciliation exception (one per liquidation, however many reports
 * carry it).
 */
async function applyRecord(
  deps: SweepDeps,
  cliente: string,
  record: LiquiRecord,
  source: ChangeSource,
  result: AccountSweep,
): Promise<RecordOutcome> {
  const match = await matchBoleto(deps.boletos, record.numeroCliente || cliente, record.numeroTitulo, record.seuNumero);
  const at = saoPauloIso(deps.now());
  if (match.kind !== 'one') {
    if (
      await deps.boletos.putException({
        key: `LIQUI#${record.numeroCliente}#${normalizeNumero(record.numeroTitulo)}#${record.dataLiquidacao}#${record.valorLiquido}`,
        kind: match.kind === 'none' ? 'unmatched-liquidation' : 'ambiguous-liquidation',
        numeroCliente: record.numeroCliente,
        nossoNumero: normalizeNumero(record.numeroTitulo),
        ...(record.seuNumero ? { seuNumero: record.seuNumero } : {}),
        valor: record.valorLiquido,
        data: record.dataLiquidacao,
        detail: match.kind === 'none' ? 'a liquidation for a boleto the platform does not have' : `not applied: ${match.detail}`,
        source: sourceText(source),
        at,
      })
    )
      result.newExceptions++;
    return 'unmatched';
  }
  const boleto = match.boleto;
  let outcome: RecordOutcome = 'alreadyApplied';
  let conflict: string | undefined;
  // Matched by its key, the boleto was just read consistently: that read is the first round's (a lost
  // race reads it again). Matched through the seuNumero index, which may lag, it is read again first.
  let fresh = nossoNumeroCandidates(record.numeroTitulo).includes(boleto.nossoNumero) ? boleto : undefined;
  await updateVersioned(
    async () => {
      const current = fresh ?? (await deps.boletos.get(boleto.numeroCliente, boleto.nossoNumero));
      fresh = undefined;
      return current;
    },
    (next) => deps.boletos.save(next),
    (current) => {
      if (!current) return undefined;
      const applied = applyLiquidation(current, record, source, at);
      if (applied.kind === 'applied') {
        outcome = 'applied';
        return applied.boleto;
      }
      outcome = applied.kind === 'conflicting' ? 'conflicting' : 'alreadyApplied';
      conflict = applied.kind === 'conflicting' ? applied.detail : undefined;
      return undefined;
    },
    `boleto ${boleto.nossoNumero}`,
  );
  if (
    conflict &&
    (await deps.boletos.putException({
      key: `CONFLICT#${record.numeroCliente}#${normalizeNumero(record.numeroTitulo)}#${record.dataLiquidacao}#${record.valorLiquido}`,
      kind: 'conflicting-liquidation',
      numeroCliente: boleto.numeroCliente,
      nossoNumero: boleto.nossoNumero,
      seuNumero: boleto.seuNumero,
      valor: record.valorLiquido,
      data: record.dataLiquidacao,
      detail: conflict,
      source: sourceText(source),
      at,
    }))
  )
    result.newExceptions++;
  return outcome;
}

function sourceText(source: ChangeSource): string {
  if (source.kind === 'sweep')
    return `solicitação ${source.codigoSolicitacao}, arquivo ${source.idArquivo}, registro ${source.record}`;
  if (source.kind === 'webhook') return `webhook ${source.idWebhook}, baixa ${source.numeroIdentificadorBaixa}`;
  return `import by ${source.by}`;
}
