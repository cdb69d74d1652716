import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { AttributeValue, ExportTableToPointInTimeCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { Boleto } from './boleto.ts';
import { inExport, type ExportFilter } from './export.ts';

/**
 * The boletos table's daily point-in-time export (pitr-export.handler.ts requests it) and how the
 * CLI reads one back into finance's CSV. DynamoDB writes an export as
 * `<prefix>/AWSDynamoDB/<exportId>/manifest-summary.json` (one JSON object: `itemCount`,
 * `outputFormat`, `manifestFilesS3Key`…), `manifest-files.json` (JSON lines, one per data file:
 * `itemCount`, `md5Checksum`, `etag`, `dataFileS3Key`) and `data/<id>.json.gz` (gzip, JSON lines of
 * `{"Item":{…}}` in DynamoDB JSON; a partition with no items gives an empty file). The reader
 * checks every file's item count against the manifests, so a partial download or a cut file is an
 * error, never a shorter CSV. (md5Checksum is not checked: AWS does not document what it covers.)
 * No AWS calls here: the files are read through what the caller gives (a directory, S3).
 */

/** Where the daily exports go in the partner archive bucket: `<PITR_PREFIX>/<São Paulo day>/AWSDynamoDB/<exportId>/`. */
export const PITR_PREFIX = 'exports/pitr/boletos';

/** The export's files, by their path inside the export's directory (`manifest-summary.json`, `data/x.json.gz`). */
export interface ExportFiles {
  /** The file's bytes; undefined when there is no such file. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** The export's directory (`fixtures/…/AWSDynamoDB/<id>`, `s3://bucket/…`), for messages. */
  where: string;
}

/** What the summary manifest says of the export. */
export interface ExportSummary {
  exportArn?: string;
  /** ISO: the point in time the export holds. */
  exportTime?: string;
  itemCount: number;
}

/** An export that cannot be read, or does not hold what its manifests say. */
export class TableExportError extends Error {
  override name = 'TableExportError';
}

const summarySchema = z.object({
  exportArn: z.string().optional(),
  exportTime: z.string().optional(),
  manifestFilesS3Key: z.string().regex(/(^|\/)manifest-files\.json$/),
  itemCount: z.number().int().min(0),
  outputFormat: z.literal('DYNAMODB_JSON'),
  // Exports from before incremental exports existed do not say; an incremental one is another layout.
  exportType: z.literal('FULL_EXPORT').optional(),
});

const dataFileSchema = z.object({
  itemCount: z.number().int().min(0),
  dataFileS3Key: z.string().regex(/(^|\/)data\/[^/]+\.json\.gz$/),
});

const lineSchema = z.object({ Item: z.record(z.string(), z.unknown()) });

/**
 * Reads a DYNAMODB_JSON full export, handing every item to `visit` (plain values: numbers as
 * numbers, as the document client reads them). Throws TableExportError for a missing or unreadable
 * manifest or data file, an ION or incremental export, a line that is not `{"Item":{…}}`, or item
 * counts that differ from the manifests'.
 */
export async function readTableExport(
  files: ExportFiles,
  visit: (item: Record<string, unknown>) => void,
): Promise<ExportSummary> {
  const summary = summarySchema.safeParse(await readJson(files, 'manifest-summary.json'));
  if (!summary.success)
    throw new TableExportError(
      `${files.where}/manifest-summary.json is not the summary of a full DYNAMODB_JSON export: ${z.prettifyError(summary.error).replace(/\n/g, '; ')}`,
    );
  const manifest = await readText(files, 'manifest-files.json');
  let total = 0;
  let lineNumber = 0;
  for (const line of manifest.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    let entry: z.infer<typeof dataFileSchema>;
    try {
      entry = dataFileSchema.parse(JSON.parse(line));
    } catch {
      throw new TableExportError(`${files.where}/manifest-files.json line ${lineNumber} is not {"itemCount","dataFileS3Key"}`);
    }
    const path = `data/${entry.dataFileS3Key.slice(entry.dataFileS3Key.lastIndexOf('/') + 1)}`;
    const count = await readDataFile(files, path, visit);
    if (count !== entry.itemCount)
      throw new TableExportError(`${files.where}/${path} holds ${count} items; manifest-files.json says ${entry.itemCount}`);
    total += count;
  }
  if (total !== summary.data.itemCount)
    throw new TableExportError(
      `${files.where} holds ${total} items in the files manifest-files.json lists; manifest-summary.json says ${summary.data.itemCount}`,
    );
  const { exportArn, exportTime, itemCount } = summary.data;
  return { ...(exportArn ? { exportArn } : {}), ...(exportTime ? { exportTime } : {}), itemCount };
}

/**
 * The boletos of an export (items whose key starts `B#`: the sweep's windows, files and cursor,
 * the exceptions and the accounts are left out) that belong in `filter`'s CSV; in no order
 * (boletosCsv orders them). Throws TableExportError as readTableExport does.
 */
export async function boletosFromTableExport(
  files: ExportFiles,
  filter: ExportFilter,
): Promise<{ summary: ExportSummary; boletos: Boleto[] }> {
  const boletos: Boleto[] = [];
  const summary = await readTableExport(files, (item) => {
    if (typeof item.pk !== 'string' || !item.pk.startsWith('B#')) return;
    const boleto = item as unknown as Boleto;
    if (inExport(boleto, filter)) boletos.push(boleto);
  });
  return { summary, boletos };
}

async function readFile(files: ExportFiles, path: string): Promise<Uint8Array> {
  const bytes = await files.read(path);
  if (!bytes)
    throw new TableExportError(`${files.where}/${path} is missing: is this an export's directory (AWSDynamoDB/<exportId>)?`);
  return bytes;
}

async function readText(files: ExportFiles, path: string): Promise<string> {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(await readFile(files, path));
  } catch (error) {
    if (error instanceof TableExportError) throw error;
    throw new TableExportError(`${files.where}/${path} is not UTF-8 text`);
  }
}

async function readJson(files: ExportFiles, path: string): Promise<unknown> {
  const text = await readText(files, path);
  try {
    return JSON.parse(text);
  } catch {
    throw new TableExportError(`${files.where}/${path} is not JSON`);
  }
}

/** Visits the items of one gzipped JSON-lines data file, a line at a time; returns how many. */
async function readDataFile(files: ExportFiles, path: string, visit: (item: Record<string, unknown>) => void): Promise<number> {
  const bytes = await readFile(files, path);
  // An empty partition's file: no items (whether or not it is an empty gzip stream).
  if (bytes.length === 0) return 0;
  const lines = createInterface({ input: Readable.from([bytes]).pipe(createGunzip()), crlfDelay: Infinity });
  let count = 0;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      let item: Record<string, unknown>;
      try {
        const { Item } = lineSchema.parse(JSON.parse(line));
        item = unmarshall(Item as Record<string, AttributeValue>);
      } catch (error) {
        throw new TableExportError(
          `${files.where}/${path} line ${lineNumber} is not a DynamoDB JSON item {"Item":{…}}: ${(error as Error).message.split('\n')[0]}`,
        );
      }
      visit(item);
      count++;
    }
  } catch (error) {
    if (error instanceof TableExportError) throw error;
    throw new TableExportError(`${files.where}/${path} is not a whole gzip file: ${(error as Error).message}`);
  }
  return count;
}

const SAO_PAULO_OFFSET_MS = 3 * 3600_000;
const DAY_MS = 86_400_000;

/**
 * The daily export's request, all of it a function of the schedule's instant so that a repeated
 * delivery is the same request (ClientToken: DynamoDB starts one export per token for 8 hours):
 * the table as it stood at the last São Paulo midnight (UTC−3, no daylight saving since 2019) at
 * or before `scheduledAt` — an hour before a 04:00 UTC schedule, well inside the point-in-time
 * window — to `<PITR_PREFIX>/<the São Paulo day that ended>/`, DynamoDB JSON, SSE-S3 (the bucket's
 * encryption).
 */
export function pitrExportRequest(options: { scheduledAt: Date; tableArn: string; bucket: string }) {
  const midnight = Math.floor((options.scheduledAt.getTime() - SAO_PAULO_OFFSET_MS) / DAY_MS) * DAY_MS + SAO_PAULO_OFFSET_MS;
  const dayEnded = new Date(midnight - SAO_PAULO_OFFSET_MS - DAY_MS).toISOString().slice(0, 10);
  return {
    TableArn: options.tableArn,
    ExportTime: new Date(midnight),
    ClientToken: `boletos-${dayEnded}`,
    S3Bucket: options.bucket,
    S3Prefix: `${PITR_PREFIX}/${dayEnded}`,
    S3SseAlgorithm: 'AES256',
    ExportFormat: 'DYNAMODB_JSON',
    ExportType: 'FULL_EXPORT',
  } satisfies ExportTableToPointInTimeCommandInput;
}

/**
 * The ARN of a table in the function's own account and region, from the function's ARN (the
 * invocation's `invokedFunctionArn`): the table's name is all the grant's variable gives.
 */
export function tableArnFor(functionArn: string, tableName: string): string {
  const [arn, partition, service, region, account] = functionArn.split(':');
  if (arn !== 'arn' || !partition || service !== 'lambda' || !region || !/^\d{12}$/.test(account ?? ''))
    throw new Error(`not a Lambda function ARN: ${functionArn}`);
  return `arn:${partition}:dynamodb:${region}:${account}:table/${tableName}`;
}
