import { IntegrationStore } from '../auth/integrations.ts';
import { dynamo } from '../shared/aws.ts';
import { tableName } from '../shared/env.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { cachedPartnerSecrets, partnerIntegration } from '../shared/partner.ts';
import { SICOOB_PARTNER } from './partner.ts';
import { receiveSicoobWebhook } from './webhook.ts';
import { archive, boletos } from './wiring.ts';

const integrations = cachedPartnerSecrets(new IntegrationStore(dynamo(), tableName('integrations')), 60_000);

/**
 * POST /sicoob/webhook/{secret}: 401 for a secret that opens nothing (nothing stored); otherwise
 * every body is archived and answered 200 — Sicoob accepts only 200/201/204 and never a 202 (spec
 * §2.2) — with a short body, as Sicoob keeps it in its delivery history.
 */
export const handler = httpRoute(async (event) => {
  await partnerIntegration(event, SICOOB_PARTNER, integrations);
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const { outcome } = await receiveSicoobWebhook({ boletos: boletos(), archive: archive(), now: () => new Date() }, raw);
  logger.info('Sicoob webhook', { outcome });
  return json(200, { mensagem: 'recebido', outcome });
});
