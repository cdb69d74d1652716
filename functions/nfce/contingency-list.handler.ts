import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { callerAdmin } from '../shared/api.ts';
import { dynamo } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { ClientError, json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { fieldErrors } from '../shared/validation.ts';
import { contingencyView } from './contingency.ts';
import { DynamoInvoices } from './invoices.ts';

const env = readEnv({ [envName.table('invoices')]: z.string().min(1) });
const invoices = new DynamoInvoices(dynamo(), env[envName.table('invoices')] as string);

const querySchema = z.object({
  state: z.enum(['pending', 'sent', 'rejected']).optional(),
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,2}$/, { message: 'must be a whole number from 1 to 500' })
    .transform(Number)
    .pipe(z.number().max(500, { message: 'must be a whole number from 1 to 500' }))
    .default(100),
});

/**
 * GET /admin/nfce/contingency[?state=pending|sent|rejected][&limit=100]: the offline-contingency
 * NFC-e (admin tokens only). `pending`: not yet authorized, oldest first, with the time left to
 * the transmission deadline; `sent`: authorized (`online.settlement` says how the sale's online
 * attempt ended; absent while it waits), newest first; `rejected`: refused by SEFAZ, with its code
 * and message, for an operator. Each list says `more` when it was cut at `limit`.
 */
export const handler = httpRoute(async (event) => {
  const admin = callerAdmin(event);
  const query = querySchema.safeParse(event.queryStringParameters ?? {}, { reportInput: true });
  if (!query.success) throw new ClientError(400, fieldErrors(query.error, 'query'));
  const { state, limit } = query.data;
  const now = new Date();
  const list = async (states: ('PENDING' | 'SETTLING' | 'SENT' | 'REJECTED')[], newestFirst: boolean) => {
    const pages = await Promise.all(states.map((s) => invoices.inState(s, limit, newestFirst)));
    const items = pages
      .flatMap((page) => page.items)
      .sort((a, b) => (newestFirst ? b.dhEmi.localeCompare(a.dhEmi) : a.dhEmi.localeCompare(b.dhEmi)));
    return {
      items: items.slice(0, limit).map((entry) => contingencyView(entry, now)),
      more: items.length > limit || pages.some((page) => page.more),
    };
  };
  const body = {
    ...(!state || state === 'pending' ? { pending: await list(['PENDING'], false) } : {}),
    ...(!state || state === 'sent' ? { sent: await list(['SETTLING', 'SENT'], true) } : {}),
    ...(!state || state === 'rejected' ? { rejected: await list(['REJECTED'], false) } : {}),
  };
  logger.info('contingency NFC-e listed', { admin, state: state ?? 'all' });
  return json(200, body);
});
