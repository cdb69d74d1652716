import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { dynamo, s3 } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import { secretStore } from '../shared/secrets.ts';
import { FiscalConfig } from './config.ts';
import { inutilizacao } from './inutilizacao.ts';
import { declareGaps } from './inutilizacao-job.ts';
import { DynamoNumbering } from './numbering.ts';
import { S3Documents } from './s3-documents.ts';
import { consultProtocol } from './sefaz.ts';

const env = readEnv({
  [envName.table('numbering')]: z.string().min(1),
  [envName.table('integrations')]: z.string().min(1),
  [envName.bucket('fiscal')]: z.string().min(1),
  [envName.secretPrefix('nfce')]: z.string().min(1),
  /** The limit of each SEFAZ call. */
  SEFAZ_TIMEOUT_SECONDS: z.coerce.number().positive().default(15),
});
const text = (name: string) => env[name] as string;
const call = () => ({ timeoutMs: (env.SEFAZ_TIMEOUT_SECONDS as number) * 1000 });
const fiscal = new FiscalConfig(dynamo(), text(envName.table('integrations')), secretStore(), text(envName.secretPrefix('nfce')));

/** Leaves this much of the invocation for the writes after the last SEFAZ call. */
const MARGIN_MS = 30_000;

async function run(_event: unknown, context: Context) {
  const outcome = await declareGaps({
    gaps: new DynamoNumbering(dynamo(), text(envName.table('numbering'))),
    integrationFor: (cnpj) => fiscal.integrationFor(cnpj),
    fiscal,
    documents: new S3Documents(s3(), text(envName.bucket('fiscal'))),
    consultProtocol: (url, chave, tpAmb, tls) => consultProtocol(url, chave, tpAmb, { tls, ...call() }),
    inutilizar: (url, xml, tls) => inutilizacao(url, xml, { tls, ...call() }),
    now: () => new Date(),
    hasTime: () => context.getRemainingTimeInMillis() > MARGIN_MS + (env.SEFAZ_TIMEOUT_SECONDS as number) * 1000,
    log: {
      info: (message, extra) => logger.info(message, { ...extra }),
      warn: (message, extra) => logger.warn(message, { ...extra }),
    },
  });
  logger.info('inutilização', { ...outcome });
  return outcome;
}

/** The daily inutilização of the recorded gaps (inutilizacao-job.ts). */
export const handler = middy(run).use(injectLambdaContext(logger, { resetKeys: true }));
