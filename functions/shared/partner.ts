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
