/**
 * The one declaration of the backend's resources and functions. The CDK stacks (lib/*-stack.ts)
 * and the local runtime (lib/local/) both read it, so a route, queue, schedule or permission cannot
 * exist in one and be missing in the other. Grants and environment variables derive from it.
 * No AWS or CDK imports here: it is plain data.
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

export interface BucketSpec {
  /** Every version of every object is kept at least this many days (fiscal documents: 5 years by law). */
  retainDays: number;
}

export const tables = {
  /** Integrations (POS vendors / stores) and their hashed API tokens. */
  integrations: { partitionKey: 'pk' },
  /**
   * Payments: one slot item per order (`ORDER#…`) holding the payment in flight or last finished,
   * plus archived payments (`PAYMENT#…`). The sparse index lists payments whose job is not
   * confirmed on the queue yet, for the re-queue sweep.
   */
  payments: {
    partitionKey: 'pk',
    indexes: [{ name: 'byEnqueuePending', partitionKey: 'enqueuePending', sortKey: 'createdAt' }],
  },
  /** The open order of each table, card or order id (`ORDER#…`, like the payment's slot): its items. */
  orders: { partitionKey: 'pk' },
  /** nNF counters per CNPJ and série, and each payment's reserved number (`NUMBERED#<paymentId>`). */
  numbering: { partitionKey: 'pk' },
  /** Authorized NFC-e by key (`INVOICE#<chave>`): owner and S3 locations, for reprints. */
  invoices: { partitionKey: 'pk' },
} as const satisfies Record<string, TableSpec>;

/**
 * Secrets Manager names, by prefix: each integration's A1 certificate and CSC live under
 * `<prefix><integrationHubServiceId>`. Locally, JSON files under .local/secrets/.
 */
export const secrets = {
  nfce: { prefix: 'checkout/nfce/' },
} as const;
export type SecretName = keyof typeof secrets;

export const queues = {
  /** Payments waiting for their NFC-e (consumer: the NFC-e issuer). */
  nfceRequests: { visibilityTimeoutSeconds: 180, maxReceiveCount: 5, retentionDays: 14 },
} as const satisfies Record<string, QueueSpec>;

export const buckets = {
  /** Signed NFC-e XML and nfeProc: fiscal documents, kept six years (the law asks for five). */
  fiscal: { retainDays: 6 * 366 },
} as const satisfies Record<string, BucketSpec>;

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
} as const;

/**
 * Answers API Gateway gives itself (gateway responses in AWS, the same bodies locally), in the
 * project's error format `{"errors":[{"key","message"}]}`.
 */
export const gatewayErrors = {
  unauthorized: { statusCode: 401, key: 'authorization', message: 'missing or unknown bearer token' },
  accessDenied: { statusCode: 403, key: 'authorization', message: 'this token may not call this route' },
  throttled: {
    statusCode: 429,
    key: 'rate',
    message: `too many requests: at most ${api.rateLimitPerSecond} per second with bursts of ${api.burstLimit} per integration`,
  },
  /** API Gateway's MISSING_AUTHENTICATION_TOKEN is what it answers for a route that does not exist. */
  noSuchRoute: { statusCode: 404, key: 'route', message: 'no such route' },
  tooLarge: { statusCode: 413, key: 'body', message: 'request too large' },
  quotaExceeded: { statusCode: 429, key: 'rate', message: 'request quota exceeded for this integration' },
  /** Any other refusal by API Gateway itself (it keeps its own 4xx status code). */
  rejected: { statusCode: 400, key: 'request', message: 'request rejected' },
  internal: { statusCode: 500, key: 'server', message: 'internal error; retry the same request later' },
} as const;

export type GatewayError = (typeof gatewayErrors)[keyof typeof gatewayErrors];

export function gatewayErrorBody(error: GatewayError): string {
  return JSON.stringify({ errors: [{ key: error.key, message: error.message }] });
}

export type Access = 'read' | 'readWrite';
/** Buckets: read, or put new objects only (fiscal XML is never deleted or rewritten by a function). */
export type BucketAccess = 'read' | 'put';

export type Trigger =
  | {
      kind: 'http';
      method: 'GET' | 'POST' | 'PUT' | 'DELETE';
      path: string;
      auth: 'bearer';
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
  | { kind: 'schedule'; everyMinutes: number; description: string };

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
  buckets?: Partial<Record<BucketName, BucketAccess>>;
  /** Secrets the function reads (GetSecretValue under the prefix). */
  secrets?: readonly SecretName[];
}

/** Both invoice routes: one handler, read-only on the invoices index and the fiscal bucket. */
const invoiceReader = {
  entry: 'functions/nfce/invoice.handler.ts',
  timeoutSeconds: 10,
  memoryMb: 256,
  tables: { invoices: 'read' },
  buckets: { fiscal: 'read' },
} as const;

export const functions = {
  authorizer: {
    entry: 'functions/auth/authorizer.handler.ts',
    description: 'Bearer token → integration; usage plan key for per-integration throttling',
    trigger: { kind: 'authorizer' },
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: { integrations: 'read' },
  },
  paymentIntake: {
    entry: 'functions/payments/intake.handler.ts',
    description: 'POST /order/payment: validate, record, queue; poll answers 202/208/200',
    trigger: { kind: 'http', method: 'POST', path: '/order/payment', auth: 'bearer', maxBodyBytes: 64 * 1024 },
    timeoutSeconds: 10,
    memoryMb: 512,
    tables: { payments: 'readWrite' },
    sendsTo: ['nfceRequests'],
    // The 200 answer is assembled from the nfeProc and receipt kept in the fiscal bucket.
    buckets: { fiscal: 'read' },
  },
  orderUpsert: {
    entry: 'functions/orders/upsert.handler.ts',
    description: 'PUT /orders/{orderKeyType}/{orderKey}: the POS pushes the open tab (items for the NFC-e)',
    // 512 KiB: a 500-item tab with 120-character names, escaped, fits.
    trigger: {
      kind: 'http',
      method: 'PUT',
      path: '/orders/{orderKeyType}/{orderKey}',
      auth: 'bearer',
      maxBodyBytes: 512 * 1024,
    },
    timeoutSeconds: 10,
    memoryMb: 512,
    // readWrite on payments: a new tab archives the order's finished payment.
    tables: { orders: 'readWrite', payments: 'readWrite' },
  },
  nfceIssuer: {
    entry: 'functions/nfce/issuer.handler.ts',
    description: 'Issues the NFC-e of a queued payment: number, build, sign, store, authorize at SEFAZ',
    trigger: { kind: 'queue', queue: 'nfceRequests', batchSize: 1, maxConcurrency: 10 },
    timeoutSeconds: 30,
    memoryMb: 1024,
    tables: { payments: 'readWrite', orders: 'readWrite', numbering: 'readWrite', invoices: 'readWrite', integrations: 'read' },
    buckets: { fiscal: 'put' },
    secrets: ['nfce'],
  },
  invoiceXml: {
    ...invoiceReader,
    description: 'GET /invoices/{invoiceKey}: the authorized nfeProc XML',
    trigger: { kind: 'http', method: 'GET', path: '/invoices/{invoiceKey}', auth: 'bearer' },
  },
  invoiceReceipt: {
    ...invoiceReader,
    description: 'GET /invoices/{invoiceKey}/receipt: the DANFE NFC-e text, for a reprint',
    trigger: { kind: 'http', method: 'GET', path: '/invoices/{invoiceKey}/receipt', auth: 'bearer' },
  },
  paymentRequeue: {
    entry: 'functions/payments/requeue.handler.ts',
    description: 'Re-queues payments whose job never reached the queue',
    trigger: { kind: 'schedule', everyMinutes: 1, description: 'payments whose enqueue failed' },
    timeoutSeconds: 60,
    memoryMb: 256,
    tables: { payments: 'readWrite' },
    sendsTo: ['nfceRequests'],
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof functions;

/** Environment variable names: one per resource, identical in AWS and locally. */
export const envName = {
  table: (name: TableName) => `TABLE_${screaming(name)}`,
  queueUrl: (name: QueueName) => `QUEUE_${screaming(name)}_URL`,
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
