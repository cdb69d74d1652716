import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { callerIntegration } from '../shared/api.ts';
import { dynamo, s3 } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { ClientError } from '../shared/http.ts';
import { httpRoute } from '../shared/middleware.ts';
import { fieldErrors } from '../shared/validation.ts';
import { S3Documents } from './s3-documents.ts';
import { DynamoInvoices } from './invoices.ts';
import { ACCESS_KEY_PATTERN } from './key.ts';
import { renderReceipt } from './receipt.ts';

const env = readEnv({
  [envName.table('invoices')]: z.string().min(1),
  [envName.bucket('fiscal')]: z.string().min(1),
});
const invoices = new DynamoInvoices(dynamo(), env[envName.table('invoices')] as string);
const documents = new S3Documents(s3(), env[envName.bucket('fiscal')] as string);

// 44 digits, or letters in positions 7–18 when the emitter's CNPJ is alphanumeric (NT 2026.004).
const pathSchema = z.object({
  invoiceKey: z.string().regex(ACCESS_KEY_PATTERN, { message: 'must be the 44-character access key' }),
});
const querySchema = z.object({ columns: z.enum(['32', '48']).default('32') });

/**
 * GET /invoices/{invoiceKey}: the authorized nfeProc (the signed NFe of an offline-contingency
 * NFC-e SEFAZ has not authorized yet); GET /invoices/{invoiceKey}/receipt: the DANFE NFC-e text,
 * `?columns=48` for wide printers, "NFC-e CANCELADA" first when cancelled; GET
 * /invoices/{invoiceKey}/cancellation: the procEventoNFe of a cancelled NFC-e (404 otherwise).
 * Each says the NFC-e's state in the `invoice-status` header (AUTHORIZED, CANCELLED,
 * PENDING_AUTHORIZATION, REJECTED: a contingency NFC-e SEFAZ refused) and answers only the integration that issued it: another integration's
 * key answers 404, so keys cannot be probed.
 */
export const handler = httpRoute(async (event) => {
  const caller = callerIntegration(event);
  const path = pathSchema.safeParse(event.pathParameters ?? {}, { reportInput: true });
  const query = querySchema.safeParse(event.queryStringParameters ?? {}, { reportInput: true });
  if (!path.success || !query.success) {
    throw new ClientError(400, [
      ...(path.success ? [] : fieldErrors(path.error, 'path')),
      ...(query.success ? [] : fieldErrors(query.error, 'query')),
    ]);
  }
  const invoice = await invoices.get(path.data.invoiceKey);
  if (!invoice || invoice.integrationHubServiceId !== caller) {
    throw new ClientError(404, [{ key: 'invoiceKey', message: `no NFC-e ${path.data.invoiceKey} for this integration` }]);
  }
  const { cancellation } = invoice;
  // What the NFC-e is now: every route says it (the XML does not change when it is cancelled).
  const status = {
    'invoice-status': cancellation
      ? 'CANCELLED'
      : invoice.nProt
        ? 'AUTHORIZED'
        : invoice.contingencyState === 'REJECTED'
          ? 'REJECTED'
          : 'PENDING_AUTHORIZATION',
  };
  if (event.resource.endsWith('/cancellation')) {
    if (!cancellation)
      throw new ClientError(404, [{ key: 'invoiceKey', message: `NFC-e ${path.data.invoiceKey} is not cancelled` }]);
    const proc = await documents.get(cancellation.eventKey);
    return { statusCode: 200, headers: { 'content-type': 'application/xml; charset=utf-8', ...status }, body: proc };
  }
  // A contingency NFC-e SEFAZ has not authorized yet: its signed NFe (the receipt says "Pendente de autorização").
  const xml = await documents.get(invoice.nProt ? invoice.nfeProcKey : invoice.signedKey);
  if (event.resource.endsWith('/receipt')) {
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...status },
      body: renderReceipt(xml, {
        columns: Number(query.data.columns) as 32 | 48,
        ...(cancellation ? { cancellation: { nProt: cancellation.nProt, dhRegEvento: cancellation.dhRegEvento } } : {}),
      }),
    };
  }
  return { statusCode: 200, headers: { 'content-type': 'application/xml; charset=utf-8', ...status }, body: xml };
});
