import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  csvSeparator,
  getBoleto,
  importBody,
  importBoletos,
  importFile,
  isCalendarDay,
  listBoletos,
  listExceptions,
  MAX_IMPORT,
  parseCsv,
  validateRows,
  type AdminDeps,
} from '../../functions/sicoob/admin.ts';
import type { Boleto } from '../../functions/sicoob/boleto.ts';
import type { ReconciliationException } from '../../functions/sicoob/store.ts';
import { ClientError } from '../../functions/shared/http.ts';

/**
 * The admin use cases on an in-memory store: the import's row validation (every rule, its exact
 * message), its upsert, the CSV and JSON files the CLI reads, the list's and exceptions' query and
 * cursor checks, the get's 404 / 409, and generated rows and bodies.
 */

const CPF = '529.982.247-25';
const CNPJ = '82.373.077/0001-71';
const row = (overrides: Record<string, unknown> = {}) => ({
  nossoNumero: '0002443',
  seuNumero: 'NF-1',
  valor: 150.5,
  dataVencimento: '2026-05-10',
  numeroCliente: 707090,
  pagador: { nome: 'Maria da Silva', cpfCnpj: CPF },
  ...overrides,
});

/** The ClientError `run` throws (fails the test when it throws anything else or nothing). */
function refusal(run: () => unknown): ClientError {
  try {
    run();
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected a ClientError');
}
async function asyncRefusal(run: () => Promise<unknown>): Promise<ClientError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected a ClientError');
}
const messages = (run: () => unknown) => refusal(run).errors.map((e) => e.message);

describe('import row validation', () => {
  it('normalizes a valid row: numbers without leading zeros, valor in centavos, the document digits', () => {
    expect(
      importBody([row(), row({ nossoNumero: 2444, numeroCliente: '0707090', pagador: { nome: ' Loja X ', cpfCnpj: CNPJ } })]),
    ).toEqual([
      {
        nossoNumero: '2443',
        seuNumero: 'NF-1',
        valor: 15050,
        dataVencimento: '2026-05-10',
        numeroCliente: '707090',
        pagador: { nome: 'Maria da Silva', cpfCnpj: '52998224725' },
      },
      {
        nossoNumero: '2444',
        seuNumero: 'NF-1',
        valor: 15050,
        dataVencimento: '2026-05-10',
        numeroCliente: '707090',
        pagador: { nome: 'Loja X', cpfCnpj: '82373077000171' },
      },
    ]);
  });

  it.each([
    ['nossoNumero', undefined, 'body.0.nossoNumero is required'],
    ['nossoNumero', '', 'body.0.nossoNumero must be 1 to 20 digits (a string of digits, or a whole number)'],
    ['nossoNumero', '123456789012345678901', 'body.0.nossoNumero must be 1 to 20 digits (a string of digits, or a whole number)'],
    ['nossoNumero', '12a4', 'body.0.nossoNumero must be 1 to 20 digits (a string of digits, or a whole number)'],
    ['nossoNumero', -5, 'body.0.nossoNumero must be 1 to 20 digits (a string of digits, or a whole number)'],
    ['nossoNumero', 1.5, 'body.0.nossoNumero must be 1 to 20 digits (a string of digits, or a whole number)'],
    ['nossoNumero', 2 ** 53, 'body.0.nossoNumero must be 1 to 20 digits (a string of digits, or a whole number)'],
    ['nossoNumero', true, 'body.0.nossoNumero must be 1 to 20 digits (a string of digits, or a whole number)'],
    ['nossoNumero', '0000', 'body.0.nossoNumero must not be zero'],
    ['numeroCliente', '12345678901', 'body.0.numeroCliente must be 1 to 10 digits (a string of digits, or a whole number)'],
    ['numeroCliente', null, 'body.0.numeroCliente must be 1 to 10 digits (a string of digits, or a whole number)'],
    ['seuNumero', undefined, 'body.0.seuNumero is required'],
    ['seuNumero', '   ', 'body.0.seuNumero must not be empty'],
    ['seuNumero', 'x'.repeat(26), 'body.0.seuNumero must be at most 25 characters'],
    ['seuNumero', 'NF\u00011', 'body.0.seuNumero must be printable text (no control characters)'],
    ['seuNumero', 12, 'body.0.seuNumero must be a string'],
    ['valor', undefined, 'body.0.valor is required'],
    ['valor', '10.00', 'body.0.valor must be a number'],
    ['valor', 0, 'body.0.valor must be greater than 0'],
    ['valor', -1, 'body.0.valor must be greater than 0'],
    ['valor', 10.005, 'body.0.valor must be an amount in reais with at most 2 decimal places (whole centavos)'],
    ['valor', 10_000_000.01, 'body.0.valor must be at most 10000000'],
    ['dataVencimento', '2026-02-29', 'body.0.dataVencimento must be a calendar date yyyy-MM-dd'],
    ['dataVencimento', '10/05/2026', 'body.0.dataVencimento must be a calendar date yyyy-MM-dd'],
    ['dataVencimento', 20260510, 'body.0.dataVencimento must be a string'],
    ['pagador', undefined, 'body.0.pagador is required'],
    ['pagador', 'Maria', 'body.0.pagador must be an object'],
    ['pagador', { cpfCnpj: CPF }, 'body.0.pagador.nome is required'],
    ['pagador', { nome: 'x'.repeat(101), cpfCnpj: CPF }, 'body.0.pagador.nome must be at most 100 characters'],
    ['pagador', { nome: 'Maria', cpfCnpj: 52998224725 }, 'body.0.pagador.cpfCnpj must be a string'],
  ])('%s = %j → %s', (field, value, message) => {
    expect(refusal(() => importBody([row({ [field]: value })])).errors).toEqual([{ key: expect.any(String), message }]);
  });

  it('keys name the row index and the field path', () => {
    const error = refusal(() => importBody([row(), row({ nossoNumero: '1', valor: 0, pagador: { nome: '', cpfCnpj: CPF } })]));
    expect(error.statusCode).toBe(400);
    expect(error.errors).toEqual([
      { key: '1.valor', message: 'body.1.valor must be greater than 0' },
      { key: '1.pagador.nome', message: 'body.1.pagador.nome must not be empty' },
    ]);
  });

  it.each([
    ['529.982.247-25', '52998224725'],
    ['529 982 247 25', '52998224725'],
    ['82373077000171', '82373077000171'],
    ['12.ABC.345/01DE-35', '12ABC34501DE35'],
  ])('accepts the document %s as %s', (cpfCnpj, stored) => {
    expect(importBody([row({ pagador: { nome: 'P', cpfCnpj } })])[0]!.pagador.cpfCnpj).toBe(stored);
  });

  it.each([
    ['52998224724', 'body.0.pagador.cpfCnpj is not a valid CPF (wrong check digits)'],
    ['52998224715', 'body.0.pagador.cpfCnpj is not a valid CPF (wrong check digits)'],
    ['111.111.111-11', 'body.0.pagador.cpfCnpj is not a valid CPF (wrong check digits)'],
    ['82.373.077/0001-72', 'body.0.pagador.cpfCnpj is not a valid CNPJ (wrong check digits)'],
    ['00000000000000', 'body.0.pagador.cpfCnpj is not a valid CNPJ (wrong check digits)'],
    ['1234567890', 'body.0.pagador.cpfCnpj must be a CPF (11 digits) or a CNPJ (14 characters), with or without . / -'],
    ['529982247255', 'body.0.pagador.cpfCnpj must be a CPF (11 digits) or a CNPJ (14 characters), with or without . / -'],
    ['', 'body.0.pagador.cpfCnpj must be a CPF (11 digits) or a CNPJ (14 characters), with or without . / -'],
  ])('refuses the document %s', (cpfCnpj, message) => {
    expect(messages(() => importBody([row({ pagador: { nome: 'P', cpfCnpj } })]))).toEqual([message]);
  });

  it('refuses unknown fields, each by name', () => {
    expect(
      refusal(() => importBody([row({ status: 'PAGO', pagador: { nome: 'P', cpfCnpj: CPF, email: 'p@x' } })])).errors,
    ).toEqual([
      { key: '0.pagador.email', message: 'body.0.pagador.email is not a field of a boleto' },
      { key: '0.status', message: 'body.0.status is not a field of a boleto' },
    ]);
  });

  it('names every row of a boleto imported twice, even with other problems (leading zeros do not hide it)', () => {
    expect(
      refusal(() =>
        importBody([row(), row({ nossoNumero: '2445' }), row({ nossoNumero: 2443, valor: 0 }), row({ numeroCliente: '1' })]),
      ).errors,
    ).toEqual([
      {
        key: '0.nossoNumero',
        message: 'body.0.nossoNumero is also in body.2 (numeroCliente 707090, nossoNumero 2443): import each boleto once',
      },
      { key: '2.valor', message: 'body.2.valor must be greater than 0' },
      {
        key: '2.nossoNumero',
        message: 'body.2.nossoNumero is also in body.0 (numeroCliente 707090, nossoNumero 2443): import each boleto once',
      },
    ]);
  });

  it('names a row that is not an object', () => {
    expect(refusal(() => importBody([row(), 'x', null])).errors).toEqual([
      { key: '1', message: 'body.1 must be a JSON object' },
      { key: '2', message: 'body.2 must be a JSON object' },
    ]);
  });

  it('refuses a body that is not an array, an empty one, and one over 1,000 rows', () => {
    expect(messages(() => importBody({ boletos: [] }))).toEqual(['body must be a JSON array of boletos']);
    expect(messages(() => importBody([]))).toEqual(['body must have at least 1 boleto']);
    const rows = Array.from({ length: MAX_IMPORT + 1 }, (_, i) => row({ nossoNumero: i + 1 }));
    expect(refusal(() => importBody(rows)).errors).toEqual([
      { key: 'body', message: 'body has 1001 boletos; at most 1000 per call (send the rest in another)' },
    ]);
    expect(importBody(rows.slice(0, MAX_IMPORT))).toHaveLength(MAX_IMPORT);
  });

  it('isCalendarDay', () => {
    expect(['2024-02-29', '2026-12-31', '2026-01-01'].map(isCalendarDay)).toEqual([true, true, true]);
    expect(['2026-02-29', '2026-13-01', '2026-04-31', '2026-1-01', '2026-01-01T00:00'].map(isCalendarDay)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('parseCsv', () => {
  it('reads quoted fields with the separator, "" and line breaks, and says where each record starts', () => {
    const text = 'a;b;c\r\n1;"x; ""y""";3\n\n2;"two\nlines";4\r;;\n5;"";6';
    expect(parseCsv(text, ';')).toEqual([
      { line: 1, cells: ['a', 'b', 'c'] },
      { line: 2, cells: ['1', 'x; "y"', '3'] },
      { line: 4, cells: ['2', 'two\nlines', '4'] },
      { line: 7, cells: ['5', '', '6'] },
    ]);
  });

  it('drops a BOM; a quote inside an unquoted field is text', () => {
    expect(parseCsv('\uFEFFa,b\n1,2"3\n', ',')).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1', '2"3'] },
    ]);
  });

  it('names the line of a quote left open and of text after a closing quote', () => {
    expect(messages(() => parseCsv('a;b\n1;"open\n\n', ';'))).toEqual(['line 2: a quoted field is not closed']);
    expect(messages(() => parseCsv('a;b\n1;"x"y\n', ';'))).toEqual([
      'line 2: text after a closing quote (a quote inside a quoted field is written "")',
    ]);
  });

  it('csvSeparator: `;` when the header has one outside quotes', () => {
    expect(csvSeparator('\uFEFFa;b\n1,5;2')).toBe(';');
    expect(csvSeparator('a,b\n1;2')).toBe(',');
    expect(csvSeparator('"a;x",b\n')).toBe(',');
  });
});

const HEADER = 'nossoNumero;seuNumero;valor;dataVencimento;numeroCliente;pagadorNome;pagadorCpfCnpj';
const csv = (text: string) => new TextEncoder().encode(text);

describe('importFile (the CLI’s files)', () => {
  it('reads a CSV with `;`, a BOM, CRLF, a decimal comma, quotes, and columns in any order', () => {
    const text = `\uFEFF${HEADER}\r\n0000100001;NF-1;"1200,50";2026-12-10;707090;"Silva; Filhos";${CNPJ}\r\n0000100002;NF-2;89.9;2026-12-15;707090;Ana;${CPF}\r\n`;
    expect(importFile('b.csv', csv(text))).toEqual([
      {
        nossoNumero: '100001',
        seuNumero: 'NF-1',
        valor: 120050,
        dataVencimento: '2026-12-10',
        numeroCliente: '707090',
        pagador: { nome: 'Silva; Filhos', cpfCnpj: '82373077000171' },
      },
      {
        nossoNumero: '100002',
        seuNumero: 'NF-2',
        valor: 8990,
        dataVencimento: '2026-12-15',
        numeroCliente: '707090',
        pagador: { nome: 'Ana', cpfCnpj: '52998224725' },
      },
    ]);
    const commas = `pagadorCpfCnpj,pagadorNome,numeroCliente,dataVencimento,valor,seuNumero,nossoNumero\n"${CPF}",Ana,707090,2026-12-15,"10,5",S,7\n`;
    expect(importFile('B.CSV', csv(commas))).toEqual([
      {
        nossoNumero: '7',
        seuNumero: 'S',
        valor: 1050,
        dataVencimento: '2026-12-15',
        numeroCliente: '707090',
        pagador: { nome: 'Ana', cpfCnpj: '52998224725' },
      },
    ]);
  });

  it('names every invalid line (lines counted across quoted line breaks), with CSV column names, in line order', () => {
    const text = [
      HEADER,
      `1;"NF\n1";150,00;2026-12-10;707090;Ana;${CPF}`,
      `2;NF-2;1.234,56;2026-12-10;707090;Ana;${CPF}`,
      `3;NF-3;10;2026-12-10;707090`,
      `4;NF-4;;2026-02-30;707090;;52998224724`,
      `01;NF-5;1;2026-12-10;707090;Ana;${CPF}`,
    ].join('\n');
    expect(messages(() => importFile('b.csv', csv(text)))).toEqual([
      'line 2: seuNumero must be printable text (no control characters)',
      'line 2: nossoNumero is also in line 7 (numeroCliente 707090, nossoNumero 1): import each boleto once',
      'line 4: valor must be a number',
      'line 5: has 5 fields; the header has 7',
      'line 6: valor is required',
      'line 6: dataVencimento must be a calendar date yyyy-MM-dd',
      'line 6: pagadorNome is required',
      'line 6: pagadorCpfCnpj is not a valid CPF (wrong check digits)',
      'line 7: nossoNumero is also in line 2 (numeroCliente 707090, nossoNumero 1): import each boleto once',
    ]);
  });

  it('refuses a header with unknown, missing or repeated columns, an empty file, a file without rows', () => {
    expect(messages(() => importFile('b.csv', csv(`${HEADER};valor;status\n`)))).toEqual([
      'line 1: unknown column "status"; column valor twice (columns: nossoNumero, seuNumero, valor, dataVencimento, numeroCliente, pagadorNome, pagadorCpfCnpj)',
    ]);
    expect(messages(() => importFile('b.csv', csv('nossoNumero;valor\n1;2\n')))[0]).toMatch(
      /^line 1: missing column seuNumero; missing column dataVencimento; missing column numeroCliente; missing column pagadorNome; missing column pagadorCpfCnpj/,
    );
    expect(messages(() => importFile('b.csv', csv('\uFEFF\r\n')))).toEqual([
      'b.csv is empty (a header row, then one boleto a line)',
    ]);
    expect(messages(() => importFile('b.csv', csv(`${HEADER}\n\n`)))).toEqual(['b.csv has a header but no boletos']);
  });

  it('reads a JSON file as the API’s array, naming items by index', () => {
    expect(importFile('b.json', csv(JSON.stringify([row()])))).toHaveLength(1);
    expect(
      messages(() => importFile('b.json', csv(JSON.stringify([row(), row({ nossoNumero: 1, valor: 0, extra: 1 })])))),
    ).toEqual(['item 1: valor must be greater than 0', 'item 1: extra is not a field of a boleto']);
    expect(messages(() => importFile('b.json', csv('{"a":1}')))).toEqual([
      'b.json must hold a JSON array of boletos (at least one)',
    ]);
    expect(messages(() => importFile('b.json', csv('[1,')))[0]).toMatch(/^b\.json is not valid JSON: /);
    expect(messages(() => importFile('b.json', csv('[{"seuNumero":"\\ud800"}]')))[0]).toBe(
      'b.json.0.seuNumero must be valid Unicode text (it contains a lone surrogate)',
    );
  });

  it('refuses bytes that are not UTF-8 and other extensions', () => {
    expect(messages(() => importFile('b.csv', new Uint8Array([0x61, 0xff, 0x0a])))).toEqual(['b.csv is not UTF-8 text']);
    expect(messages(() => importFile('b.xlsx', csv('')))).toEqual(['b.xlsx must be a .csv or .json file']);
  });
});

/** Boletos and exceptions in memory, with the store's versioning; `lose` makes the next saves lose a race. */
class MemoryBoletos {
  readonly items = new Map<string, Boleto>();
  readonly saves: Boleto[] = [];
  exceptionItems: ReconciliationException[] = [];
  lose = 0;
  fail = false;
  lastList: unknown;

  async get(numeroCliente: string, nossoNumero: string) {
    const found = this.items.get(`${numeroCliente}#${nossoNumero}`);
    return found && structuredClone(found);
  }
  async save(boleto: Boleto) {
    if (this.fail) throw new Error('DynamoDB is down');
    const key = `${boleto.numeroCliente}#${boleto.nossoNumero}`;
    if (this.lose > 0) {
      this.lose--;
      // Someone else wrote first: the stored version moves on.
      const current = this.items.get(key);
      if (current) this.items.set(key, { ...current, version: current.version + 1 });
      return false;
    }
    if ((this.items.get(key)?.version ?? 0) !== boleto.version) return false;
    this.saves.push(boleto);
    this.items.set(key, { ...structuredClone(boleto), version: boleto.version + 1 });
    return true;
  }
  async byNossoNumero(nossoNumero: string) {
    return [...this.items.values()].filter((b) => b.nossoNumero === nossoNumero);
  }
  async list(query: unknown) {
    this.lastList = query;
    return { items: [...this.items.values()], cursor: 'next' };
  }
  async exceptions(query: unknown) {
    this.lastList = query;
    return { items: this.exceptionItems };
  }
}

const NOW = new Date('2026-11-30T12:00:00.000Z');
const deps = (store: MemoryBoletos): AdminDeps => ({ store, now: () => NOW });

describe('importBoletos', () => {
  it('creates ABERTO boletos with their import in the history, then leaves identical ones alone', async () => {
    const store = new MemoryBoletos();
    const rows = validateRows([row(), row({ nossoNumero: '2444', valor: 10 })]);
    expect(await importBoletos(deps(store), rows, 'finance')).toEqual({ received: 2, created: 2, updated: 0, unchanged: 0 });
    expect(await store.get('707090', '2443')).toEqual({
      numeroCliente: '707090',
      nossoNumero: '2443',
      seuNumero: 'NF-1',
      valor: 15050,
      dataVencimento: '2026-05-10',
      pagador: { nome: 'Maria da Silva', cpfCnpj: '52998224725' },
      status: 'ABERTO',
      history: [
        {
          at: '2026-11-30T09:00:00.000-03:00',
          status: 'ABERTO',
          source: { kind: 'import', by: 'finance' },
          note: 'importado: R$ 150.50, vencimento 2026-05-10',
        },
      ],
      createdAt: '2026-11-30T09:00:00.000-03:00',
      updatedAt: '2026-11-30T09:00:00.000-03:00',
      version: 1,
    });
    expect(await importBoletos(deps(store), rows, 'finance')).toEqual({ received: 2, created: 0, updated: 0, unchanged: 2 });
    expect(store.saves).toHaveLength(2);
  });

  it('updates only the imported fields of a paid boleto, naming them (the payer’s without values)', async () => {
    const store = new MemoryBoletos();
    await importBoletos(deps(store), validateRows([row()]), 'finance');
    const paid = (await store.get('707090', '2443'))!;
    const pagamento = { numeroIdentificadorBaixa: 'B1', valorPagamento: 15050, idWebhook: 'W1' };
    store.items.set('707090#2443', {
      ...paid,
      status: 'PAGO',
      pagamento,
      history: [
        ...paid.history,
        { at: 'x', status: 'PAGO', source: { kind: 'webhook', idWebhook: 'W1', numeroIdentificadorBaixa: 'B1' }, note: 'baixa' },
      ],
    });
    const changed = validateRows([row({ valor: 175, seuNumero: 'NF-2', pagador: { nome: 'Maria S.', cpfCnpj: CNPJ } })]);
    expect(await importBoletos(deps(store), changed, 'ops')).toEqual({ received: 1, created: 0, updated: 1, unchanged: 0 });
    const updated = (await store.get('707090', '2443'))!;
    expect(updated).toMatchObject({
      status: 'PAGO',
      pagamento,
      seuNumero: 'NF-2',
      valor: 17500,
      dataVencimento: '2026-05-10',
      pagador: { nome: 'Maria S.', cpfCnpj: '82373077000171' },
      createdAt: paid.createdAt,
      version: 2,
    });
    expect(updated.history).toHaveLength(3);
    expect(updated.history[2]).toEqual({
      at: '2026-11-30T09:00:00.000-03:00',
      status: 'PAGO',
      source: { kind: 'import', by: 'ops' },
      note: 'importação alterou seuNumero NF-1 → NF-2; valor R$ 150.50 → R$ 175.00; pagador.nome; pagador.cpfCnpj',
    });
    expect(JSON.stringify(updated.history)).not.toMatch(/Maria|82373077000171|52998224725/);
  });

  it('reads again and retries when another writer got there first', async () => {
    const store = new MemoryBoletos();
    await importBoletos(deps(store), validateRows([row()]), 'finance');
    store.lose = 2;
    expect(await importBoletos(deps(store), validateRows([row({ dataVencimento: '2026-06-01' })]), 'finance')).toEqual({
      received: 1,
      created: 0,
      updated: 1,
      unchanged: 0,
    });
    expect((await store.get('707090', '2443'))!.history.map((h) => h.note)).toEqual([
      'importado: R$ 150.50, vencimento 2026-05-10',
      'importação alterou dataVencimento 2026-05-10 → 2026-06-01',
    ]);
  });

  it('writes at most 16 at a time, and stops starting writes after a failure', async () => {
    const store = new MemoryBoletos();
    let inFlight = 0;
    let most = 0;
    const slow = {
      ...deps(store),
      store: Object.assign(Object.create(store) as MemoryBoletos, {
        get: async (c: string, n: string) => {
          most = Math.max(most, ++inFlight);
          await new Promise((resolve) => setTimeout(resolve, 2));
          inFlight--;
          return store.get(c, n);
        },
      }),
    };
    const rows = validateRows(Array.from({ length: 100 }, (_, i) => row({ nossoNumero: i + 1 })));
    expect(await importBoletos(slow, rows, 'finance')).toMatchObject({ created: 100 });
    expect(most).toBe(16);
    const failing = new MemoryBoletos();
    failing.fail = true;
    await expect(importBoletos(deps(failing), rows, 'finance')).rejects.toThrow('DynamoDB is down');
  });
});

const boleto = (overrides: Partial<Boleto> = {}): Boleto => ({
  numeroCliente: '707090',
  nossoNumero: '2443',
  seuNumero: 'NF-1',
  valor: 15050,
  dataVencimento: '2026-05-10',
  pagador: { nome: 'Maria', cpfCnpj: '52998224725' },
  status: 'ABERTO',
  history: [],
  createdAt: 'c',
  updatedAt: 'u',
  version: 1,
  ...overrides,
});
const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

describe('listBoletos', () => {
  it('passes the filters to the store and shows amounts in reais and centavos', async () => {
    const store = new MemoryBoletos();
    store.items.set(
      'k',
      boleto({
        status: 'LIQUIDADO',
        pagamento: { numeroIdentificadorBaixa: 'B1', valorPagamento: 15050, idWebhook: 'W1' },
        liquidacao: {
          dataLiquidacao: '2026-05-11',
          valorLiquido: 14900,
          valorMora: 0,
          valorDesconto: 0,
          valorAbatimento: 0,
          valorTarifaMovimento: 150,
        },
      }),
    );
    const cursor = cursorOf({ pk: 'B#707090#1', statusKey: 'LIQUIDADO', listDay: '2026-05-11#707090#1' });
    const page = await listBoletos(deps(store), {
      status: 'LIQUIDADO',
      from: '2026-05-01',
      to: '2026-05-31',
      cursor,
      limit: '2',
    });
    expect(store.lastList).toEqual({ status: 'LIQUIDADO', from: '2026-05-01', to: '2026-05-31', cursor, limit: 2 });
    expect(page).toEqual({
      cursor: 'next',
      boletos: [
        {
          nossoNumero: '2443',
          seuNumero: 'NF-1',
          numeroCliente: '707090',
          valor: 150.5,
          valorCentavos: 15050,
          dataVencimento: '2026-05-10',
          status: 'LIQUIDADO',
          pagador: { nome: 'Maria', cpfCnpj: '52998224725' },
          pagamento: { numeroIdentificadorBaixa: 'B1', valorPagamento: 150.5, valorPagamentoCentavos: 15050, idWebhook: 'W1' },
          liquidacao: {
            dataLiquidacao: '2026-05-11',
            valorLiquido: 149,
            valorLiquidoCentavos: 14900,
            valorMora: 0,
            valorMoraCentavos: 0,
            valorDesconto: 0,
            valorDescontoCentavos: 0,
            valorAbatimento: 0,
            valorAbatimentoCentavos: 0,
            valorTarifaMovimento: 1.5,
            valorTarifaMovimentoCentavos: 150,
          },
          history: [],
          createdAt: 'c',
          updatedAt: 'u',
        },
      ],
    });
    await listBoletos(deps(store), null);
    expect(store.lastList).toEqual({ limit: 100 });
  });

  it('refuses bad parameters, each named', async () => {
    const store = new MemoryBoletos();
    const error = await asyncRefusal(() =>
      listBoletos(deps(store), { status: 'OPEN', from: '2026-02-30', to: '2026-01-01', limit: '501' }),
    );
    expect(error.errors).toEqual([
      { key: 'status', message: 'query.status must be one of ABERTO, PAGO, LIQUIDADO, BAIXADO' },
      { key: 'from', message: 'query.from must be a calendar date yyyy-MM-dd' },
      { key: 'limit', message: 'query.limit must be a whole number from 1 to 500' },
    ]);
    expect((await asyncRefusal(() => listBoletos(deps(store), { from: '2026-02-01', to: '2026-01-01' }))).errors).toEqual([
      { key: 'from', message: 'query.from must not be after query.to' },
    ]);
    expect((await asyncRefusal(() => listBoletos(deps(store), { limit: '0' }))).errors[0]!.key).toBe('limit');
  });

  it.each([
    ['not base64url', '!!!'],
    ['not canonical base64url', `${cursorOf({ pk: 'B#1#1', listKind: 'BOLETO', listDay: '2026-01-01#1#1' })}A`],
    ['not JSON', Buffer.from('{"pk":').toString('base64url')],
    ['not an object', cursorOf(['B#1#1'])],
    ['another index', cursorOf({ pk: 'B#1#1', statusKey: 'ABERTO', listDay: '2026-01-01#1#1' })],
    ['an extra key', cursorOf({ pk: 'B#1#1', listKind: 'BOLETO', listDay: '2026-01-01#1#1', x: 'y' })],
    ['a number', cursorOf({ pk: 'B#1#1', listKind: 'BOLETO', listDay: 5 })],
    ['another item kind', cursorOf({ pk: 'X#1', listKind: 'BOLETO', listDay: '2026-01-01#1#1' })],
    ['another partition', cursorOf({ pk: 'B#1#1', listKind: 'OTHER', listDay: '2026-01-01#1#1' })],
    ['too long', 'A'.repeat(5000)],
  ])('refuses a cursor that is %s', async (_, cursor) => {
    const store = new MemoryBoletos();
    expect((await asyncRefusal(() => listBoletos(deps(store), { cursor }))).errors).toEqual([
      {
        key: 'cursor',
        message: 'query.cursor is not a cursor of this listing (pass the previous page’s cursor with the same filters)',
      },
    ]);
    expect(store.lastList).toBeUndefined();
  });

  it('refuses a cursor of another status or outside the days asked for', async () => {
    const store = new MemoryBoletos();
    const cursor = cursorOf({ pk: 'B#1#1', statusKey: 'ABERTO', listDay: '2026-05-10#1#1' });
    await expect(
      listBoletos(deps(store), { status: 'ABERTO', cursor, from: '2026-05-10', to: '2026-05-10' }),
    ).resolves.toBeDefined();
    for (const query of [{ status: 'PAGO' }, { status: 'ABERTO', from: '2026-05-11' }, { status: 'ABERTO', to: '2026-05-09' }])
      expect((await asyncRefusal(() => listBoletos(deps(store), { ...query, cursor }))).statusCode).toBe(400);
  });
});

describe('listExceptions', () => {
  it('pages the exceptions, valor in reais and centavos, and checks its cursor', async () => {
    const store = new MemoryBoletos();
    store.exceptionItems = [
      {
        key: 'k1',
        kind: 'unmatched-liquidation',
        numeroCliente: '707090',
        nossoNumero: '9',
        valor: 1050,
        detail: 'd',
        source: 's',
        at: 'a',
      },
      { key: 'k2', kind: 'unmatched-notice', numeroCliente: '707090', detail: 'd', source: 's', at: 'a' },
    ];
    const cursor = cursorOf({ pk: 'X#k0', exceptionKind: 'EXCEPTION', exceptionAt: 'a#k0' });
    expect(await listExceptions(deps(store), { cursor, limit: '5' })).toEqual({
      exceptions: [
        { ...store.exceptionItems[0], valor: 10.5, valorCentavos: 1050 },
        { key: 'k2', kind: 'unmatched-notice', numeroCliente: '707090', detail: 'd', source: 's', at: 'a' },
      ],
      cursor: null,
    });
    expect(store.lastList).toEqual({ cursor, limit: 5 });
    const boletoCursor = cursorOf({ pk: 'B#1#1', listKind: 'BOLETO', listDay: '2026-01-01#1#1' });
    expect((await asyncRefusal(() => listExceptions(deps(store), { cursor: boletoCursor }))).errors[0]!.key).toBe('cursor');
  });
});

describe('getBoleto', () => {
  const store = new MemoryBoletos();
  store.items.set('707090#2443', boleto());
  store.items.set('707090#77', boleto({ nossoNumero: '77' }));
  store.items.set('808080#77', boleto({ numeroCliente: '808080', nossoNumero: '77' }));

  it('finds it with or without leading zeros and numeroCliente', async () => {
    expect(await getBoleto(deps(store), { nossoNumero: '0002443' }, null)).toMatchObject({
      nossoNumero: '2443',
      numeroCliente: '707090',
    });
    expect(await getBoleto(deps(store), { nossoNumero: '77' }, { numeroCliente: '0808080' })).toMatchObject({
      numeroCliente: '808080',
    });
  });

  it('answers 409 naming the contracts, 404, and 400 for numbers that are not digits', async () => {
    const several = await asyncRefusal(() => getBoleto(deps(store), { nossoNumero: '077' }, null));
    expect(several.statusCode).toBe(409);
    expect(several.errors).toEqual([
      {
        key: 'nossoNumero',
        message: 'nossoNumero 77 is in several contracts (numeroCliente 707090, 808080): add ?numeroCliente=',
      },
    ]);
    const none = await asyncRefusal(() => getBoleto(deps(store), { nossoNumero: '78' }, { numeroCliente: '707090' }));
    expect(none.statusCode).toBe(404);
    expect(none.errors).toEqual([{ key: 'nossoNumero', message: 'no boleto with nossoNumero 78 in numeroCliente 707090' }]);
    expect((await asyncRefusal(() => getBoleto(deps(store), { nossoNumero: '99' }, null))).statusCode).toBe(404);
    const bad = await asyncRefusal(() => getBoleto(deps(store), { nossoNumero: 'abc' }, { numeroCliente: 'x' }));
    expect(bad.errors).toEqual([
      { key: 'nossoNumero', message: 'path.nossoNumero must be 1 to 20 digits (a string of digits, or a whole number)' },
      { key: 'numeroCliente', message: 'query.numeroCliente must be 1 to 10 digits (a string of digits, or a whole number)' },
    ]);
  });
});

const digitString = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
/** A CPF with valid check digits from any 9 digits (not all equal). */
const cpfArbitrary = digitString(9, 9)
  .filter((base) => !/^(\d)\1+$/.test(base))
  .map((base) => {
    const digit = (s: string) => {
      let sum = 0;
      for (let i = 0; i < s.length; i++) sum += Number(s[i]) * (s.length + 1 - i);
      const rest = (sum * 10) % 11;
      return String(rest === 10 ? 0 : rest);
    };
    const first = base + digit(base);
    return first + digit(first);
  });
const validRow = fc.record({
  nossoNumero: digitString(1, 20).filter((s) => /[1-9]/.test(s)),
  seuNumero: fc
    .string({ minLength: 1, maxLength: 25, unit: fc.constantFrom(...'ABCXYZ019-/_. ') })
    .filter((s) => s.trim() !== ''),
  centavos: fc.integer({ min: 1, max: 1_000_000_000 }),
  dataVencimento: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
  numeroCliente: digitString(1, 10).filter((s) => /[1-9]/.test(s)),
  nome: fc.string({ minLength: 1, maxLength: 100, unit: fc.constantFrom(...'abcãé ÇZ') }).filter((s) => s.trim() !== ''),
  cpf: cpfArbitrary,
});

describe('generated rows and bodies', () => {
  it('the validator throws nothing but ClientError, whatever the body', () => {
    const field = fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.double(), digitString(0, 25));
    const rowish = fc.oneof(
      fc.anything(),
      fc.record(
        {
          nossoNumero: field,
          seuNumero: field,
          valor: fc.oneof(field, fc.double({ min: -1, max: 2e7 })),
          dataVencimento: fc.oneof(field, fc.constant('2026-02-29'), fc.constant('2026-05-10')),
          numeroCliente: field,
          pagador: fc.oneof(field, fc.record({ nome: field, cpfCnpj: fc.oneof(field, cpfArbitrary) }, { requiredKeys: [] })),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.array(rowish, { maxLength: 8 })), (body) => {
        try {
          importBody(body);
        } catch (error) {
          expect(error).toBeInstanceOf(ClientError);
          expect((error as ClientError).errors.length).toBeGreaterThan(0);
          for (const e of (error as ClientError).errors) expect(e.message.startsWith('body')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('valid rows round-trip: valor in reais becomes exactly its centavos, numbers lose only leading zeros', () => {
    fc.assert(
      fc.property(validRow, (r) => {
        const valor = Number((r.centavos / 100).toFixed(2));
        const [parsed] = validateRows([
          {
            nossoNumero: r.nossoNumero,
            seuNumero: r.seuNumero,
            valor,
            dataVencimento: r.dataVencimento.toISOString().slice(0, 10),
            numeroCliente: r.numeroCliente,
            pagador: {
              nome: r.nome,
              cpfCnpj: `${r.cpf.slice(0, 3)}.${r.cpf.slice(3, 6)}.${r.cpf.slice(6, 9)}-${r.cpf.slice(9)}`,
            },
          },
        ]);
        expect(parsed).toEqual({
          nossoNumero: BigInt(r.nossoNumero).toString(),
          seuNumero: r.seuNumero.trim(),
          valor: r.centavos,
          dataVencimento: r.dataVencimento.toISOString().slice(0, 10),
          numeroCliente: BigInt(r.numeroCliente).toString(),
          pagador: { nome: r.nome.trim(), cpfCnpj: r.cpf },
        });
      }),
      { numRuns: 500 },
    );
  });

  it('a CSV of valid rows reads back as the same rows as their JSON', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(validRow, { minLength: 1, maxLength: 5, selector: (r) => BigInt(r.nossoNumero) }),
        fc.constantFrom(';', ','),
        (rows, sep) => {
          const json = rows.map((r) => ({
            nossoNumero: r.nossoNumero,
            seuNumero: r.seuNumero,
            valor: Number((r.centavos / 100).toFixed(2)),
            dataVencimento: r.dataVencimento.toISOString().slice(0, 10),
            numeroCliente: '707090',
            pagador: { nome: r.nome, cpfCnpj: r.cpf },
          }));
          const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
          const lines = json.map((r) =>
            [
              r.nossoNumero,
              quote(r.seuNumero),
              quote(sep === ';' ? String(r.valor).replace('.', ',') : String(r.valor)),
              r.dataVencimento,
              r.numeroCliente,
              quote(r.pagador.nome),
              r.pagador.cpfCnpj,
            ].join(sep),
          );
          const text = [HEADER.replaceAll(';', sep), ...lines].join('\r\n');
          expect(importFile('x.csv', csv(text))).toEqual(validateRows(json));
        },
      ),
      { numRuns: 200 },
    );
  });
});
