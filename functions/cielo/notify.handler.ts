import { IntegrationStore } from '../auth/integrations.ts';
import { correlationIdOf } from '../shared/api.ts';
import { dynamo } from '../shared/aws.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { cachedPartnerSecrets, partnerIntegration } from '../shared/partner.ts';
import { receiveNotification, type NotifyDeps } from './notify.ts';
import { CIELO_PARTNER } from './partner.ts';
import { archive, cieloOrders, table, verificationQueue } from './wiring.ts';

// Same minute as the authorizer's cache of bearer tokens.
const integrations = cachedPartnerSecrets(new IntegrationStore(dynamo(), table('integrations')), 60_000);
const deps: NotifyDeps = {
  archive: archive(),
  orders: cieloOrders(),
  verifications: verificationQueue(),
  now: () => new Date(),
  // Longer than the verifier takes with the API down for a while: its own retries come first.
  requeueAfterMs: 15 * 60_000,
  log: {
    info: (message, extra) => logger.info(message, { ...extra }),
    warn: (message, extra) => logger.warn(message, { ...extra }),
    error: (message, extra) => logger.error(message, { ...extra }),
  },
};

/**
 * POST|PUT /cielo/notifications/{secret}: 401 for a secret that opens no integration (nothing
 * stored); otherwise every body — any content type, any shape — is archived, applied or flagged,
 * and answered 200 (spec §2: Cielo blocks an order whose notifications keep failing).
 */
export const handler = httpRoute(async (event) => {
  const integrationHubServiceId = await partnerIntegration(event, CIELO_PARTNER, integrations);
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const outcome = await receiveNotification(integrationHubServiceId, raw, correlationIdOf(event), deps);
  return json(200, { received: true, notificationId: outcome.notificationId, outcome: outcome.kind });
});
