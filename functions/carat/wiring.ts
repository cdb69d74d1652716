import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { dynamo } from '../shared/aws.ts';
import { once, readEnv, tableName } from '../shared/env.ts';
import { secretStore } from '../shared/secrets.ts';
import { esitefApi, ESITEF_PRODUCTION_URL, type EsitefApi } from './esitef.ts';
import type { RechargeDeps } from './recharges.ts';
import { DynamoRecharges } from './store.ts';

/**
 * Adapters of the Carat handlers, each built on first use from the variables it needs, validated
 * with zod: the recharges table, and each integration's e-SiTef client with its merchant key
 * (Secrets Manager `checkout/carat/<id>`, `{"merchantKey"}`; locally .local/secrets).
 */

/** `{"merchantKey": "…"}`: e-SiTef's merchant_key of the store (< 80 characters, spec §1). */
export const caratSecretSchema = z.object({ merchantKey: z.string().min(1).max(80) });

const settings = /* @__PURE__ */ once(() =>
  readEnv({
    CARAT_API_URL: z.url().default(ESITEF_PRODUCTION_URL),
    /** Each e-SiTef call's limit: three fit in API Gateway's 29 s (status, confirm, the receipts). */
    CARAT_TIMEOUT_SECONDS: z.coerce.number().positive().max(9).default(8),
    /** How long POST /recharges waits for the authenticity POST after begin answered. */
    CARAT_NIT_WAIT_SECONDS: z.coerce.number().min(0).max(10).default(5),
    /** After a do whose answer was lost, e-SiTef's NOV means "never applied" only this long after it was sent. */
    CARAT_NOT_APPLIED_AFTER_SECONDS: z.coerce.number().min(0).default(300),
  }),
);

export const recharges = /* @__PURE__ */ once(() => new DynamoRecharges(dynamo(), tableName('recharges')));

const secrets = /* @__PURE__ */ once(() => ({
  store: secretStore(),
  prefix: readEnv({ [envName.secretPrefix('carat')]: z.string().min(1) })[envName.secretPrefix('carat')] as string,
}));

/** The integration's e-SiTef client, or undefined when it has no (valid) merchant key secret. */
export async function esitefFor(integrationHubServiceId: string): Promise<EsitefApi | undefined> {
  const raw = await secrets().store.get(`${secrets().prefix}${integrationHubServiceId}`);
  if (!raw) return undefined;
  let parsed;
  try {
    parsed = caratSecretSchema.safeParse(JSON.parse(raw));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  return esitefApi(settings().CARAT_API_URL as string, {
    merchantKey: parsed.data.merchantKey,
    timeoutMs: (settings().CARAT_TIMEOUT_SECONDS as number) * 1000,
  });
}

/** CARAT_NOT_APPLIED_AFTER_SECONDS, in ms (the store's routes and the reconciler). */
export const notAppliedAfterMs = () => (settings().CARAT_NOT_APPLIED_AFTER_SECONDS as number) * 1000;

/** What the store's routes need. */
export const rechargeDeps = /* @__PURE__ */ once((): RechargeDeps => ({
  recharges: recharges(),
  esitef: esitefFor,
  now: () => new Date(),
  newId: randomUUID,
  nitWaitMs: (settings().CARAT_NIT_WAIT_SECONDS as number) * 1000,
  notAppliedAfterMs: notAppliedAfterMs(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}));
