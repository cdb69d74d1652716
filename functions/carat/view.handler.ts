import { callerIntegration } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { httpRoute } from '../shared/middleware.ts';
import { getRecharge } from './recharges.ts';
import { rechargeIdOf } from './requests.ts';
import { rechargeView } from './view.ts';
import { rechargeDeps } from './wiring.ts';

/** GET /recharges/{rechargeId}: the recharge, its status, every step with e-SiTef's answer, the receipts. */
export const handler = httpRoute(async (event) => {
  const recharge = await getRecharge(rechargeDeps(), callerIntegration(event), rechargeIdOf(event));
  return json(200, rechargeView(recharge));
});
