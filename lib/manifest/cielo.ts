/**
 * Cielo LIO Order Manager: the notification webhook, each order's state and history, the
 * verification of claims with Cielo's API, and the reads for stores and operators.
 */
import type { BucketSpec, FunctionSpec, QueueSpec, SecretSpec, TableSpec } from '../manifest.ts';

export const tables = {
  /**
   * Cielo orders by `<integrationHubServiceId>#<order id>` (status, history, transactions,
   * verification, invoice), and the unreadable notifications. Sparse indexes: the integration's
   * open orders (Order Mesa's lookups), claims waiting for the API (the sweep), what an operator
   * must look at.
   */
  cieloOrders: {
    partitionKey: 'pk',
    indexes: [
      { name: 'openOrders', partitionKey: 'openFor', sortKey: 'updatedAt' },
      { name: 'pendingVerifications', partitionKey: 'verifyPending', sortKey: 'verifySince' },
      { name: 'attention', partitionKey: 'attentionFlag', sortKey: 'attentionAt' },
    ],
  },
} as const satisfies Record<string, TableSpec>;

export const queues = {
  /**
   * Orders whose claims wait for the Order Manager API (consumer: cieloVerify). 60 s between
   * attempts while the API is down; after 30 the job rests in the DLQ and the sweep, which reads
   * the pending claims from the table, queues it again.
   */
  cieloVerifications: { visibilityTimeoutSeconds: 60, maxReceiveCount: 30, retentionDays: 14 },
} as const satisfies Record<string, QueueSpec>;

export const buckets = {
  /** Partners' raw notifications as received (Cielo's, later Sicoob's): kept five years, like the books they support. */
  partnerArchive: { retainDays: 5 * 366 },
} as const satisfies Record<string, BucketSpec>;

/** Each integration's Order Manager credentials `{"clientId","accessToken","merchantId"}` under `<prefix><id>`. */
export const secrets = {
  cielo: { prefix: 'checkout/cielo/', holds: 'Cielo Order Manager credentials' },
} as const satisfies Record<string, SecretSpec>;

/**
 * The alarm "Cielo verifications pending for more than an hour": the verification sweep publishes
 * the age of the oldest pending claim every 5 minutes (Powertools Metrics, EMF); an API down for
 * an hour, or a setup problem, shows here. Plain data: the stateful stack builds the alarm.
 */
export const pendingVerificationAlarm = {
  namespace: 'Checkout',
  metric: 'CieloVerificationOldestPendingSeconds',
  /** Powertools puts the service name in a `service` dimension. */
  service: 'cielo',
  thresholdSeconds: 3600,
} as const;

/** POST (the Portuguese docs since 2018) and PUT (the English page): one handler. */
const notification = {
  entry: 'functions/cielo/notify.handler.ts',
  timeoutSeconds: 10,
  memoryMb: 512,
  tables: { cieloOrders: 'readWrite', integrations: 'read' },
  buckets: { partnerArchive: 'put' },
  sendsTo: ['cieloVerifications'],
} as const;
// Whatever Cielo sends is archived and answered, never refused for its size below API Gateway's own limit.
const NOTIFICATION_MAX_BYTES = 6 * 1024 * 1024;

export const functions = {
  cieloNotification: {
    ...notification,
    description: 'POST /cielo/notifications/{secret}: Cielo Order Manager notifications, archived and applied before the 200',
    trigger: {
      kind: 'http',
      method: 'POST',
      path: '/cielo/notifications/{secret}',
      auth: 'partner',
      partner: 'cielo',
      maxBodyBytes: NOTIFICATION_MAX_BYTES,
    },
  },
  cieloNotificationPut: {
    ...notification,
    description: 'PUT /cielo/notifications/{secret}: the same notifications, as the English docs still send them',
    trigger: {
      kind: 'http',
      method: 'PUT',
      path: '/cielo/notifications/{secret}',
      auth: 'partner',
      partner: 'cielo',
      maxBodyBytes: NOTIFICATION_MAX_BYTES,
    },
  },
  cieloVerify: {
    entry: 'functions/cielo/verify.handler.ts',
    description:
      'Confirms PAID / CLOSED and CONFIRMED payments with the Order Manager API; starts the NFC-e of orders paid at the LIO',
    trigger: { kind: 'queue', queue: 'cieloVerifications', batchSize: 5, maxConcurrency: 2 },
    timeoutSeconds: 30,
    memoryMb: 512,
    // invoices, nfce and the fiscal bucket's puts: a sale Cielo cancelled has its NFC-e cancelled too.
    tables: { cieloOrders: 'readWrite', integrations: 'read', payments: 'readWrite', orders: 'readWrite', invoices: 'readWrite' },
    secrets: ['cielo', 'nfce'],
    partnerUrls: ['CIELO_API_URL'],
    sendsTo: ['nfceRequests'],
    // The intake reads a finished payment's answer from the fiscal bucket.
    buckets: { fiscal: 'readPut' },
  },
  cieloVerifySweep: {
    entry: 'functions/cielo/sweep.handler.ts',
    description: 'Re-queues Cielo claims left pending; publishes the age of the oldest (alarm above an hour)',
    trigger: { kind: 'schedule', expression: 'rate(5 minutes)', description: 'Cielo verifications left pending' },
    timeoutSeconds: 60,
    memoryMb: 256,
    tables: { cieloOrders: 'readWrite' },
    sendsTo: ['cieloVerifications'],
  },
  cieloOrder: {
    entry: 'functions/cielo/order.handler.ts',
    description: 'GET /cielo/orders/{orderId}: a Cielo order as the backend keeps it, for the integration it belongs to',
    trigger: { kind: 'http', method: 'GET', path: '/cielo/orders/{orderId}', auth: 'bearer' },
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { cieloOrders: 'read' },
  },
  cieloAttention: {
    entry: 'functions/cielo/attention.handler.ts',
    description: 'GET /admin/cielo/attention: contradicted claims, cancellations after an NFC-e, unreadable notifications',
    trigger: { kind: 'http', method: 'GET', path: '/admin/cielo/attention', auth: 'admin' },
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { cieloOrders: 'read' },
  },
} as const satisfies Record<string, FunctionSpec>;
