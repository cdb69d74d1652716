/**
 * Sicoob boletos: the two-day liquidation sweep over Sicoob's movement reports, Sicoob's payment
 * webhook, and finance's admin routes over the boletos (spec ../shared/specs/sicoob-cobranca-v3.md).
 */
import type { BucketSpec, FunctionSpec, QueueSpec, SecretSpec, TableSpec } from '../manifest.ts';

export const tables = {
  /**
   * Boletos by `B#<numeroCliente>#<nossoNumero>`, the sweep's checkpoints (windows, files, cursor),
   * the reconciliation exceptions and the Sicoob accounts. Sparse indexes: the boletos by listing
   * day (all, or by status), by seuNumero and by nosso número; the exceptions, oldest first.
   */
  boletos: {
    partitionKey: 'pk',
    indexes: [
      { name: 'byDate', partitionKey: 'listKind', sortKey: 'listDay' },
      { name: 'byStatus', partitionKey: 'statusKey', sortKey: 'listDay' },
      { name: 'bySeuNumero', partitionKey: 'seuKey' },
      { name: 'byNossoNumero', partitionKey: 'nossoKey' },
      { name: 'exceptions', partitionKey: 'exceptionKind', sortKey: 'exceptionAt' },
    ],
  },
} as const satisfies Record<string, TableSpec>;

export const queues = {} as const satisfies Record<string, QueueSpec>;
export const buckets = {} as const satisfies Record<string, BucketSpec>;

/** Each Sicoob account's A1 certificate `{"privateKeyPem","certificatePem"}` under `<prefix><numeroCliente>`. */
export const secrets = {
  sicoob: { prefix: 'checkout/sicoob/', holds: 'Sicoob account A1 certificates' },
} as const satisfies Record<string, SecretSpec>;

/**
 * The alarm "a sweep window not done 24 h after it closed": the sweep publishes, every run, the
 * age of the oldest window that has closed and is not done. Plain data: the stateful stack builds it.
 */
export const sweepWindowAlarm = {
  namespace: 'Checkout',
  metric: 'SicoobOldestOpenWindowSeconds',
  service: 'sicoob',
  thresholdSeconds: 24 * 3600,
} as const;

/** The alarm "reconciliation exceptions grow": records or notices with no boleto, counted per run. */
export const exceptionsAlarm = {
  namespace: 'Checkout',
  metric: 'SicoobNewExceptions',
  service: 'sicoob',
} as const;

const admin = { timeoutSeconds: 29, memoryMb: 512, tables: { boletos: 'readWrite' } } as const;

export const functions = {
  sicoobSweep: {
    entry: 'functions/sicoob/sweep.handler.ts',
    description: 'Requests, polls and applies Sicoob liquidation reports over two-day windows; marks boletos LIQUIDADO',
    trigger: { kind: 'schedule', expression: 'rate(10 minutes)', description: 'Sicoob liquidation sweep' },
    // A 100,000-record file takes about a minute locally; a run that runs out resumes from its checkpoint.
    timeoutSeconds: 900,
    memoryMb: 1024,
    tables: { boletos: 'readWrite' },
    buckets: { partnerArchive: 'put' },
    secrets: ['sicoob'],
    partnerUrls: ['SICOOB_API_URL', 'SICOOB_AUTH_URL'],
  },
  sicoobWebhook: {
    entry: 'functions/sicoob/webhook.handler.ts',
    description: 'POST /sicoob/webhook/{secret}: Sicoob’s URL validation and payment notices (boleto PAGO)',
    trigger: {
      kind: 'http',
      method: 'POST',
      path: '/sicoob/webhook/{secret}',
      auth: 'partner',
      partner: 'sicoob',
      maxBodyBytes: 256 * 1024,
    },
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { boletos: 'readWrite', integrations: 'read' },
    buckets: { partnerArchive: 'put' },
  },
  boletoImport: {
    ...admin,
    entry: 'functions/sicoob/import.handler.ts',
    description: 'POST /admin/boletos: imports up to 1,000 boletos (all validated before any is written)',
    trigger: { kind: 'http', method: 'POST', path: '/admin/boletos', auth: 'admin', maxBodyBytes: 1024 * 1024 },
  },
  boletoList: {
    ...admin,
    entry: 'functions/sicoob/list.handler.ts',
    description: 'GET /admin/boletos: boletos by status and day, a page at a time',
    trigger: { kind: 'http', method: 'GET', path: '/admin/boletos', auth: 'admin' },
    tables: { boletos: 'read' },
  },
  boletoGet: {
    ...admin,
    entry: 'functions/sicoob/get.handler.ts',
    description: 'GET /admin/boletos/{nossoNumero}: a boleto with its history',
    trigger: { kind: 'http', method: 'GET', path: '/admin/boletos/{nossoNumero}', auth: 'admin' },
    tables: { boletos: 'read' },
  },
  boletoExport: {
    entry: 'functions/sicoob/export.handler.ts',
    description: 'GET /admin/boletos/export.csv: finance’s CSV of the boletos of a period (a link to S3 when large)',
    trigger: { kind: 'http', method: 'GET', path: '/admin/boletos/export.csv', auth: 'admin' },
    timeoutSeconds: 29,
    memoryMb: 1024,
    tables: { boletos: 'read' },
    buckets: { partnerArchive: 'readPut' },
  },
  boletoPitrExport: {
    entry: 'functions/sicoob/pitr-export.handler.ts',
    description:
      'Daily point-in-time export of the boletos table to the partner archive bucket (npm run boletos -- export --pitr)',
    trigger: { kind: 'schedule', expression: 'cron(0 4 * * ? *)', description: 'Boletos table point-in-time export' },
    timeoutSeconds: 30,
    memoryMb: 256,
    // The table's name (its ARN is built from the function's own).
    tables: { boletos: 'read' },
    exportsTable: { table: 'boletos', bucket: 'partnerArchive', prefix: 'exports/pitr/boletos/' },
  },
  boletoExceptions: {
    ...admin,
    entry: 'functions/sicoob/exceptions.handler.ts',
    description: 'GET /admin/boletos/exceptions: liquidations and notices that matched no boleto',
    trigger: { kind: 'http', method: 'GET', path: '/admin/boletos/exceptions', auth: 'admin' },
    tables: { boletos: 'read' },
  },
} as const satisfies Record<string, FunctionSpec>;
