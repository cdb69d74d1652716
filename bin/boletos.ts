/**
 * Imports boletos into the boletos table from a file, as POST /admin/boletos does (the same
 * validation and upsert, functions/sicoob/admin.ts), without its 1,000-row limit:
 *
 *   npm run boletos -- import <file.csv|file.json> [--batch 1000] [--by <name>] (--local | --table <BoletosTableName>)
 *
 * A `.json` file is the API's array; a `.csv` file has a header row naming the columns nossoNumero,
 * seuNumero, valor, dataVencimento, numeroCliente, pagadorNome, pagadorCpfCnpj (any order, `;` or
 * `,` separated, valor with a decimal comma or point), UTF-8 with or without a BOM. Every row is
 * validated first: any problem refuses the whole file, naming each line, and nothing is written.
 * Then it writes `--batch` rows at a time (1 to 1,000), a progress line per batch on stderr and a
 * summary on stdout. Writes are idempotent: after a failure, running it again completes the import.
 * `--by` names who imported (each boleto's history; default `cli`). `--local` writes to the running
 * `npm start`'s table (its .local/demo.json, or LOCAL_DIR's).
 *
 *   npm run boletos -- export --from yyyy-MM-dd --to yyyy-MM-dd [--status LIQUIDADO] [--out file.csv]
 *                             (--local | --table <BoletosTableName> | --pitr <export directory | s3://bucket/prefix>)
 *
 * Writes finance's CSV (functions/sicoob/export.ts) of the boletos whose listing day
 * (dataLiquidacao, else dataVencimento) is within --from…--to (inclusive, any length), the same
 * bytes as GET /admin/boletos/export.csv: to --out, else to stdout (the summary then goes to
 * stderr). `--local` / `--table` read the table as the route does; `--pitr` reads a point-in-time
 * export of it instead (functions/sicoob/table-export.ts): the export's own directory
 * (`…/AWSDynamoDB/<exportId>`, locally or `s3://bucket/…/AWSDynamoDB/<exportId>`, read with
 * GetObject), or locally a directory holding one export under `AWSDynamoDB/`.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { importBoletos, importFile, MAX_IMPORT, type ImportCounts, type ImportRow } from '../functions/sicoob/admin.ts';
import type { Boleto } from '../functions/sicoob/boleto.ts';
import { boletosCsv, boletosToExport, exportFilter, type ExportFilter } from '../functions/sicoob/export.ts';
import { DynamoBoletos } from '../functions/sicoob/store.ts';
import { boletosFromTableExport, type ExportFiles } from '../functions/sicoob/table-export.ts';
import { ClientError } from '../functions/shared/http.ts';
import { localName } from '../lib/manifest.ts';
import { projectRoot } from '../lib/local/invoke.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lib/local/provision.ts';

/** Problems listed when a file is refused; the rest are counted. */
const LISTED_PROBLEMS = 100;

/** A refusal the operator can fix: printed without a stack trace. */
function fail(message: string): never {
  console.error(`boletos: ${message}`);
  process.exit(1);
}

const USAGE = [
  'usage: boletos import <file.csv|file.json> [--batch 1000] [--by <name>] (--local | --table <BoletosTableName>)',
  '   or: boletos export --from yyyy-MM-dd --to yyyy-MM-dd [--status ABERTO|PAGO|LIQUIDADO|BAIXADO] [--out file.csv]',
  '                      (--local | --table <BoletosTableName> | --pitr <export directory | s3://bucket/prefix>)',
].join('\n');

const { positionals, values, tokens } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      tokens: true,
      options: {
        batch: { type: 'string', default: String(MAX_IMPORT) },
        by: { type: 'string', default: 'cli' },
        local: { type: 'boolean', default: false },
        table: { type: 'string' },
        // export's
        from: { type: 'string' },
        to: { type: 'string' },
        status: { type: 'string' },
        out: { type: 'string' },
        pitr: { type: 'string' },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();

function documents(): { db: DynamoDBDocumentClient; table: string } {
  const marshallOptions = { removeUndefinedValues: true };
  if (values.local) {
    const file = resolve(projectRoot, process.env.LOCAL_DIR || '.local', 'demo.json');
    if (!existsSync(file)) fail(`no ${file}: start the backend with npm start (same LOCAL_DIR) before using --local`);
    const demo = z.object({ emulators: z.object({ dynamodb: z.url() }) }).parse(JSON.parse(readFileSync(file, 'utf8')));
    const client = new DynamoDBClient({
      region: LOCAL_REGION,
      endpoint: demo.emulators.dynamodb,
      credentials: LOCAL_CREDENTIALS,
    });
    return { db: DynamoDBDocumentClient.from(client, { marshallOptions }), table: localName.table('boletos') };
  }
  if (!values.table) fail('--table is required (the BoletosTableName output of cdk deploy) unless --local');
  return { db: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions }), table: values.table };
}

/** Rows written so far, for the message when a write fails. */
let written: number | undefined;

const describe = (c: Omit<ImportCounts, 'received'>) => `created ${c.created}, updated ${c.updated}, unchanged ${c.unchanged}`;

/** Options given on the command line (not defaulted) that belong to the other command. */
function refuseOptionsOf(other: 'import' | 'export', names: readonly string[]): void {
  const given = new Set<string>(tokens.flatMap((token) => (token.kind === 'option' ? [token.name] : [])));
  const wrong = names.filter((name) => given.has(name));
  if (wrong.length > 0) fail(`${wrong.map((name) => `--${name}`).join(', ')}: only boletos ${other} takes it`);
}

async function main(): Promise<void> {
  if (positionals[0] === 'export') return exportCsv();
  if (positionals[0] !== 'import') fail(USAGE);
  refuseOptionsOf('export', ['from', 'to', 'status', 'out', 'pitr']);
  const [command, file, ...rest] = positionals;
  if (command !== 'import' || !file || rest.length > 0)
    fail('usage: boletos import <file.csv|file.json> [--batch 1000] [--by <name>] (--local | --table <BoletosTableName>)');
  const batch = Number(values.batch);
  if (!/^\d+$/.test(values.batch) || batch < 1 || batch > MAX_IMPORT)
    fail(`--batch must be a whole number from 1 to ${MAX_IMPORT}`);
  const by = values.by.trim();
  if (by === '' || by.length > 100) fail('--by must name who imports (1 to 100 characters)');
  const { db, table } = documents();
  const path = resolve(file);
  if (!existsSync(path)) fail(`no file ${file}`);

  let rows: ImportRow[];
  try {
    rows = importFile(file, readFileSync(path));
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    const listed = error.errors.slice(0, LISTED_PROBLEMS).map((e) => `  ${e.message}`);
    const more = error.errors.length - listed.length;
    fail([`${file} refused, nothing written:`, ...listed, ...(more > 0 ? [`  … and ${more} more problems`] : [])].join('\n'));
  }

  const deps = { store: new DynamoBoletos(db, table), now: () => new Date() };
  const total = { created: 0, updated: 0, unchanged: 0 };
  written = 0;
  for (let start = 0; start < rows.length; start += batch) {
    const counts = await importBoletos(deps, rows.slice(start, start + batch), by);
    total.created += counts.created;
    total.updated += counts.updated;
    total.unchanged += counts.unchanged;
    written += counts.received;
    console.error(`boletos: ${Math.min(start + batch, rows.length)}/${rows.length} written (${describe(total)})`);
  }
  console.log(`imported ${rows.length} boletos from ${file} into ${table}: ${describe(total)}`);
}

/** `npm run boletos -- export …`: the CSV to --out or stdout, a summary line (never the payers). */
async function exportCsv(): Promise<void> {
  if (positionals.length !== 1 || values.from === undefined || values.to === undefined) fail(USAGE);
  refuseOptionsOf('import', ['batch', 'by']);
  let filter: ExportFilter;
  try {
    filter = exportFilter({ from: values.from, to: values.to, status: values.status });
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    // The route's words, with the options' names.
    fail(error.errors.map((e) => e.message.replace(/query\./g, '--')).join('; '));
  }
  const sources = [values.local, values.table !== undefined, values.pitr !== undefined].filter(Boolean).length;
  if (sources !== 1) fail('give one of --local, --table <BoletosTableName> or --pitr <export directory | s3://bucket/prefix>');

  let boletos: Boleto[];
  let source: string;
  if (values.pitr !== undefined) {
    const files = exportFiles(values.pitr);
    const read = await boletosFromTableExport(files, filter);
    boletos = read.boletos;
    source = `the export ${files.where}${read.summary.exportTime ? ` (the table at ${read.summary.exportTime})` : ''}`;
  } else {
    const { db, table } = documents();
    boletos = await boletosToExport(new DynamoBoletos(db, table), filter);
    source = table;
  }
  const { text, rows } = boletosCsv(boletos);
  const bytes = Buffer.from(text, 'utf8');
  const what = `${rows} boletos (${filter.from} to ${filter.to}${filter.status ? `, ${filter.status}` : ''}) from ${source}`;
  if (values.out !== undefined) {
    writeFileSync(values.out, bytes);
    console.log(`exported ${what} to ${values.out} (${bytes.length} bytes)`);
  } else {
    await new Promise<void>((done, failed) => process.stdout.write(bytes, (error) => (error ? failed(error) : done())));
    console.error(`boletos: exported ${what}`);
  }
}

/**
 * A point-in-time export's files: `s3://bucket/prefix` (the export's directory, read with
 * GetObject), or a local directory that is an export's, or holds exactly one under `AWSDynamoDB/`.
 */
function exportFiles(location: string): ExportFiles {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (s3) {
    const [, bucket, prefix] = s3 as unknown as [string, string, string];
    const base = prefix.replace(/\/+$/, '');
    const client = new S3Client({});
    return {
      where: `s3://${bucket}/${base}`,
      async read(path) {
        try {
          const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: base ? `${base}/${path}` : path }));
          return await object.Body!.transformToByteArray();
        } catch (error) {
          if (error instanceof NoSuchKey) return undefined;
          throw error;
        }
      },
    };
  }
  const root = resolve(location);
  if (!existsSync(root) || !statSync(root).isDirectory()) fail(`no directory ${location}`);
  let dir = root;
  let where = location.replace(/\/+$/, '');
  if (!existsSync(join(root, 'manifest-summary.json'))) {
    const parent = join(root, 'AWSDynamoDB');
    const exports = existsSync(parent)
      ? readdirSync(parent).filter((name) => existsSync(join(parent, name, 'manifest-summary.json')))
      : [];
    if (exports.length !== 1)
      fail(
        exports.length === 0
          ? `${location} is not a DynamoDB export: no manifest-summary.json in it or in AWSDynamoDB/<exportId>/`
          : `${location} holds several exports (${exports.sort().join(', ')}): name one, ${join(location, 'AWSDynamoDB', exports[0]!)}`,
      );
    dir = join(parent, exports[0]!);
    where = join(where, 'AWSDynamoDB', exports[0]!);
  }
  return {
    where,
    async read(path) {
      try {
        return await readFile(join(dir, path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}

main().catch((error: unknown) => {
  // One line for the operator; the stack only with DEBUG set.
  if (process.env.DEBUG) console.error(error);
  const message = error instanceof z.ZodError ? z.prettifyError(error).replace(/\n/g, '; ') : (error as Error).message;
  // What was written stays: the same command again completes the import.
  fail(
    written === undefined
      ? message
      : `${message} (after ${written} rows written; run the same command again to complete the import)`,
  );
});
