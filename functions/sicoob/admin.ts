import * as z from 'zod';
import { tables } from '../../lib/manifest.ts';
import { updateVersioned } from '../shared/conditional.ts';
import { normalizeDocument, parseTaxDocument } from '../shared/documents.ts';
import { ClientError, type FieldError } from '../shared/http.ts';
import { formatReais, toCentavos } from '../shared/money.ts';
import { saoPauloIso } from '../shared/time.ts';
import { fieldErrors, loneSurrogateErrors, reais } from '../shared/validation.ts';
import { normalizeNumero, type Boleto, type BoletoStatus, type HistoryEntry, type Liquidacao, type Pagamento } from './boleto.ts';
import type { BoletoStore, ReconciliationException } from './store.ts';

/**
 * Finance's admin use cases over the boletos: the import (POST /admin/boletos and `npm run boletos
 * -- import`), the list, one boleto, the reconciliation exceptions. Every import row is validated
 * before any is written; a write is an upsert by numeroCliente + nossoNumero that only ever changes
 * the imported fields, so a retried import completes a partial one. No AWS here: the store is given.
 */

/** Most boletos one POST /admin/boletos takes (the CLI splits a file into batches of at most this). */
export const MAX_IMPORT = 1000;
/** Writes in flight at once: 1,000 rows (a read and a write each) well inside the 29 s of a route. */
export const WRITE_CONCURRENCY = 16;

/** One boleto of an import, validated: numbers without leading zeros, `valor` in centavos, the document's digits. */
export interface ImportRow {
  numeroCliente: string;
  nossoNumero: string;
  seuNumero: string;
  /** centavos */
  valor: number;
  /** `yyyy-MM-dd` */
  dataVencimento: string;
  pagador: { nome: string; cpfCnpj: string };
}

export interface ImportCounts {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
}

/** `yyyy-MM-dd` naming a day that exists (`2026-02-29` does not). */
export function isCalendarDay(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * A Sicoob number given as digits (string) or a whole number (JSON): 1 to `max` digits counting
 * leading zeros, not zero; the result has no leading zeros (normalizeNumero).
 */
function digits(max: number) {
  const message = `must be 1 to ${max} digits (a string of digits, or a whole number)`;
  return z.union([z.string(), z.number()], { error: message }).transform((value, ctx) => {
    // Above 2^53 a JSON number is no longer the digits that were sent.
    const text = typeof value === 'number' ? (Number.isSafeInteger(value) && value >= 0 ? String(value) : '') : value.trim();
    if (text.length < 1 || text.length > max || !/^\d+$/.test(text)) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    const normalized = normalizeNumero(text);
    if (normalized === '0') {
      ctx.addIssue({ code: 'custom', message: 'must not be zero' });
      return z.NEVER;
    }
    return normalized;
  });
}

/** Text without control or unassigned characters, trimmed, of 1 to `max` characters. */
function text(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^\P{C}*$/u, { message: 'must be printable text (no control characters)' });
}

const cpfCnpj = z.string().transform((value, ctx) => {
  const shape = normalizeDocument(value);
  if (!/^(\d{11}|[0-9A-Z]{12}\d{2})$/.test(shape)) {
    ctx.addIssue({ code: 'custom', message: 'must be a CPF (11 digits) or a CNPJ (14 characters), with or without . / -' });
    return z.NEVER;
  }
  const document = parseTaxDocument(value);
  if (!document) {
    ctx.addIssue({ code: 'custom', message: `is not a valid ${shape.length === 11 ? 'CPF' : 'CNPJ'} (wrong check digits)` });
    return z.NEVER;
  }
  return document.number;
});

const rowSchema = z.strictObject({
  nossoNumero: digits(20),
  seuNumero: text(25),
  valor: reais({ positive: true }).transform(toCentavos),
  dataVencimento: z.string().refine(isCalendarDay, { message: 'must be a calendar date yyyy-MM-dd' }),
  numeroCliente: digits(10),
  pagador: z.strictObject({ nome: text(100), cpfCnpj }),
});

/** Only the boleto's key, so a repeated boleto is named even when the row has other problems. */
const keySchema = z.object({ nossoNumero: digits(20), numeroCliente: digits(10) });

/**
 * How problems name a row and its fields: the API's `body.3` / `body.3.valor`, a CSV's `line 4` /
 * `line 4: valor`. Every FieldError's key is `<index>.<path>` (`<index>` for the row itself).
 */
export interface RowNames {
  row(index: number): string;
  field(index: number, path: string): string;
}

/** POST /admin/boletos's names: `body.3`, `body.3.pagador.cpfCnpj`. */
export const BODY_NAMES: RowNames = {
  row: (index) => `body.${index}`,
  field: (index, path) => `body.${index}.${path}`,
};

/**
 * Validates rows of an import (JSON values, or a file's rows as such): each must be `{nossoNumero,
 * seuNumero, valor, dataVencimento, numeroCliente, pagador: {nome, cpfCnpj}}` — nossoNumero 1–20
 * and numeroCliente 1–10 digits (string or whole number, not zero; stored without leading zeros),
 * seuNumero 1–25 and pagador.nome 1–100 printable characters (trimmed), valor in reais > 0 with at
 * most 2 decimals (→ centavos), dataVencimento a calendar date `yyyy-MM-dd`, pagador.cpfCnpj a CPF
 * or CNPJ with valid check digits (stored without `.`, `/`, `-` or spaces; the alphanumeric CNPJ
 * of July 2026 too, as shared/documents.ts reads it), no other field —
 * and no boleto (numeroCliente + nossoNumero) twice. Throws ClientError 400 naming every problem
 * of every row, in row order: `{ key: '3.valor', message: 'body.3.valor must be greater than 0' }`.
 */
export function validateRows(rows: readonly unknown[], names: RowNames = BODY_NAMES): ImportRow[] {
  const { valid, errors } = checkRows(rows, names);
  if (errors.some((row) => row.length > 0)) throw new ClientError(400, errors.flat());
  return valid;
}

/**
 * POST /admin/boletos's body: a JSON array of 1 to MAX_IMPORT rows (validateRows). Throws
 * ClientError 400 (`key` `body` for the array itself).
 */
export function importBody(body: unknown): ImportRow[] {
  if (!Array.isArray(body)) throw new ClientError(400, [{ key: 'body', message: 'body must be a JSON array of boletos' }]);
  if (body.length === 0) throw new ClientError(400, [{ key: 'body', message: 'body must have at least 1 boleto' }]);
  if (body.length > MAX_IMPORT)
    throw new ClientError(400, [
      { key: 'body', message: `body has ${body.length} boletos; at most ${MAX_IMPORT} per call (send the rest in another)` },
    ]);
  return validateRows(body);
}

/** The valid rows, and each row's problems (in row order). */
function checkRows(rows: readonly unknown[], names: RowNames): { valid: ImportRow[]; errors: FieldError[][] } {
  const perRow: FieldError[][] = rows.map(() => []);
  const valid: ImportRow[] = [];
  const seen = new Map<string, number[]>();
  rows.forEach((row, index) => {
    const parsed = rowSchema.safeParse(row, { reportInput: true });
    if (parsed.success) valid.push(parsed.data);
    else perRow[index]!.push(...rowErrors(parsed.error, index, names));
    const key = keySchema.safeParse(row);
    if (key.success) {
      const id = `${key.data.numeroCliente}#${key.data.nossoNumero}`;
      seen.set(id, [...(seen.get(id) ?? []), index]);
    }
  });
  for (const [id, indexes] of seen) {
    if (indexes.length < 2) continue;
    const [numeroCliente, nossoNumero] = id.split('#');
    for (const index of indexes) {
      const others = indexes.filter((other) => other !== index).map((other) => names.row(other));
      perRow[index]!.push({
        key: `${index}.nossoNumero`,
        message: `${names.field(index, 'nossoNumero')} is also in ${others.join(', ')} (numeroCliente ${numeroCliente}, nossoNumero ${nossoNumero}): import each boleto once`,
      });
    }
  }
  return { valid, errors: perRow };
}

/** A row's zod issues as FieldErrors under the row's names (fieldErrors words each problem). */
function rowErrors(error: z.ZodError, index: number, names: RowNames): FieldError[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((name) => {
        const field = path === '' ? name : `${path}.${name}`;
        return { key: `${index}.${field}`, message: `${names.field(index, field)} is not a field of a boleto` };
      });
    // With `where` empty, fieldErrors' message is `.<path> <problem>` (or ` <problem>` for the row).
    const [described] = fieldErrors(new z.ZodError([issue]), '');
    const problem = described!.message.slice(path === '' ? 1 : path.length + 2);
    return [
      path === ''
        ? { key: String(index), message: `${names.row(index)} ${problem}` }
        : { key: `${index}.${path}`, message: `${names.field(index, path)} ${problem}` },
    ];
  });
}

/** The store calls the admin use cases make. */
export interface AdminDeps {
  store: Pick<BoletoStore, 'get' | 'save' | 'list' | 'byNossoNumero' | 'exceptions'>;
  now(): Date;
}

/**
 * Upserts validated rows by numeroCliente + nossoNumero, WRITE_CONCURRENCY at a time, `by` (the
 * admin's name, or the CLI's `--by`) recorded as the source. A new boleto is ABERTO with one
 * history entry. An existing one gets seuNumero, valor, dataVencimento and pagador replaced when
 * any differs, with a history entry naming the changed fields (values too, except the payer's);
 * its status, payment, liquidation and history stay. Identical rows write nothing, so a retried
 * import completes a partial one and counts the rows already written as unchanged. Throws on the
 * store's failure (rows before it may be written).
 */
export async function importBoletos(deps: AdminDeps, rows: readonly ImportRow[], by: string): Promise<ImportCounts> {
  const counts: ImportCounts = { received: rows.length, created: 0, updated: 0, unchanged: 0 };
  await eachLimited(rows, WRITE_CONCURRENCY, async (row) => {
    let outcome: 'created' | 'updated' | 'unchanged' = 'unchanged';
    await updateVersioned(
      () => deps.store.get(row.numeroCliente, row.nossoNumero),
      (boleto) => deps.store.save(boleto),
      (current) => {
        const at = saoPauloIso(deps.now());
        const next = current ? updatedBoleto(current, row, by, at) : createdBoleto(row, by, at);
        outcome = !next ? 'unchanged' : current ? 'updated' : 'created';
        return next;
      },
      `boleto ${row.numeroCliente}/${row.nossoNumero}`,
    );
    counts[outcome]++;
  });
  return counts;
}

function createdBoleto(row: ImportRow, by: string, at: string): Boleto {
  return {
    ...row,
    status: 'ABERTO',
    history: [
      {
        at,
        status: 'ABERTO',
        source: { kind: 'import', by },
        note: `importado: R$ ${formatReais(row.valor)}, vencimento ${row.dataVencimento}`,
      },
    ],
    createdAt: at,
    updatedAt: at,
    version: 0,
  };
}

/** The boleto with the row's fields, or undefined when they are what it already has. */
function updatedBoleto(current: Boleto, row: ImportRow, by: string, at: string): Boleto | undefined {
  const changes: string[] = [];
  if (current.seuNumero !== row.seuNumero) changes.push(`seuNumero ${current.seuNumero} → ${row.seuNumero}`);
  if (current.valor !== row.valor) changes.push(`valor R$ ${formatReais(current.valor)} → R$ ${formatReais(row.valor)}`);
  if (current.dataVencimento !== row.dataVencimento)
    changes.push(`dataVencimento ${current.dataVencimento} → ${row.dataVencimento}`);
  // The payer's data is named, never quoted: history notes carry no personal data.
  if (current.pagador.nome !== row.pagador.nome) changes.push('pagador.nome');
  if (current.pagador.cpfCnpj !== row.pagador.cpfCnpj) changes.push('pagador.cpfCnpj');
  if (changes.length === 0) return undefined;
  const entry: HistoryEntry = {
    at,
    status: current.status,
    source: { kind: 'import', by },
    note: `importação alterou ${changes.join('; ')}`,
  };
  return {
    ...current,
    seuNumero: row.seuNumero,
    valor: row.valor,
    dataVencimento: row.dataVencimento,
    pagador: row.pagador,
    history: [...current.history, entry],
    updatedAt: at,
  };
}

/** Runs `work` over `items`, at most `limit` at once; after a failure no item starts, and it throws. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A boleto as the admin routes show it: amounts in reais and in centavos, the payer, every change. */
export interface BoletoView {
  nossoNumero: string;
  seuNumero: string;
  numeroCliente: string;
  /** reais */
  valor: number;
  valorCentavos: number;
  dataVencimento: string;
  status: BoletoStatus;
  pagador: { nome: string; cpfCnpj: string };
  pagamento: (Omit<Pagamento, 'valorPagamento'> & { valorPagamento: number; valorPagamentoCentavos: number }) | null;
  liquidacao: Record<string, unknown> | null;
  history: HistoryEntry[];
  createdAt: string;
  updatedAt: string;
}

const reaisOf = (centavos: number) => centavos / 100;

const LIQUIDACAO_AMOUNTS = ['valorLiquido', 'valorMora', 'valorDesconto', 'valorAbatimento', 'valorTarifaMovimento'] as const;

/** The admin view of a boleto (the payer included: admins may see it; it is never logged). */
export function boletoView(boleto: Boleto): BoletoView {
  const { pagamento, liquidacao } = boleto;
  return {
    nossoNumero: boleto.nossoNumero,
    seuNumero: boleto.seuNumero,
    numeroCliente: boleto.numeroCliente,
    valor: reaisOf(boleto.valor),
    valorCentavos: boleto.valor,
    dataVencimento: boleto.dataVencimento,
    status: boleto.status,
    pagador: boleto.pagador,
    pagamento: pagamento
      ? { ...pagamento, valorPagamento: reaisOf(pagamento.valorPagamento), valorPagamentoCentavos: pagamento.valorPagamento }
      : null,
    liquidacao: liquidacao ? liquidacaoView(liquidacao) : null,
    history: boleto.history,
    createdAt: boleto.createdAt,
    updatedAt: boleto.updatedAt,
  };
}

/** Each amount in reais, and as `<name>Centavos`. */
function liquidacaoView(liquidacao: Liquidacao): Record<string, unknown> {
  const view: Record<string, unknown> = { ...liquidacao };
  for (const name of LIQUIDACAO_AMOUNTS) {
    view[name] = reaisOf(liquidacao[name]);
    view[`${name}Centavos`] = liquidacao[name];
  }
  return view;
}

/** An exception as listed: `valor` in reais, and `valorCentavos`, when it has one. */
export function exceptionView(exception: ReconciliationException): Record<string, unknown> {
  return exception.valor === undefined
    ? { ...exception }
    : { ...exception, valor: reaisOf(exception.valor), valorCentavos: exception.valor };
}

type Query = Record<string, string | undefined> | null | undefined;

const LIMIT_MESSAGE = 'must be a whole number from 1 to 500';
const limit = z
  .string()
  .regex(/^[1-9][0-9]{0,2}$/, { message: LIMIT_MESSAGE })
  .transform(Number)
  .refine((n) => n <= 500, { message: LIMIT_MESSAGE })
  .default(100);
const day = z.string().refine(isCalendarDay, { message: 'must be a calendar date yyyy-MM-dd' });

const listQuerySchema = z
  .object({
    status: z.enum(['ABERTO', 'PAGO', 'LIQUIDADO', 'BAIXADO']).optional(),
    from: day.optional(),
    to: day.optional(),
    cursor: z.string().optional(),
    limit,
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after query.to', path: ['from'] });

const pageQuerySchema = z.object({ cursor: z.string().optional(), limit });

function parseQuery<T extends z.ZodType>(schema: T, query: Query): z.output<T> {
  const parsed = schema.safeParse(query ?? {}, { reportInput: true });
  if (!parsed.success) throw new ClientError(400, fieldErrors(parsed.error, 'query'));
  return parsed.data;
}

/** A store index's key attributes: what its cursors (DynamoDB's LastEvaluatedKey) hold, exactly. */
function indexKeys(name: 'byDate' | 'byStatus' | 'exceptions'): string[] {
  const indexes: readonly { name: string; partitionKey: string; sortKey?: string }[] = tables.boletos.indexes;
  const index = indexes.find((i) => i.name === name)!;
  return [tables.boletos.partitionKey, index.partitionKey, index.sortKey!];
}

/**
 * 400 unless `cursor` is one this listing's store query handed out: base64url of a JSON object
 * with exactly the index's key attributes, every one a string, and within the query (its status,
 * its days). DynamoDB refuses any other start key, and that would be a 500.
 */
function checkCursor(cursor: string, keys: string[], fits: (key: Record<string, string>) => boolean): void {
  const refuse = () =>
    new ClientError(400, [
      {
        key: 'cursor',
        message: 'query.cursor is not a cursor of this listing (pass the previous page’s cursor with the same filters)',
      },
    ]);
  if (cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.toString('base64url') !== cursor) throw refuse();
  let key: unknown;
  try {
    key = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw refuse();
  }
  if (key === null || typeof key !== 'object' || Array.isArray(key)) throw refuse();
  const entries = Object.entries(key);
  const exact =
    entries.length === keys.length && entries.every(([name, value]) => keys.includes(name) && typeof value === 'string');
  if (!exact || loneSurrogateErrors(key).length > 0 || !fits(key as Record<string, string>)) throw refuse();
}

/**
 * GET /admin/boletos[?status=ABERTO|PAGO|LIQUIDADO|BAIXADO][&from=yyyy-MM-dd][&to=yyyy-MM-dd]
 * [&cursor=…][&limit=1..500, 100]: boletos whose listing day (dataLiquidacao, else dataVencimento)
 * is within from…to (inclusive), oldest first, a page at a time: `cursor` is the next page's, null
 * at the end. Unknown parameters are ignored. Throws ClientError 400 naming each bad parameter.
 */
export async function listBoletos(
  deps: Pick<AdminDeps, 'store'>,
  query: Query,
): Promise<{ boletos: BoletoView[]; cursor: string | null }> {
  const q = parseQuery(listQuerySchema, query);
  if (q.cursor !== undefined) {
    const [low, high] = [q.from ?? '0000', `${q.to ?? '9999'}~`];
    checkCursor(
      q.cursor,
      indexKeys(q.status ? 'byStatus' : 'byDate'),
      (key) =>
        key.pk!.startsWith('B#') &&
        (q.status ? key.statusKey === q.status : key.listKind === 'BOLETO') &&
        key.listDay! >= low &&
        key.listDay! <= high,
    );
  }
  const page = await deps.store.list({
    ...(q.status ? { status: q.status } : {}),
    ...(q.from ? { from: q.from } : {}),
    ...(q.to ? { to: q.to } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
    limit: q.limit,
  });
  return { boletos: page.items.map(boletoView), cursor: page.cursor ?? null };
}

/**
 * GET /admin/boletos/exceptions[?cursor=…][&limit=1..500, 100]: the reconciliation exceptions
 * (records and notices that matched no boleto, or contradicted one), oldest first, a page at a time.
 */
export async function listExceptions(
  deps: Pick<AdminDeps, 'store'>,
  query: Query,
): Promise<{ exceptions: Record<string, unknown>[]; cursor: string | null }> {
  const q = parseQuery(pageQuerySchema, query);
  if (q.cursor !== undefined)
    checkCursor(q.cursor, indexKeys('exceptions'), (key) => key.pk!.startsWith('X#') && key.exceptionKind === 'EXCEPTION');
  const page = await deps.store.exceptions({ ...(q.cursor ? { cursor: q.cursor } : {}), limit: q.limit });
  return { exceptions: page.items.map(exceptionView), cursor: page.cursor ?? null };
}

const getPathSchema = z.object({ nossoNumero: digits(20) });
const getQuerySchema = z.object({ numeroCliente: digits(10).optional() });

/**
 * GET /admin/boletos/{nossoNumero}[?numeroCliente=…]: the boleto, leading zeros ignored in both.
 * Without numeroCliente, the one boleto with that nosso número in any contract; ClientError 409
 * listing the contracts when several have it, 404 when none, 400 for numbers that are not digits.
 */
export async function getBoleto(deps: Pick<AdminDeps, 'store'>, pathParameters: Query, query: Query): Promise<BoletoView> {
  const path = getPathSchema.safeParse(pathParameters ?? {}, { reportInput: true });
  const q = getQuerySchema.safeParse(query ?? {}, { reportInput: true });
  const errors = [...(path.success ? [] : fieldErrors(path.error, 'path')), ...(q.success ? [] : fieldErrors(q.error, 'query'))];
  if (errors.length > 0 || !path.success || !q.success) throw new ClientError(400, errors);
  const { nossoNumero } = path.data;
  const { numeroCliente } = q.data;
  const notFound = () =>
    new ClientError(404, [
      {
        key: 'nossoNumero',
        message: `no boleto with nossoNumero ${nossoNumero}${numeroCliente ? ` in numeroCliente ${numeroCliente}` : ''}`,
      },
    ]);
  if (numeroCliente) {
    const boleto = await deps.store.get(numeroCliente, nossoNumero);
    if (!boleto) throw notFound();
    return boletoView(boleto);
  }
  const found = await deps.store.byNossoNumero(nossoNumero);
  if (found.length > 1) {
    const contracts = [...new Set(found.map((b) => b.numeroCliente))].sort();
    throw new ClientError(409, [
      {
        key: 'nossoNumero',
        message: `nossoNumero ${nossoNumero} is in several contracts (numeroCliente ${contracts.join(', ')}): add ?numeroCliente=`,
      },
    ]);
  }
  // The index is eventually consistent: the table answers with the boleto as it is now.
  const boleto = found[0] && (await deps.store.get(found[0].numeroCliente, found[0].nossoNumero));
  if (!boleto) throw notFound();
  return boletoView(boleto);
}

/** What the CSV's header names each row field (`pagador.nome` is `pagadorNome`). */
export const CSV_COLUMNS = {
  nossoNumero: 'nossoNumero',
  seuNumero: 'seuNumero',
  valor: 'valor',
  dataVencimento: 'dataVencimento',
  numeroCliente: 'numeroCliente',
  'pagador.nome': 'pagadorNome',
  'pagador.cpfCnpj': 'pagadorCpfCnpj',
} as const;

/** A CSV record: its cells, and the line (1-based) it starts on. */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/**
 * RFC 4180 CSV with `separator`: a field in double quotes may hold the separator, line breaks and
 * `""` (one quote); line breaks are LF, CRLF or CR; a leading BOM is dropped; records whose cells
 * are all blank (blank lines, a spreadsheet's `;;;;`) are left out. Throws ClientError 400 naming
 * the line of a quote left open or of text after a closing quote.
 */
export function parseCsv(input: string, separator: ',' | ';'): CsvRecord[] {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const problem = (line: number, message: string) =>
    new ClientError(400, [{ key: `line ${line}`, message: `line ${line}: ${message}` }]);
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let recordLine = 1;
  const endRecord = () => {
    cells.push(cell);
    if (cells.some((c) => c.trim() !== '')) records.push({ line: recordLine, cells });
    cells = [];
    cell = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' && cell === '') {
      const opened = line;
      for (i++; ;) {
        if (i >= text.length) throw problem(opened, 'a quoted field is not closed');
        const q = text[i]!;
        if (q === '"' && text[i + 1] === '"') {
          cell += '"';
          i += 2;
        } else if (q === '"') {
          i++;
          break;
        } else {
          if (q === '\n' || (q === '\r' && text[i + 1] !== '\n')) line++;
          cell += q;
          i++;
        }
      }
      // So a closed field is never opened again: only its end may follow.
      const after = text[i];
      if (after !== undefined && after !== separator && after !== '\n' && after !== '\r')
        throw problem(line, 'text after a closing quote (a quote inside a quoted field is written "")');
    } else if (c === separator) {
      cells.push(cell);
      cell = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      recordLine = ++line;
    } else {
      cell += c;
      i++;
    }
  }
  endRecord();
  return records;
}

/** `;` when the header line has one (outside quotes), else `,`. */
export function csvSeparator(text: string): ',' | ';' {
  const header = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r\n|\n|\r/, 1)[0] ?? '';
  return header.replace(/"[^"]*"/g, '').includes(';') ? ';' : ',';
}

/** A CSV cell's valor: `1234.5` or `1234,5` (no thousands separator) as a number; anything else as it is, to be refused. */
function csvValor(cell: string): unknown {
  const value = cell.trim();
  return /^-?\d+([.,]\d+)?$/.test(value) ? Number(value.replace(',', '.')) : value;
}

/**
 * An import file's boletos, validated as validateRows does: a `.json` file holds the API's array
 * (problems name `item 3`, `item 3: valor`); a `.csv` file has a header row with the CSV_COLUMNS
 * names in any order, `;` or `,` separated, one boleto a line, valor with a decimal point or comma
 * and no thousands separator, blank cells missing (problems name the line: `line 4:
 * pagadorCpfCnpj …`). UTF-8, with or without a BOM. Throws ClientError 400 naming every problem:
 * the file's own (not UTF-8, not JSON, the header, a line's field count) and every row's.
 */
export function importFile(fileName: string, bytes: Uint8Array): ImportRow[] {
  let text: string;
  try {
    // The decoder drops a BOM.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ClientError(400, [{ key: 'file', message: `${fileName} is not UTF-8 text` }]);
  }
  const kind = /\.(csv|json)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (kind === 'json') return jsonFileRows(fileName, text);
  if (kind === 'csv') return csvFileRows(fileName, text);
  throw new ClientError(400, [{ key: 'file', message: `${fileName} must be a .csv or .json file` }]);
}

function jsonFileRows(fileName: string, text: string): ImportRow[] {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (error) {
    throw new ClientError(400, [{ key: 'file', message: `${fileName} is not valid JSON: ${(error as Error).message}` }]);
  }
  if (!Array.isArray(rows) || rows.length === 0)
    throw new ClientError(400, [{ key: 'file', message: `${fileName} must hold a JSON array of boletos (at least one)` }]);
  const surrogates = loneSurrogateErrors(rows, fileName);
  if (surrogates.length > 0) throw new ClientError(400, surrogates);
  return validateRows(rows, { row: (index) => `item ${index}`, field: (index, path) => `item ${index}: ${path}` });
}

function csvFileRows(fileName: string, text: string): ImportRow[] {
  const [header, ...records] = parseCsv(text, csvSeparator(text));
  if (!header)
    throw new ClientError(400, [{ key: 'file', message: `${fileName} is empty (a header row, then one boleto a line)` }]);
  const columns = header.cells.map((c) => c.trim());
  const known: string[] = Object.values(CSV_COLUMNS);
  const problems = [
    ...columns.filter((c) => !known.includes(c)).map((c) => `unknown column ${JSON.stringify(c)}`),
    ...known.filter((c) => !columns.includes(c)).map((c) => `missing column ${c}`),
    ...columns.filter((c, i) => known.includes(c) && columns.indexOf(c) !== i).map((c) => `column ${c} twice`),
  ];
  if (problems.length > 0)
    throw new ClientError(400, [
      { key: `line ${header.line}`, message: `line ${header.line}: ${problems.join('; ')} (columns: ${known.join(', ')})` },
    ]);
  if (records.length === 0) throw new ClientError(400, [{ key: 'file', message: `${fileName} has a header but no boletos` }]);
  const byLine: { line: number; errors: FieldError[] }[] = [];
  const rows: unknown[] = [];
  const lines: number[] = [];
  for (const record of records) {
    if (record.cells.length !== columns.length) {
      const message = `line ${record.line}: has ${record.cells.length} fields; the header has ${columns.length}`;
      byLine.push({ line: record.line, errors: [{ key: `line ${record.line}`, message }] });
      continue;
    }
    const cell = (column: string) => {
      const value = record.cells[columns.indexOf(column)]!;
      return value.trim() === '' ? undefined : value;
    };
    const valor = cell(CSV_COLUMNS.valor);
    rows.push({
      nossoNumero: cell(CSV_COLUMNS.nossoNumero),
      seuNumero: cell(CSV_COLUMNS.seuNumero),
      valor: valor === undefined ? undefined : csvValor(valor),
      dataVencimento: cell(CSV_COLUMNS.dataVencimento)?.trim(),
      numeroCliente: cell(CSV_COLUMNS.numeroCliente),
      pagador: { nome: cell(CSV_COLUMNS['pagador.nome']), cpfCnpj: cell(CSV_COLUMNS['pagador.cpfCnpj']) },
    });
    lines.push(record.line);
  }
  const column = (path: string) => CSV_COLUMNS[path as keyof typeof CSV_COLUMNS] ?? path;
  const { valid, errors } = checkRows(rows, {
    row: (index) => `line ${lines[index]}`,
    field: (index, path) => `line ${lines[index]}: ${column(path)}`,
  });
  errors.forEach((rowErrors, index) => byLine.push({ line: lines[index]!, errors: rowErrors }));
  const all = byLine.sort((a, b) => a.line - b.line).flatMap((entry) => entry.errors);
  if (all.length > 0) throw new ClientError(400, all);
  return valid;
}
