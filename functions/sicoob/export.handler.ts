import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { callerAdmin } from '../shared/api.ts';
import { s3 } from '../shared/aws.ts';
import { once, readEnv } from '../shared/env.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { boletosCsv, boletosToExport, exportFileName, exportFilter, MAX_ROUTE_SPAN_DAYS } from './export.ts';
import { boletos } from './wiring.ts';

const settings = /* @__PURE__ */ once(() =>
  readEnv({
    /**
     * The largest answer this route gives inline, counted as the body takes room in Lambda's
     * response (a JSON string: every CRLF and `"` escaped), under Lambda's 6 MB with room for the
     * headers. Tests lower it.
     */
    BOLETO_EXPORT_INLINE_MAX_BYTES: z.coerce.number().int().positive().default(5_500_000),
    [envName.bucket('partnerArchive')]: z.string().min(1),
  }),
);
/** How long the link to a large export works. */
const LINK_SECONDS = 15 * 60;

/**
 * GET /admin/boletos/export.csv?from=yyyy-MM-dd&to=yyyy-MM-dd[&status=ABERTO|PAGO|LIQUIDADO|BAIXADO]
 * (admin tokens only): finance's CSV (export.ts) of the boletos whose listing day (dataLiquidacao,
 * else dataVencimento) is within from…to, both inclusive, at most 366 days, every page of the
 * store read; `text/csv; charset=utf-8` as an attachment `boletos_<from>_<to>.csv`, never cached
 * (it holds payers' names and documents, which are never logged). The body is text, as the other
 * non-JSON routes answer (invoice.handler.ts): API Gateway passes a body not marked base64 as it is.
 *
 * An export over BOLETO_EXPORT_INLINE_MAX_BYTES (a Lambda answer stops at 6 MB) is written to the
 * partner archive bucket (`exports/boletos/<from>_<to>_<timestamp>.csv`) and answered 200
 * `{"url","expiresAt","bytes","rows"}`: a presigned GET that works 15 minutes (or less, if the
 * function's own credentials expire first).
 */
export const handler = httpRoute(async (event) => {
  const admin = callerAdmin(event);
  const filter = exportFilter(event.queryStringParameters, { maxSpanDays: MAX_ROUTE_SPAN_DAYS });
  const { text, rows } = boletosCsv(await boletosToExport(boletos(), filter));
  const bytes = Buffer.byteLength(text, 'utf8');
  const answered = Buffer.byteLength(JSON.stringify(text), 'utf8');
  const limit = settings().BOLETO_EXPORT_INLINE_MAX_BYTES as number;
  const facts = { admin, from: filter.from, to: filter.to, status: filter.status ?? null, rows, bytes };
  if (answered > limit) {
    const bucket = settings()[envName.bucket('partnerArchive')] as string;
    const key = `exports/boletos/${filter.from}_${filter.to}_${new Date().toISOString().replace(/[:.]/g, '-')}.csv`;
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: 'text/csv; charset=utf-8' }));
    const url = await getSignedUrl(
      s3(),
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ResponseContentDisposition: `attachment; filename="${exportFileName(filter)}"`,
      }),
      { expiresIn: LINK_SECONDS },
    );
    logger.info('boletos exported to S3', { ...facts, answered, limit });
    return json(
      200,
      { url, expiresAt: new Date(Date.now() + LINK_SECONDS * 1000).toISOString(), bytes, rows },
      { 'cache-control': 'no-store' },
    );
  }
  logger.info('boletos exported', facts);
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${exportFileName(filter)}"`,
      'cache-control': 'no-store',
    },
    body: text,
  };
});
