import { PutObjectCommand } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { dynamo, s3 } from '../shared/aws.ts';
import { once, readEnv, tableName } from '../shared/env.ts';
import { secretStore } from '../shared/secrets.ts';
import { cobrancaApi, SICOOB_PRODUCTION_AUTH_URL, SICOOB_PRODUCTION_URL, type CobrancaApi } from './api.ts';
import { DynamoBoletos, type AccountSettings } from './store.ts';

/**
 * Adapters of the Sicoob handlers, each built on first use from the variables it needs, validated
 * with zod: the boletos table, the partner archive, and each account's Cobrança v3 client with its
 * A1 certificate (Secrets Manager `checkout/sicoob/<numeroCliente>`, `{"privateKeyPem",
 * "certificatePem"}`; locally .local/secrets).
 */

/** An account's certificate secret: the A1's key and certificate, PEM. */
export const sicoobSecretSchema = z.object({ privateKeyPem: z.string().min(1), certificatePem: z.string().min(1) });

export const boletos = /* @__PURE__ */ once(() => new DynamoBoletos(dynamo(), tableName('boletos')));

/** Raw Sicoob payloads (ZIPs, notices) in the partner archive bucket. */
export const archive = /* @__PURE__ */ once(() => {
  const name = readEnv({ [envName.bucket('partnerArchive')]: z.string().min(1) })[envName.bucket('partnerArchive')] as string;
  return {
    async put(key: string, body: Buffer, contentType: string) {
      await s3().send(new PutObjectCommand({ Bucket: name, Key: key, Body: body, ContentType: contentType }));
    },
  };
});

const settings = /* @__PURE__ */ once(() =>
  readEnv({
    SICOOB_API_URL: z.url().default(SICOOB_PRODUCTION_URL),
    SICOOB_AUTH_URL: z.url().default(SICOOB_PRODUCTION_AUTH_URL),
    SICOOB_TIMEOUT_SECONDS: z.coerce.number().positive().default(30),
    SICOOB_RETRY_BASE_MS: z.coerce.number().min(0).default(300),
  }),
);

const secrets = /* @__PURE__ */ once(() => ({
  store: secretStore(),
  prefix: readEnv({ [envName.secretPrefix('sicoob')]: z.string().min(1) })[envName.secretPrefix('sicoob')] as string,
}));

/** The account's client; throws when its certificate secret is missing or unreadable. */
export async function cobrancaFor(account: AccountSettings): Promise<CobrancaApi> {
  const raw = await secrets().store.get(`${secrets().prefix}${account.numeroCliente}`);
  if (!raw) throw new Error(`no certificate secret for Sicoob account ${account.numeroCliente}`);
  let certificate;
  try {
    certificate = sicoobSecretSchema.parse(JSON.parse(raw));
  } catch {
    throw new Error(
      `the certificate secret of Sicoob account ${account.numeroCliente} is not {"privateKeyPem","certificatePem"}`,
    );
  }
  return cobrancaApi(
    {
      numeroCliente: account.numeroCliente,
      clientId: account.clientId,
      tls: { key: certificate.privateKeyPem, cert: certificate.certificatePem },
    },
    {
      apiUrl: settings().SICOOB_API_URL as string,
      authUrl: settings().SICOOB_AUTH_URL as string,
      timeoutMs: (settings().SICOOB_TIMEOUT_SECONDS as number) * 1000,
      retryBaseMs: settings().SICOOB_RETRY_BASE_MS as number,
    },
  );
}
