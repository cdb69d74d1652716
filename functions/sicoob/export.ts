import * as z from 'zod';
import { ClientError } from '../shared/http.ts';
import { formatReais } from '../shared/money.ts';
import { fieldErrors } from '../shared/validation.ts';
import { isCalendarDay } from './admin.ts';
import type { Boleto, BoletoStatus } from './boleto.ts';
import { listingDay, type BoletoStore } from './store.ts';

/**
 * Finance's boletos CSV: GET /admin/boletos/export.csv, `npm run boletos -- export` (from the table,
 * or from a point-in-time export of it: table-export.ts) write the same bytes for the same boletos.
 * No AWS calls here: rows in, bytes out (the listing day is the store's own listingDay).
 *
 * Made for a Brazilian spreadsheet (Excel, LibreOffice and Google Sheets in pt-BR): UTF-8 with a BOM
 * (without it Excel reads the file as Windows-1252 and breaks every accent), `;` between fields (a
 * pt-BR Excel splits on `;`, since `,` is its decimal mark), CRLF line ends (what Excel writes and
 * RFC 4180 names), one header row, then one boleto a line. A field is quoted only when it holds a
 * `;`, a `"` (written `""`) or a line break. Money is `1234,56` (decimal comma, no thousands
 * separator: read as a number); dates `dd/mm/aaaa`; an absent value is an empty field. A text
 * field starting with `=`, `+`, `-`, `@`, a tab or a CR gets a leading `'`, so a spreadsheet shows
 * it instead of running it as a formula (OWASP "CSV injection": payer names come from imports).
 * The payer is its name and, in its own column, its CPF/CNPJ with the usual mask: finance tells
 * payers apart by the document (names repeat, and are typed in imports); the file is personal data,
 * answered `no-store` and never logged.
 *
 * Rows follow the store's index order — listing day (dataLiquidacao, else dataVencimento), then
 * numeroCliente, then nossoNumero, compared as text — whatever order they come in.
 */

/** The header row, in order. */
export const EXPORT_COLUMNS = [
  'nossoNumero',
  'seuNumero',
  'numeroCliente',
  'pagador',
  'pagadorCpfCnpj',
  'dataVencimento',
  'valor',
  'status',
  'dataLiquidacao',
  'dataPrevisaoCredito',
  'valorLiquido',
  'valorMora',
  'valorDesconto',
  'valorAbatimento',
  'valorTarifaMovimento',
  'canal',
  'divergencia',
] as const;

const SEPARATOR = ';';
const LINE_END = '\r\n';
const BOM = '\uFEFF';

/** Which boletos an export holds: listing day within from…to (inclusive), and the status when given. */
export interface ExportFilter {
  /** `yyyy-MM-dd` */
  from: string;
  /** `yyyy-MM-dd` */
  to: string;
  status?: BoletoStatus;
}

/** The longest period GET /admin/boletos/export.csv takes (a year, leap day included): it reads every page within 29 s. */
export const MAX_ROUTE_SPAN_DAYS = 366;
/** Boletos per store page while reading an export's boletos. */
export const EXPORT_PAGE = 1000;

const STATUSES = ['ABERTO', 'PAGO', 'LIQUIDADO', 'BAIXADO'] as const satisfies readonly BoletoStatus[];
const day = z.string().refine(isCalendarDay, { message: 'must be a calendar date yyyy-MM-dd' });
const filterSchema = z.object({ from: day, to: day, status: z.enum(STATUSES).optional() });

const spanDays = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;

/**
 * An export's filter from the query (`from`, `to` required, `status` optional; other parameters
 * ignored): throws ClientError 400 naming every bad one (`query.from must be a calendar date
 * yyyy-MM-dd`), `from` after `to`, and — when `maxSpanDays` is given — a longer period.
 */
export function exportFilter(
  query: Record<string, string | undefined> | null | undefined,
  options: { maxSpanDays?: number } = {},
): ExportFilter {
  const parsed = filterSchema.safeParse(query ?? {}, { reportInput: true });
  const errors = parsed.success ? [] : fieldErrors(parsed.error, 'query');
  const { from, to } = query ?? {};
  if (from !== undefined && to !== undefined && isCalendarDay(from) && isCalendarDay(to)) {
    const max = options.maxSpanDays;
    if (from > to) errors.push({ key: 'from', message: 'query.from must not be after query.to' });
    else if (max !== undefined && spanDays(from, to) > max)
      errors.push({
        key: 'to',
        message: `query.to must be within ${max} days of query.from (both inclusive); export a longer period with npm run boletos -- export`,
      });
  }
  if (errors.length > 0 || !parsed.success) throw new ClientError(400, errors);
  const { status } = parsed.data;
  return { from: parsed.data.from, to: parsed.data.to, ...(status ? { status } : {}) };
}

/** True when the boleto belongs in the export: what the store's listing returns for the filter. */
export function inExport(boleto: Boleto, filter: ExportFilter): boolean {
  const listed = listingDay(boleto);
  return listed >= filter.from && listed <= filter.to && (filter.status === undefined || boleto.status === filter.status);
}

/** The boleto's place in the export: the store's index sort key (`<listing day>#<numeroCliente>#<nossoNumero>`). */
export function exportOrder(boleto: Boleto): string {
  return `${listingDay(boleto)}#${boleto.numeroCliente}#${boleto.nossoNumero}`;
}

/** Every boleto of the filter, reading the store's listing page after page (index order). */
export async function boletosToExport(store: Pick<BoletoStore, 'list'>, filter: ExportFilter): Promise<Boleto[]> {
  const boletos: Boleto[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...filter, ...(cursor ? { cursor } : {}), limit: EXPORT_PAGE });
    boletos.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return boletos;
}

/** `attachment` file name: `boletos_<from>_<to>.csv`. */
export function exportFileName(filter: ExportFilter): string {
  return `boletos_${filter.from}_${filter.to}.csv`;
}

/** `'` before text a spreadsheet would run as a formula: starting with `=`, `+`, `-`, `@`, tab or CR. */
export function guardFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** The field as written: in double quotes (inner ones doubled) only when it holds `;`, `"`, CR or LF. */
export function quoteField(value: string): string {
  return /[;"\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** centavos → `1234,56` (`-0,50`): no thousands separator. */
export function formatMoney(centavos: number | undefined): string {
  return centavos === undefined ? '' : formatReais(centavos).replace('.', ',');
}

/** `yyyy-MM-dd` → `dd/mm/aaaa`; anything else is written as text. */
export function formatDate(date: string | undefined): string {
  if (date === undefined) return '';
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return match ? `${match[3]}/${match[2]}/${match[1]}` : guardFormula(date);
}

/**
 * A CPF `529.982.247-25` or CNPJ `11.222.333/0001-81` (alphanumeric too) with its usual mask, so a
 * spreadsheet keeps it as text (bare digits become a number and lose their leading zeros).
 */
export function formatCpfCnpj(document: string): string {
  if (/^\d{11}$/.test(document))
    return `${document.slice(0, 3)}.${document.slice(3, 6)}.${document.slice(6, 9)}-${document.slice(9)}`;
  if (/^[0-9A-Z]{12}\d{2}$/.test(document))
    return `${document.slice(0, 2)}.${document.slice(2, 5)}.${document.slice(5, 8)}/${document.slice(8, 12)}-${document.slice(12)}`;
  return guardFormula(document);
}

/** The boleto's fields in EXPORT_COLUMNS order, formatted and guarded, before quoting. */
export function exportCells(boleto: Boleto): string[] {
  const l = boleto.liquidacao;
  const canal = l?.canalDescricao?.trim() ? l.canalDescricao : (l?.canal ?? '');
  return [
    guardFormula(boleto.nossoNumero),
    guardFormula(boleto.seuNumero),
    guardFormula(boleto.numeroCliente),
    guardFormula(boleto.pagador.nome),
    formatCpfCnpj(boleto.pagador.cpfCnpj),
    formatDate(boleto.dataVencimento),
    formatMoney(boleto.valor),
    guardFormula(boleto.status),
    formatDate(l?.dataLiquidacao),
    formatDate(l?.dataPrevisaoCredito),
    formatMoney(l?.valorLiquido),
    formatMoney(l?.valorMora),
    formatMoney(l?.valorDesconto),
    formatMoney(l?.valorAbatimento),
    formatMoney(l?.valorTarifaMovimento),
    guardFormula(canal),
    guardFormula(l?.divergence ?? ''),
  ];
}

const line = (cells: readonly string[]) => cells.map(quoteField).join(SEPARATOR) + LINE_END;

/**
 * The CSV of these boletos (the caller filtered them), as text: BOM, header, one line per boleto
 * in export order. UTF-8 encoded (`Buffer.from(text, 'utf8')`) it is the file.
 */
export function boletosCsv(boletos: Iterable<Boleto>): { text: string; rows: number } {
  const sorted = [...boletos]
    .map((boleto) => ({ boleto, key: exportOrder(boleto) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const lines = [BOM + line(EXPORT_COLUMNS), ...sorted.map(({ boleto }) => line(exportCells(boleto)))];
  return { text: lines.join(''), rows: sorted.length };
}
