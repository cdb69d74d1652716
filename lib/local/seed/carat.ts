import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { IntegrationStore } from '../../../functions/auth/integrations.ts';
import { CARAT_PARTNER } from '../../../functions/carat/partner.ts';
import { envName } from '../../manifest.ts';
import { provisionCarat } from '../carat.ts';
import type { LocalRuntime } from '../runtime.ts';
import { DEMO_INTEGRATION } from './auth.ts';

/** What demo.json kept of the last run's Carat setup. */
export interface KeptCarat {
  carat?: { authenticityUrl?: string; merchantKey?: string };
}

/**
 * The Carat step of `npm start`: the demo integration's authenticity-URL secret (kept across
 * restarts in demo.json while it still opens the integration), its e-SiTef merchant key, and the
 * simulator told the store's authenticity URL (in real life, Carat's back office holds it, spec
 * §1). With CARAT_API_URL set, the merchant key comes from CARAT_MERCHANT_KEY and registering the
 * authenticity URL is Carat's back office's job.
 */
export async function seedCarat(runtime: LocalRuntime, kept: KeptCarat, env: NodeJS.ProcessEnv = process.env) {
  const integrations = new IntegrationStore(runtime.documents, runtime.env[envName.table('integrations')]!);
  const keptSecret = kept.carat?.authenticityUrl?.split('/').at(-1);
  const secret =
    keptSecret && (await integrations.integrationForPartnerSecret(CARAT_PARTNER, keptSecret)) === DEMO_INTEGRATION
      ? keptSecret
      : await integrations.issuePartnerSecret(
          await integrations.ensure(DEMO_INTEGRATION, 'Demo store (seed 003)'),
          CARAT_PARTNER,
        );
  const authenticityUrl = `${runtime.baseUrl}/carat/authenticity/${secret}`;
  const external = Boolean(env.CARAT_API_URL?.trim());
  const merchantKey = external
    ? z
        .string({ error: 'CARAT_API_URL is set: CARAT_MERCHANT_KEY is needed too' })
        .min(1, 'CARAT_API_URL is set: CARAT_MERCHANT_KEY is needed too')
        .parse(env.CARAT_MERCHANT_KEY)
    : (kept.carat?.merchantKey ?? randomBytes(24).toString('hex'));
  provisionCarat(runtime.env, { integrationHubServiceId: DEMO_INTEGRATION, merchantKey });
  if (!external) runtime.carat.control.addMerchant(merchantKey, authenticityUrl);
  return {
    carat: {
      apiUrl: runtime.partnerUrls.carat,
      authenticityUrl,
      // The simulator's key only: a real one stays in .local/secrets.
      ...(external ? {} : { merchantKey }),
    },
  };
}
