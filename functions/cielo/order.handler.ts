import * as z from 'zod';
import { callerIntegration } from '../shared/api.ts';
import { ClientError, json } from '../shared/http.ts';
import { httpRoute } from '../shared/middleware.ts';
import { fieldErrors } from '../shared/validation.ts';
import { orderView } from './view.ts';
import { cieloOrders } from './wiring.ts';

const pathSchema = z.object({ orderId: z.string().regex(/^[\x21-\x7e]{1,100}$/, { message: 'must be a Cielo order id' }) });

/**
 * GET /cielo/orders/{orderId}: the order as the backend keeps it, for the integration it belongs
 * to; 404 for any other (ids cannot be probed).
 */
export const handler = httpRoute(async (event) => {
  const caller = callerIntegration(event);
  const path = pathSchema.safeParse(event.pathParameters ?? {}, { reportInput: true });
  if (!path.success) throw new ClientError(400, fieldErrors(path.error, 'path'));
  const order = await cieloOrders().get(caller, path.data.orderId);
  if (!order)
    throw new ClientError(404, [{ key: 'orderId', message: `no Cielo order ${path.data.orderId} for this integration` }]);
  return json(200, orderView(order));
});
