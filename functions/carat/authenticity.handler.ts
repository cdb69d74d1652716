import { IntegrationStore } from '../auth/integrations.ts';
import { dynamo } from '../shared/aws.ts';
import { tableName } from '../shared/env.ts';
import { bodyText } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { cachedPartnerSecrets, partnerIntegration } from '../shared/partner.ts';
import { functions } from '../../lib/manifest.ts';
import { readAuthenticityForm, receiveAuthenticity } from './authenticity.ts';
import { CARAT_PARTNER } from './partner.ts';
import { recharges } from './wiring.ts';

const integrations = cachedPartnerSecrets(new IntegrationStore(dynamo(), tableName('integrations')), 60_000);

/**
 * POST /carat/authenticity/{secret}: e-SiTef's authenticity POST (form-urlencoded, during begin).
 * 200 `OK` once the NIT is stored against the recharge begun with that merchantUSN; anything
 * else (401 wrong secret, 400 bad form, 404 unknown merchantUSN, 409 already used) makes e-SiTef
 * invalidate the NIT. One read and one conditional write: it answers in milliseconds.
 */
export const handler = httpRoute(async (event) => {
  const integration = await partnerIntegration(event, CARAT_PARTNER, integrations);
  const form = readAuthenticityForm(bodyText(event, functions.caratAuthenticity.trigger.maxBodyBytes));
  await receiveAuthenticity({ recharges: recharges(), now: () => new Date() }, integration, form);
  logger.info('NIT received', { merchantUsn: form.merchantUsn });
  return { statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'OK' };
});
