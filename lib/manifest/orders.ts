/**
 * Orders: the open tab of each table, card or order id, pushed by the POS (the NFC-e's items).
 */
import type { BucketSpec, FunctionSpec, QueueSpec, SecretSpec, TableSpec } from '../manifest.ts';

export const tables = {
  /** The open order of each table, card or order id (`ORDER#…`, like the payment's slot): its items. */
  orders: { partitionKey: 'pk' },
} as const satisfies Record<string, TableSpec>;

export const queues = {} as const satisfies Record<string, QueueSpec>;

export const buckets = {} as const satisfies Record<string, BucketSpec>;

export const secrets = {} as const satisfies Record<string, SecretSpec>;

export const functions = {
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
} as const satisfies Record<string, FunctionSpec>;
