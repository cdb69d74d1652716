import type { APIGatewayProxyEvent } from 'aws-lambda';
import { gatewayErrors } from '../../lib/manifest.ts';
import { ClientError, header } from './http.ts';

const CORRELATION_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** The caller's `x-correlation-id` when well formed, else API Gateway's request id. */
export function correlationIdOf(event: APIGatewayProxyEvent): string {
  const supplied = header(event.headers, 'x-correlation-id');
  return supplied && CORRELATION_ID.test(supplied) ? supplied : event.requestContext.requestId;
}

/** The integration the authorizer resolved the bearer token to. */
export function callerIntegration(event: APIGatewayProxyEvent): string {
  const id: unknown = event.requestContext.authorizer?.integrationHubServiceId;
  // Only reachable if a route were deployed without the authorizer: refuse rather than guess.
  if (typeof id !== 'string' || id === '') {
    const { key, message } = gatewayErrors.unauthorized;
    throw new ClientError(401, [{ key, message }]);
  }
  return id;
}

/** 403 unless the body's integration is the one the bearer token belongs to. */
export function assertCallerOwns(event: APIGatewayProxyEvent, integrationHubServiceId: string): void {
  if (integrationHubServiceId !== callerIntegration(event)) {
    throw new ClientError(403, [
      { key: 'integrationHubServiceId', message: 'body.integrationHubServiceId is not the integration this token belongs to' },
    ]);
  }
}
