import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { envName, functions } from '../../lib/manifest.ts';
import { S3Documents } from '../nfce/invoices.ts';
import { assertCallerOwns, correlationIdOf } from '../shared/api.ts';
import { s3 } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { ClientError, errorResponse, json, readJsonBody } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { takePayment, type IntakeDeps, type IntakeOutcome } from './intake.ts';
import { deps as queueing } from './wiring.ts';
import { validatePaymentRequest } from './request.ts';

const env = readEnv({ [envName.bucket('fiscal')]: z.string().min(1) });
const deps: IntakeDeps = { ...queueing, documents: new S3Documents(s3(), env[envName.bucket('fiscal')] as string) };
const { maxBodyBytes } = functions.paymentIntake.trigger;

/** Polling hint for the POS (seconds). */
const RETRY_AFTER = { 'retry-after': '1' };

async function intake(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const correlationId = correlationIdOf(event);
  logger.appendKeys({ correlationId });
  try {
    // Order of checks: 401 (authorizer, before this runs), 415, 413, 400, then 403.
    const validation = validatePaymentRequest(readJsonBody(event, maxBodyBytes));
    if (!validation.ok) throw new ClientError(400, validation.errors);
    const { request } = validation.payment;
    assertCallerOwns(event, request.integrationHubServiceId);
    const outcome = await takePayment(validation.payment, correlationId, deps);
    logger.info('payment request answered', {
      outcome: outcome.kind,
      paymentId: outcome.record.paymentId,
      paymentCorrelationId: outcome.record.correlationId,
      status: outcome.record.status,
    });
    return respond(outcome);
  } catch (error) {
    if (error instanceof ClientError)
      logger.info('payment request refused', { statusCode: error.statusCode, keys: error.errors.map((e) => e.key) });
    else logger.error('payment request failed', { error: error as Error });
    return errorResponse(error);
  }
}

function respond(outcome: IntakeOutcome): APIGatewayProxyResult {
  const { record } = outcome;
  const progress = {
    integrationHubServiceId: record.integrationHubServiceId,
    orderKeyType: record.orderKeyType,
    orderKey: record.orderKey,
    paymentId: record.paymentId,
    status: record.status,
  };
  switch (outcome.kind) {
    case 'accepted':
      return json(
        202,
        { ...progress, message: 'payment accepted and queued; send the same request again for its result' },
        RETRY_AFTER,
      );
    case 'processing':
      return json(
        208,
        { ...progress, message: 'payment is being processed; send the same request again for its result' },
        RETRY_AFTER,
      );
    case 'finished':
      return json(200, outcome.answer);
    case 'conflict':
      return json(409, { errors: outcome.errors });
  }
}

export const handler = middy(intake).use(injectLambdaContext(logger, { resetKeys: true }));
