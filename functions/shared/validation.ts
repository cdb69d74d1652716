import { z } from 'zod';
import type { FieldError } from './http.ts';
import { isWholeCentavos } from './money.ts';

/**
 * Validation shared by every API body: zod issues become the Order Mesa contract's messages
 * (`body.orderKey must be a string`, `body.orderKeyType is required`, …), with the path.
 */

/**
 * Lower-case hex only: the seed rejects `02990348-9d85-416d-a573-6dc83eee52eA` as "not a valid
 * GUID", and that string differs from a valid one only by its upper-case last character.
 */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const guid = z.string().regex(GUID, { message: 'must be a valid GUID' });

const CENTAVOS_MESSAGE = 'must be an amount in reais with at most 2 decimal places (whole centavos)';
/** An upper bound keeps every sum of centavos far inside Number's exact integers. */
export function reais(options: { positive?: boolean; max?: number } = {}) {
  const base = options.positive ? z.number().gt(0) : z.number().min(0);
  return base.max(options.max ?? 10_000_000).refine(isWholeCentavos, { message: CENTAVOS_MESSAGE });
}
export const amount = reais();
export const positiveAmount = reais({ positive: true });

/** `where` names the part of the request: `body`, `path`, `query`. */
export function fieldErrors(error: z.ZodError, where: string): FieldError[] {
  return error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    const subject = key === '' ? where : `${where}.${key}`;
    return { key: key === '' ? where : key, message: `${subject} ${describe(issue)}` };
  });
}

function describe(issue: z.core.$ZodIssue): string {
  const missing = issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value');
  if (missing) return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.path.length === 0) return 'must be a JSON object';
      return `must be ${article(issue.expected)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return issue.inclusive ? `must be at least ${issue.minimum}` : `must be greater than ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_format':
    case 'custom':
      return issue.message;
    default:
      return `is invalid (${issue.message})`;
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'object' || expected === 'array') return `an ${expected}`;
  return `a ${expected}`;
}
