import * as z from 'zod';
import type { FieldError } from './http.ts';
import { isWholeCentavos, toCentavos } from './money.ts';

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
/** The largest amount in reais any body may carry (an orderAmount, a total, a payment method). */
export const MAX_AMOUNT_REAIS = 10_000_000;

/** An upper bound keeps every sum of centavos far inside Number's exact integers. */
export function reais(options: { positive?: boolean; max?: number } = {}) {
  const base = (options.positive ? z.number().gt(0) : z.number().min(0))
    .max(options.max ?? MAX_AMOUNT_REAIS)
    .refine(isWholeCentavos, { message: CENTAVOS_MESSAGE });
  const checked = options.positive
    ? base.refine((r) => r <= 0 || toCentavos(r) >= 1, { message: 'must be at least 0.01 (one centavo)' })
    : base;
  // The exact reais of those centavos: float dust such as 1e-300 is 0 and never reaches storage
  // (DynamoDB numbers stop at 1e-130).
  return checked.transform((r) => toCentavos(r) / 100);
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
  const missing =
    issue.input === undefined &&
    (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union');
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
    case 'invalid_union':
      // A union given its own message says it; zod's default one is generic.
      return issue.message === 'Invalid input' ? `is invalid (${issue.message})` : issue.message;
    default:
      return `is invalid (${issue.message})`;
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'object' || expected === 'array') return `an ${expected}`;
  return `a ${expected}`;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** A path as a chain from the leaf up, so a deep body is walked without copying paths. */
type Path = { parent: Path; segment: string } | null;

/**
 * Every string in a parsed JSON body, property names included, that holds a lone surrogate (JSON
 * `"\ud800"` parses into one): such text is not Unicode, cannot be encoded as UTF-8 and so cannot
 * be stored in DynamoDB or printed in an NFC-e. Walks any depth without recursion, in document
 * order; lists at most `limit` problems, then one more saying there are others. `where` names the
 * part of the request, as in {@link fieldErrors}:
 * `{ key: 'paymentObject.methods.0.methodInfo', message: 'body.paymentObject.methods.0.methodInfo must be valid Unicode text (it contains a lone surrogate)' }`.
 * A property name is reported on its object, escaped: `body.paymentObject has a property name that
 * is not valid Unicode text (it contains a lone surrogate): "\ud800x"`.
 */
export function loneSurrogateErrors(value: unknown, where = 'body', limit = 20): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { value: unknown; path: Path }[] = [{ value, path: null }];
  const report = (path: Path, problem: string): boolean => {
    if (errors.length === limit) {
      errors.push({
        key: where,
        message: `${where} has more text that is not valid Unicode; only the first ${limit} are listed`,
      });
      return false;
    }
    const segments: string[] = [];
    // Names with a lone surrogate are shown escaped, so no error message carries one.
    for (let p = path; p; p = p.parent)
      segments.push(LONE_SURROGATE.test(p.segment) ? JSON.stringify(p.segment).slice(1, -1) : p.segment);
    const key = segments.reverse().join('.');
    errors.push({ key: key === '' ? where : key, message: `${key === '' ? where : `${where}.${key}`} ${problem}` });
    return true;
  };
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (LONE_SURROGATE.test(current) && !report(path, 'must be valid Unicode text (it contains a lone surrogate)')) break;
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], path: { parent: path, segment: String(i) } });
    } else if (current !== null && typeof current === 'object') {
      const entries = Object.entries(current);
      for (const [name] of entries) {
        if (!LONE_SURROGATE.test(name)) continue;
        const problem = `has a property name that is not valid Unicode text (it contains a lone surrogate): ${JSON.stringify(name)}`;
        if (!report(path, problem)) return errors;
      }
      for (let i = entries.length - 1; i >= 0; i--)
        stack.push({ value: entries[i]![1], path: { parent: path, segment: entries[i]![0] } });
    }
  }
  return errors;
}
