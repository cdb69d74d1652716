/**
 * NFC-e: numbering, the issuer fed by the nfce-requests queue, the fiscal bucket, the A1 / CSC
 * secrets, and the invoice reads.
 */
import type { BucketSpec, FunctionSpec, QueueSpec, SecretSpec, TableSpec } from '../manifest.ts';

export const tables = {
  /**
   * nNF counters per CNPJ and série (`NNF#…`), each payment's reserved number (`NUMBERED#<paymentId>`)
   * and the skipped numbers (`GAP#NNF#…`); the sparse `numbering` index lists the series (`SERIES`)
   * and the gaps by state (`GAP#PENDING`…), by CNPJ, série and number.
   */
  numbering: { partitionKey: 'pk', indexes: [{ name: 'numbering', partitionKey: 'listing', sortKey: 'position' }] },
  /**
   * NFC-e by key (`INVOICE#<chave>`): owner and S3 locations, for reprints. Offline-contingency
   * NFC-e also carry their transmission state, in the sparse `contingency` index (oldest first).
   */
  invoices: {
    partitionKey: 'pk',
    indexes: [{ name: 'contingency', partitionKey: 'contingencyState', sortKey: 'contingencyOrder' }],
  },
} as const satisfies Record<string, TableSpec>;

export const queues = {
  /** Payments waiting for their NFC-e (consumer: the NFC-e issuer). */
  nfceRequests: { visibilityTimeoutSeconds: 180, maxReceiveCount: 5, retentionDays: 14 },
} as const satisfies Record<string, QueueSpec>;

export const buckets = {
  /** Signed NFC-e XML and nfeProc: fiscal documents, kept six years (the law asks for five). */
  fiscal: { retainDays: 6 * 366 },
} as const satisfies Record<string, BucketSpec>;

/**
 * Secrets Manager names, by prefix: each integration's A1 certificate and CSC live under
 * `<prefix><integrationHubServiceId>`. Locally, JSON files under .local/secrets/.
 */
export const secrets = {
  nfce: { prefix: 'checkout/nfce/', holds: 'A1 certificate and CSC' },
} as const satisfies Record<string, SecretSpec>;

/**
 * The alarm "contingency NFC-e close to their deadline": the contingency sender publishes, every
 * run, how many NFC-e issued in offline contingency are still not authorized (pending or
 * rejected) within `defaultWithinHours` (CONTINGENCY_ALARM_HOURS) of their transmission deadline
 * or past it. A sender that stops running publishes nothing, which alarms too.
 */
export const contingencyDeadlineAlarm = {
  namespace: 'Checkout',
  metric: 'ContingencyNearDeadline',
  service: 'nfce',
  defaultWithinHours: 6,
} as const;

/** Both invoice routes: one handler, read-only on the invoices index and the fiscal bucket. */
const invoiceReader = {
  entry: 'functions/nfce/invoice.handler.ts',
  timeoutSeconds: 10,
  memoryMb: 256,
  tables: { invoices: 'read' },
  buckets: { fiscal: 'read' },
} as const;

export const functions = {
  nfceIssuer: {
    entry: 'functions/nfce/issuer.handler.ts',
    description: 'Issues the NFC-e of a queued payment: number, build, sign, store, authorize at SEFAZ',
    trigger: { kind: 'queue', queue: 'nfceRequests', batchSize: 1, maxConcurrency: 10 },
    timeoutSeconds: 30,
    memoryMb: 1024,
    // cieloOrders and the cielo secret: a payment with no POS tab may pay an open Cielo order.
    tables: {
      payments: 'readWrite',
      orders: 'readWrite',
      numbering: 'readWrite',
      invoices: 'readWrite',
      integrations: 'read',
      cieloOrders: 'readWrite',
    },
    buckets: { fiscal: 'put' },
    secrets: ['nfce', 'cielo'],
    partnerUrls: ['CIELO_API_URL'],
  },
  nfceContingencySender: {
    entry: 'functions/nfce/contingency-sender.handler.ts',
    description:
      'Transmits the NFC-e issued in offline contingency once SEFAZ answers, and settles the online attempt each replaced (110112 or inutilização)',
    trigger: { kind: 'schedule', expression: 'rate(5 minutes)', description: 'Offline-contingency NFC-e waiting for SEFAZ' },
    // Two runs at once only repeat SEFAZ calls, which SEFAZ answers 204 / 573: read as done.
    timeoutSeconds: 300,
    memoryMb: 1024,
    tables: { invoices: 'readWrite', numbering: 'readWrite', integrations: 'read' },
    buckets: { fiscal: 'readPut' },
    secrets: ['nfce'],
  },
  nfceInutilizacao: {
    entry: 'functions/nfce/inutilizacao.handler.ts',
    description: 'Declares the skipped NFC-e numbers unused at SEFAZ (NFeInutilizacao4), after querying the keys built for them',
    // 06:00 UTC, 03:00 in São Paulo: every day, so a gap is declared long before the 10th of the following month.
    trigger: { kind: 'schedule', expression: 'cron(0 6 * * ? *)', description: 'Skipped NFC-e numbers to declare unused' },
    timeoutSeconds: 300,
    memoryMb: 1024,
    tables: { numbering: 'readWrite', integrations: 'read' },
    buckets: { fiscal: 'put' },
    secrets: ['nfce'],
  },
  nfceNumberingList: {
    entry: 'functions/nfce/numbering-list.handler.ts',
    description: 'GET /admin/nfce/numbering: per série the last number, the skipped numbers and their inutilização',
    trigger: { kind: 'http', method: 'GET', path: '/admin/nfce/numbering', auth: 'admin' },
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { numbering: 'read' },
  },
  nfceContingencyList: {
    entry: 'functions/nfce/contingency-list.handler.ts',
    description: 'GET /admin/nfce/contingency: offline-contingency NFC-e pending, sent and rejected, with their deadlines',
    trigger: { kind: 'http', method: 'GET', path: '/admin/nfce/contingency', auth: 'admin' },
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { invoices: 'read' },
  },
  invoiceXml: {
    ...invoiceReader,
    description: 'GET /invoices/{invoiceKey}: the authorized nfeProc XML',
    trigger: { kind: 'http', method: 'GET', path: '/invoices/{invoiceKey}', auth: 'bearer' },
  },
  invoiceCancellation: {
    entry: 'functions/nfce/cancellation.handler.ts',
    description:
      'POST /invoices/{invoiceKey}/cancellation: cancels an NFC-e (event 110111) within 30 minutes of its authorization',
    trigger: {
      kind: 'http',
      method: 'POST',
      path: '/invoices/{invoiceKey}/cancellation',
      auth: 'bearer',
      maxBodyBytes: 4 * 1024,
    },
    timeoutSeconds: 29,
    memoryMb: 512,
    tables: { invoices: 'readWrite', integrations: 'read' },
    buckets: { fiscal: 'readPut' },
    secrets: ['nfce'],
  },
  invoiceCancellationXml: {
    ...invoiceReader,
    description: 'GET /invoices/{invoiceKey}/cancellation: the procEventoNFe of a cancelled NFC-e',
    trigger: { kind: 'http', method: 'GET', path: '/invoices/{invoiceKey}/cancellation', auth: 'bearer' },
  },
  invoiceReceipt: {
    ...invoiceReader,
    description: 'GET /invoices/{invoiceKey}/receipt: the DANFE NFC-e text, for a reprint',
    trigger: { kind: 'http', method: 'GET', path: '/invoices/{invoiceKey}/receipt', auth: 'bearer' },
  },
} as const satisfies Record<string, FunctionSpec>;
