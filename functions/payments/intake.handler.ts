import type { APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { envName, functions } from '../../lib/manifest.ts';
import { S3Documents } from '../nfce/s3-documents.ts';
import { assertCallerOwns, correlationIdOf } from '../shared/api.ts';
import { s3 } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { ClientError, json } from '../shared/http.ts';
import { httpRoute } from '../shared/middleware.ts';
import { logger } from '../shared/logger.ts';
import { takePayment, type IntakeDeps, type IntakeOutcome } from './intake.ts';
import { deps as queueing } from './wiring.ts';
import { validatePaymentRequest } from './request.ts';

const env = readEnv({ [envName.bucket('fiscal')]: z.string().min(1) });
const deps: IntakeDeps = { ...queueing, documents: new S3Documents(s3(), env[envName.bucket('fiscal')] as string) };

/** Polling hint for the POS (seconds). */
const RETRY_AFTER = { 'retry-after': '1' };

/** POST /order/payment: validate, then the POST/poll protocol (202 → 208 → 200, 409). */
export const handler = httpRoute(
  async (event) => {
    // Order of checks: 401 (authorizer, before this runs), 415, 413 (middleware), 400, then 403.
    const validation = validatePaymentRequest(event.json);
    if (!validation.ok) throw new ClientError(400, validation.errors);
    assertCallerOwns(event, validation.payment.request.integrationHubServiceId);
    const outcome = await takePayment(validation.payment, correlationIdOf(event), deps);
    logger.info('payment request answered', {
      outcome: outcome.kind,
      paymentId: outcome.record.paymentId,
      paymentCorrelationId: outcome.record.correlationId,
      status: outcome.record.status,
    });
    return respond(outcome);
  },
  { maxBodyBytes: functions.paymentIntake.trigger.maxBodyBytes },
);

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
