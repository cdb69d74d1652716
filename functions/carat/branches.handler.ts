import { callerIntegration } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { httpRoute } from '../shared/middleware.ts';
import { listBranches } from './recharges.ts';
import { branchesQuerySchema, parse, rechargeIdOf } from './requests.ts';
import { rangeView } from './view.ts';
import { rechargeDeps } from './wiring.ts';

/**
 * GET /recharges/{rechargeId}/branches?ddd=11&dealer=1: the carrier's values for the DDD (fixed
 * or a range, in reais and centavos), bonus and validity; 400 for a DDD that is no Brazilian area
 * code or a dealer that is not a code.
 */
export const handler = httpRoute(async (event) => {
  const integration = callerIntegration(event);
  const rechargeId = rechargeIdOf(event);
  const query = parse(branchesQuerySchema, event.queryStringParameters ?? {}, 'query');
  const ranges = await listBranches(rechargeDeps(), integration, rechargeId, query);
  return json(200, { rechargeId, ddd: query.ddd, dealer: query.dealer, values: ranges.map(rangeView) });
});
