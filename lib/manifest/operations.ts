/**
 * Operations: the operator's admin routes (dead letters and their redrive).
 */
import type { BucketSpec, FunctionSpec, QueueSpec, SecretSpec, TableSpec } from '../manifest.ts';

export const tables = {} as const satisfies Record<string, TableSpec>;

export const queues = {} as const satisfies Record<string, QueueSpec>;

export const buckets = {} as const satisfies Record<string, BucketSpec>;

export const secrets = {} as const satisfies Record<string, SecretSpec>;

export const functions = {
  deadLetterList: {
    entry: 'functions/operations/list.handler.ts',
    description: 'GET /admin/dead-letters: dead-lettered jobs and their payments, for an operator',
    trigger: { kind: 'http', method: 'GET', path: '/admin/dead-letters', auth: 'admin' },
    timeoutSeconds: 30,
    memoryMb: 256,
    tables: { payments: 'read' },
    deadLetters: ['nfceRequests', 'cieloVerifications'],
  },
  deadLetterRedrive: {
    entry: 'functions/operations/redrive.handler.ts',
    description: 'POST /admin/dead-letters/redrive: moves dead-lettered jobs (all, or the ids given) back to their queue',
    trigger: { kind: 'http', method: 'POST', path: '/admin/dead-letters/redrive', auth: 'admin', maxBodyBytes: 16 * 1024 },
    timeoutSeconds: 30,
    memoryMb: 256,
    // readWrite: a redriven payment's failure is reopened, so polls answer 208 until it settles.
    tables: { payments: 'readWrite' },
    deadLetters: ['nfceRequests', 'cieloVerifications'],
    sendsTo: ['nfceRequests', 'cieloVerifications'],
  },
} as const satisfies Record<string, FunctionSpec>;
