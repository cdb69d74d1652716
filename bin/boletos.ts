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
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { importBoletos, importFile, MAX_IMPORT, type ImportCounts, type ImportRow } from '../functions/sicoob/admin.ts';
import { DynamoBoletos } from '../functions/sicoob/store.ts';
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

const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        batch: { type: 'string', default: String(MAX_IMPORT) },
        by: { type: 'string', default: 'cli' },
        local: { type: 'boolean', default: false },
        table: { type: 'string' },
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

async function main(): Promise<void> {
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
