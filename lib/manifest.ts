import { gatewayErrorBody, handlerErrors, type GatewayError } from '../functions/shared/http-errors.ts';
import * as auth from './manifest/auth.ts';
import * as carat from './manifest/carat.ts';
import * as cielo from './manifest/cielo.ts';
import * as nfce from './manifest/nfce.ts';
import * as operations from './manifest/operations.ts';
import * as orders from './manifest/orders.ts';
import * as payments from './manifest/payments.ts';
import * as sicoob from './manifest/sicoob.ts';

/**
 * The one declaration of the backend's resources and functions. Each capability declares its own
 * fragment in lib/manifest/<capability>.ts (the tables, queues, buckets and secrets it owns, its
 * functions with their triggers and grants); this module merges them — refusing a name declared
 * twice or a grant naming nothing declared — and is the single thing the CDK stacks (lib/*-stack.ts)
 * and the local runtime (lib/local/) read, so a route, queue, schedule or permission cannot exist in
 * one and be missing in the other. No AWS or CDK imports here: it is plain data.
 */

export interface TableSpec {
  /** Partition key attribute (string). Every table uses a string `pk`; sort keys where declared. */
  partitionKey: string;
  sortKey?: string;
  /** Global secondary indexes, all projecting ALL attributes. */
  indexes?: readonly { name: string; partitionKey: string; sortKey?: string }[];
}

export interface QueueSpec {
  /** Seconds a received message stays invisible; must exceed the consumer's timeout. */
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the queue's DLQ (the same in AWS and locally). */
  maxReceiveCount: number;
  retentionDays: number;
}

export interface SecretSpec {
  /** Each integration's secret is `<prefix><integrationHubServiceId>`. */
  prefix: string;
  /** What each secret holds, in a few words (the IAM acknowledgement names it). */
  holds: string;
}

export interface BucketSpec {
  /** Every version of every object is kept at least this many days (fiscal documents: 5 years by law). */
  retainDays: number;
}

/** The capabilities' fragments, by capability. */
export const fragments = { auth, payments, orders, nfce, operations, cielo, carat, sicoob } as const;

export const tables = {
  ...auth.tables,
  ...payments.tables,
  ...orders.tables,
  ...nfce.tables,
  ...operations.tables,
  ...cielo.tables,
  ...carat.tables,
  ...sicoob.tables,
} as const;
export const queues = {
  ...auth.queues,
  ...payments.queues,
  ...orders.queues,
  ...nfce.queues,
  ...operations.queues,
  ...cielo.queues,
  ...carat.queues,
  ...sicoob.queues,
} as const;
export const buckets = {
  ...auth.buckets,
  ...payments.buckets,
  ...orders.buckets,
  ...nfce.buckets,
  ...operations.buckets,
  ...cielo.buckets,
  ...carat.buckets,
  ...sicoob.buckets,
} as const;
export const secrets = {
  ...auth.secrets,
  ...payments.secrets,
  ...orders.secrets,
  ...nfce.secrets,
  ...operations.secrets,
  ...cielo.secrets,
  ...carat.secrets,
  ...sicoob.secrets,
} as const;
export type SecretName = keyof typeof secrets;
export type TableName = keyof typeof tables;
export type QueueName = keyof typeof queues;
export type BucketName = keyof typeof buckets;

/** API-wide settings: the usage plan's per-integration throttle and the authorizer cache. */
export const api = {
  /** Requests per second per integration (usage plan key), steady state. */
  rateLimitPerSecond: 20,
  /** Bucket size: requests an integration may send in one burst. */
  burstLimit: 40,
  /** Seconds API Gateway caches an authorizer answer per token (0 disables). */
  authorizerCacheSeconds: 60,
  /** Stage-wide guard over all integrations together (AWS only; the per-integration limit is above). */
  stageRateLimitPerSecond: 200,
  stageBurstLimit: 400,
  /**
   * Each partner route's own throttle (requests per second and burst, all integrations together):
   * a flood of partner calls cannot use up what POS traffic needs.
   */
  partnerRateLimitPerSecond: 50,
  partnerBurstLimit: 100,
} as const;

/**
 * Answers API Gateway gives itself (gateway responses in AWS, the same bodies locally), in the
 * project's error format `{"errors":[{"key","message"}]}`.
 */
export const gatewayErrors = {
  ...handlerErrors,
  throttled: {
    statusCode: 429,
    key: 'rate',
    // One answer for every throttle (API Gateway has a single THROTTLED response): it names both.
    message: `too many requests: at most ${api.rateLimitPerSecond} per second with bursts of ${api.burstLimit} per integration (partner routes: ${api.partnerRateLimitPerSecond} per second with bursts of ${api.partnerBurstLimit} in all); retry after a pause`,
  },
  /** API Gateway's MISSING_AUTHENTICATION_TOKEN is what it answers for a route that does not exist. */
  noSuchRoute: { statusCode: 404, key: 'route', message: 'no such route' },
  tooLarge: { statusCode: 413, key: 'body', message: 'request too large' },
  quotaExceeded: { statusCode: 429, key: 'rate', message: 'request quota exceeded for this integration' },
  /** Any other refusal by API Gateway itself (it keeps its own 4xx status code). */
  rejected: { statusCode: 400, key: 'request', message: 'request rejected' },
  /** A path whose percent-encoding does not decode (the local gateway; API Gateway: `rejected`). */
  invalidPath: {
    statusCode: 400,
    key: 'path',
    message: 'path is not valid percent-encoding: every % must start a %XX escape, and the escapes must spell UTF-8',
  },
} as const;

export type { GatewayError };
export { gatewayErrorBody };

export type Access = 'read' | 'readWrite';
/**
 * Buckets: read, put objects, or both. No function deletes or changes versions: the fiscal bucket
 * is versioned, so a put over a key (a receipt rewritten once authorized) keeps the earlier version.
 */
export type BucketAccess = 'read' | 'put' | 'readPut';

export type Trigger =
  | {
      kind: 'http';
      method: 'GET' | 'POST' | 'PUT' | 'DELETE';
      path: string;
      /**
       * Who may call: `bearer`, a POS integration's token (usage-plan throttled per integration);
       * `admin`, an operator's token (POS tokens get 403 there, admin tokens 403 on POS routes);
       * `partner`, a partner calling us with the integration's secret as the path's last segment
       * `{secret}` (checked by the handler, hashed, in constant time), throttled per route.
       */
      auth: RouteAuth;
      /** The partner whose secrets open a `partner` route (its secrets are kept per partner). */
      partner?: string;
      /** Largest body the route accepts, in bytes (413 above); routes without a body leave it out. */
      maxBodyBytes?: number;
    }
  | { kind: 'authorizer' }
  | {
      kind: 'queue';
      queue: QueueName;
      batchSize: number;
      /** Batches processed at once (Lambda's event source maximum concurrency, ≥ 2). */ maxConcurrency: number;
    }
  | {
      kind: 'schedule';
      /**
       * An EventBridge schedule expression, in UTC: `rate(1 minute)`, `rate(5 minutes)`, `rate(2 days)`
       * or `cron(minutes hours day-of-month month day-of-week year)` (lib/schedule.ts reads it; both
       * runtimes refuse what EventBridge refuses). Delivery is at least once: the function must be
       * safe to run twice at once.
       */
      expression: string;
      description: string;
    };

export type RouteAuth = 'bearer' | 'admin' | 'partner';
export type HttpTrigger = Extract<Trigger, { kind: 'http' }>;

export interface FunctionSpec {
  /** Source file exporting `handler`, relative to the project root. */
  entry: string;
  description: string;
  trigger: Trigger;
  timeoutSeconds: number;
  memoryMb: number;
  tables?: Partial<Record<TableName, Access>>;
  /** Queues the function sends to. */
  sendsTo?: readonly QueueName[];
  /** Queues whose dead-letter queue the function reads and deletes from (redrive: with `sendsTo`). */
  deadLetters?: readonly QueueName[];
  buckets?: Partial<Record<BucketName, BucketAccess>>;
  /** Secrets the function reads (GetSecretValue under the prefix). */
  secrets?: readonly SecretName[];
  /**
   * Partners' base-URL variables the function reads (`CIELO_API_URL`…): unset, the code uses the
   * partner's production URL; `cdk deploy -c CIELO_API_URL=<sandbox>` sets it in AWS, the local
   * runtime sets it to its simulator's.
   */
  partnerUrls?: readonly string[];
  /**
   * The function asks DynamoDB for point-in-time exports of `table` into `bucket` under `prefix`
   * (ExportTableToPointInTime, and the multipart puts DynamoDB makes on its behalf there).
   */
  exportsTable?: { table: TableName; bucket: BucketName; prefix: string };
}

export const functions = {
  ...auth.functions,
  ...payments.functions,
  ...orders.functions,
  ...nfce.functions,
  ...operations.functions,
  ...cielo.functions,
  ...carat.functions,
  ...sicoob.functions,
} as const;

export type FunctionName = keyof typeof functions;

type Fragment = {
  tables: Record<string, unknown>;
  queues: Record<string, unknown>;
  buckets: Record<string, unknown>;
  secrets: Record<string, unknown>;
  functions: Record<string, FunctionSpec>;
};

/**
 * Checks that fragments merge cleanly: no table, queue, bucket, secret or function declared by
 * two capabilities (the spread would silently keep one), and every grant and trigger naming a
 * resource some fragment declares. Throws one Error listing every problem.
 */
export function assertFragments(parts: Readonly<Record<string, Fragment>>): void {
  const problems: string[] = [];
  const kinds = ['tables', 'queues', 'buckets', 'secrets', 'functions'] as const;
  const declared = Object.fromEntries(kinds.map((kind) => [kind, new Map<string, string>()])) as Record<
    (typeof kinds)[number],
    Map<string, string>
  >;
  for (const [capability, fragment] of Object.entries(parts)) {
    for (const kind of kinds) {
      for (const name of Object.keys(fragment[kind])) {
        const owner = declared[kind].get(name);
        if (owner) problems.push(`${kind} ${name} is declared by both ${owner} and ${capability}`);
        else declared[kind].set(name, capability);
      }
    }
  }
  const check = (fn: string, kind: 'tables' | 'queues' | 'buckets' | 'secrets', names: readonly string[]) => {
    for (const name of names) if (!declared[kind].has(name)) problems.push(`${fn} uses undeclared ${kind} ${name}`);
  };
  for (const fragment of Object.values(parts)) {
    for (const [fn, spec] of Object.entries(fragment.functions)) {
      check(fn, 'tables', Object.keys(spec.tables ?? {}));
      check(fn, 'buckets', Object.keys(spec.buckets ?? {}));
      check(fn, 'secrets', spec.secrets ?? []);
      check(fn, 'queues', [
        ...(spec.sendsTo ?? []),
        ...(spec.deadLetters ?? []),
        ...(spec.trigger.kind === 'queue' ? [spec.trigger.queue] : []),
      ]);
    }
  }
  if (problems.length > 0) throw new Error(`the manifest's fragments do not merge: ${problems.join('; ')}`);
}
assertFragments(fragments);

/**
 * The rules an HTTP route's auth mode depends on, checked by both runtimes before anything starts:
 * admin routes live under `/admin/` (the authorizer's policy admits admin tokens there and POS
 * tokens everywhere else), partner routes end with `/{secret}` and name their partner.
 */
export function assertRoutes(specs: Readonly<Record<string, FunctionSpec>>): void {
  const problems = Object.entries(specs).flatMap(([name, { trigger }]) => {
    if (trigger.kind !== 'http') return [];
    const admin = trigger.path.startsWith('/admin/');
    if (trigger.auth === 'admin' && !admin) return [`${name}: admin route ${trigger.path} must start with /admin/`];
    if (trigger.auth !== 'admin' && admin) return [`${name}: ${trigger.path} is under /admin/ but its auth is ${trigger.auth}`];
    if (trigger.auth === 'partner' && (!trigger.partner || !trigger.path.endsWith('/{secret}')))
      return [`${name}: partner route ${trigger.path} must end with /{secret} and name its partner`];
    if (trigger.auth !== 'partner' && trigger.partner) return [`${name}: only partner routes name a partner`];
    return [];
  });
  if (problems.length > 0) throw new Error(`invalid routes in the manifest: ${problems.join('; ')}`);
}

/** Environment variable names: one per resource, identical in AWS and locally. */
export const envName = {
  table: (name: TableName) => `TABLE_${screaming(name)}`,
  queueUrl: (name: QueueName) => `QUEUE_${screaming(name)}_URL`,
  dlqUrl: (name: QueueName) => `QUEUE_${screaming(name)}_DLQ_URL`,
  bucket: (name: BucketName) => `BUCKET_${screaming(name)}`,
  secretPrefix: (name: SecretName) => `SECRET_PREFIX_${screaming(name)}`,
};

function screaming(camel: string): string {
  return camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Physical names used by the local stack (AWS generates its own and passes them in env). */
export const localName = {
  table: (name: TableName) => `checkout-${name}`,
  queue: (name: QueueName) => `checkout-${name}`,
  dlq: (name: QueueName) => `checkout-${name}-dlq`,
  bucket: (name: BucketName) => `checkout-${name.toLowerCase()}`,
};
