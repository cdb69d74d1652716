import { IntegrationStore } from '../../../functions/auth/integrations.ts';
import { envName } from '../../manifest.ts';
import type { LocalRuntime } from '../runtime.ts';

/** The seed's integrationHubServiceId (seed 003). */
export const DEMO_INTEGRATION = 'efdd6093-5539-4ac4-ad84-7423a8078dde';

/** The tokens demo.json kept from the last run. */
export interface KeptTokens {
  integrations?: { token?: string }[];
  admin?: { token?: string };
}

/**
 * The auth step of `npm start`: the demo integration with a POS token, and an operator's admin
 * token. Tokens are stored hashed: the plaintext survives restarts only in demo.json, so a kept
 * token that still works is reused.
 */
export async function seedAuth(runtime: LocalRuntime, kept: KeptTokens) {
  const integrations = new IntegrationStore(runtime.documents, runtime.env[envName.table('integrations')]!);
  const integration = await integrations.ensure(DEMO_INTEGRATION, 'Demo store (seed 003)');
  const posToken = kept.integrations?.[0]?.token;
  const token =
    posToken && (await integrations.callerForToken(posToken))?.kind === 'pos'
      ? posToken
      : await integrations.issueToken(integration);
  const adminToken = kept.admin?.token;
  const admin =
    adminToken && (await integrations.callerForToken(adminToken))?.kind === 'admin'
      ? adminToken
      : await integrations.issueAdminToken('local operator');
  return {
    integrations: [{ integrationHubServiceId: DEMO_INTEGRATION, name: integration.name, token }],
    admin: { name: 'local operator', token: admin },
  };
}
