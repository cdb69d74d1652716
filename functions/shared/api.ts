import type { APIGatewayProxyEvent } from 'aws-lambda';
import { handlerErrors } from './http-errors.ts';
import { ClientError, header } from './http.ts';

const CORRELATION_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** The caller's `x-correlation-id` when well formed, else API Gateway's request id. */
export function correlationIdOf(event: APIGatewayProxyEvent): string {
  const supplied = header(event.headers, 'x-correlation-id');
  return supplied && CORRELATION_ID.test(supplied) ? supplied : event.requestContext.requestId;
}

/**
 * The integration the authorizer resolved a POS bearer token to. Throws ClientError 401 when the
 * route ran without the authorizer, 403 for an admin token (the authorizer's policy already keeps
 * admin tokens off POS routes; this is the handler's own check).
 */
export function callerIntegration(event: APIGatewayProxyEvent): string {
  const context = event.requestContext.authorizer;
  const id: unknown = context?.integrationHubServiceId;
  if (context?.kind === 'admin') throw refusal(handlerErrors.accessDenied);
  // Only reachable if a route were deployed without the authorizer: refuse rather than guess.
  if (typeof id !== 'string' || id === '') throw refusal(handlerErrors.unauthorized);
  return id;
}

/** The operator an admin token belongs to; 403 for a POS token, 401 without the authorizer. */
export function callerAdmin(event: APIGatewayProxyEvent): string {
  const context = event.requestContext.authorizer;
  if (context?.kind === 'pos') throw refusal(handlerErrors.accessDenied);
  const name: unknown = context?.adminName;
  if (context?.kind !== 'admin' || typeof name !== 'string' || name === '') throw refusal(handlerErrors.unauthorized);
  return name;
}

function refusal(error: { statusCode: number; key: string; message: string }): ClientError {
  return new ClientError(error.statusCode as 401 | 403, [{ key: error.key, message: error.message }]);
}

/** 403 unless the body's integration is the one the bearer token belongs to. */
export function assertCallerOwns(event: APIGatewayProxyEvent, integrationHubServiceId: string): void {
  if (integrationHubServiceId !== callerIntegration(event)) {
    throw new ClientError(403, [
      { key: 'integrationHubServiceId', message: 'body.integrationHubServiceId is not the integration this token belongs to' },
    ]);
  }
}
