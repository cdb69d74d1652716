import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ClientError } from './http.ts';
import { handlerErrors } from './http-errors.ts';

/** Finds the integration a partner's secret belongs to (IntegrationStore does, hashed). */
export interface PartnerSecrets {
  integrationForPartnerSecret(partner: string, secret: string): Promise<string | undefined>;
}

/**
 * The integration a `partner` route was called for: its secret is the path's last segment
 * `{secret}`. Throws ClientError 401 (`key: secret`) when it is missing or belongs to no
 * integration, before anything is read or stored. Never log the secret or the path.
 */
export async function partnerIntegration(event: APIGatewayProxyEvent, partner: string, secrets: PartnerSecrets): Promise<string> {
  const secret = event.pathParameters?.secret;
  const integration = secret ? await secrets.integrationForPartnerSecret(partner, secret) : undefined;
  if (!integration) {
    const { key, message } = handlerErrors.unknownPartnerSecret;
    throw new ClientError(401, [{ key, message }]);
  }
  return integration;
}

/**
 * Remembers, per container, which integration a partner secret opened, for `ttlMs`: a partner
 * that notifies often (Cielo, on every status change) costs one table read per minute, not one
 * per call. Unknown secrets are not remembered. A revoked secret keeps working in a warm container
 * for at most `ttlMs`, as a bearer token does in API Gateway's authorizer cache.
 */
export function cachedPartnerSecrets(secrets: PartnerSecrets, ttlMs: number, now: () => number = Date.now): PartnerSecrets {
  const known = new Map<string, { integration: string; until: number }>();
  return {
    async integrationForPartnerSecret(partner, secret) {
      const key = `${partner}\u0000${secret}`;
      const hit = known.get(key);
      if (hit && hit.until > now()) return hit.integration;
      const integration = await secrets.integrationForPartnerSecret(partner, secret);
      if (integration) known.set(key, { integration, until: now() + ttlMs });
      else known.delete(key);
      return integration;
    },
  };
}
