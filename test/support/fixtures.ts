import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../fixtures');

/** A fresh copy of a JSON fixture, safe to mutate. */
export function fixture<T = any>(path: string): T {
  return JSON.parse(readFileSync(resolve(root, path), 'utf8')) as T;
}

export const seedPayment = () => fixture('order-mesa/payment-request.json');
