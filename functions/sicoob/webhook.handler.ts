import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { exceptionsAlarm } from '../../lib/manifest/sicoob.ts';
import { functions } from '../../lib/manifest.ts';
import { IntegrationStore } from '../auth/integrations.ts';
import { dynamo } from '../shared/aws.ts';
import { tableName } from '../shared/env.ts';
import { ClientError, json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { cachedPartnerSecrets, partnerIntegration } from '../shared/partner.ts';
import { SICOOB_PARTNER } from './partner.ts';
import { receiveSicoobWebhook } from './webhook.ts';
import { archive, boletos } from './wiring.ts';

const integrations = cachedPartnerSecrets(new IntegrationStore(dynamo(), tableName('integrations')), 60_000);
// New exceptions feed the same alarm as the sweep's (lib/stateful-stack.ts).
const metrics = new Metrics({ namespace: exceptionsAlarm.namespace, serviceName: exceptionsAlarm.service });
const MAX_BODY_BYTES = functions.sicoobWebhook.trigger.maxBodyBytes;

/**
 * POST /sicoob/webhook/{secret}: 401 for a secret that opens nothing (nothing stored), 413 for a
 * body larger than any notice; otherwise every body is archived and answered 200 — Sicoob accepts
 * only 200/201/204 and never a 202 (spec §2.2) — with a short body, as Sicoob keeps it in its
 * delivery history.
 */
export const handler = httpRoute(async (event) => {
  await partnerIntegration(event, SICOOB_PARTNER, integrations);
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > MAX_BODY_BYTES)
    throw new ClientError(413, [
      { key: 'body', message: `body is ${raw.length} bytes; a Sicoob notice is under ${MAX_BODY_BYTES}` },
    ]);
  const { outcome, newException } = await receiveSicoobWebhook(
    { boletos: boletos(), archive: archive(), now: () => new Date() },
    raw,
  );
  if (newException) {
    metrics.addMetric(exceptionsAlarm.metric, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  }
  logger.info('Sicoob webhook', { outcome });
  return json(200, { mensagem: 'recebido', outcome });
});
