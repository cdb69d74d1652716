import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { IntegrationStore } from '../../../functions/auth/integrations.ts';
import { openA1 } from '../../../functions/nfce/pkcs12.ts';
import { cobrancaApi } from '../../../functions/sicoob/api.ts';
import { SICOOB_PARTNER } from '../../../functions/sicoob/partner.ts';
import { envName } from '../../manifest.ts';
import type { LocalRuntime } from '../runtime.ts';
import { provisionSicoob } from '../sicoob.ts';
import { DEMO_INTEGRATION } from './auth.ts';
import { DEMO_A1 } from './nfce.ts';

/** What demo.json kept of the last run's Sicoob setup. */
export interface KeptSicoob {
  sicoob?: { webhookUrl?: string };
}

/**
 * The Sicoob step of `npm start`: the demo account (`numeroCliente` 707090 as in seed 004, or
 * SICOOB_NUMERO_CLIENTE) with the demo A1 as its certificate (no mutual TLS over http://), known to
 * the simulator; the webhook secret (kept across restarts in demo.json while it still opens the
 * integration), registered with the simulator. With SICOOB_API_URL set, the client_id comes from
 * SICOOB_CLIENT_ID, and the webhook is registered with `npm run integration -- sicoob-webhook
 * register` (Sicoob takes only https on 443).
 */
export async function seedSicoob(
  runtime: LocalRuntime,
  localDir: string,
  kept: KeptSicoob,
  env: NodeJS.ProcessEnv = process.env,
) {
  const integrations = new IntegrationStore(runtime.documents, runtime.env[envName.table('integrations')]!);
  const keptSecret = kept.sicoob?.webhookUrl?.split('/').at(-1);
  const secret =
    keptSecret && (await integrations.integrationForPartnerSecret(SICOOB_PARTNER, keptSecret)) === DEMO_INTEGRATION
      ? keptSecret
      : await integrations.issuePartnerSecret(
          await integrations.ensure(DEMO_INTEGRATION, 'Demo store (seed 003)'),
          SICOOB_PARTNER,
        );
  const webhookUrl = `${runtime.baseUrl}/sicoob/webhook/${secret}`;
  const external = Boolean(env.SICOOB_API_URL?.trim());
  const numeroCliente = z
    .string()
    .regex(/^\d{1,10}$/, 'SICOOB_NUMERO_CLIENTE must be digits')
    .parse(env.SICOOB_NUMERO_CLIENTE?.trim() || '707090');
  const clientId = external
    ? z.string({ error: 'SICOOB_API_URL is set: SICOOB_CLIENT_ID is needed too' }).min(1).parse(env.SICOOB_CLIENT_ID)
    : 'demo-sicoob-client';
  const a1 = openA1(readFileSync(resolve(localDir, DEMO_A1.file)), DEMO_A1.password);
  await provisionSicoob(runtime.documents, runtime.env, {
    numeroCliente,
    clientId,
    privateKeyPem: a1.privateKeyPem,
    certificatePem: a1.certificatePem,
  });
  if (!external) {
    runtime.sicoob.control.addClient(clientId, Number(numeroCliente));
    // What `npm run integration -- sicoob-webhook register` does against Sicoob: the simulator then
    // validates the URL against this run's route and delivers its payment notices there.
    await cobrancaApi(
      { numeroCliente, clientId },
      { apiUrl: runtime.partnerUrls.sicoob, authUrl: runtime.partnerUrls.sicoobAuth, timeoutMs: 10_000 },
    ).registerWebhook(webhookUrl);
  }
  return { sicoob: { apiUrl: runtime.partnerUrls.sicoob, authUrl: runtime.partnerUrls.sicoobAuth, numeroCliente, webhookUrl } };
}
