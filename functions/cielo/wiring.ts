import { PutObjectCommand } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { envName, type BucketName, type QueueName, type TableName } from '../../lib/manifest.ts';
import { OrderStore } from '../orders/order.ts';
import { SqsJobQueue } from '../payments/job.ts';
import { dynamo, s3, sqs } from '../shared/aws.ts';
import { once, readEnv, tableName } from '../shared/env.ts';
import { secretStore } from '../shared/secrets.ts';
import { orderManagerApi, type OrderManagerApi } from './api.ts';
import { CieloConfig, type CieloCredentials } from './config.ts';
import type { VerificationJob } from './notify.ts';
import { cieloOrderLink } from './resolve.ts';
import { DynamoCieloOrders } from './store.ts';

/**
 * Adapters of the Cielo handlers, each built on first use from the variables it needs (a handler
 * is granted only its own resources, so it gets only their variables), validated with zod.
 */

/** Sandbox: https://api.cielo.com.br/sandbox-lio/order-management/v1 (spec §1). */
export const CIELO_PRODUCTION_URL = 'https://api.cielo.com.br/order-management/v1';

export const table = tableName;
export const queueUrl = (name: QueueName) => readEnv({ [envName.queueUrl(name)]: z.url() })[envName.queueUrl(name)] as string;
export const bucket = (name: BucketName) =>
  readEnv({ [envName.bucket(name)]: z.string().min(1) })[envName.bucket(name)] as string;

export const cieloOrders = /* @__PURE__ */ once(() => new DynamoCieloOrders(dynamo(), table('cieloOrders')));

export const verificationQueue = /* @__PURE__ */ once(
  () => new SqsJobQueue<VerificationJob>(sqs(), queueUrl('cieloVerifications')),
);

/** Raw notification bodies, as received, in the partner archive bucket. */
export const archive = /* @__PURE__ */ once(() => {
  const name = bucket('partnerArchive');
  return {
    async put(key: string, body: Buffer, contentType: string) {
      await s3().send(new PutObjectCommand({ Bucket: name, Key: key, Body: body, ContentType: contentType }));
    },
  };
});

const apiSettings = /* @__PURE__ */ once(() =>
  readEnv({
    CIELO_API_URL: z.url().default(CIELO_PRODUCTION_URL),
    CIELO_TIMEOUT_SECONDS: z.coerce.number().positive().default(8),
  }),
);

export const cieloConfig = /* @__PURE__ */ once(
  () =>
    new CieloConfig(
      dynamo(),
      table('integrations'),
      secretStore(),
      readEnv({ [envName.secretPrefix('cielo')]: z.string().min(1) })[envName.secretPrefix('cielo')] as string,
    ),
);

export const cieloApi = (credentials: CieloCredentials): OrderManagerApi =>
  orderManagerApi(apiSettings().CIELO_API_URL as string, credentials, {
    timeoutMs: (apiSettings().CIELO_TIMEOUT_SECONDS as number) * 1000,
  });

/** The issuer's link to Cielo orders (Order Mesa payments for tables Cielo knows). */
export const orderLink = /* @__PURE__ */ once(() =>
  cieloOrderLink({
    orders: cieloOrders(),
    config: cieloConfig(),
    api: cieloApi,
    tabs: new OrderStore(dynamo(), table('orders')),
    now: () => new Date(),
  }),
);
