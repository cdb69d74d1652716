import { callerAdmin } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { listExceptions } from './admin.ts';
import { boletos } from './wiring.ts';

/**
 * GET /admin/boletos/exceptions[?cursor=…][&limit=100]: liquidation records and payment notices
 * that matched no boleto or contradicted one, oldest first (admin tokens only):
 * `{"exceptions":[…],"cursor":"…"|null}`.
 */
export const handler = httpRoute(async (event) => {
  const admin = callerAdmin(event);
  const page = await listExceptions({ store: boletos() }, event.queryStringParameters);
  logger.info('boleto exceptions listed', { admin, count: page.exceptions.length, more: page.cursor !== null });
  return json(200, page);
});
