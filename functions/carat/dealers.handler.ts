import { callerIntegration } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { httpRoute } from '../shared/middleware.ts';
import { listDealers } from './recharges.ts';
import { rechargeIdOf } from './requests.ts';
import { rechargeDeps } from './wiring.ts';

/** GET /recharges/{rechargeId}/dealers: the carriers e-SiTef offers, `{rechargeId, dealers: [{dealer: "1", name: "Vivo"}]}`. */
export const handler = httpRoute(async (event) => {
  const integration = callerIntegration(event);
  const rechargeId = rechargeIdOf(event);
  const dealers = await listDealers(rechargeDeps(), integration, rechargeId);
  return json(200, { rechargeId, dealers: dealers.map(({ code, name }) => ({ dealer: code, name })) });
});
