/**
 * Carat e-SiTef mobile recharge: the store's recharge API, e-SiTef's authenticity POST, and the
 * reconciler that never leaves a recharge pending (spec ../shared/specs/carat-esitef-recarga.md).
 */
import type { FunctionSpec, QueueSpec, SecretSpec, TableSpec, BucketSpec } from '../manifest.ts';

export const tables = {
  /**
   * Recharges by `R#<integration>#<rechargeId>`, the usn and orderId pointers and each store's usn
   * counter. Sparse index `unsettled`: what the reconciler must settle, by its last change.
   */
  recharges: {
    partitionKey: 'pk',
    indexes: [{ name: 'unsettled', partitionKey: 'settle', sortKey: 'settleDue' }],
  },
} as const satisfies Record<string, TableSpec>;

export const queues = {} as const satisfies Record<string, QueueSpec>;
export const buckets = {} as const satisfies Record<string, BucketSpec>;

/** Each integration's e-SiTef merchant key `{"merchantKey"}` under `<prefix><id>`. */
export const secrets = {
  carat: { prefix: 'checkout/carat/', holds: 'Carat e-SiTef merchant key' },
} as const satisfies Record<string, SecretSpec>;

/**
 * The alarm "a recharge unsettled for 15 minutes": the reconciler publishes the age of the oldest
 * unsettled recharge (since its do was sent) every run; e-SiTef down, a merchant key gone, or a
 * status that never ends shows here. Plain data: the stateful stack builds the alarm.
 */
export const unsettledRechargeAlarm = {
  namespace: 'Checkout',
  metric: 'CaratOldestUnsettledSeconds',
  service: 'carat',
  thresholdSeconds: 15 * 60,
} as const;

/** Every store route: the recharges table, the merchant key, e-SiTef. */
const storeRoute = {
  // API Gateway answers at 29 s: three e-SiTef calls of at most 8 s each fit.
  timeoutSeconds: 29,
  memoryMb: 256,
  tables: { recharges: 'readWrite' },
  secrets: ['carat'],
  partnerUrls: ['CARAT_API_URL'],
} as const;

export const functions = {
  caratStart: {
    ...storeRoute,
    entry: 'functions/carat/start.handler.ts',
    description: 'POST /recharges: begins a mobile recharge with e-SiTef and waits for the NIT of its authenticity POST',
    trigger: { kind: 'http', method: 'POST', path: '/recharges', auth: 'bearer', maxBodyBytes: 1024 },
  },
  caratDealers: {
    ...storeRoute,
    entry: 'functions/carat/dealers.handler.ts',
    description: 'GET /recharges/{rechargeId}/dealers: the carriers e-SiTef offers',
    trigger: { kind: 'http', method: 'GET', path: '/recharges/{rechargeId}/dealers', auth: 'bearer' },
  },
  caratBranches: {
    ...storeRoute,
    entry: 'functions/carat/branches.handler.ts',
    description: 'GET /recharges/{rechargeId}/branches: a carrier’s recharge values for a DDD',
    trigger: { kind: 'http', method: 'GET', path: '/recharges/{rechargeId}/branches', auth: 'bearer' },
  },
  caratRecharge: {
    ...storeRoute,
    entry: 'functions/carat/recharge.handler.ts',
    description: 'PUT /recharges/{rechargeId}: the recharge (e-SiTef do), recorded in flight before it is sent',
    trigger: { kind: 'http', method: 'PUT', path: '/recharges/{rechargeId}', auth: 'bearer', maxBodyBytes: 4096 },
  },
  caratConfirmation: {
    ...storeRoute,
    entry: 'functions/carat/confirmation.handler.ts',
    description: 'POST /recharges/{rechargeId}/confirmation: the store’s decision, recorded, then confirm or undo',
    trigger: { kind: 'http', method: 'POST', path: '/recharges/{rechargeId}/confirmation', auth: 'bearer', maxBodyBytes: 1024 },
  },
  caratRechargeView: {
    entry: 'functions/carat/view.handler.ts',
    description: 'GET /recharges/{rechargeId}: a recharge with every e-SiTef answer and its receipts',
    trigger: { kind: 'http', method: 'GET', path: '/recharges/{rechargeId}', auth: 'bearer' },
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { recharges: 'read' },
  },
  caratAuthenticity: {
    entry: 'functions/carat/authenticity.handler.ts',
    description: 'POST /carat/authenticity/{secret}: e-SiTef’s authenticity POST, the NIT stored against the begun recharge',
    trigger: {
      kind: 'http',
      method: 'POST',
      path: '/carat/authenticity/{secret}',
      auth: 'partner',
      partner: 'carat',
      maxBodyBytes: 16 * 1024,
    },
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { recharges: 'readWrite', integrations: 'read' },
  },
  caratReconciler: {
    entry: 'functions/carat/reconciler.handler.ts',
    description: 'Settles recharges left pending (PPC, or a do / confirm without answer): status, then confirm or undo',
    trigger: { kind: 'schedule', expression: 'rate(2 minutes)', description: 'Carat recharges left pending' },
    // 25 recharges × up to three e-SiTef calls of 8 s, in the worst case.
    timeoutSeconds: 600,
    memoryMb: 256,
    tables: { recharges: 'readWrite' },
    secrets: ['carat'],
    partnerUrls: ['CARAT_API_URL'],
  },
} as const satisfies Record<string, FunctionSpec>;
