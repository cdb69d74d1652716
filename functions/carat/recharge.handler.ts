import { functions } from '../../lib/manifest.ts';
import { callerIntegration } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { doRecharge } from './recharges.ts';
import { parse, rechargeBodySchema, rechargeIdOf, rechargeRequest } from './requests.ts';
import { rechargeView } from './view.ts';
import { rechargeDeps } from './wiring.ts';

/**
 * PUT /recharges/{rechargeId} `{dealer, ddd, phone, amount | amountKey, payment?}`: the recharge
 * (e-SiTef's do): 200 PPC, then POST …/confirmation. 400 for a bad field (card data included),
 * 409 out of order, 422 refused or denied by e-SiTef, 502/504 when its outcome is unknown (the
 * reconciler settles it).
 */
export const handler = httpRoute(
  async (event) => {
    const integration = callerIntegration(event);
    const rechargeId = rechargeIdOf(event);
    const request = rechargeRequest(parse(rechargeBodySchema, event.json, 'body'));
    const recharge = await doRecharge(rechargeDeps(), integration, rechargeId, request);
    logger.info('recharge sent', { rechargeId, status: recharge.status, withPayment: request.payment !== undefined });
    return json(200, rechargeView(recharge));
  },
  { maxBodyBytes: functions.caratRecharge.trigger.maxBodyBytes },
);
