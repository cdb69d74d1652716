import { functions } from '../../lib/manifest.ts';
import { callerIntegration } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { decideRecharge } from './recharges.ts';
import { confirmationBodySchema, parse, rechargeIdOf } from './requests.ts';
import { rechargeView } from './view.ts';
import { rechargeDeps } from './wiring.ts';

/**
 * POST /recharges/{rechargeId}/confirmation `{confirm: true | false}`: the store's decision,
 * recorded, then sent: 200 CON (confirmed) or PPN (undone). The same decision again answers the
 * same; the opposite one 409; 504 when e-SiTef has not answered (the reconciler applies it).
 */
export const handler = httpRoute(
  async (event) => {
    const integration = callerIntegration(event);
    const rechargeId = rechargeIdOf(event);
    const { confirm } = parse(confirmationBodySchema, event.json, 'body');
    const recharge = await decideRecharge(rechargeDeps(), integration, rechargeId, confirm);
    logger.info('recharge decided', { rechargeId, confirm, status: recharge.status });
    return json(200, rechargeView(recharge));
  },
  { maxBodyBytes: functions.caratConfirmation.trigger.maxBodyBytes },
);
