import middy, { type MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { correlationIdOf } from './api.ts';
import { ClientError, errorResponse, PartnerFailure, readJsonBody, type FieldError } from './http.ts';
import { logger } from './logger.ts';

/** The proxy event with the body already read as JSON (when the route takes one). */
export interface JsonEvent extends APIGatewayProxyEvent {
  json?: unknown;
}

type RouteHandler = (event: JsonEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Puts the caller's correlation id (or API Gateway's request id) on every log line. */
const correlationId = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: (request) => {
    logger.appendKeys({ correlationId: correlationIdOf(request.event) });
  },
});

/**
 * 415 / 413 / 400 before the handler runs: the body as JSON in UTF-8, within `maxBytes`. A 400
 * also lists `alsoOnBadBody`'s problems (the path's), first, so one answer names every problem.
 */
const jsonBody = (
  maxBytes: number,
  alsoOnBadBody: (event: APIGatewayProxyEvent) => FieldError[] = () => [],
): MiddlewareObj<JsonEvent, APIGatewayProxyResult> => ({
  before: (request) => {
    try {
      request.event.json = readJsonBody(request.event, maxBytes);
    } catch (error) {
      if (error instanceof ClientError && error.statusCode === 400)
        throw new ClientError(400, [...alsoOnBadBody(request.event), ...error.errors]);
      throw error;
    }
  },
});

/**
 * A refusal (ClientError) becomes its 4xx in the error format, a partner's failure (PartnerFailure)
 * its 502/504, each logged with its keys only (a message may quote the caller's text); anything
 * else is logged whole and answered with a 500 that leaks nothing.
 */
const errorAnswers = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: (request) => {
    const { error } = request;
    if (error instanceof ClientError)
      logger.info('request refused', { statusCode: error.statusCode, keys: error.errors.map((e) => e.key) });
    else if (error instanceof PartnerFailure)
      logger.warn('partner failed the request', { statusCode: error.statusCode, keys: error.errors.map((e) => e.key) });
    else logger.error('request failed', { error: error as Error });
    request.response = errorResponse(error);
  },
});

/**
 * An HTTP route's Lambda handler: Powertools context (function name, request id, cold start), the
 * correlation id, the body parsed when `maxBodyBytes` is given, and errors mapped to answers, so
 * the handler itself parses → calls → answers and throws ClientError on refusal.
 */
export function httpRoute(
  handler: RouteHandler,
  options: { maxBodyBytes?: number; alsoOnBadBody?: (event: APIGatewayProxyEvent) => FieldError[] } = {},
) {
  const route = middy<JsonEvent, APIGatewayProxyResult>(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(correlationId())
    .use(errorAnswers());
  return options.maxBodyBytes === undefined ? route : route.use(jsonBody(options.maxBodyBytes, options.alsoOnBadBody));
}
