import { callerAdmin } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { listBoletos } from './admin.ts';
import { boletos } from './wiring.ts';

/**
 * GET /admin/boletos[?status=ABERTO|PAGO|LIQUIDADO|BAIXADO][&from=yyyy-MM-dd][&to=yyyy-MM-dd]
 * [&cursor=…][&limit=100]: boletos by listing day (dataLiquidacao, else dataVencimento), oldest
 * first (admin tokens only): `{"boletos":[…],"cursor":"…"|null}`, the cursor fetching the next page.
 */
export const handler = httpRoute(async (event) => {
  const admin = callerAdmin(event);
  const page = await listBoletos({ store: boletos() }, event.queryStringParameters);
  logger.info('boletos listed', { admin, count: page.boletos.length, more: page.cursor !== null });
  return json(200, page);
});
