import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { DynamoBoletos } from '../../functions/sicoob/store.ts';
import { envName, localName } from '../../lib/manifest.ts';
import { projectRoot } from '../../lib/local/invoke.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { functionsWithout, issueToken, post, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * Finance's boleto routes and the import CLI against the local stack: imports that create, leave
 * alone and update; a body with invalid rows that writes nothing; the list by status and days a
 * page at a time; one boleto by nosso número; the reconciliation exceptions; `npm run boletos --
 * import … --local` on a CSV, and its refusal of a file with an invalid line.
 */
let stack: LocalRuntime;
let admin: string;
let pos: string;
let store: DynamoBoletos;
let dir: string;

beforeAll(async () => {
  stack = await startTestRuntime({
    // Only the admin routes are under test (the sweep and the webhook have their own tests).
    functions: functionsWithout('sicoobSweep', 'sicoobWebhook'),
    // The routes are under test here, not the throttles (their own tests cover them).
    rateLimitPerSecond: 1e6,
    burstLimit: 1e6,
    partnerRateLimitPerSecond: 1e6,
    partnerBurstLimit: 1e6,
  });
  admin = await new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!).issueAdminToken('finance');
  pos = await issueToken(stack, SEED_INTEGRATION);
  store = new DynamoBoletos(stack.documents, stack.env[envName.table('boletos')]!);
  dir = mkdtempSync(join(tmpdir(), 'checkout-boletos-'));
  // What bin/local.ts writes, as far as the CLI reads it.
  writeFileSync(join(dir, 'demo.json'), JSON.stringify({ emulators: { dynamodb: stack.emulators.dynamodb } }));
});
afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const CPF = '529.982.247-25';
const row = (nossoNumero: string | number, overrides: Record<string, unknown> = {}) => ({
  nossoNumero,
  seuNumero: `NF-${nossoNumero}`,
  valor: 100,
  dataVencimento: '2026-03-10',
  numeroCliente: 707090,
  pagador: { nome: 'Maria da Silva', cpfCnpj: CPF },
  ...overrides,
});
const get = (path: string, token = admin) => send(stack, 'GET', path, undefined, token);

describe('POST /admin/boletos', () => {
  it('refuses a POS token', async () => {
    expect((await post(stack, '/admin/boletos', [row('1')], pos)).status).toBe(403);
    expect((await get('/admin/boletos', pos)).status).toBe(403);
    expect((await get('/admin/boletos/1', pos)).status).toBe(403);
    expect((await get('/admin/boletos/exceptions', pos)).status).toBe(403);
  });

  it('creates, leaves identical rows alone, updates a changed one; invalid rows write nothing', async () => {
    const rows = [row('0000001001'), row('1002', { dataVencimento: '2026-03-11' }), row(1003, { dataVencimento: '2026-03-12' })];
    expect(await post(stack, '/admin/boletos', rows, admin)).toMatchObject({
      status: 200,
      body: { received: 3, created: 3, updated: 0, unchanged: 0 },
    });
    expect((await post(stack, '/admin/boletos', rows, admin)).body).toEqual({
      received: 3,
      created: 0,
      updated: 0,
      unchanged: 3,
    });
    const changed = [rows[0], { ...rows[1], valor: 120.5 }, rows[2]];
    expect((await post(stack, '/admin/boletos', changed, admin)).body).toEqual({
      received: 3,
      created: 0,
      updated: 1,
      unchanged: 2,
    });
    const stored = (await store.get('707090', '1002'))!;
    expect(stored).toMatchObject({ valor: 12050, status: 'ABERTO', version: 2 });
    expect(stored.history.map((h) => [h.source, h.note])).toEqual([
      [{ kind: 'import', by: 'finance' }, 'importado: R$ 100.00, vencimento 2026-03-11'],
      [{ kind: 'import', by: 'finance' }, 'importação alterou valor R$ 100.00 → R$ 120.50'],
    ]);

    const invalid = await post(
      stack,
      '/admin/boletos',
      [row('1004'), row('1005', { valor: 10.001 }), row('1006'), row('1007', { pagador: { nome: 'X', cpfCnpj: '52998224724' } })],
      admin,
    );
    expect(invalid).toMatchObject({
      status: 400,
      body: {
        errors: [
          {
            key: '1.valor',
            message: 'body.1.valor must be an amount in reais with at most 2 decimal places (whole centavos)',
          },
          { key: '3.pagador.cpfCnpj', message: 'body.3.pagador.cpfCnpj is not a valid CPF (wrong check digits)' },
        ],
      },
    });
    expect(await store.get('707090', '1004')).toBeUndefined();
    const listed = await get('/admin/boletos?from=2026-03-01&to=2026-03-31');
    expect(listed.body.boletos.map((b: { nossoNumero: string }) => b.nossoNumero)).toEqual(['1001', '1002', '1003']);
  });

  it('refuses more than 1,000 rows, and a body that is not JSON', async () => {
    const rows = Array.from({ length: 1001 }, (_, i) => row(50_000 + i));
    expect(await post(stack, '/admin/boletos', rows, admin)).toMatchObject({
      status: 400,
      body: { errors: [{ key: 'body', message: 'body has 1001 boletos; at most 1000 per call (send the rest in another)' }] },
    });
    expect(await store.get('707090', '50000')).toBeUndefined();
    expect((await post(stack, '/admin/boletos', '[{', admin)).status).toBe(400);
  });

  it('imports 1,000 rows in one call', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => row(60_000 + i, { dataVencimento: '2027-06-01' }));
    expect((await post(stack, '/admin/boletos', rows, admin)).body).toEqual({
      received: 1000,
      created: 1000,
      updated: 0,
      unchanged: 0,
    });
    expect((await post(stack, '/admin/boletos', rows, admin)).body).toEqual({
      received: 1000,
      created: 0,
      updated: 0,
      unchanged: 1000,
    });
  }, 60_000);
});

describe('GET /admin/boletos', () => {
  beforeAll(async () => {
    const rows = [
      row(2001, { dataVencimento: '2026-04-01' }),
      row(2002, { dataVencimento: '2026-04-02' }),
      row(2003, { dataVencimento: '2026-04-03' }),
      row(2004, { dataVencimento: '2026-04-04' }),
      row(2005, { dataVencimento: '2026-04-05' }),
    ];
    expect((await post(stack, '/admin/boletos', rows, admin)).status).toBe(200);
    // 2003 paid and settled on the 20th: listed under its liquidation day.
    const paid = (await store.get('707090', '2003'))!;
    await store.save({
      ...paid,
      status: 'LIQUIDADO',
      liquidacao: {
        dataLiquidacao: '2026-04-20',
        valorLiquido: 10000,
        valorMora: 0,
        valorDesconto: 0,
        valorAbatimento: 0,
        valorTarifaMovimento: 150,
      },
    });
  });

  it('lists by day a page at a time, following the cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get(`/admin/boletos?from=2026-04-01&to=2026-04-30&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.boletos.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.boletos.map((b: { nossoNumero: string }) => b.nossoNumero));
      cursor = page.body.cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(['2001', '2002', '2004', '2005', '2003']);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('lists by status and days, with the view', async () => {
    const abertos = await get('/admin/boletos?status=ABERTO&from=2026-04-02&to=2026-04-04&limit=2');
    expect(abertos.body.boletos.map((b: { nossoNumero: string }) => b.nossoNumero)).toEqual(['2002', '2004']);
    const next = await get(`/admin/boletos?status=ABERTO&from=2026-04-02&to=2026-04-04&limit=2&cursor=${abertos.body.cursor}`);
    expect(next.body).toEqual({ boletos: [], cursor: null });
    const liquidados = await get('/admin/boletos?status=LIQUIDADO&from=2026-04-20&to=2026-04-20');
    expect(liquidados.body).toEqual({
      cursor: null,
      boletos: [
        {
          nossoNumero: '2003',
          seuNumero: 'NF-2003',
          numeroCliente: '707090',
          valor: 100,
          valorCentavos: 10000,
          dataVencimento: '2026-04-03',
          status: 'LIQUIDADO',
          pagador: { nome: 'Maria da Silva', cpfCnpj: '52998224725' },
          pagamento: null,
          liquidacao: {
            dataLiquidacao: '2026-04-20',
            valorLiquido: 100,
            valorLiquidoCentavos: 10000,
            valorMora: 0,
            valorMoraCentavos: 0,
            valorDesconto: 0,
            valorDescontoCentavos: 0,
            valorAbatimento: 0,
            valorAbatimentoCentavos: 0,
            valorTarifaMovimento: 1.5,
            valorTarifaMovimentoCentavos: 150,
          },
          history: [
            {
              at: expect.stringMatching(/-03:00$/),
              status: 'ABERTO',
              source: { kind: 'import', by: 'finance' },
              note: 'importado: R$ 100.00, vencimento 2026-04-03',
            },
          ],
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      ],
    });
  });

  it('refuses a cursor that does not decode or belongs to another listing, and bad filters', async () => {
    const byStatus = (await get('/admin/boletos?status=ABERTO&from=2026-04-01&to=2026-04-30&limit=1')).body.cursor;
    for (const query of [
      'cursor=not-a-cursor',
      'cursor=%25%25%25',
      `cursor=${Buffer.from('{"pk":{"S":"x"}}').toString('base64url')}`,
      `status=PAGO&cursor=${byStatus}`,
      `cursor=${byStatus}`,
    ]) {
      expect(await get(`/admin/boletos?${query}`)).toMatchObject({ status: 400, body: { errors: [{ key: 'cursor' }] } });
    }
    const bad = await get('/admin/boletos?status=pago&from=2026-04-31&limit=1000');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { key: string }) => e.key)).toEqual(['status', 'from', 'limit']);
  });
});

describe('GET /admin/boletos/{nossoNumero}', () => {
  beforeAll(async () => {
    const rows = [row(3001), row(3002), row(3002, { numeroCliente: '808080', seuNumero: 'OUTRO' })];
    expect((await post(stack, '/admin/boletos', rows, admin)).status).toBe(200);
  });

  it('finds a boleto by its nosso número with leading zeros, or with numeroCliente', async () => {
    const found = await get('/admin/boletos/00003001');
    expect(found).toMatchObject({ status: 200, body: { nossoNumero: '3001', numeroCliente: '707090', status: 'ABERTO' } });
    expect(found.body.history).toHaveLength(1);
    expect(await get('/admin/boletos/3002?numeroCliente=0808080')).toMatchObject({
      status: 200,
      body: { nossoNumero: '3002', numeroCliente: '808080', seuNumero: 'OUTRO' },
    });
  });

  it('answers 409 for a nosso número in two contracts without numeroCliente, 404 for none, 400 for letters', async () => {
    expect(await get('/admin/boletos/3002')).toMatchObject({
      status: 409,
      body: {
        errors: [
          {
            key: 'nossoNumero',
            message: 'nossoNumero 3002 is in several contracts (numeroCliente 707090, 808080): add ?numeroCliente=',
          },
        ],
      },
    });
    expect(await get('/admin/boletos/9999999')).toMatchObject({
      status: 404,
      body: { errors: [{ key: 'nossoNumero', message: 'no boleto with nossoNumero 9999999' }] },
    });
    expect((await get('/admin/boletos/3001?numeroCliente=808080')).status).toBe(404);
    expect((await get('/admin/boletos/abc')).status).toBe(400);
  });
});

describe('GET /admin/boletos/exceptions', () => {
  it('lists the reconciliation exceptions a page at a time', async () => {
    for (const n of [1, 2, 3])
      await store.putException({
        key: `test-${n}`,
        kind: 'unmatched-liquidation',
        numeroCliente: '707090',
        nossoNumero: `900${n}`,
        valor: 1050 * n,
        data: '2026-04-10',
        detail: 'no boleto 900n',
        source: `file F1 record ${n}`,
        at: `2026-04-11T10:00:0${n}.000-03:00`,
      });
    const first = await get('/admin/boletos/exceptions?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.exceptions).toEqual([
      {
        key: 'test-1',
        kind: 'unmatched-liquidation',
        numeroCliente: '707090',
        nossoNumero: '9001',
        valor: 10.5,
        valorCentavos: 1050,
        data: '2026-04-10',
        detail: 'no boleto 900n',
        source: 'file F1 record 1',
        at: '2026-04-11T10:00:01.000-03:00',
      },
      expect.objectContaining({ key: 'test-2', valor: 21 }),
    ]);
    const second = await get(`/admin/boletos/exceptions?limit=2&cursor=${first.body.cursor}`);
    expect(second.body.exceptions.map((e: { key: string }) => e.key)).toEqual(['test-3']);
    expect((await get('/admin/boletos/exceptions?cursor=abc')).status).toBe(400);
  });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in stack.env)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/boletos.ts', ...args], {
    cwd: projectRoot,
    env: { ...inherited, LOCAL_DIR: dir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run boletos -- import', () => {
  it('imports the CSV fixture in batches, then again changes nothing', async () => {
    const run = await cli(['import', 'fixtures/sicoob/boletos-import.csv', '--local', '--batch', '2', '--by', 'finance-cli']);
    expect(run).toEqual({
      code: 0,
      stdout: `imported 3 boletos from fixtures/sicoob/boletos-import.csv into ${localName.table('boletos')}: created 3, updated 0, unchanged 0\n`,
      stderr:
        'boletos: 2/3 written (created 2, updated 0, unchanged 0)\nboletos: 3/3 written (created 3, updated 0, unchanged 0)\n',
    });
    expect(await store.get('707090', '100002')).toMatchObject({
      seuNumero: 'NF-1002',
      valor: 8990,
      dataVencimento: '2026-12-15',
      pagador: { nome: 'Padaria Pão; Café Ltda', cpfCnpj: '11222333000181' },
      status: 'ABERTO',
      history: [expect.objectContaining({ source: { kind: 'import', by: 'finance-cli' } })],
    });
    expect((await store.get('707090', '100003'))!.valor).toBe(120050);
    const again = await cli(['import', 'fixtures/sicoob/boletos-import.csv', '--local']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/: created 0, updated 0, unchanged 3\n$/);
    // The payer's data is never printed.
    expect(run.stdout + run.stderr + again.stdout + again.stderr).not.toMatch(/Maria|Padaria|123\.456|12345678909/);
  }, 60_000);

  it('imports the JSON fixture', async () => {
    const run = await cli(['import', 'fixtures/sicoob/boletos-import.json', '--local']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^imported 2 boletos from fixtures\/sicoob\/boletos-import\.json into .*: created 2, updated 0, unchanged 0\n$/,
    );
    expect(await store.get('707090', '200002')).toMatchObject({
      valor: 199999,
      history: [{ source: { kind: 'import', by: 'cli' } }],
    });
  }, 60_000);

  it('refuses a file with an invalid line, naming it, and writes nothing', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(
      file,
      [
        'nossoNumero;seuNumero;valor;dataVencimento;numeroCliente;pagadorNome;pagadorCpfCnpj',
        `700001;A-1;10,00;2026-12-01;707090;Ana;${CPF}`,
        `700002;A-2;10,00;2026-12-01;707090;Ana;529.982.247-24`,
      ].join('\n'),
    );
    const run = await cli(['import', file, '--local']);
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `boletos: ${file} refused, nothing written:\n  line 3: pagadorCpfCnpj is not a valid CPF (wrong check digits)\n`,
    });
    expect(await store.get('707090', '700001')).toBeUndefined();
  }, 60_000);

  it('refuses in one line: no target, a bad --batch, no file', async () => {
    expect(await cli(['import', 'fixtures/sicoob/boletos-import.csv'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'boletos: --table is required (the BoletosTableName output of cdk deploy) unless --local\n',
    });
    expect((await cli(['import', 'fixtures/sicoob/boletos-import.csv', '--local', '--batch', '0'])).stderr).toBe(
      'boletos: --batch must be a whole number from 1 to 1000\n',
    );
    expect((await cli(['import', 'no-such.csv', '--local'])).stderr).toBe('boletos: no file no-such.csv\n');
    expect((await cli(['export'])).stderr).toMatch(/^boletos: usage: boletos import/);
  }, 60_000);
});
