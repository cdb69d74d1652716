import * as z from 'zod';
import { functions } from '../../lib/manifest.ts';
import { callerIntegration } from '../shared/api.ts';
import { ClientError, json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { fieldErrors } from '../shared/validation.ts';
import { cancelInvoice, CancellationRefused } from './cancellation.ts';
import { cancellationDeps } from './cancellation-deps.ts';
import { ACCESS_KEY_PATTERN } from './key.ts';
import { schemaText } from './text.ts';

const pathSchema = z.object({
  invoiceKey: z.string().regex(ACCESS_KEY_PATTERN, { message: 'must be the 44-character access key' }),
});
/** TJust: 15–255 characters of the NFC-e's text (text.ts maps what it cannot carry; the count is after that). */
const bodySchema = z
  .object({
    justification: z
      .string()
      .refine((value) => schemaText(value, Number.MAX_SAFE_INTEGER).length >= 15, {
        message: 'must hold at least 15 characters the NFC-e can carry (TJust)',
      })
      .refine((value) => schemaText(value, Number.MAX_SAFE_INTEGER).length <= 255, {
        message: 'must hold at most 255 characters (TJust)',
      }),
  })
  .strict();

/**
 * POST /invoices/{invoiceKey}/cancellation `{"justification": "…"}` (the owning integration's
 * token): cancels the NFC-e (event 110111) within 30 minutes of its authorization. 200
 * `{invoiceKey, status: "CANCELLED", protocol, cancelledAt, eventXML}` (the procEventoNFe), the
 * same answer on a repeat; 400 naming `justification`; 404 another integration's or an unknown
 * key; 409 past the deadline, refused by SEFAZ, not yet authorized, its online attempt being
 * settled, or being cancelled by another request; 422 SEFAZ's refusal with its cStat and xMotivo;
 * 503 SEFAZ did not answer or is paused (repeat the request).
 */
export const handler = httpRoute(
  async (event) => {
    const caller = callerIntegration(event);
    const path = pathSchema.safeParse(event.pathParameters ?? {}, { reportInput: true });
    const body = bodySchema.safeParse(event.json, { reportInput: true });
    if (!path.success || !body.success) {
      throw new ClientError(400, [
        ...(path.success ? [] : fieldErrors(path.error, 'path')),
        ...(body.success ? [] : fieldErrors(body.error, 'body')),
      ]);
    }
    const chave = path.data.invoiceKey;
    try {
      const result = await cancelInvoice(
        { chave, integrationHubServiceId: caller, justification: body.data.justification },
        cancellationDeps(),
      );
      logger.info('NFC-e cancelled', { chave, protocol: result.protocol });
      return json(200, result);
    } catch (error) {
      if (!(error instanceof CancellationRefused)) throw error;
      logger.info('cancellation refused', { chave, kind: error.kind, cStat: error.sefaz?.cStat });
      switch (error.kind) {
        case 'notFound':
          throw new ClientError(404, [{ key: 'invoiceKey', message: error.message }]);
        case 'invalid':
          throw new ClientError(400, [{ key: 'justification', message: error.message }]);
        case 'conflict':
        case 'notYet':
          throw new ClientError(409, [{ key: 'invoiceKey', message: error.message }]);
        case 'rejected':
          throw new ClientError(422, [{ key: `sefaz.${error.sefaz?.cStat ?? 'answer'}`, message: error.message }]);
        case 'unavailable':
          return json(503, { errors: [{ key: 'sefaz', message: error.message }] }, { 'retry-after': '30' });
      }
    }
  },
  { maxBodyBytes: functions.invoiceCancellation.trigger.maxBodyBytes },
);
