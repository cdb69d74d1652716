import { callerAdmin } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { getBoleto } from './admin.ts';
import { boletos } from './wiring.ts';

/**
 * GET /admin/boletos/{nossoNumero}[?numeroCliente=…]: the boleto with its payment, liquidation and
 * history (admin tokens only); 409 when several contracts have the nosso número and numeroCliente
 * does not say which, 404 when none has it.
 */
export const handler = httpRoute(async (event) => {
  const admin = callerAdmin(event);
  const boleto = await getBoleto({ store: boletos() }, event.pathParameters, event.queryStringParameters);
  logger.info('boleto read', { admin, numeroCliente: boleto.numeroCliente, nossoNumero: boleto.nossoNumero });
  return json(200, boleto);
});
