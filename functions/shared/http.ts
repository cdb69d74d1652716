import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { handlerErrors } from './http-errors.ts';
import { loneSurrogateErrors } from './validation.ts';

/** One problem with a request, in the Order Mesa contract's shape. */
export interface FieldError {
  key: string;
  message: string;
}

/** An error the caller can fix: mapped to a 4xx with `{"errors":[…]}`. Anything else is a 500. */
export class ClientError extends Error {
  constructor(
    readonly statusCode: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429,
    readonly errors: FieldError[],
  ) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'ClientError';
  }
}

/**
 * A partner failed the caller's request: 502 (it refused for its own reasons, or answered what
 * cannot be read), 504 (no answer in time: the outcome may be unknown). The errors name the
 * partner's step (`esitef.do`) and say what the caller should do. Mapped like ClientError.
 */
export class PartnerFailure extends Error {
  constructor(
    readonly statusCode: 502 | 504,
    readonly errors: FieldError[],
  ) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'PartnerFailure';
  }
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(error: unknown): APIGatewayProxyResult {
  if (error instanceof ClientError || error instanceof PartnerFailure) return json(error.statusCode, { errors: error.errors });
  // Never leak internals: the log has the detail under the same correlation id.
  const { statusCode, key, message } = handlerErrors.internal;
  return json(statusCode, { errors: [{ key, message }] });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The raw body as text, refusing anything over `maxBytes` (413) before it is decoded, and bytes
 * that are not UTF-8 (400) instead of turning them into U+FFFD. API Gateway hands every body over
 * base64-encoded (the API declares every media type binary), so the bytes are the client's.
 */
export function bodyText(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>, maxBytes: number): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new ClientError(413, [{ key: 'body', message: `body is ${bytes.length} bytes; the limit is ${maxBytes} bytes` }]);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ClientError(400, [{ key: 'body', message: 'body is not valid UTF-8 text; send JSON encoded as UTF-8' }]);
  }
}

/** Parses a JSON body, answering 400 when it is not JSON. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new ClientError(400, [{ key: 'body', message: 'body is required (a JSON object)' }]);
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : '';
    throw new ClientError(400, [{ key: 'body', message: `body is not valid JSON${detail}` }]);
  }
}

/**
 * 415 unless the body is sent as JSON in UTF-8: `application/json` or a `+json` type, with no
 * charset or `charset=utf-8`. A missing Content-Type is accepted (POS vendors are sloppy and the
 * body is parsed as JSON anyway).
 */
export function assertJsonContentType(headers: Record<string, string | undefined> | null | undefined): void {
  const value = header(headers, 'content-type');
  if (value === undefined || value.trim() === '') return;
  const [mediaType = '', ...params] = value.split(';').map((part) => part.trim().toLowerCase());
  const charset = params
    .find((param) => param.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"|"$/g, '');
  const json = mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
  if (json && (charset === undefined || charset === 'utf-8' || charset === 'utf8')) return;
  throw new ClientError(415, [
    {
      key: 'content-type',
      message: `content-type ${value.trim()} is not accepted; send the body as application/json in UTF-8`,
    },
  ]);
}

/**
 * A JSON route's body: Content-Type (415), size (413), UTF-8 and JSON (400), in that order, then
 * no lone surrogate anywhere (400 naming each place): JSON escapes such as `"\ud800"` decode to
 * text that cannot be stored as UTF-8.
 */
export function readJsonBody(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded' | 'headers'>,
  maxBytes: number,
): unknown {
  assertJsonContentType(event.headers);
  const body = parseJsonBody(bodyText(event, maxBytes));
  const errors = loneSurrogateErrors(body);
  if (errors.length > 0) throw new ClientError(400, errors);
  return body;
}

/** A header's value, matching the name case-insensitively (API Gateway keeps the client's case). */
export function header(headers: Record<string, string | undefined> | null | undefined, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}
