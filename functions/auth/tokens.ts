import { createHash, randomBytes } from 'node:crypto';

/** A POS integration's bearer token: 256 random bits, shown once, stored only as its hash. */
export function newToken(): string {
  return `chk_${randomBytes(32).toString('base64url')}`;
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
