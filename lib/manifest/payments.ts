/**
 * Order Mesa payments (seed 003): the POST/poll intake and the sweep that re-queues a job whose
 * enqueue failed.
 */
import type { BucketSpec, FunctionSpec, QueueSpec, SecretSpec, TableSpec } from '../manifest.ts';

export const tables = {
  /**
   * Payments: one slot item per order (`ORDER#…`) holding the payment in flight or last finished,
   * plus archived payments (`PAYMENT#…`). The sparse index lists payments whose job is not
   * confirmed on the queue yet, for the re-queue sweep.
   */
  payments: {
    partitionKey: 'pk',
    indexes: [{ name: 'byEnqueuePending', partitionKey: 'enqueuePending', sortKey: 'createdAt' }],
  },
} as const satisfies Record<string, TableSpec>;

export const queues = {} as const satisfies Record<string, QueueSpec>;

export const buckets = {} as const satisfies Record<string, BucketSpec>;

export const secrets = {} as const satisfies Record<string, SecretSpec>;

export const functions = {
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
  paymentRequeue: {
    entry: 'functions/payments/requeue.handler.ts',
    description: 'Re-queues payments whose job never reached the queue',
    trigger: { kind: 'schedule', expression: 'rate(1 minute)', description: 'payments whose enqueue failed' },
    timeoutSeconds: 60,
    memoryMb: 256,
    tables: { payments: 'readWrite' },
    sendsTo: ['nfceRequests'],
  },
} as const satisfies Record<string, FunctionSpec>;
