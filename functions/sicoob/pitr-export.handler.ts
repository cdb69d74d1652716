import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient, ExportTableToPointInTimeCommand } from '@aws-sdk/client-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { once, readEnv, tableName } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import { pitrExportRequest, tableArnFor } from './table-export.ts';

const client = /* @__PURE__ */ once(() => new DynamoDBClient({}));

/**
 * Daily: asks DynamoDB for a point-in-time export of the boletos table (the table as it stood at
 * the last São Paulo midnight; table-export.ts) into the partner archive bucket under
 * `exports/pitr/boletos/<day>/`, which `npm run boletos -- export --pitr s3://…` turns into
 * finance's CSV. DynamoDB runs the export on its own (minutes) and reads no capacity from the
 * table; the table must have point-in-time recovery enabled. A repeated delivery of the same
 * schedule is the same request (ClientToken), so it starts one export. Locally there is no such
 * API (dynalite): the run says so and does nothing.
 */
async function requestExport(event: ScheduledEvent, context: Context) {
  if (process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    logger.info('boletos table export skipped: the local DynamoDB emulator has no point-in-time export');
    return { skipped: 'the local DynamoDB emulator has no point-in-time export' };
  }
  const bucket = readEnv({ [envName.bucket('partnerArchive')]: z.string().min(1) })[envName.bucket('partnerArchive')] as string;
  const scheduledAt = new Date(event.time);
  const request = pitrExportRequest({
    scheduledAt: Number.isNaN(scheduledAt.getTime()) ? new Date() : scheduledAt,
    tableArn: tableArnFor(context.invokedFunctionArn, tableName('boletos')),
    bucket,
  });
  const { ExportDescription: described } = await client().send(new ExportTableToPointInTimeCommand(request));
  const result = {
    exportArn: described?.ExportArn ?? null,
    status: described?.ExportStatus ?? null,
    exportTime: request.ExportTime.toISOString(),
    location: `s3://${bucket}/${request.S3Prefix}/`,
  };
  logger.info('boletos table export requested', result);
  return result;
}

export const handler = middy(requestExport).use(injectLambdaContext(logger, { resetKeys: true }));
