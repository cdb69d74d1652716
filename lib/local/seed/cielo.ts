import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { IntegrationStore } from '../../../functions/auth/integrations.ts';
import type { CieloCredentials } from '../../../functions/cielo/config.ts';
import { CIELO_PARTNER } from '../../../functions/cielo/partner.ts';
import { envName } from '../../manifest.ts';
import { provisionCielo } from '../cielo.ts';
import type { LocalRuntime } from '../runtime.ts';
import { DEMO_INTEGRATION } from './auth.ts';

/** What demo.json kept of the last run's Cielo setup. */
export interface KeptCielo {
  cielo?: { webhookUrl?: string; credentials?: Partial<CieloCredentials> };
}

/**
 * The Cielo step of `npm start`: the demo integration's webhook secret (kept across restarts in
 * demo.json while it still opens the integration), its Order Manager credentials and settings
 * ("issue the NFC-e when Cielo reports the order paid": on), and the simulator told where to
 * notify. With CIELO_API_URL set, the credentials come from CIELO_CLIENT_ID, CIELO_ACCESS_TOKEN
 * and CIELO_MERCHANT_ID, and registering the webhook is Cielo support's job (spec §2).
 */
export async function seedCielo(runtime: LocalRuntime, kept: KeptCielo, env: NodeJS.ProcessEnv = process.env) {
  const integrations = new IntegrationStore(runtime.documents, runtime.env[envName.table('integrations')]!);
  const keptSecret = kept.cielo?.webhookUrl?.split('/').at(-1);
  const secret =
    keptSecret && (await integrations.integrationForPartnerSecret(CIELO_PARTNER, keptSecret)) === DEMO_INTEGRATION
      ? keptSecret
      : await integrations.issuePartnerSecret(
          await integrations.ensure(DEMO_INTEGRATION, 'Demo store (seed 003)'),
          CIELO_PARTNER,
        );
  const webhookUrl = `${runtime.baseUrl}/cielo/notifications/${secret}`;

  const external = Boolean(env.CIELO_API_URL?.trim());
  const credentials: CieloCredentials = external
    ? z
        .object({ clientId: z.string().min(1), accessToken: z.string().min(1), merchantId: z.string().min(1) })
        .parse(
          { clientId: env.CIELO_CLIENT_ID, accessToken: env.CIELO_ACCESS_TOKEN, merchantId: env.CIELO_MERCHANT_ID },
          { error: () => 'CIELO_API_URL is set: CIELO_CLIENT_ID, CIELO_ACCESS_TOKEN and CIELO_MERCHANT_ID are needed too' },
        )
    : {
        clientId: kept.cielo?.credentials?.clientId ?? 'demo-client',
        accessToken: kept.cielo?.credentials?.accessToken ?? randomBytes(16).toString('hex'),
        merchantId: kept.cielo?.credentials?.merchantId ?? 'demo-merchant',
      };
  await provisionCielo(runtime.documents, runtime.env, {
    integrationHubServiceId: DEMO_INTEGRATION,
    credentials,
    settings: { invoiceWhenPaid: true },
  });
  if (!external) {
    runtime.cielo.control.addMerchant(credentials);
    runtime.cielo.control.registerWebhook(credentials.merchantId, webhookUrl);
  }
  return {
    cielo: {
      webhookUrl,
      apiUrl: runtime.partnerUrls.cielo,
      merchantId: credentials.merchantId,
      // The simulator's credentials only: real ones stay in .local/secrets.
      ...(external ? {} : { credentials }),
    },
  };
}
