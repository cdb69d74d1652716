import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientError } from '../../functions/shared/http.ts';
import type { Boleto, BoletoStatus, Liquidacao } from '../../functions/sicoob/boleto.ts';
import {
  boletosCsv,
  boletosToExport,
  EXPORT_COLUMNS,
  EXPORT_PAGE,
  exportCells,
  exportFileName,
  exportFilter,
  guardFormula,
  inExport,
  quoteField,
  type ExportFilter,
} from '../../functions/sicoob/export.ts';
import {
  boletosFromTableExport,
  pitrExportRequest,
  readTableExport,
  tableArnFor,
  TableExportError,
  type ExportFiles,
} from '../../functions/sicoob/table-export.ts';
import { projectRoot } from '../../lib/local/invoke.ts';

/**
 * Finance's boletos CSV (functions/sicoob/export.ts) and the point-in-time export reader
 * (functions/sicoob/table-export.ts): the format byte by byte, quoting, formula guard, order, the
 * filter's validation, the committed export fixture turned into fixtures/sicoob/export-expected.csv,
 * and generated boletos read back by a strict RFC 4180 reader.
 */

const FIXTURE = join(projectRoot, 'fixtures/sicoob/pitr-export');
const EXPECTED = readFileSync(join(projectRoot, 'fixtures/sicoob/export-expected.csv'));
const NOVEMBER: ExportFilter = { from: '2026-11-01', to: '2026-11-30' };

function boleto(overrides: Partial<Boleto> = {}): Boleto {
  return {
    numeroCliente: '707090',
    nossoNumero: '100001',
    seuNumero: 'NF-1001',
    valor: 15000,
    dataVencimento: '2026-11-10',
    pagador: { nome: 'Maria da Silva', cpfCnpj: '52998224725' },
    status: 'ABERTO',
    history: [],
    createdAt: '2026-10-01T09:00:00.000-03:00',
    updatedAt: '2026-10-01T09:00:00.000-03:00',
    version: 1,
    ...overrides,
  };
}

const liquidacao = (overrides: Partial<Liquidacao> = {}): Liquidacao => ({
  dataLiquidacao: '2026-11-12',
  dataPrevisaoCredito: '2026-11-13',
  valorLiquido: 123456,
  valorMora: 1234,
  valorDesconto: 50,
  valorAbatimento: 0,
  valorTarifaMovimento: 150,
  canal: '212',
  canalDescricao: '07 - Via Pix',
  ...overrides,
});

const HEADER =
  'nossoNumero;seuNumero;numeroCliente;pagador;pagadorCpfCnpj;dataVencimento;valor;status;dataLiquidacao;dataPrevisaoCredito;valorLiquido;valorMora;valorDesconto;valorAbatimento;valorTarifaMovimento;canal;divergencia';

/**
 * A strict RFC 4180 reader (independent of the code under test): records end in CRLF, `"` only
 * opens a field and `""` is a quote inside one, line breaks only inside quotes, nothing after a
 * closing quote but `;` or CRLF. The BOM must be there, and is removed.
 */
function readCsv(bytes: Buffer): string[][] {
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes).slice(1);
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  const endField = () => {
    record.push(field);
    field = '';
  };
  while (i < text.length) {
    if (text[i] === '"' && field === '') {
      for (i++; ;) {
        if (i >= text.length) throw new Error('quote left open');
        if (text[i] === '"' && text[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else field += text[i++];
      }
      if (text[i] !== ';' && text.slice(i, i + 2) !== '\r\n') throw new Error(`text after a closing quote at ${i}`);
      // An empty quoted field would be mistaken for an unquoted one: the writer never makes one.
      if (field === '') throw new Error('empty quoted field');
      continue;
    }
    const c = text[i]!;
    if (c === ';') {
      endField();
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      endField();
      records.push(record);
      record = [];
      i += 2;
    } else if (c === '\r' || c === '\n' || c === '"') throw new Error(`${JSON.stringify(c)} outside quotes at ${i}`);
    else field += text[i++];
  }
  if (field !== '' || record.length > 0) throw new Error('the last record does not end in CRLF');
  return records;
}

const csvBytes = (boletos: Boleto[]) => Buffer.from(boletosCsv(boletos).text, 'utf8');

describe('the CSV format', () => {
  it('is UTF-8 with a BOM, a header, `;`, CRLF, decimal comma, dd/mm/aaaa, empty for absent', () => {
    const liquidado = boleto({
      nossoNumero: '100002',
      valor: 123456789,
      status: 'LIQUIDADO',
      pagador: { nome: 'José Ávila', cpfCnpj: '11222333000181' },
      liquidacao: liquidacao({ divergence: 'pago a mais' }),
    });
    const bytes = csvBytes([boleto(), liquidado]);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe(
      [
        HEADER,
        '100001;NF-1001;707090;Maria da Silva;529.982.247-25;10/11/2026;150,00;ABERTO;;;;;;;;;',
        '100002;NF-1001;707090;José Ávila;11.222.333/0001-81;10/11/2026;1234567,89;LIQUIDADO;12/11/2026;13/11/2026;1234,56;12,34;0,50;0,00;1,50;07 - Via Pix;pago a mais',
        '',
      ].join('\r\n'),
    );
    expect(EXPORT_COLUMNS.join(';')).toBe(HEADER);
  });

  it('has the header alone when no boleto is in the period', () => {
    expect(boletosCsv([])).toEqual({ text: `\uFEFF${HEADER}\r\n`, rows: 0 });
  });

  it('quotes only fields holding ; " CR or LF, doubling quotes', () => {
    expect(quoteField('Padaria Pão')).toBe('Padaria Pão');
    expect(quoteField('Pão; Café')).toBe('"Pão; Café"');
    expect(quoteField('o "Bar"')).toBe('"o ""Bar"""');
    expect(quoteField('linha\r\noutra')).toBe('"linha\r\noutra"');
    expect(quoteField('a\nb')).toBe('"a\nb"');
    expect(quoteField("d'Ávila, Ltda.")).toBe("d'Ávila, Ltda.");
    const [, row] = readCsv(csvBytes([boleto({ pagador: { nome: 'Bar "do Zé"; filial 2', cpfCnpj: '52998224725' } })]));
    expect(row![3]).toBe('Bar "do Zé"; filial 2');
  });

  it("prefixes ' to text a spreadsheet would run as a formula, never to amounts", () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(guardFormula(`${start}1+1`)).toBe(`'${start}1+1`);
    for (const safe of ['1+1', 'a=b', ' =x', "'=x", '']) expect(guardFormula(safe)).toBe(safe);
    const cells = exportCells(
      boleto({
        seuNumero: '@SUM(A1)',
        pagador: { nome: '=HYPERLINK("http://x";"y")', cpfCnpj: '52998224725' },
        status: 'LIQUIDADO',
        liquidacao: liquidacao({ valorMora: -50, canalDescricao: '+cmd', divergence: '-2+3' }),
      }),
    );
    expect(cells).toEqual([
      '100001',
      "'@SUM(A1)",
      '707090',
      '\'=HYPERLINK("http://x";"y")',
      '529.982.247-25',
      '10/11/2026',
      '150,00',
      'LIQUIDADO',
      '12/11/2026',
      '13/11/2026',
      '1234,56',
      '-0,50',
      '0,50',
      '0,00',
      '1,50',
      "'+cmd",
      "'-2+3",
    ]);
  });

  it("writes the channel's description, else its code; the CPF/CNPJ with its mask (alphanumeric too)", () => {
    const canal = (l: Partial<Liquidacao>) => exportCells(boleto({ liquidacao: liquidacao(l) }))[15];
    expect(canal({})).toBe('07 - Via Pix');
    expect(canal({ canalDescricao: undefined })).toBe('212');
    expect(canal({ canalDescricao: '  ' })).toBe('212');
    expect(canal({ canal: undefined, canalDescricao: undefined })).toBe('');
    const document = (cpfCnpj: string) => exportCells(boleto({ pagador: { nome: 'X', cpfCnpj } }))[4];
    expect(document('01234567890')).toBe('012.345.678-90');
    expect(document('12ABC34501DE35')).toBe('12.ABC.345/01DE-35');
  });

  it('orders by listing day, then numeroCliente, then nossoNumero, as the index (text order)', () => {
    const boletos = [
      boleto({
        nossoNumero: '7',
        dataVencimento: '2026-11-02',
        status: 'LIQUIDADO',
        liquidacao: liquidacao({ dataLiquidacao: '2026-11-20' }),
      }),
      boleto({ nossoNumero: '99', dataVencimento: '2026-11-05' }),
      boleto({ nossoNumero: '5', numeroCliente: '80808', dataVencimento: '2026-11-05' }),
      boleto({ nossoNumero: '100002', dataVencimento: '2026-11-05' }),
      boleto({ nossoNumero: '3', dataVencimento: '2026-11-01' }),
    ];
    const order = readCsv(csvBytes(boletos))
      .slice(1)
      .map((row) => `${row[2]}/${row[0]}`);
    expect(order).toEqual(['707090/3', '707090/100002', '707090/99', '80808/5', '707090/7']);
    expect(csvBytes(boletos)).toEqual(csvBytes([...boletos].reverse()));
  });
});

describe('the filter', () => {
  const refusal = (query: Record<string, string>, maxSpanDays?: number) => {
    try {
      exportFilter(query, maxSpanDays === undefined ? {} : { maxSpanDays });
    } catch (error) {
      expect(error).toBeInstanceOf(ClientError);
      return { status: (error as ClientError).statusCode, errors: (error as ClientError).errors };
    }
    throw new Error('accepted');
  };

  it('takes from/to (required calendar days, inclusive) and an optional status; ignores other parameters', () => {
    expect(exportFilter({ from: '2026-11-01', to: '2026-11-30', format: 'x' })).toEqual(NOVEMBER);
    expect(exportFilter({ from: '2026-11-01', to: '2026-11-01', status: 'LIQUIDADO' })).toEqual({
      from: '2026-11-01',
      to: '2026-11-01',
      status: 'LIQUIDADO',
    });
    expect(refusal({})).toEqual({
      status: 400,
      errors: [
        { key: 'from', message: 'query.from is required' },
        { key: 'to', message: 'query.to is required' },
      ],
    });
    expect(refusal({ from: '2026-02-29', to: '30/11/2026', status: 'pago' }).errors).toEqual([
      { key: 'from', message: 'query.from must be a calendar date yyyy-MM-dd' },
      { key: 'to', message: 'query.to must be a calendar date yyyy-MM-dd' },
      { key: 'status', message: 'query.status must be one of ABERTO, PAGO, LIQUIDADO, BAIXADO' },
    ]);
    expect(refusal({ from: '2026-12-01', to: '2026-11-30', status: 'x' }).errors.map((e) => e.key)).toEqual(['status', 'from']);
  });

  it('refuses more than maxSpanDays when given (366: a leap year fits), the CLI gives none', () => {
    expect(exportFilter({ from: '2027-03-01', to: '2028-02-29' }, { maxSpanDays: 366 })).toMatchObject({ to: '2028-02-29' });
    expect(refusal({ from: '2027-03-01', to: '2028-03-01' }, 366).errors).toEqual([
      {
        key: 'to',
        message:
          'query.to must be within 366 days of query.from (both inclusive); export a longer period with npm run boletos -- export',
      },
    ]);
    expect(exportFilter({ from: '2020-01-01', to: '2029-12-31' })).toMatchObject({ from: '2020-01-01' });
  });

  it('keeps a boleto whose listing day (dataLiquidacao, else dataVencimento) is within from…to, of the status', () => {
    const paidLate = boleto({
      dataVencimento: '2026-10-25',
      status: 'LIQUIDADO',
      liquidacao: liquidacao({ dataLiquidacao: '2026-11-02' }),
    });
    const paidAfter = boleto({
      dataVencimento: '2026-11-28',
      status: 'LIQUIDADO',
      liquidacao: liquidacao({ dataLiquidacao: '2026-12-01' }),
    });
    expect(inExport(paidLate, NOVEMBER)).toBe(true);
    expect(inExport(paidAfter, NOVEMBER)).toBe(false);
    expect(inExport(boleto({ dataVencimento: '2026-11-01' }), NOVEMBER)).toBe(true);
    expect(inExport(boleto({ dataVencimento: '2026-11-30' }), NOVEMBER)).toBe(true);
    expect(inExport(boleto({ dataVencimento: '2026-12-01' }), NOVEMBER)).toBe(false);
    expect(inExport(boleto(), { ...NOVEMBER, status: 'ABERTO' })).toBe(true);
    expect(inExport(boleto(), { ...NOVEMBER, status: 'PAGO' })).toBe(false);
  });

  it('reads every page of the store, passing the filter and the cursor', async () => {
    const calls: unknown[] = [];
    const pages = [
      { items: [boleto({ nossoNumero: '1' })], cursor: 'c1' },
      { items: [boleto({ nossoNumero: '2' })], cursor: 'c2' },
      { items: [] },
    ];
    const store = {
      list: async (query: unknown) => {
        calls.push(query);
        return pages[calls.length - 1]!;
      },
    };
    const found = await boletosToExport(store, { ...NOVEMBER, status: 'ABERTO' });
    expect(found.map((b) => b.nossoNumero)).toEqual(['1', '2']);
    expect(calls).toEqual([
      { ...NOVEMBER, status: 'ABERTO', limit: EXPORT_PAGE },
      { ...NOVEMBER, status: 'ABERTO', cursor: 'c1', limit: EXPORT_PAGE },
      { ...NOVEMBER, status: 'ABERTO', cursor: 'c2', limit: EXPORT_PAGE },
    ]);
    expect(exportFileName(NOVEMBER)).toBe('boletos_2026-11-01_2026-11-30.csv');
  });
});

/** The fixture's files in memory, by path inside the export's directory (changed per test). */
function fixtureFiles(): Map<string, Buffer> {
  const [exportId] = readdirSync(join(FIXTURE, 'AWSDynamoDB'));
  const dir = join(FIXTURE, 'AWSDynamoDB', exportId!);
  const files = new Map<string, Buffer>();
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(relative(dir, full), readFileSync(full));
    }
  };
  walk(dir);
  return files;
}

const inMemory = (files: Map<string, Buffer>): ExportFiles => ({
  where: 'memory',
  read: async (path) => files.get(path),
});

describe('the point-in-time export reader', () => {
  it('turns the committed export into fixtures/sicoob/export-expected.csv, byte for byte', async () => {
    const { summary, boletos } = await boletosFromTableExport(inMemory(fixtureFiles()), NOVEMBER);
    expect(summary).toEqual({
      exportArn: expect.stringMatching(/^arn:aws:dynamodb:sa-east-1:\d{12}:table\/.+\/export\/\d{14}-[0-9a-f]{8}$/),
      exportTime: '2026-12-03T03:00:00.000Z',
      itemCount: 18,
    });
    expect(csvBytes(boletos).equals(EXPECTED)).toBe(true);
    expect(boletosCsv(boletos).rows).toBe(10);
  });

  it('reads every item, and keeps only the boletos (B#…) of the filter', async () => {
    const keys: string[] = [];
    await readTableExport(inMemory(fixtureFiles()), (item) => keys.push(item.pk as string));
    expect(keys).toHaveLength(18);
    expect(new Set(keys.map((k) => k.replace(/#.*/, '')))).toEqual(
      new Set(['B', 'W', 'F', 'X', 'CURSOR', 'ACCOUNT', 'ACCOUNTS']),
    );
    const { boletos } = await boletosFromTableExport(inMemory(fixtureFiles()), { ...NOVEMBER, status: 'LIQUIDADO' });
    expect(boletos.map((b) => b.nossoNumero).sort()).toEqual(['100003', '100004', '100005', '100009']);
    const rows = readCsv(csvBytes(boletos)).slice(1);
    expect(rows).toEqual(
      readCsv(EXPECTED)
        .slice(1)
        .filter((row) => row[7] === 'LIQUIDADO'),
    );
  });

  it('refuses an export that is not whole or not what it expects', async () => {
    const failure = async (change: (files: Map<string, Buffer>) => void) => {
      const files = fixtureFiles();
      change(files);
      const error = await readTableExport(inMemory(files), () => undefined).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TableExportError);
      return (error as Error).message;
    };
    const dataFiles = [...fixtureFiles().keys()].filter((p) => p.startsWith('data/')).sort();
    const full = dataFiles.find((p) => fixtureFiles().get(p)!.length > 40)!;
    const edit = (files: Map<string, Buffer>, path: string, f: (text: string) => string) =>
      files.set(path, Buffer.from(f(files.get(path)!.toString('utf8'))));

    expect(await failure((files) => files.delete(full))).toBe(
      `memory/${full} is missing: is this an export's directory (AWSDynamoDB/<exportId>)?`,
    );
    expect(await failure((files) => files.set(full, files.get(full)!.subarray(0, 60)))).toMatch(
      new RegExp(`^memory/${full} is not a whole gzip file`),
    );
    expect(
      await failure((files) => {
        const lines = gzipSync(Buffer.from('{"Item":{"pk":{"S":"B#1#1"}}}\n{"pk":{"S":"B#1#2"}}\n'));
        files.set(full, lines);
      }),
    ).toMatch(new RegExp(`^memory/${full} line 2 is not a DynamoDB JSON item`));
    expect(
      await failure((files) => edit(files, 'manifest-summary.json', (t) => t.replace('"itemCount":18', '"itemCount":19'))),
    ).toBe('memory holds 18 items in the files manifest-files.json lists; manifest-summary.json says 19');
    expect(
      await failure((files) => edit(files, 'manifest-files.json', (t) => t.replace('"itemCount":6', '"itemCount":7'))),
    ).toMatch(/^memory\/data\/\w+\.json\.gz holds 6 items; manifest-files.json says 7$/);
    expect(await failure((files) => edit(files, 'manifest-summary.json', (t) => t.replace('DYNAMODB_JSON', 'ION')))).toMatch(
      /^memory\/manifest-summary.json is not the summary of a full DYNAMODB_JSON export: .*outputFormat/,
    );
    expect(await failure((files) => files.set('manifest-files.json', Buffer.from('{"itemCount":1}\n')))).toBe(
      'memory/manifest-files.json line 1 is not {"itemCount","dataFileS3Key"}',
    );
  });

  it('reads an empty partition’s file as no items, whether empty gzip or zero bytes', async () => {
    const files = fixtureFiles();
    const empty = [...files.keys()].find((p) => p.startsWith('data/') && files.get(p)!.length < 40)!;
    expect(files.get(empty)!.length).toBeGreaterThan(0);
    files.set(empty, Buffer.alloc(0));
    const { boletos } = await boletosFromTableExport(inMemory(files), NOVEMBER);
    expect(csvBytes(boletos).equals(EXPECTED)).toBe(true);
  });
});

describe('the daily point-in-time export request', () => {
  const tableArn = 'arn:aws:dynamodb:sa-east-1:123456789012:table/Boletos';

  it('asks for the table at the last São Paulo midnight, under the day that ended, idempotent per day', () => {
    const request = pitrExportRequest({ scheduledAt: new Date('2026-12-03T04:00:00Z'), tableArn, bucket: 'archive' });
    expect(request).toEqual({
      TableArn: tableArn,
      ExportTime: new Date('2026-12-03T03:00:00Z'),
      ClientToken: 'boletos-2026-12-02',
      S3Bucket: 'archive',
      S3Prefix: 'exports/pitr/boletos/2026-12-02',
      S3SseAlgorithm: 'AES256',
      ExportFormat: 'DYNAMODB_JSON',
      ExportType: 'FULL_EXPORT',
    });
    // A late or repeated delivery of the same schedule is the same request.
    expect(pitrExportRequest({ scheduledAt: new Date('2026-12-03T09:30:00Z'), tableArn, bucket: 'archive' })).toEqual(request);
    expect(pitrExportRequest({ scheduledAt: new Date('2026-12-03T02:59:59Z'), tableArn, bucket: 'archive' })).toMatchObject({
      ExportTime: new Date('2026-12-02T03:00:00Z'),
      S3Prefix: 'exports/pitr/boletos/2026-12-01',
    });
  });

  it("names the table's ARN from the function's", () => {
    expect(tableArnFor('arn:aws:lambda:sa-east-1:123456789012:function:Checkout-BoletoPitrExport', 'Boletos-1')).toBe(
      'arn:aws:dynamodb:sa-east-1:123456789012:table/Boletos-1',
    );
    expect(tableArnFor('arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:live', 'T')).toBe(
      'arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/T',
    );
    expect(() => tableArnFor('not-an-arn', 'T')).toThrow('not a Lambda function ARN: not-an-arn');
  });
});

describe('generated boletos', () => {
  const risky = fc.constantFrom(';', '"', '\r', '\n', '\r\n', '=', '+', '-', '@', '\t', "'", ' ', 'ç', '😀');
  const text = (min: number) =>
    fc.string({
      unit: fc.oneof(risky, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
      minLength: min,
      maxLength: 30,
    });
  const digits = (max: number) => fc.stringMatching(new RegExp(`^[1-9][0-9]{0,${max - 1}}$`));
  const date = fc
    .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10));
  const centavos = fc.integer({ min: 0, max: 10_000_000_00 });
  const arbitraryLiquidacao = fc.record(
    {
      dataLiquidacao: date,
      dataPrevisaoCredito: date,
      valorLiquido: centavos,
      valorMora: centavos,
      valorDesconto: centavos,
      valorAbatimento: centavos,
      valorTarifaMovimento: centavos,
      canal: digits(3),
      canalDescricao: text(0),
      divergence: text(1),
    },
    { requiredKeys: ['dataLiquidacao', 'valorLiquido', 'valorMora', 'valorDesconto', 'valorAbatimento', 'valorTarifaMovimento'] },
  );
  const arbitraryBoleto = fc
    .record({
      numeroCliente: digits(10),
      nossoNumero: digits(20),
      seuNumero: text(1),
      valor: centavos,
      dataVencimento: date,
      nome: text(1),
      cpfCnpj: fc.oneof(fc.stringMatching(/^\d{11}$/), fc.stringMatching(/^[0-9A-Z]{12}\d{2}$/)),
      status: fc.constantFrom<BoletoStatus>('ABERTO', 'PAGO', 'LIQUIDADO', 'BAIXADO'),
      liquidacao: fc.option(arbitraryLiquidacao, { nil: undefined }),
    })
    .map(({ nome, cpfCnpj, liquidacao: l, ...rest }) =>
      boleto({ ...rest, pagador: { nome, cpfCnpj }, ...(l ? { liquidacao: l as Liquidacao } : {}) }),
    );
  const unique = fc.uniqueArray(arbitraryBoleto, { selector: (b) => `${b.numeroCliente}#${b.nossoNumero}`, maxLength: 20 });

  const reais = (cell: string) => (cell === '' ? undefined : Math.round(Number(cell.replace(',', '.')) * 100));
  const isoDate = (cell: string) => (cell === '' ? undefined : cell.split('/').reverse().join('-'));

  it('read back by an RFC 4180 reader, give every field as written, one row each, in index order', () => {
    fc.assert(
      fc.property(unique, (boletos) => {
        const rows = readCsv(csvBytes(boletos));
        expect(rows[0]).toEqual([...EXPORT_COLUMNS]);
        const sorted = [...boletos].sort((a, b) => {
          const key = (x: Boleto) => `${x.liquidacao?.dataLiquidacao ?? x.dataVencimento}#${x.numeroCliente}#${x.nossoNumero}`;
          return key(a) < key(b) ? -1 : 1;
        });
        expect(rows.slice(1)).toEqual(sorted.map(exportCells));
        rows.slice(1).forEach((row, i) => {
          const b = sorted[i]!;
          const l = b.liquidacao;
          expect(row).toHaveLength(EXPORT_COLUMNS.length);
          expect(row[0]).toBe(b.nossoNumero);
          expect(row[1]).toBe(/^[=+\-@\t\r]/.test(b.seuNumero) ? `'${b.seuNumero}` : b.seuNumero);
          expect(row[3]).toBe(/^[=+\-@\t\r]/.test(b.pagador.nome) ? `'${b.pagador.nome}` : b.pagador.nome);
          expect(row[4]!.replace(/[./-]/g, '')).toBe(b.pagador.cpfCnpj);
          expect(isoDate(row[5]!)).toBe(b.dataVencimento);
          expect(reais(row[6]!)).toBe(b.valor);
          expect(isoDate(row[8]!)).toBe(l?.dataLiquidacao);
          expect([row[10], row[11], row[12], row[13], row[14]].map((c) => reais(c!))).toEqual([
            l?.valorLiquido,
            l?.valorMora,
            l?.valorDesconto,
            l?.valorAbatimento,
            l?.valorTarifaMovimento,
          ]);
          expect(row[16]).toBe(guardFormula(l?.divergence ?? ''));
          // Amounts here are never negative: no cell may start a formula.
          for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
        });
      }),
      { numRuns: 300 },
    );
  });
});
