import * as z from 'zod';
import { functions } from '../../lib/manifest.ts';
import { callerAdmin } from '../shared/api.ts';
import { ClientError, json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { fieldErrors } from '../shared/validation.ts';
import { MAX_DEAD_LETTERS, redriveDeadLetters } from './dead-letters.ts';
import { deps } from './wiring.ts';

const bodySchema = z.object({ ids: z.array(z.string().min(1).max(100)).min(1).max(MAX_DEAD_LETTERS).optional() }).strict();

/**
 * POST /admin/dead-letters/redrive: `{}` moves every dead-lettered job back to its queue,
 * `{"ids":[…]}` only those messages (admin tokens only). Answers what moved and which ids were
 * not found.
 */
export const handler = httpRoute(
  async (event) => {
    const admin = callerAdmin(event);
    const body = bodySchema.safeParse(event.json, { reportInput: true });
    if (!body.success) throw new ClientError(400, fieldErrors(body.error, 'body'));
    const outcome = await redriveDeadLetters(body.data.ids, deps);
    logger.info('dead letters redriven', { admin, redriven: outcome.redriven.length, notFound: outcome.notFound.length });
    return json(200, outcome);
  },
  { maxBodyBytes: functions.deadLetterRedrive.trigger.maxBodyBytes },
);
