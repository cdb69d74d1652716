/**
 * The API's error contract for answers the handlers and the gateway share: the project's format
 * `{"errors":[{"key","message"}]}`. The gateway's own answers (throttling, no such route, …) extend
 * it in lib/manifest.ts; handlers need only these.
 */
export interface GatewayError {
  readonly statusCode: number;
  readonly key: string;
  readonly message: string;
}

export const handlerErrors = {
  unauthorized: { statusCode: 401, key: 'authorization', message: 'missing or unknown bearer token' },
  /** A partner route's secret (the path's last segment) that belongs to no integration. */
  unknownPartnerSecret: { statusCode: 401, key: 'secret', message: 'missing or unknown partner secret' },
  accessDenied: { statusCode: 403, key: 'authorization', message: 'this token may not call this route' },
  internal: { statusCode: 500, key: 'server', message: 'internal error; retry the same request later' },
} as const satisfies Record<string, GatewayError>;

export function gatewayErrorBody(error: GatewayError): string {
  return JSON.stringify({ errors: [{ key: error.key, message: error.message }] });
}
