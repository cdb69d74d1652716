import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { envName, functions } from '../../lib/manifest.ts';
import { holdsOrder, orderRef } from '../payments/record.ts';
import { DynamoPaymentStore } from '../payments/store.ts';
import { assertCallerOwns, correlationIdOf } from '../shared/api.ts';
import { dynamo } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { ClientError, errorResponse, json, readJsonBody } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { formatReais } from '../shared/money.ts';
import { saoPauloIso } from '../shared/time.ts';
import { fieldErrors } from '../shared/validation.ts';
import { OrderStore, orderBodySchema, orderPathSchema, toOrderItems } from './order.ts';
import { itemTotal } from '../nfce/document.ts';

const env = readEnv({
  [envName.table('orders')]: z.string().min(1),
  [envName.table('payments')]: z.string().min(1),
});
const orders = new OrderStore(dynamo(), env[envName.table('orders')] as string);
const payments = new DynamoPaymentStore(dynamo(), env[envName.table('payments')] as string);
const { maxBodyBytes } = functions.orderUpsert.trigger;

/** PUT /orders/{orderKeyType}/{orderKey}: the open tab, replaced whole while no payment is in flight. */
async function upsert(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  logger.appendKeys({ correlationId: correlationIdOf(event) });
  try {
    const path = orderPathSchema.safeParse(event.pathParameters ?? {}, { reportInput: true });
    const pathErrors = path.success ? [] : fieldErrors(path.error, 'path');
    let parsed: unknown;
    try {
      parsed = readJsonBody(event, maxBodyBytes);
    } catch (error) {
      // Every problem in one answer: the path's too, when the body is not JSON.
      if (error instanceof ClientError && error.statusCode === 400) throw new ClientError(400, [...pathErrors, ...error.errors]);
      throw error;
    }
    const body = orderBodySchema.safeParse(parsed, { reportInput: true });
    if (!path.success || !body.success)
      throw new ClientError(400, [...pathErrors, ...(body.success ? [] : fieldErrors(body.error, 'body'))]);
    assertCallerOwns(event, body.data.integrationHubServiceId);
    const { orderKeyType, orderKey } = path.data;
    const ref = orderRef(body.data.integrationHubServiceId, orderKeyType, orderKey);
    const payment = await payments.get(ref);
    if (payment && holdsOrder(payment)) {
      throw new ClientError(409, [
        {
          key: 'orderKey',
          message:
            payment.status === 'DONE'
              ? `path.orderKey ${orderKeyType} ${orderKey} has an NFC-e not yet confirmed by SEFAZ (paymentId ${payment.paymentId}); the order cannot change until an operator settles it`
              : `path.orderKey ${orderKeyType} ${orderKey} has a payment in progress (paymentId ${payment.paymentId}); the order cannot change until it finishes`,
        },
      ]);
    }
    // A new tab: the order's finished payment is archived, so the next payment starts afresh
    // instead of replaying the old answer.
    if (payment && !(await payments.release(payment))) {
      throw new ClientError(409, [
        { key: 'orderKey', message: `path.orderKey ${orderKeyType} ${orderKey} has a new payment in progress; retry` },
      ]);
    }
    const items = toOrderItems(body.data);
    const updatedAt = saoPauloIso(new Date());
    const notes = body.data.notes || undefined;
    const existed = await orders.put(
      {
        pk: ref,
        integrationHubServiceId: body.data.integrationHubServiceId,
        orderKeyType,
        orderKey,
        items,
        ...(notes ? { notes } : {}),
        source: 'POS',
        updatedAt,
      },
      payment?.paymentId,
    );
    if (existed === undefined) {
      throw new ClientError(409, [
        {
          key: 'orderKey',
          message: `path.orderKey ${orderKeyType} ${orderKey} has a payment being issued; the order cannot change until it finishes`,
        },
      ]);
    }
    const total = items.reduce((sum, item) => sum + itemTotal(item), 0);
    logger.info('order stored', { orderKeyType, items: items.length, replaced: existed });
    return json(existed ? 200 : 201, {
      integrationHubServiceId: body.data.integrationHubServiceId,
      orderKeyType,
      orderKey,
      items: body.data.items,
      notes: notes ?? null,
      itemsTotal: Number(formatReais(total)),
      updatedAt,
    });
  } catch (error) {
    if (error instanceof ClientError)
      logger.info('order refused', { statusCode: error.statusCode, keys: error.errors.map((e) => e.key) });
    else logger.error('order failed', { error: error as Error });
    return errorResponse(error);
  }
}

export const handler = middy(upsert).use(injectLambdaContext(logger, { resetKeys: true }));
