import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A bearer token: 256 random bits, shown once, stored only as its hash. `chk_` for a POS
 * integration, `adm_` for an operator.
 */
export function newToken(kind: 'chk' | 'adm' = 'chk'): string {
  return `${kind}_${randomBytes(32).toString('base64url')}`;
}

/** A partner route's secret (a URL path segment): 256 random bits, base64url, shown once. */
export function newPartnerSecret(): string {
  return `ps_${randomBytes(32).toString('base64url')}`;
}

/** Two hex SHA-256 digests compared in constant time. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * SHA-256 of the token. A fast hash is enough (no salt, no KDF): tokens are 256-bit random values,
 * not guessable passwords, and a deterministic hash lets the authorizer look them up by key.
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The token from an `Authorization: Bearer <token>` header, or undefined when absent/malformed. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]{20,512})\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** API Gateway usage-plan key value (≥ 20 chars): identifies the integration for throttling. */
export function newUsageKey(): string {
  return randomBytes(24).toString('base64url');
}
