import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { header } from '../../functions/shared/http.ts';
import { api, gatewayErrorBody, gatewayErrors, type FunctionSpec } from '../manifest.ts';
import { invoke, type Handler } from './invoke.ts';
import { RateLimiter } from './rate-limiter.ts';

export interface Route {
  name: string;
  spec: FunctionSpec;
  method: string;
  path: string;
  handler: Handler;
}

export interface GatewayOptions {
  routes: Route[];
  authorizer: { name: string; spec: FunctionSpec; handler: Handler };
  port: number;
  rateLimitPerSecond?: number;
  burstLimit?: number;
}

const STAGE = 'v1';
/** API Gateway's own payload limit; the handlers enforce the much smaller contract limit. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

/**
 * API Gateway (REST API, Lambda proxy integration) on 127.0.0.1: the route table, the REQUEST
 * authorizer, the usage plan's per-key throttling and the gateway's own error answers, then each
 * request as an APIGatewayProxyEvent for the real handler.
 */
export async function startGateway(options: GatewayOptions): Promise<{ url: string; server: Server }> {
  const limiter = new RateLimiter(options.rateLimitPerSecond ?? api.rateLimitPerSecond, options.burstLimit ?? api.burstLimit);
  const authorizerCache = new Map<string, { result: APIGatewayAuthorizerResult; expiresAt: number }>();
  const server = createServer((req, res) => {
    handle(req, res, options, limiter, authorizerCache).catch((error: unknown) => {
      console.error('local gateway failure', error);
      if (!res.headersSent) send(res, gatewayErrors.internal.statusCode, gatewayErrorBody(gatewayErrors.internal));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

type AuthorizerCache = Map<string, { result: APIGatewayAuthorizerResult; expiresAt: number }>;

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: GatewayOptions,
  limiter: RateLimiter,
  cache: AuthorizerCache,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const match = matchRoute(options.routes, req.method ?? 'GET', url.pathname);
  if (!match) return send(res, gatewayErrors.noSuchRoute.statusCode, gatewayErrorBody(gatewayErrors.noSuchRoute));

  const body = await readBody(req);
  if (body === undefined) return send(res, gatewayErrors.tooLarge.statusCode, gatewayErrorBody(gatewayErrors.tooLarge));

  const requestId = randomUUID();
  const headers = singleHeaders(req);
  const methodArn = `arn:aws:execute-api:sa-east-1:000000000000:local/${STAGE}/${match.route.method}${url.pathname}`;

  // Like API Gateway: no identity source → 401 without invoking the authorizer; an allowed
  // identity's policy is cached for authorizerCacheSeconds.
  const identity = header(headers, 'authorization');
  if (!identity) return send(res, gatewayErrors.unauthorized.statusCode, gatewayErrorBody(gatewayErrors.unauthorized));
  const auth = await authorize(identity, options, cache, {
    type: 'REQUEST',
    methodArn,
    resource: match.route.path,
    path: url.pathname,
    httpMethod: match.route.method,
    headers,
    multiValueHeaders: multiHeaders(req),
    pathParameters: match.params,
    queryStringParameters: query(url),
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: requestContext(match.route, url, requestId, req),
  });
  if (!auth) return send(res, gatewayErrors.unauthorized.statusCode, gatewayErrorBody(gatewayErrors.unauthorized));
  const allowed = auth.policyDocument.Statement.some((s) => 'Effect' in s && s.Effect === 'Allow');
  if (!allowed) return send(res, gatewayErrors.accessDenied.statusCode, gatewayErrorBody(gatewayErrors.accessDenied));
  if (!auth.usageIdentifierKey || !limiter.take(auth.usageIdentifierKey)) {
    return send(res, gatewayErrors.throttled.statusCode, gatewayErrorBody(gatewayErrors.throttled));
  }

  const utf8 = body.length === 0 || isUtf8(body);
  const event: APIGatewayProxyEvent = {
    resource: match.route.path,
    path: url.pathname,
    httpMethod: match.route.method,
    headers,
    multiValueHeaders: multiHeaders(req),
    queryStringParameters: query(url),
    multiValueQueryStringParameters: null,
    pathParameters: match.params,
    stageVariables: null,
    requestContext: {
      ...requestContext(match.route, url, requestId, req),
      authorizer: { principalId: auth.principalId, ...auth.context },
    },
    body: body.length === 0 ? null : utf8 ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !utf8,
  };
  const result = (await invoke(match.route.handler, match.route.name, match.route.spec, event)) as APIGatewayProxyResult;
  const payload = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body ?? '', 'utf8');
  res.writeHead(result.statusCode, { ...stringHeaders(result.headers), 'x-amzn-requestid': requestId });
  res.end(payload);
}

/** The authorizer's answer for an identity (cached like API Gateway); undefined means 401. */
async function authorize(
  identity: string,
  options: GatewayOptions,
  cache: AuthorizerCache,
  event: object,
): Promise<APIGatewayAuthorizerResult | undefined> {
  const cached = cache.get(identity);
  if (cached && cached.expiresAt > Date.now()) return cached.result;
  try {
    const result = (await invoke(
      options.authorizer.handler,
      options.authorizer.name,
      options.authorizer.spec,
      event,
    )) as APIGatewayAuthorizerResult;
    if (api.authorizerCacheSeconds > 0)
      cache.set(identity, { result, expiresAt: Date.now() + api.authorizerCacheSeconds * 1000 });
    return result;
  } catch (error) {
    if ((error as Error).message === 'Unauthorized') return undefined;
    throw error;
  }
}

function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> | null } | undefined {
  const segments = path.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((part, i) => {
      const segment = segments[i]!;
      if (part.startsWith('{') && part.endsWith('}')) {
        params[part.slice(1, -1)] = decodeURIComponent(segment);
        return true;
      }
      return part === segment;
    });
    if (ok) return { route, params: Object.keys(params).length ? params : null };
  }
  return undefined;
}

function requestContext(route: Route, url: URL, requestId: string, req: IncomingMessage) {
  return {
    accountId: '000000000000',
    apiId: 'local',
    authorizer: undefined,
    protocol: `HTTP/${req.httpVersion}`,
    httpMethod: route.method,
    path: `/${STAGE}${url.pathname}`,
    stage: STAGE,
    requestId,
    requestTimeEpoch: Date.now(),
    resourceId: route.name,
    resourcePath: route.path,
    identity: {
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: req.headers['user-agent'] ?? null,
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      clientCert: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      user: null,
      userArn: null,
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function isUtf8(buffer: Buffer): boolean {
  return Buffer.from(buffer.toString('utf8'), 'utf8').equals(buffer);
}

function singleHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]!] = req.rawHeaders[i + 1]!;
  return headers;
}

function multiHeaders(req: IncomingMessage): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) (headers[req.rawHeaders[i]!] ??= []).push(req.rawHeaders[i + 1]!);
  return headers;
}

function query(url: URL): Record<string, string> | null {
  const entries = [...url.searchParams.entries()];
  return entries.length ? Object.fromEntries(entries) : null;
}

function stringHeaders(headers: APIGatewayProxyResult['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));
}

function send(res: ServerResponse, statusCode: number, body: string): void {
  res.writeHead(statusCode, { 'content-type': 'application/json; charset=utf-8' });
  res.end(body);
}
