import { functions } from '../../lib/manifest.ts';
import { callerIntegration } from '../shared/api.ts';
import { json, readJsonBody } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { startRecharge } from './recharges.ts';
import { parse, startBodySchema } from './requests.ts';
import { rechargeView } from './view.ts';
import { rechargeDeps } from './wiring.ts';

/**
 * POST /recharges `{orderId?}` (or no body): begins a recharge with e-SiTef and waits (a few seconds) for the
 * NIT its authenticity POST brings. 201 NOV (go on with the dealers); 202 BEGIN when the NIT has
 * not come yet (GET /recharges/{id} shows when it does); 200 with the recharge the orderId
 * already has. 502 when e-SiTef refuses to begin, 504 without its answer.
 */
export const handler = httpRoute(
  async (event) => {
    const integration = callerIntegration(event);
    // `{orderId?}` only: no body at all is `{}`.
    const raw = (event.body ?? '') === '' ? {} : readJsonBody(event, functions.caratStart.trigger.maxBodyBytes);
    const body = parse(startBodySchema, raw, 'body');
    const { created, recharge } = await startRecharge(rechargeDeps(), integration, body);
    logger.info('recharge started', { rechargeId: recharge.rechargeId, status: recharge.status, created });
    const statusCode = !created ? 200 : recharge.status === 'BEGIN' ? 202 : 201;
    return json(statusCode, rechargeView(recharge), { location: `/recharges/${recharge.rechargeId}` });
  },
  // The body is read above: it may be empty.
  {},
);
