/**
 * Auth: the integrations (POS vendors, stores), their hashed tokens and partner secrets, and the
 * REQUEST authorizer every `bearer` and `admin` route goes through.
 */
import type { BucketSpec, FunctionSpec, QueueSpec, SecretSpec, TableSpec } from '../manifest.ts';

export const tables = {
  /** Integrations (POS vendors / stores) and their hashed API tokens. */
  integrations: { partitionKey: 'pk' },
} as const satisfies Record<string, TableSpec>;

export const queues = {} as const satisfies Record<string, QueueSpec>;

export const buckets = {} as const satisfies Record<string, BucketSpec>;

export const secrets = {} as const satisfies Record<string, SecretSpec>;

export const functions = {
  authorizer: {
    entry: 'functions/auth/authorizer.handler.ts',
    description: 'Bearer token → integration; usage plan key for per-integration throttling',
    trigger: { kind: 'authorizer' },
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: { integrations: 'read' },
  },
} as const satisfies Record<string, FunctionSpec>;
