/**
 * Sicoob's liquidation sweep (functions/sicoob/sweep.ts) applying one 100,000-record report — one
 * file, one ZIP — beside the bare per-record conditional write on the same emulator in the same
 * run, and the memory the applying run takes.
 *
 * DynamoDB (dynalite), S3 (s3rver) and the Sicoob simulator run in memory in a child process of
 * this section (this file again, with FIXTURES): the memory sampled here is then the sweep's own,
 * not the emulator's items or the simulator building the ZIP, and the emulator gets the second core
 * as a remote DynamoDB would. The sweep runs in this process with its deps, as its integration
 * tests run it: the real Cobrança v3 client against the simulator, DynamoBoletos over the emulator,
 * the raw ZIPs archived to the S3 emulator (as the handler does).
 *
 * The sweep applies a file's records one at a time (for each: match the boleto by both readings of
 * its number and its seuNumero, read it again, write it conditionally on its version), so the raw
 * rate is taken at concurrency 1 too: PutItem of the LIQUIDADO item the sweep wrote, over an ABERTO
 * one, on `version`, as DynamoBoletos.save does, after the sweep. The DynamoDB calls the applying run
 * made per record are printed beside it. BENCH_SICOOB_RECORDS and BENCH_SICOOB_RAW size them
 * (100,000 and 20,000).
 */
import { fork } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import JSZip from 'jszip';
import { cobrancaApi } from '../../functions/sicoob/api.ts';
import type { Boleto } from '../../functions/sicoob/boleto.ts';
import { DynamoBoletos, listingDay } from '../../functions/sicoob/store.ts';
import { sweepLiquidations, type AccountSweep, type SweepDeps } from '../../functions/sicoob/sweep.ts';
import { addDays, saoPauloDay } from '../../functions/sicoob/windows.ts';
import { saoPauloIso } from '../../functions/shared/time.ts';
import { startEmulators } from '../../lib/local/emulators.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localClients, provision } from '../../lib/local/provision.ts';
import { buckets, envName, tables } from '../../lib/manifest.ts';
import { startSicoobSimulator } from '../../lib/simulators/sicoob/index.ts';
import { measure } from './harness.ts';

const RECORDS = Number(process.env.BENCH_SICOOB_RECORDS ?? 100_000);
const RAW = Number(process.env.BENCH_SICOOB_RAW ?? 20_000);
const CLIENTE = 707090;
const CLIENT_ID = 'bench-sweep';
/** Our boletos and Sicoob's share these numbers (stored as Sicoob's numeroTitulo: the first candidate matches). */
const FIRST = 1_000_000;
/** The raw rate's boletos: no record names them. */
const RAW_FIRST = 5_000_000;
const FIXTURES = '--sicoob-sweep-fixtures';
const SAMPLE_MS = 50;
const MB = 1024 * 1024;

interface Ready {
  kind: 'ready';
  dynamodb: string;
  s3: string;
  table: string;
  bucket: string;
  sicoobUrl: string;
  sicoobAuthUrl: string;
}
/** Seeds boletos FIRST + 1 … (the first is the parent's), the raw set, and the simulator's liquidations on `today`. */
type Command = { id: number; op: 'seed'; today: string; at: string };
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

if (process.argv.includes(FIXTURES)) await serveFixtures();
else await bench();

/** The child: emulators and simulator in memory, driven over IPC until the parent goes. */
async function serveFixtures(): Promise<void> {
  const emulators = await startEmulators();
  const clients = localClients(emulators);
  const { env } = await provision(clients, {
    tables: { boletos: tables.boletos },
    queues: {},
    buckets: { partnerArchive: buckets.partnerArchive },
  });
  // One poll "not ready": the first run requests, the next polls and applies (the run timed).
  const sicoob = await startSicoobSimulator({
    clients: [{ clientId: CLIENT_ID, numeroCliente: CLIENTE }],
    recordsPerFile: 100_000,
    notReadyPolls: 1,
  });
  const table = env[envName.table('boletos')]!;
  // Seeded from here: the items and the SDK's garbage stay out of the memory the parent samples.
  const documents = DynamoDBDocumentClient.from(clients.dynamodb);
  const seed = async ({ today, at }: Command): Promise<number> => {
    const ours = (k: number) =>
      k < RECORDS - 1 ? seedBoleto(FIRST + k + 1, k + 1, today, at) : seedBoleto(RAW_FIRST + k - RECORDS + 1, 0, today, at);
    await batchWrite(documents, table, RECORDS - 1 + RAW, (k) => storedItem(ours(k)));
    return sicoob.control.bulkLiquidations(CLIENTE, RECORDS, today, FIRST).nossoNumeros.length;
  };
  process.on('message', (command: Command) => {
    seed(command).then(
      (value) => process.send!({ id: command.id, ok: true, value } satisfies Reply),
      (error: Error) => process.send!({ id: command.id, ok: false, error: error.message } satisfies Reply),
    );
  });
  process.once('disconnect', () => {
    void Promise.all([sicoob.close(), emulators.close()]).finally(() => process.exit(0));
  });
  const ready: Ready = {
    kind: 'ready',
    dynamodb: emulators.dynamodb,
    s3: emulators.s3,
    table,
    bucket: env[envName.bucket('partnerArchive')]!,
    sicoobUrl: sicoob.url,
    sicoobAuthUrl: sicoob.authUrl,
  };
  process.send!(ready);
}

async function bench(): Promise<void> {
  const started = performance.now();
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;

  const child = fork(import.meta.filename, [FIXTURES], { execArgv: process.execArgv, stdio: 'inherit' });
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  const fixtures = await new Promise<Ready>((resolve, reject) => {
    child.once('exit', (code) => {
      const gone = new Error(`the fixtures process exited (${code})`);
      reject(gone);
      for (const pending of waiting.values()) pending.reject(gone);
    });
    child.on('message', (message: Ready | Reply) => {
      if ('kind' in message) return resolve(message);
      const pending = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.ok) pending?.resolve(message.value);
      else pending?.reject(new Error(message.error));
    });
  });
  const ask = (command: Omit<Command, 'id'>) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ ...command, id });
    });

  const credentials = LOCAL_CREDENTIALS;
  const dynamodb = new DynamoDBClient({ region: LOCAL_REGION, endpoint: fixtures.dynamodb, credentials });
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const s3 = new S3Client({ region: LOCAL_REGION, endpoint: fixtures.s3, credentials, forcePathStyle: true });
  const table = fixtures.table;
  const store = new DynamoBoletos(documents, table);

  // DynamoDB calls by operation, counted while `counting` (the applying run).
  const calls = new Map<string, number>();
  let counting = false;
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      if (counting) {
        const operation = (context.commandName ?? '?').replace(/Command$/, '');
        calls.set(operation, (calls.get(operation) ?? 0) + 1);
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchSweepCalls' },
  );

  try {
    const today = saoPauloDay(new Date());
    const at = saoPauloIso(new Date());

    // 1. The account, and the boletos: ours (ABERTO) and Sicoob's (liquidated today, in today's window).
    await store.putAccount({ numeroCliente: String(CLIENTE), clientId: CLIENT_ID });
    const seedStarted = performance.now();
    // The first through DynamoBoletos.save: the bulk items below must be what it writes.
    const first = seedBoleto(FIRST, 0, today, at);
    if (!(await store.save(first))) throw new Error('could not seed the first boleto');
    const { Item: written } = await documents.send(
      new GetCommand({ TableName: table, Key: { pk: storedItem(first).pk }, ConsistentRead: true }),
    );
    if (!isDeepStrictEqual(written, storedItem(first)))
      throw new Error(`DynamoBoletos.save writes another item than this bench seeds: ${JSON.stringify(written)}`);
    const seeded = Number(await ask({ op: 'seed', today, at }));
    if (seeded !== RECORDS) throw new Error(`the simulator seeded ${seeded} liquidations, not ${RECORDS}`);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    // 2. The sweep: the first run requests the report; the next polls it and applies it (timed, sampled).
    let archivedBytes = 0;
    const deps: SweepDeps = {
      boletos: store,
      sweep: store,
      api: async (account) =>
        cobrancaApi(
          { numeroCliente: account.numeroCliente, clientId: account.clientId },
          { apiUrl: fixtures.sicoobUrl, authUrl: fixtures.sicoobAuthUrl, timeoutMs: 300_000, attempts: 1 },
        ),
      archive: {
        async put(key, body, contentType) {
          archivedBytes += body.length;
          await s3.send(new PutObjectCommand({ Bucket: fixtures.bucket, Key: key, Body: body, ContentType: contentType }));
        },
      },
      now: () => new Date(),
      horizonDays: 0,
      claimMs: 3_600_000,
      checkpointEvery: 500,
      maxWindows: 60,
    };
    const requested = only(await sweepLiquidations(deps));
    if (requested.windows[0]?.step !== 'requested')
      throw new Error(`the first run did not request the report: ${JSON.stringify(requested)}`);

    let applying: AccountSweep | undefined;
    let applySeconds = 0;
    let runs = 1;
    let baseline = process.memoryUsage();
    let peakRss = 0;
    let peakHeap = 0;
    while (!applying && runs < 6) {
      gc();
      baseline = process.memoryUsage();
      peakRss = baseline.rss;
      peakHeap = baseline.heapUsed;
      const sampler = setInterval(() => {
        const { rss, heapUsed } = process.memoryUsage();
        peakRss = Math.max(peakRss, rss);
        peakHeap = Math.max(peakHeap, heapUsed);
      }, SAMPLE_MS);
      counting = true;
      const t0 = performance.now();
      const run = only(await sweepLiquidations(deps));
      applySeconds = (performance.now() - t0) / 1000;
      counting = false;
      clearInterval(sampler);
      runs++;
      if (run.files > 0) applying = run;
      else calls.clear();
    }
    if (!applying) throw new Error(`no run applied the report in ${runs} runs`);
    const { records, problems } = applying;
    if (records.applied !== RECORDS || problems.length > 0 || applying.windows[0]?.step !== 'applied')
      throw new Error(`the applying run did not apply the ${RECORDS} records: ${JSON.stringify(applying)}`);

    // 3. The outcome: every boleto of the report LIQUIDADO, paid as due (no divergence), the raw set still ABERTO.
    const liquidated = await countStatus(documents, table, 'LIQUIDADO');
    const open = await countStatus(documents, table, 'ABERTO');
    if (liquidated.items !== RECORDS || liquidated.divergent !== 0 || open.items !== RAW)
      throw new Error(
        `expected ${RECORDS} LIQUIDADO (none divergent) and ${RAW} ABERTO; found ${liquidated.items} LIQUIDADO (${liquidated.divergent} divergent), ${open.items} ABERTO`,
      );

    // 4. The raw rate: the item the sweep wrote for boleto i, as boleto RAW_FIRST + i, over its ABERTO item.
    const stored = await batchGet(
      documents,
      table,
      Array.from({ length: RAW }, (_, i) => `B#${CLIENTE}#${FIRST + (i % RECORDS)}`),
    );
    const rawItems = stored.map((item, j) => {
      const { pk: _pk, listKind: _k, listDay: _d, statusKey: _s, seuKey: _u, nossoKey: _n, ...liquidado } = item;
      return storedItem({
        ...(liquidado as unknown as Boleto),
        nossoNumero: String(RAW_FIRST + j),
        seuNumero: `BULK-${RAW_FIRST + j}`,
        version: 1,
      });
    });
    const raw = await measure(`raw conditional PutItem, concurrency 1`, RAW, 1, async (j) => {
      await documents.send(
        new PutCommand({
          TableName: table,
          Item: rawItems[j],
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': 1 },
        }),
      );
    });
    const afterRaw = await countStatus(documents, table, 'ABERTO');
    if (afterRaw.items !== 0) throw new Error(`the raw writes left ${afterRaw.items} boletos ABERTO`);
    rawItems.length = 0;

    // 5. For scale: the same file held as parsed records at once (what streaming avoids).
    const window = await store.window(String(CLIENTE), requested.windows[0]!.dataInicial);
    const api = await deps.api({ numeroCliente: String(CLIENTE), clientId: CLIENT_ID });
    const { arquivo } = await api.download(window!.report!.codigoSolicitacao, window!.report!.idArquivos![0]!);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const zip = await JSZip.loadAsync(Buffer.from(arquivo, 'base64'));
    let text: string | undefined = await Object.values(zip.files)[0]!.async('string');
    const jsonBytes = Buffer.byteLength(text);
    const all = JSON.parse(text) as unknown[];
    text = undefined;
    gc();
    const heldAtOnce = process.memoryUsage().heapUsed - heapBefore;
    if (all.length !== RECORDS) throw new Error(`the file holds ${all.length} records`);

    const sweepRate = RECORDS / applySeconds;
    const ratio = sweepRate / raw.perSecond;
    const perRecord = [...calls]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([operation, n]) => `${(n / RECORDS).toFixed(3)} ${operation}`)
      .join(', ');
    const mb = (bytes: number) => (Math.abs(bytes) < MB ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / MB).toFixed(1)} MB`);
    console.log(
      `\nSicoob liquidation sweep — ${RECORDS.toLocaleString('en')} LIQUI records in one file (ZIP ${mb(archivedBytes)}, JSON ${mb(jsonBytes)}), Node ${process.version}; DynamoDB, S3 and the simulator in a child process`,
    );
    console.log(
      `  ${'sweep, applying run (poll, download, archive, apply)'.padEnd(54)} ${sweepRate.toFixed(0).padStart(6)}/s   ${applySeconds.toFixed(1)} s for ${RECORDS.toLocaleString('en')} records, one at a time`,
    );
    console.log(`  ${'  DynamoDB calls per record'.padEnd(54)} ${perRecord}`);
    console.log(
      `  ${`${raw.label} (${RAW.toLocaleString('en')})`.padEnd(54)} ${raw.perSecond.toFixed(0).padStart(6)}/s   p50 ${raw.p50.toFixed(2)} ms   p99 ${raw.p99.toFixed(2)} ms`,
    );
    console.log(
      `  ${'sweep / raw throughput ratio'.padEnd(54)} ${ratio.toFixed(2).padStart(6)}    ${ratio >= 0.5 ? 'PASS' : 'FAIL'} (target ≥ 0.50)`,
    );
    console.log(
      `  ${'applying run, peak − baseline (sampled every 50 ms)'.padEnd(54)} RSS +${mb(peakRss - baseline.rss)}, heap +${mb(peakHeap - baseline.heapUsed)} (baseline after GC ${mb(baseline.rss)} / ${mb(baseline.heapUsed)})`,
    );
    console.log(
      `  ${'  the file parsed whole, for scale'.padEnd(54)} heap +${mb(heldAtOnce)} for ${all.length.toLocaleString('en')} records at once`,
    );
    console.log(
      `  ${'verified'.padEnd(54)} ${liquidated.items.toLocaleString('en')} LIQUIDADO by the report (byStatus), none divergent; ${runs} sweep runs`,
    );
    console.log(
      `  ${'section'.padEnd(54)} ${((performance.now() - started) / 1000).toFixed(1)} s (seeding ${(RECORDS + RAW).toLocaleString('en')} boletos ${seedSeconds.toFixed(1)} s)`,
    );
  } finally {
    dynamodb.destroy();
    s3.destroy();
    child.disconnect();
    await new Promise((done) => (child.exitCode !== null ? done(undefined) : child.once('exit', done)));
  }
}

/** Our boleto `n`, ABERTO, as the i-th of the simulator's bulk liquidations (same amount, same due day). */
function seedBoleto(n: number, i: number, today: string, at: string): Boleto {
  return {
    numeroCliente: String(CLIENTE),
    nossoNumero: String(n),
    seuNumero: `BULK-${n}`,
    // lib/simulators/sicoob/ledger.ts's bulk amounts: its records pay them in full (checked: no divergence).
    valor: 1000 + ((i * 37) % 5000),
    dataVencimento: addDays(today, 10),
    pagador: { nome: 'Pagador Bench', cpfCnpj: '52998224725' },
    status: 'ABERTO',
    history: [],
    createdAt: at,
    updatedAt: at,
    version: 0,
  };
}

function only(accounts: AccountSweep[]): AccountSweep {
  if (accounts.length !== 1) throw new Error(`expected one account, the sweep went over ${accounts.length}`);
  return accounts[0]!;
}

/** The item DynamoBoletos.save writes for `boleto` (checked against it once per run). */
function storedItem(boleto: Boleto): Record<string, unknown> & { pk: string } {
  const { numeroCliente: c, nossoNumero: n } = boleto;
  return {
    ...boleto,
    pk: `B#${c}#${n}`,
    listKind: 'BOLETO',
    listDay: `${listingDay(boleto)}#${c}#${n}`,
    statusKey: boleto.status,
    seuKey: `${c}#${boleto.seuNumero}`,
    nossoKey: n,
    version: boleto.version + 1,
  };
}

/** BatchWriteItem of items 0 … count − 1, 25 a call, 8 calls at once, unprocessed items sent again. */
async function batchWrite(
  db: DynamoDBDocumentClient,
  table: string,
  count: number,
  itemAt: (k: number) => Record<string, unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let start = (next += 25) - 25; start < count; start = (next += 25) - 25) {
        let requests = Array.from({ length: Math.min(25, count - start) }, (_, k) => ({
          PutRequest: { Item: itemAt(start + k) },
        }));
        while (requests.length > 0) {
          const { UnprocessedItems } = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          requests = (UnprocessedItems?.[table] ?? []) as typeof requests;
        }
      }
    }),
  );
}

/** BatchGetItem, 100 keys a call, in the order of `pks`. */
async function batchGet(db: DynamoDBDocumentClient, table: string, pks: string[]): Promise<Record<string, unknown>[]> {
  const found = new Map<string, Record<string, unknown>>();
  for (let start = 0; start < pks.length; start += 100) {
    let keys = [...new Set(pks.slice(start, start + 100))].map((pk) => ({ pk }));
    while (keys.length > 0) {
      const { Responses, UnprocessedKeys } = await db.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of Responses?.[table] ?? []) found.set(item.pk as string, item);
      keys = (UnprocessedKeys?.[table]?.Keys ?? []) as typeof keys;
    }
  }
  return pks.map((pk) => {
    const item = found.get(pk);
    if (!item) throw new Error(`${pk} is not stored`);
    return item;
  });
}

/** Boletos with `status` (byStatus index), and how many of them carry a divergent liquidation. */
async function countStatus(db: DynamoDBDocumentClient, table: string, status: string) {
  let items = 0;
  let divergent = 0;
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: table,
        IndexName: 'byStatus',
        KeyConditionExpression: 'statusKey = :status',
        FilterExpression: 'attribute_exists(liquidacao.divergence)',
        ExpressionAttributeValues: { ':status': status },
        Select: 'COUNT',
        ...(cursor ? { ExclusiveStartKey: cursor } : {}),
      }),
    );
    items += page.ScannedCount ?? 0;
    divergent += page.Count ?? 0;
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return { items, divergent };
}
