import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { dynamo, s3 } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { secretStore } from '../shared/secrets.ts';
import type { CancellationDeps } from './cancellation.ts';
import { FiscalConfig } from './config.ts';
import { recepcaoEvento } from './events.ts';
import { DynamoInvoices } from './invoices.ts';
import { S3Documents } from './s3-documents.ts';
import { consultProtocol } from './sefaz.ts';

let built: CancellationDeps | undefined;

/**
 * The cancellation's adapters (cancellation.ts), built on first use from the variables of the
 * function that runs it (the cancellation route; the Cielo verifier, for sales Cielo cancelled):
 * the invoices table, the fiscal bucket, the integrations table and the nfce secrets.
 * `SEFAZ_TIMEOUT_SECONDS` (default 8: a caller waits) limits each SEFAZ call.
 */
export function cancellationDeps(): CancellationDeps {
  if (built) return built;
  const env = readEnv({
    [envName.table('invoices')]: z.string().min(1),
    [envName.table('integrations')]: z.string().min(1),
    [envName.bucket('fiscal')]: z.string().min(1),
    [envName.secretPrefix('nfce')]: z.string().min(1),
    SEFAZ_TIMEOUT_SECONDS: z.coerce.number().positive().default(8),
  });
  const text = (name: string) => env[name] as string;
  const call = { timeoutMs: (env.SEFAZ_TIMEOUT_SECONDS as number) * 1000 };
  built = {
    invoices: new DynamoInvoices(dynamo(), text(envName.table('invoices'))),
    fiscal: new FiscalConfig(dynamo(), text(envName.table('integrations')), secretStore(), text(envName.secretPrefix('nfce'))),
    documents: new S3Documents(s3(), text(envName.bucket('fiscal'))),
    sendEvents: (url, xml, tls) => recepcaoEvento(url, xml, { tls, ...call }),
    consultProtocol: (url, chave, tpAmb, tls) => consultProtocol(url, chave, tpAmb, { tls, ...call }),
    now: () => new Date(),
  };
  return built;
}
