import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { gatewayErrors } from '../../lib/manifest.ts';

/** One problem with a request, in the Order Mesa contract's shape. */
export interface FieldError {
  key: string;
  message: string;
}

/** An error the caller can fix: mapped to a 4xx with `{"errors":[…]}`. Anything else is a 500. */
export class ClientError extends Error {
  constructor(
    readonly statusCode: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429,
    readonly errors: FieldError[],
  ) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'ClientError';
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
  if (error instanceof ClientError) return json(error.statusCode, { errors: error.errors });
  // Never leak internals: the log has the detail under the same correlation id.
  const { statusCode, key, message } = gatewayErrors.internal;
  return json(statusCode, { errors: [{ key, message }] });
}

/** The raw body as text, refusing anything over `maxBytes` (413) before it is parsed. */
export function bodyText(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>, maxBytes: number): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new ClientError(413, [{ key: 'body', message: `body is ${bytes.length} bytes; the limit is ${maxBytes} bytes` }]);
  }
  return bytes.toString('utf8');
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

/** A header's value, matching the name case-insensitively (API Gateway keeps the client's case). */
export function header(headers: Record<string, string | undefined> | null | undefined, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}
