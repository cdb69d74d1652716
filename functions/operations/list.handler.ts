import { callerAdmin } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { listDeadLetters } from './dead-letters.ts';
import { deps } from './wiring.ts';

/** GET /admin/dead-letters: each dead-lettered job with its payment's state (admin tokens only). */
export const handler = httpRoute(async (event) => {
  const admin = callerAdmin(event);
  const deadLetters = await listDeadLetters(deps);
  logger.info('dead letters listed', { admin, count: deadLetters.length });
  return json(200, { deadLetters });
});
