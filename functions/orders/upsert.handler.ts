import * as z from 'zod';
import { envName, functions } from '../../lib/manifest.ts';
import { DynamoPaymentStore } from '../payments/store.ts';
import { assertCallerOwns } from '../shared/api.ts';
import { dynamo } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { ClientError, json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { formatReais } from '../shared/money.ts';
import { fieldErrors } from '../shared/validation.ts';
import { OrderStore, orderBodySchema, orderPathSchema } from './order.ts';
import { pushTab, type TabDeps } from './upsert.ts';

const env = readEnv({
  [envName.table('orders')]: z.string().min(1),
  [envName.table('payments')]: z.string().min(1),
});
const deps: TabDeps = {
  orders: new OrderStore(dynamo(), env[envName.table('orders')] as string),
  payments: new DynamoPaymentStore(dynamo(), env[envName.table('payments')] as string),
  now: () => new Date(),
};
const pathErrors = (pathParameters: unknown) => {
  const path = orderPathSchema.safeParse(pathParameters ?? {}, { reportInput: true });
  return path.success ? [] : fieldErrors(path.error, 'path');
};

/** PUT /orders/{orderKeyType}/{orderKey}: the open tab, replaced whole while no payment is in flight. */
export const handler = httpRoute(
  async (event) => {
    const path = orderPathSchema.safeParse(event.pathParameters ?? {}, { reportInput: true });
    const body = orderBodySchema.safeParse(event.json, { reportInput: true });
    if (!path.success || !body.success)
      throw new ClientError(400, [...pathErrors(event.pathParameters), ...(body.success ? [] : fieldErrors(body.error, 'body'))]);
    assertCallerOwns(event, body.data.integrationHubServiceId);
    const { orderKeyType, orderKey } = path.data;
    const { replaced, order, itemsTotal } = await pushTab(orderKeyType, orderKey, body.data, deps);
    logger.info('order stored', { orderKeyType, items: order.items.length, replaced });
    return json(replaced ? 200 : 201, {
      integrationHubServiceId: order.integrationHubServiceId,
      orderKeyType,
      orderKey,
      items: body.data.items,
      notes: order.notes ?? null,
      itemsTotal: Number(formatReais(itemsTotal)),
      updatedAt: order.updatedAt,
    });
  },
  // Every problem in one answer: the path's first, when the body is not JSON either.
  { maxBodyBytes: functions.orderUpsert.trigger.maxBodyBytes, alsoOnBadBody: (event) => pathErrors(event.pathParameters) },
);
