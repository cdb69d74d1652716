import { callerAdmin } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { orderView } from './view.ts';
import { cieloOrders } from './wiring.ts';

/** At most this many per answer, oldest first. */
const LIMIT = 200;

/**
 * GET /admin/cielo/attention (admin tokens): what an operator must look at — orders with a claim
 * the API contradicts, a cancellation after the NFC-e, a failed NFC-e; notifications that could
 * not be read (with the S3 key of the raw body).
 */
export const handler = httpRoute(async (event) => {
  const admin = callerAdmin(event);
  const items = await cieloOrders().needingAttention(LIMIT);
  logger.info('Cielo attention listed', { admin, count: items.length });
  return json(200, {
    attention: items.map((item) =>
      item.kind === 'order'
        ? { kind: 'order', integrationHubServiceId: item.order.integrationHubServiceId, order: orderView(item.order) }
        : item,
    ),
  });
});
