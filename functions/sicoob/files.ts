import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import JSZip from 'jszip';
import StreamArray from 'stream-json/streamers/StreamArray.js';
import * as z from 'zod';
import { normalizeNumero } from './boleto.ts';

/**
 * Sicoob's movement files (spec §1.3–1.4): the download's base64 → a ZIP (jszip) → its `.json` /
 * `.txt` entries, each a JSON array or one JSON object per line → LIQUI records, validated (zod) in
 * both field-name dialects Sicoob uses (`numeroTitulo`, `seuNumero`, `numeroCliente`… and
 * `numTitulo`, `descSeuNumero`, `numCliente`…). Records are read one by one from each entry's
 * stream, never all at once (a file holds up to 500,000). Amounts (numbers or strings, up to 4
 * decimals) become centavos; dates (`2019-05-7T00:00:00-03:00` unpadded too) become `yyyy-MM-dd`.
 */

/** A liquidation as the sweep applies it; amounts in centavos, dates `yyyy-MM-dd`. */
export interface LiquiRecord {
  numeroCliente: string;
  /** The nosso número with its check digit, as Sicoob numbers it (`numeroTitulo`). */
  numeroTitulo: string;
  seuNumero?: string;
  valorTitulo: number;
  dataLiquidacao: string;
  dataPrevisaoCredito?: string;
  dataMovimento?: string;
  valorLiquido: number;
  valorMora: number;
  valorDesconto: number;
  valorAbatimento: number;
  valorTarifaMovimento: number;
  idTipoOpFinanceira?: string;
  tipoOpFinanceira?: string;
}

/** One record of a file, in file order (`index` counts every record of every entry from 0). */
export type FileRecord =
  | { index: number; kind: 'liquidation'; record: LiquiRecord }
  /** Another movement (ENTR, BAIX…): the sweep asks for liquidations only; counted, not applied. */
  | { index: number; kind: 'other'; sigla: string }
  | { index: number; kind: 'invalid'; problem: string };

/** The abbreviated dialect's names (spec §1.4) → the documented long ones. */
const LONG_NAMES: Record<string, string> = {
  codTipoMovimento: 'codigoTipoMovimento',
  numCliente: 'numeroCliente',
  numContrato: 'numeroContrato',
  idModalidadeProduto: 'modalidade',
  numTitulo: 'numeroTitulo',
  descSeuNumero: 'seuNumero',
  numContaCorrente: 'numeroContaCorrente',
};

function longNames(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const long =
      LONG_NAMES[name] ??
      (name.startsWith('dataMov') && !name.startsWith('dataMovimento') ? `dataMovimento${name.slice(7)}` : name);
    if (!(long in out)) out[long] = value;
  }
  return out;
}

/** Digits, from a number or a string (`3516`, `"00003516"`). */
const digits = z
  .union([
    z.number().int().nonnegative(),
    z
      .string()
      .trim()
      .regex(/^\d{1,20}$/),
  ])
  .transform((v) => String(v));

/**
 * Reais, never negative, as a number or a string → centavos, rounded half up: `85.0000`, `"85.5"`
 * (a dot is the decimal point when there is no comma), `"85,00"`, `"1.500,25"` (with a comma, dots
 * group thousands). A string with dots but no comma that is not one decimal (`"1.500.000"`) is
 * refused: it cannot be read without guessing.
 */
const money = z
  .union([
    z.number().finite().nonnegative(),
    z
      .string()
      .trim()
      .regex(/^\d{1,3}(\.\d{3})*,\d{1,4}$|^\d+(,\d{1,4})?$|^\d+\.\d{1,4}$/),
  ])
  .transform((value) => {
    const text =
      typeof value === 'number' ? value.toFixed(4) : value.includes(',') ? value.replace(/\./g, '').replace(',', '.') : value;
    const [whole = '0', fraction = ''] = text.split('.');
    return Math.round(Number(whole) * 100 + Number(fraction.padEnd(4, '0').slice(0, 4)) / 100);
  })
  .refine((centavos) => Number.isSafeInteger(centavos), { message: 'is out of range' });

/** `2026-11-7T00:00:00-03:00`, `2026-11-07` → `2026-11-07` (a real calendar day). */
const day = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{1,2}-\d{1,2}(?:[T ].*)?$/)
  .transform((value) => {
    const [y, m, d] = value.slice(0, 10).split(/[-T ]/);
    return `${y}-${m!.padStart(2, '0')}-${d!.padStart(2, '0')}`;
  })
  .refine(
    (date) => !Number.isNaN(Date.parse(`${date}T00:00:00Z`)) && new Date(`${date}T00:00:00Z`).toISOString().startsWith(date),
    {
      message: 'is not a calendar day',
    },
  );

const liquiSchema = z.object({
  numeroCliente: digits,
  numeroTitulo: digits,
  seuNumero: z
    .union([z.string(), z.number()])
    .transform((v) => String(v).trim())
    .optional(),
  valorTitulo: money,
  dataLiquidacao: day,
  dataPrevisaoCredito: day.optional(),
  dataMovimentoLiquidacao: day.optional(),
  valorLiquido: money,
  valorMora: money.default(0),
  valorDesconto: money.default(0),
  valorAbatimento: money.default(0),
  valorTarifaMovimento: money.default(0),
  idTipoOpFinanceira: digits.optional(),
  tipoOpFinanceira: z
    .union([z.string(), z.number()])
    .transform((v) => String(v).slice(0, 80))
    .optional(),
});

/** One raw record (any JSON) → what the sweep does with it. */
export function readRecord(raw: unknown, index: number): FileRecord {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return { index, kind: 'invalid', problem: 'not a JSON object' };
  const record = longNames(raw as Record<string, unknown>);
  const sigla = typeof record.siglaMovimento === 'string' ? record.siglaMovimento.trim().toUpperCase() : undefined;
  const tipo = record.codigoTipoMovimento;
  if (sigla !== undefined && sigla !== 'LIQUI') return { index, kind: 'other', sigla };
  if (sigla === undefined && tipo !== undefined && String(tipo) !== '5')
    return { index, kind: 'other', sigla: `tipo ${String(tipo).slice(0, 10)}` };
  const parsed = liquiSchema.safeParse(record);
  if (!parsed.success)
    return {
      index,
      kind: 'invalid',
      problem: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`).join('; '),
    };
  const { dataMovimentoLiquidacao, seuNumero, dataPrevisaoCredito, idTipoOpFinanceira, tipoOpFinanceira, ...rest } = parsed.data;
  return {
    index,
    kind: 'liquidation',
    record: {
      ...rest,
      numeroCliente: normalizeNumero(rest.numeroCliente),
      ...(seuNumero ? { seuNumero } : {}),
      ...(dataPrevisaoCredito ? { dataPrevisaoCredito } : {}),
      ...(dataMovimentoLiquidacao ? { dataMovimento: dataMovimentoLiquidacao } : {}),
      ...(idTipoOpFinanceira ? { idTipoOpFinanceira } : {}),
      ...(tipoOpFinanceira ? { tipoOpFinanceira } : {}),
    },
  };
}

/** The ZIP could not be read at all (not base64, not a ZIP, no entry of records): the file is recorded as faulty. */
export class UnreadableFile extends Error {
  override name = 'UnreadableFile';
}

/**
 * The records of one downloaded file, in order, starting after `skip` records (a resumed file).
 * Throws UnreadableFile when the archive itself cannot be read; a record that cannot be read is
 * yielded as `invalid` and the rest go on.
 */
export async function* fileRecords(base64: string, skip = 0): AsyncGenerator<FileRecord> {
  const bytes = Buffer.from(base64.replace(/\s+/g, ''), 'base64');
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes);
  } catch (error) {
    throw new UnreadableFile(`the file is not a ZIP archive (${(error as Error).message.slice(0, 100)})`);
  }
  const entries = Object.values(zip.files)
    .filter((entry) => !entry.dir && /\.(json|txt)$/i.test(entry.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (entries.length === 0) throw new UnreadableFile('the ZIP archive holds no .json or .txt entry');
  let index = 0;
  for (const entry of entries) {
    try {
      for await (const raw of entryValues(entry)) {
        if (index >= skip)
          yield raw === BROKEN_LINE ? { index, kind: 'invalid', problem: 'a line that is not JSON' } : readRecord(raw, index);
        index++;
      }
    } catch (error) {
      if (error instanceof UnreadableFile) throw error;
      // Damaged compressed data, a broken stream: the whole file is unreadable, never a crash.
      throw new UnreadableFile(`${entry.name} cannot be read (${(error as Error).message.slice(0, 100)})`);
    }
  }
}

const BROKEN_LINE = Symbol('broken line');

/** An entry's values, streamed: a JSON array's items, or one JSON value per non-empty line. */
async function* entryValues(entry: JSZip.JSZipObject): AsyncGenerator<unknown> {
  if ((await firstCharacter(entry)) === '[') {
    const input = openEntry(entry);
    const items = StreamArray.withParser();
    input.on('error', (error) => items.destroy(error));
    input.pipe(items);
    try {
      for await (const item of items as AsyncIterable<{ key: number; value: unknown }>) yield item.value;
    } catch (error) {
      throw new UnreadableFile(`${entry.name}: the JSON array breaks off (${(error as Error).message.slice(0, 100)})`);
    }
    return;
  }
  const lines = createInterface({ input: openEntry(entry), crlfDelay: Infinity });
  for await (const line of lines) {
    const text = line.trim().replace(/,$/, '');
    if (text === '') continue;
    try {
      yield JSON.parse(text);
    } catch {
      yield BROKEN_LINE;
    }
  }
}

interface JszipStream {
  on(event: 'data', listener: (chunk: string) => void): JszipStream;
  on(event: 'error', listener: (error: Error) => void): JszipStream;
  on(event: 'end', listener: () => void): JszipStream;
  pause(): JszipStream;
  resume(): JszipStream;
}

/** The first non-blank character of an entry, from its first decompressed chunks only. */
function firstCharacter(entry: JSZip.JSZipObject): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    // jszip's own stream (typed only in its docs): paused once the first text is seen.
    const stream = (entry as unknown as { internalStream(type: 'string'): JszipStream }).internalStream('string');
    let seen = '';
    stream
      .on('data', (chunk: string) => {
        seen = (seen + chunk).replace(/^\uFEFF/, '').trimStart();
        if (seen === '') return;
        stream.pause();
        resolve(seen[0]);
      })
      .on('error', reject)
      .on('end', () => resolve(undefined))
      .resume();
  });
}

/** An entry's bytes as a Node stream that is async-iterable (jszip's own is an older kind). */
function openEntry(entry: JSZip.JSZipObject): Readable {
  const source = entry.nodeStream('nodebuffer') as NodeJS.ReadableStream;
  const through = new PassThrough();
  // Damaged compressed data fails the source: a pipe would not carry that on.
  source.on('error', (error: Error) => through.destroy(error));
  return source.pipe(through);
}
