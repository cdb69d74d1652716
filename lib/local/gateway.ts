import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { header } from '../../functions/shared/http.ts';
import { api, gatewayErrorBody, gatewayErrors, type FunctionSpec, type HttpTrigger } from '../manifest.ts';
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
  /** Each partner route's throttle (manifest `api.partnerRateLimitPerSecond` / `partnerBurstLimit` by default). */
  partnerRateLimitPerSecond?: number;
  partnerBurstLimit?: number;
}

export const STAGE = 'v1';
/** API Gateway's own payload limit; the handlers enforce the much smaller contract limit. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;
/**
 * How much of a refused request's body is read (and thrown away) so that its kept-alive connection
 * can carry the client's next request; past it the connection is closed instead.
 */
export const DRAIN_MAX_BYTES = 2 * GATEWAY_MAX_BYTES;
/** How long a closed connection still reads (and throws away) what the client goes on sending. */
const LINGER_MS = 2_000;

/**
 * API Gateway (REST API, Lambda proxy integration) on 127.0.0.1: the route table, the REQUEST
 * authorizer, the usage plan's per-key throttling and the gateway's own error answers, then each
 * request as an APIGatewayProxyEvent for the real handler.
 */
export async function startGateway(options: GatewayOptions): Promise<{ url: string; server: Server }> {
  const limiter = new RateLimiter(options.rateLimitPerSecond ?? api.rateLimitPerSecond, options.burstLimit ?? api.burstLimit);
  const partnerLimiter = new RateLimiter(
    options.partnerRateLimitPerSecond ?? api.partnerRateLimitPerSecond,
    options.partnerBurstLimit ?? api.partnerBurstLimit,
  );
  const authorizerCache = new Map<string, { result: APIGatewayAuthorizerResult; expiresAt: number }>();
  const server = createServer((req, res) => {
    handle(req, res, options, { limiter, partnerLimiter }, authorizerCache).catch((error: unknown) => {
      console.error('local gateway failure', error);
      if (!res.headersSent) void refuse(req, res, gatewayErrors.internal.statusCode, gatewayErrorBody(gatewayErrors.internal));
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
  { limiter, partnerLimiter }: { limiter: RateLimiter; partnerLimiter: RateLimiter },
  cache: AuthorizerCache,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  // A path that does not decode is refused before routing and before the authorizer.
  if (!decodes(url.pathname)) {
    return refuse(req, res, gatewayErrors.invalidPath.statusCode, gatewayErrorBody(gatewayErrors.invalidPath));
  }
  const match = matchRoute(options.routes, req.method ?? 'GET', url.pathname);
  if (!match) return refuse(req, res, gatewayErrors.noSuchRoute.statusCode, gatewayErrorBody(gatewayErrors.noSuchRoute));

  const read = await readBody(req);
  if (!('body' in read))
    return refuse(req, res, gatewayErrors.tooLarge.statusCode, gatewayErrorBody(gatewayErrors.tooLarge), read.received);
  const { body } = read;

  const requestId = randomUUID();
  const headers = singleHeaders(req);
  // The path as routed (empty segments dropped: `//admin/x` is `/admin/x`), so the policy is
  // checked against what the request reaches.
  const routedPath = `/${url.pathname.split('/').filter(Boolean).join('/')}`;
  const methodArn = `arn:aws:execute-api:sa-east-1:000000000000:local/${STAGE}/${match.route.method}${routedPath}`;

  const trigger = match.route.spec.trigger as HttpTrigger;
  let authorizer: Record<string, unknown> | undefined;
  if (trigger.auth === 'partner') {
    // No authorizer and no usage key: the handler checks the secret; the route has its own throttle.
    if (!partnerLimiter.take(`${trigger.method} ${trigger.path}`))
      return refuse(req, res, gatewayErrors.throttled.statusCode, gatewayErrorBody(gatewayErrors.throttled));
  } else {
    // Like API Gateway: no identity source → 401 without invoking the authorizer; an allowed
    // identity's policy is cached for authorizerCacheSeconds and applies to every route it names.
    const identity = header(headers, 'authorization');
    if (!identity) return refuse(req, res, gatewayErrors.unauthorized.statusCode, gatewayErrorBody(gatewayErrors.unauthorized));
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
      requestContext: requestContext(requestFacts(match.route, url, requestId, req)),
    });
    if (!auth) return refuse(req, res, gatewayErrors.unauthorized.statusCode, gatewayErrorBody(gatewayErrors.unauthorized));
    if (!policyAllows(auth.policyDocument, methodArn))
      return refuse(req, res, gatewayErrors.accessDenied.statusCode, gatewayErrorBody(gatewayErrors.accessDenied));
    // Only POS routes require the usage-plan key the authorizer names.
    if (trigger.auth === 'bearer' && (!auth.usageIdentifierKey || !limiter.take(auth.usageIdentifierKey)))
      return refuse(req, res, gatewayErrors.throttled.statusCode, gatewayErrorBody(gatewayErrors.throttled));
    authorizer = { principalId: auth.principalId, ...auth.context };
  }

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
    requestContext: { ...requestContext(requestFacts(match.route, url, requestId, req)), authorizer },
    // The REST API declares binaryMediaTypes ['*/*'], so API Gateway hands every body over as
    // base64, text or not; the handlers decode it (and refuse what is not UTF-8) themselves.
    body: body.length === 0 ? null : body.toString('base64'),
    isBase64Encoded: body.length > 0,
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

/**
 * The route for a method and path, with API Gateway's precedence: where several match, a literal
 * segment beats a `{param}` at the first position they differ (`/admin/dead-letters` before
 * `/admin/{id}`). The path must decode (checked before).
 */
function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> | null } | undefined {
  const segments = path.split('/').filter(Boolean);
  let best: { route: Route; params: Record<string, string>; rank: string } | undefined;
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let rank = '';
    const ok = pattern.every((part, i) => {
      const segment = segments[i]!;
      if (part.startsWith('{') && part.endsWith('}')) {
        params[part.slice(1, -1)] = decodeURIComponent(segment);
        rank += '1';
        return true;
      }
      rank += '0';
      return part === segment;
    });
    if (ok && (!best || rank < best.rank)) best = { route, params, rank };
  }
  return best && { route: best.route, params: Object.keys(best.params).length ? best.params : null };
}

/**
 * Whether an authorizer's policy lets `methodArn` through, as API Gateway evaluates it: an
 * explicit Deny wins, then any Allow; `*` in a resource matches any characters.
 */
export function policyAllows(policy: APIGatewayAuthorizerResult['policyDocument'], methodArn: string): boolean {
  const matching = (effect: string) =>
    policy.Statement.some((statement) => {
      if (!('Effect' in statement) || statement.Effect !== effect || !('Resource' in statement)) return false;
      return [statement.Resource].flat().some((resource) => globMatches(String(resource), methodArn));
    });
  return !matching('Deny') && matching('Allow');
}

function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}

function requestFacts(route: Route, url: URL, requestId: string, req: IncomingMessage): RequestFacts {
  return {
    resourceId: route.name,
    method: route.method,
    resourcePath: route.path,
    path: url.pathname,
    requestId,
    protocol: `HTTP/${req.httpVersion}`,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    userAgent: req.headers['user-agent'] ?? null,
  };
}

/** What a proxy event's `requestContext` says of a request (the authorizer's context is added apart). */
export interface RequestFacts {
  /** The function serving the route (API Gateway's resource id stands in). */
  resourceId: string;
  method: string;
  /** The route's template (`/cielo/notifications/{secret}`) and the request's own path. */
  resourcePath: string;
  path: string;
  requestId: string;
  protocol: string;
  sourceIp: string;
  userAgent: string | null;
}

/** An API Gateway REST proxy event's `requestContext`, as the stage `v1` gives it. */
export function requestContext(facts: RequestFacts) {
  return {
    accountId: '000000000000',
    apiId: 'local',
    authorizer: undefined,
    protocol: facts.protocol,
    httpMethod: facts.method,
    path: `/${STAGE}${facts.path}`,
    stage: STAGE,
    requestId: facts.requestId,
    requestTimeEpoch: Date.now(),
    resourceId: facts.resourceId,
    resourcePath: facts.resourcePath,
    identity: {
      sourceIp: facts.sourceIp,
      userAgent: facts.userAgent,
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

/** True when every percent-escape of `path` decodes (to UTF-8). */
function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The request's body, or, for one over API Gateway's limit (or cut off by the client), how many
 * bytes were read before giving up; the rest is left unread, paused, for `refuse` to drain.
 */
function readBody(req: IncomingMessage): Promise<{ body: Buffer } | { received: number }> {
  if (Number(req.headers['content-length']) > GATEWAY_MAX_BYTES) return Promise.resolve({ received: 0 });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: { body: Buffer } | { received: number }) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= GATEWAY_MAX_BYTES) return void chunks.push(chunk);
      // Not with a `for await` that stops: that destroys the request, and the connection with it.
      req.pause();
      done({ received: size });
    };
    const onEnd = () => done({ body: Buffer.concat(chunks) });
    const onClose = () => done({ received: size });
    req.on('data', onData).once('end', onEnd).once('close', onClose);
  });
}

/**
 * Answers a refusal by the gateway itself, keeping the connection usable: what is left of the
 * request's body is read and thrown away first, so a kept-alive connection carries the client's
 * next request. A body that goes on past DRAIN_MAX_BYTES is not waited for: the answer says
 * `connection: close`, and the connection is closed after it.
 */
async function refuse(req: IncomingMessage, res: ServerResponse, statusCode: number, body: string, received = 0): Promise<void> {
  if (!(await drain(req, received))) closeAfterAnswer(res);
  send(res, statusCode, body);
}

/** Reads what is left of the request's body, discarding it; false when it goes on past DRAIN_MAX_BYTES. */
function drain(req: IncomingMessage, received: number): Promise<boolean> {
  // From here on the request flows: whatever it still holds or receives is thrown away.
  req.resume();
  if (req.complete) return Promise.resolve(true);
  if (req.destroyed || Number(req.headers['content-length'] ?? 0) > DRAIN_MAX_BYTES) return Promise.resolve(false);
  return new Promise((resolve) => {
    let size = received;
    const done = (drained: boolean) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_MAX_BYTES) done(false);
    };
    const onEnd = () => done(true);
    const onClose = () => done(false);
    req.on('data', onData).once('end', onEnd).once('close', onClose);
  });
}

/**
 * Marks the answer `connection: close`. Node then destroys the socket once the answer is written,
 * and a socket closed with unread input sends a reset, which can wipe out the answer before the
 * client has read it. So, like a web server's lingering close, only the sending side is shut, and
 * what the client still sends is read and thrown away until it closes too or LINGER_MS pass.
 */
function closeAfterAnswer(res: ServerResponse): void {
  res.setHeader('connection', 'close');
  const socket = res.socket;
  if (!socket) return;
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  };
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
