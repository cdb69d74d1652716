import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import type { Boleto } from '../../functions/sicoob/boleto.ts';
import { DynamoBoletos } from '../../functions/sicoob/store.ts';
import { readTableExport, type ExportFiles } from '../../functions/sicoob/table-export.ts';
import { envName, localName } from '../../lib/manifest.ts';
import { projectRoot } from '../../lib/local/invoke.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { functionsWithout, issueToken, SEED_INTEGRATION, startTestRuntime } from '../support/runtime.ts';

/**
 * Finance's boletos CSV against the local stack: the boletos of the committed point-in-time export
 * saved through DynamoBoletos.save, then GET /admin/boletos/export.csv, `npm run boletos -- export
 * --local` and `… --pitr fixtures/sicoob/pitr-export` all give fixtures/sicoob/export-expected.csv
 * byte for byte; admin tokens only; the filter's refusals; an export too large to answer; the
 * daily point-in-time export, which the local emulator cannot run.
 */

/** Low here so a few dozen boletos are "too large"; the fixture's November (about 1.5 KB) is answered. */
const INLINE_MAX = 4000;
const FIXTURE = 'fixtures/sicoob/pitr-export';
const EXPECTED = readFileSync(join(projectRoot, 'fixtures/sicoob/export-expected.csv'));
const INDEX_ATTRIBUTES = ['pk', 'listKind', 'listDay', 'statusKey', 'seuKey', 'nossoKey'];

let stack: LocalRuntime;
let admin: string;
let pos: string;
let store: DynamoBoletos;
let dir: string;
/** The fixture's boleto items, as the export holds them (index attributes and all). */
const exported: Record<string, unknown>[] = [];

beforeAll(async () => {
  stack = await startTestRuntime({
    functions: functionsWithout('sicoobSweep', 'sicoobWebhook'),
    env: { BOLETO_EXPORT_INLINE_MAX_BYTES: String(INLINE_MAX) },
    rateLimitPerSecond: 1e6,
    burstLimit: 1e6,
    partnerRateLimitPerSecond: 1e6,
    partnerBurstLimit: 1e6,
  });
  admin = await new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!).issueAdminToken('finance');
  pos = await issueToken(stack, SEED_INTEGRATION);
  store = new DynamoBoletos(stack.documents, stack.env[envName.table('boletos')]!);
  dir = mkdtempSync(join(tmpdir(), 'checkout-export-'));
  // What bin/local.ts writes, as far as the CLI reads it.
  writeFileSync(join(dir, 'demo.json'), JSON.stringify({ emulators: { dynamodb: stack.emulators.dynamodb } }));

  const [exportId] = readdirSync(join(projectRoot, FIXTURE, 'AWSDynamoDB'));
  const files: ExportFiles = {
    where: FIXTURE,
    read: async (path) => readFileSync(join(projectRoot, FIXTURE, 'AWSDynamoDB', exportId!, path)),
  };
  await readTableExport(files, (item) => {
    if (String(item.pk).startsWith('B#')) exported.push(item);
  });
  // The same boletos, written as every boleto is: through the store (a new boleto is version 0).
  for (const item of exported) {
    const boleto = Object.fromEntries(Object.entries(item).filter(([name]) => !INDEX_ATTRIBUTES.includes(name)));
    expect(await store.save({ ...(boleto as unknown as Boleto), version: 0 })).toBe(true);
  }
});
afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The route's answer with its body as bytes (a text decoder would drop the BOM). */
async function exportCsv(query: string, token = admin) {
  const response = await fetch(`${stack.baseUrl}/admin/boletos/export.csv${query}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const json = (response.headers.get('content-type') ?? '').includes('json');
  return {
    status: response.status,
    headers: response.headers,
    bytes,
    body: json ? JSON.parse(bytes.toString('utf8')) : undefined,
  };
}

function cli(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in stack.env)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/boletos.ts', ...args], {
    cwd: projectRoot,
    env: { ...inherited, LOCAL_DIR: dir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr })));
}

describe('the committed export', () => {
  it('holds the boletos exactly as DynamoBoletos.save stores them', async () => {
    const { Items = [] } = await stack.clients.dynamodb.send(
      new ScanCommand({ TableName: stack.env[envName.table('boletos')]! }),
    );
    const stored = Items.map((item) => unmarshall(item)).filter((item) => String(item.pk).startsWith('B#'));
    const withoutVersion = (items: Record<string, unknown>[]) =>
      items.map(({ version: _version, ...rest }) => rest).sort((a, b) => (String(a.pk) < String(b.pk) ? -1 : 1));
    expect(stored).toHaveLength(12);
    expect(withoutVersion(stored)).toEqual(withoutVersion(exported));
  });
});

describe('GET /admin/boletos/export.csv', () => {
  it('refuses a POS token and no token', async () => {
    expect((await exportCsv('?from=2026-11-01&to=2026-11-30', pos)).status).toBe(403);
    expect((await exportCsv('?from=2026-11-01&to=2026-11-30', '')).status).toBe(401);
  });

  it('refuses a bad period or status, naming each problem', async () => {
    const keys = async (query: string) => {
      const answer = await exportCsv(query);
      expect(answer.status).toBe(400);
      return answer.body.errors.map((e: { key: string }) => e.key);
    };
    expect(await keys('')).toEqual(['from', 'to']);
    expect(await keys('?from=2026-11-31&to=2026-11-30')).toEqual(['from']);
    expect(await keys('?from=2026-12-01&to=2026-11-30&status=pago')).toEqual(['status', 'from']);
    // 2026-01-01 … 2027-01-01 is 366 days, the most; a day more is refused.
    expect((await exportCsv('?from=2026-01-01&to=2027-01-01')).status).toBe(200);
    expect((await exportCsv('?from=2026-01-01&to=2027-01-02')).body).toEqual({
      errors: [
        {
          key: 'to',
          message:
            'query.to must be within 366 days of query.from (both inclusive); export a longer period with npm run boletos -- export',
        },
      ],
    });
  });

  it('answers the expected CSV byte for byte, as an attachment never cached', async () => {
    const answer = await exportCsv('?from=2026-11-01&to=2026-11-30');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(answer.headers.get('content-disposition')).toBe('attachment; filename="boletos_2026-11-01_2026-11-30.csv"');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.bytes.equals(EXPECTED)).toBe(true);
  });

  it('filters by status as the point-in-time export does', async () => {
    const route = await exportCsv('?from=2026-11-01&to=2026-11-30&status=LIQUIDADO');
    const pitr = await cli(['export', '--from', '2026-11-01', '--to', '2026-11-30', '--status', 'LIQUIDADO', '--pitr', FIXTURE]);
    expect(pitr.code).toBe(0);
    expect(route.bytes.equals(pitr.stdout)).toBe(true);
    expect(route.bytes.toString('utf8').split('\r\n')).toHaveLength(1 + 4 + 1);
  }, 60_000);

  it('refuses, naming the CLI, an export larger than it answers', async () => {
    for (let n = 1; n <= 40; n++) {
      const day = `2027-01-${String((n % 28) + 1).padStart(2, '0')}`;
      await store.save({
        numeroCliente: '707090',
        nossoNumero: String(900_000 + n),
        seuNumero: `NF-${900_000 + n}`,
        valor: 10_000 + n,
        dataVencimento: day,
        pagador: { nome: `Pagador número ${n} da Silva Sauro`, cpfCnpj: '52998224725' },
        status: 'ABERTO',
        history: [],
        createdAt: '2026-12-01T09:00:00.000-03:00',
        updatedAt: '2026-12-01T09:00:00.000-03:00',
        version: 0,
      });
    }
    const answer = await exportCsv('?from=2027-01-01&to=2027-01-31');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      url: expect.stringMatching(/^http/),
      expiresAt: expect.any(String),
      bytes: expect.any(Number),
      rows: 40,
    });
    const linked = Buffer.from(await (await fetch(answer.body.url)).arrayBuffer());
    expect(linked.length).toBe(answer.body.bytes);
    const cliRun = await cli(['export', '--from', '2027-01-01', '--to', '2027-01-31', '--local']);
    expect(cliRun.code).toBe(0);
    expect(cliRun.stdout.length).toBeGreaterThan(INLINE_MAX);
    // The link gives the bytes the CLI writes.
    expect(linked.equals(cliRun.stdout)).toBe(true);
    expect(cliRun.stdout.toString('utf8').split('\r\n')).toHaveLength(1 + 40 + 1);
  }, 60_000);
});

describe('npm run boletos -- export', () => {
  it('--local writes the bytes the route answers, to stdout or --out', async () => {
    const run = await cli(['export', '--from', '2026-11-01', '--to', '2026-11-30', '--local']);
    expect(run.code).toBe(0);
    expect(run.stdout.equals(EXPECTED)).toBe(true);
    expect(run.stderr).toBe(`boletos: exported 10 boletos (2026-11-01 to 2026-11-30) from ${localName.table('boletos')}\n`);
    const out = join(dir, 'novembro.csv');
    const toFile = await cli(['export', '--from', '2026-11-01', '--to', '2026-11-30', '--local', '--out', out]);
    expect(toFile).toMatchObject({ code: 0, stderr: '' });
    expect(toFile.stdout.toString()).toBe(
      `exported 10 boletos (2026-11-01 to 2026-11-30) from ${localName.table('boletos')} to ${out} (${EXPECTED.length} bytes)\n`,
    );
    expect(readFileSync(out).equals(EXPECTED)).toBe(true);
    // The payers are in the file only: never on the terminal.
    expect(run.stderr + toFile.stdout.toString()).not.toMatch(/Maria|Padaria|529\.982|52998224725/);
  }, 60_000);

  it('--pitr turns the committed point-in-time export into the same bytes', async () => {
    const run = await cli(['export', '--from', '2026-11-01', '--to', '2026-11-30', '--pitr', FIXTURE]);
    expect(run.code).toBe(0);
    expect(run.stdout.equals(EXPECTED)).toBe(true);
    expect(run.stderr).toMatch(
      /^boletos: exported 10 boletos \(2026-11-01 to 2026-11-30\) from the export fixtures\/sicoob\/pitr-export\/AWSDynamoDB\/\d{14}-[0-9a-f]{8} \(the table at 2026-12-03T03:00:00.000Z\)\n$/,
    );
  }, 60_000);

  it('refuses in one line: a bad period, no source or two, options of import, no export there', async () => {
    const refused = async (args: string[]) => {
      const run = await cli(['export', ...args]);
      expect(run.code).toBe(1);
      expect(run.stdout.length).toBe(0);
      return run.stderr;
    };
    expect(await refused(['--from', '2026-11-31', '--to', '2026-11-01', '--local'])).toBe(
      'boletos: --from must be a calendar date yyyy-MM-dd\n',
    );
    expect(await refused(['--from', '2026-11-30', '--to', '2026-11-01', '--local'])).toBe(
      'boletos: --from must not be after --to\n',
    );
    const noSource =
      'boletos: give one of --local, --table <BoletosTableName> or --pitr <export directory | s3://bucket/prefix>\n';
    expect(await refused(['--from', '2026-11-01', '--to', '2026-11-30'])).toBe(noSource);
    expect(await refused(['--from', '2026-11-01', '--to', '2026-11-30', '--local', '--pitr', FIXTURE])).toBe(noSource);
    expect(await refused(['--from', '2026-11-01', '--to', '2026-11-30', '--local', '--by', 'x'])).toBe(
      'boletos: --by: only boletos import takes it\n',
    );
    expect(await refused(['--from', '2026-11-01', '--local'])).toMatch(
      /^boletos: usage: boletos import .*\n {3}or: boletos export /,
    );
    expect(await refused(['--from', '2026-11-01', '--to', '2026-11-30', '--pitr', 'fixtures/sicoob'])).toBe(
      'boletos: fixtures/sicoob is not a DynamoDB export: no manifest-summary.json in it or in AWSDynamoDB/<exportId>/\n',
    );
    const importRun = await cli(['import', 'fixtures/sicoob/boletos-import.csv', '--local', '--from', '2026-11-01']);
    expect(importRun).toMatchObject({ code: 1, stderr: 'boletos: --from: only boletos export takes it\n' });
  }, 60_000);
});

describe('the daily point-in-time export', () => {
  it('does nothing against the local emulator, which has no such API', async () => {
    expect(await stack.runSchedule('boletoPitrExport')).toEqual({
      skipped: 'the local DynamoDB emulator has no point-in-time export',
    });
  });
});
