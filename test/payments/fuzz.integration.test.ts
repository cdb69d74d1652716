import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { functionsWithout, issueToken, post, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * Generated bodies through the local gateway and the real handlers: whatever the POS sends, the
 * answer is a 2xx, or a 4xx in the error format naming what is wrong — never a 5xx. A few hundred
 * cases here; the validation itself is fuzzed in-process by thousands more.
 */
let stack: LocalRuntime;
let token: string;

beforeAll(async () => {
  // No issuer: the payments stay queued, which is what the intake answers with.
  stack = await startTestRuntime({ functions: functionsWithout('nfceIssuer'), rateLimitPerSecond: 1e9, burstLimit: 1e9 });
  token = await issueToken(stack, SEED_INTEGRATION);
});
afterAll(() => stack?.close());

const code = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCodePoint(c));
/** Text from every Unicode plane, with controls, lone surrogate halves, combining and zero-width marks. */
const nastyText = fc.string({
  unit: fc.oneof(
    code(0x20, 0x7e),
    code(0x00, 0x1f),
    code(0x7f, 0x9f),
    code(0xa0, 0xff),
    code(0x300, 0x36f),
    code(0x200b, 0x200f),
    code(0xd800, 0xdfff),
    code(0x1f300, 0x1faff),
    fc
      .integer({ min: 0x100, max: 0x10ffff })
      .filter((c) => c < 0xd800 || c > 0xdfff)
      .map((c) => String.fromCodePoint(c)),
  ),
  maxLength: 140,
});
const anyValue = fc.oneof(nastyText, fc.jsonValue({ maxDepth: 2 }), fc.double(), fc.constant(null), fc.constant(undefined));

/** A path of the body and a value to put there (undefined deletes it). */
function mutations(paths: string[][]) {
  return fc.array(fc.tuple(fc.constantFrom(...paths), anyValue), { minLength: 1, maxLength: 4 });
}

function apply(body: any, changes: [string[], unknown][]) {
  for (const [path, value] of changes) {
    let target = body;
    for (const part of path.slice(0, -1)) {
      if (target === null || typeof target !== 'object') break;
      target = target[part];
    }
    if (target !== null && typeof target === 'object') {
      if (value === undefined) delete target[path.at(-1)!];
      else target[path.at(-1)!] = value;
    }
  }
  return body;
}

const PAYMENT_PATHS = [
  ['orderKey'],
  ['orderKeyType'],
  ['integrationHubServiceId'],
  ['paymentObject', 'customerDocument'],
  ['paymentObject', 'documentInReceipt'],
  ['paymentObject', 'numberPersons'],
  ['paymentObject', 'orderAmount'],
  ['paymentObject', 'fees'],
  ['paymentObject', 'total'],
  ['paymentObject', 'discounts'],
  ['paymentObject', 'methods'],
  ['paymentObject', 'methods', '0', 'value'],
  ['paymentObject', 'methods', '0', 'method'],
  ['paymentObject', 'methods', '0', 'methodInfo'],
  ['paymentObject', 'methods', '0', 'brand'],
  ['paymentObject', 'methods', '0', 'changeFor'],
  ['paymentObject', 'methods', '0', 'x\ud800'],
];
const ORDER_PATHS = [
  ['items', '0', 'sku'],
  ['items', '0', 'name'],
  ['items', '0', 'unit'],
  ['items', '0', 'quantity'],
  ['items', '0', 'unitPrice'],
  ['items'],
  ['notes'],
  ['integrationHubServiceId'],
];

/** The key percent-encoded; a lone surrogate cannot be (URIError), so it is sent raw-escaped. */
function encodedOrLone(key: string): string {
  try {
    return encodeURIComponent(key);
  } catch {
    return '%ED%A0%80'; // the UTF-8-style bytes of U+D800, which no decoder accepts
  }
}

function expectClientAnswer(answer: { status: number; body: any }, allowed: number[]) {
  expect(allowed).toContain(answer.status);
  if (answer.status >= 400) {
    expect(answer.body.errors.length).toBeGreaterThan(0);
    for (const error of answer.body.errors) {
      expect(typeof error.key).toBe('string');
      expect(typeof error.message).toBe('string');
    }
  }
}

describe('generated bodies never get a 5xx', () => {
  it('POST /order/payment', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutations(PAYMENT_PATHS), async (changes) => {
        const body = apply({ ...seedPayment(), orderKey: `FZ${++n}` }, changes);
        expectClientAnswer(await post(stack, '/order/payment', JSON.stringify(body), token), [202, 400, 403, 409]);
      }),
      { numRuns: 250 },
    );
  });

  it('PUT /orders/{orderKeyType}/{orderKey}, path included', async () => {
    await fc.assert(
      fc.asyncProperty(mutations(ORDER_PATHS), nastyText, async (changes, key) => {
        const body = apply({ ...fixture('order-mesa/order-table-2.json'), integrationHubServiceId: SEED_INTEGRATION }, changes);
        const path = `/orders/TABLE/${encodedOrLone(key)}`;
        const answer = await send(stack, 'PUT', path, JSON.stringify(body), token);
        expectClientAnswer(answer, [200, 201, 400, 404]);
      }),
      { numRuns: 250 },
    );
  });
});
