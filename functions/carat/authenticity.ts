import * as z from 'zod';
import { ClientError } from '../shared/http.ts';
import { saoPauloIso } from '../shared/time.ts';
import { fieldErrors } from '../shared/validation.ts';
import { withStep } from './recharges.ts';
import { updateRecharge, type RechargeStore } from './store.ts';

/**
 * e-SiTef's authenticity POST (spec §2.1, seed 002 step 1.1): while the store's begin call is
 * open, e-SiTef POSTs the new transaction's data, form-urlencoded, to the URL registered for the
 * store; it carries the NIT. Only `nit` and `merchantUSN` are documented (the rest of the field
 * list is not public): names are matched without regard to case, `orderId` is checked when
 * present, everything else is ignored. Anything but 200 makes e-SiTef invalidate the NIT, so a
 * POST that matches no begun recharge is refused.
 */

/** The 64 alphanumeric characters of a NIT (spec §0). */
const NIT = /^[A-Za-z0-9]{64}$/;

const formSchema = z.object({
  nit: z.string({ error: 'is required' }).regex(NIT, { message: 'must be the 64 letters and digits of a NIT' }),
  merchantUSN: z
    .string({ error: 'is required' })
    .regex(/^\d{1,15}$/, { message: 'must be the merchant_usn our begin sent (digits)' }),
  orderId: z.string().optional(),
});

/**
 * Reads the form (`nit=…&merchantUSN=…&…`). Throws ClientError 400 naming each bad field (the
 * value is never quoted: it may be a NIT).
 */
export function readAuthenticityForm(body: string): { nit: string; merchantUsn: string; orderId?: string } {
  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body))
    if (!fields.has(name.toLowerCase())) fields.set(name.toLowerCase(), value);
  const parsed = formSchema.safeParse({
    nit: fields.get('nit'),
    merchantUSN: fields.get('merchantusn'),
    orderId: fields.get('orderid'),
  });
  if (!parsed.success) throw new ClientError(400, fieldErrors(parsed.error, 'form'));
  const { nit, merchantUSN, orderId } = parsed.data;
  return { nit, merchantUsn: merchantUSN, ...(orderId ? { orderId } : {}) };
}

/**
 * Stores the NIT against the recharge begun with `merchantUsn` (BEGIN → NOV). Throws ClientError
 * 404 when no recharge of the integration was begun with it, 409 when that recharge already has
 * its NIT or is no longer waiting for one (a repeated or forged POST changes nothing), 409 when
 * the orderId is not the recharge's.
 */
export async function receiveAuthenticity(
  deps: { recharges: RechargeStore; now(): Date },
  integration: string,
  form: { nit: string; merchantUsn: string; orderId?: string },
): Promise<void> {
  const rechargeId = await deps.recharges.rechargeForUsn(integration, form.merchantUsn);
  if (!rechargeId)
    throw new ClientError(404, [{ key: 'merchantUSN', message: `no recharge was begun with merchantUSN ${form.merchantUsn}` }]);
  await updateRecharge(deps.recharges, integration, rechargeId, (current) => {
    if (!current)
      throw new ClientError(404, [{ key: 'merchantUSN', message: `no recharge was begun with merchantUSN ${form.merchantUsn}` }]);
    if (current.nit || current.status !== 'BEGIN')
      throw new ClientError(409, [
        { key: 'merchantUSN', message: `merchantUSN ${form.merchantUsn} already has its NIT, or no longer waits for one` },
      ]);
    if (form.orderId !== undefined && form.orderId !== (current.orderId ?? form.orderId))
      throw new ClientError(409, [{ key: 'orderId', message: `orderId is not the one recharge ${rechargeId} began with` }]);
    const at = saoPauloIso(deps.now());
    return {
      ...current,
      nit: form.nit,
      status: 'NOV',
      steps: withStep(current.steps, { step: 'authenticity', at, outcome: 'answered', status: 'NOV' }),
      updatedAt: at,
    };
  });
}
