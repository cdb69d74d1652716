import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDocument, HOMOLOGATION_FIRST_ITEM, type NfceInput } from '../../functions/nfce/document.ts';
import { schemaText } from '../../functions/nfce/text.ts';
import { signNfce } from '../../functions/nfce/xml.ts';
import { orderBodySchema, orderPathSchema, toOrderItems, type OrderBody } from '../../functions/orders/order.ts';
import { CARD_METHODS, PAYMENT_METHODS, validatePaymentRequest, type ValidPayment } from '../../functions/payments/request.ts';
import type { FieldError } from '../../functions/shared/http.ts';
import { fieldErrors, loneSurrogateErrors } from '../../functions/shared/validation.ts';
import { demoCatalog, demoEmitter, testCertificate } from '../support/nfce.ts';
import { parseErrors, schemasMissing, xsdChecker, type XsdChecker } from '../support/xsd.ts';

/*
 * POS text from every corner of Unicode, through the door (the order's and the payment's
 * validation, plus the body-wide lone-surrogate check the HTTP layer runs) and, when accepted,
 * into a signed NFC-e that must be well-formed and valid against PL_010e_v1.01's nfe_v4.00.xsd. All in
 * process: the XSD runs in libxml2 compiled to WebAssembly (test/support/xsd.ts).
 */

const GUID = 'efdd6093-5539-4ac4-ad84-7423a8078dde';
const NUMBERING = { nNF: 4242, cNF: '27182818', dhEmi: '2026-11-22T12:30:00-03:00' };
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
/** The schema's TString pattern, and the stricter set schemaText promises (no DEL, C1, NBSP, soft hyphen). */
const TSTRING = /^(?:[!-ÿ][ -ÿ]*[!-ÿ]|[!-ÿ])$/;
const STRICT = /^[\x21-\x7e\xa1-\xac\xae-\xff](?:[\x20-\x7e\xa1-\xac\xae-\xff]*[\x21-\x7e\xa1-\xac\xae-\xff])?$/;
const LONE_SURROGATE = /\p{Cs}/u;
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const CONTROL_BUT_LINE_BREAKS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

const noSchemas = schemasMissing();
if (noSchemas) console.warn(`skipping the XSD checks (well-formedness is still checked): ${noSchemas}`);
let xsd: XsdChecker | undefined;
beforeAll(() => {
  if (!noSchemas) xsd = xsdChecker('nfe_v4.00.xsd');
  testCertificate();
});

// ---------------------------------------------------------------------------------------------
// The door, as the API runs it: the HTTP layer's lone-surrogate check on the whole body, then the
// path's and the body's schemas (functions/orders/upsert.handler.ts, functions/payments/request.ts).

type Door<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

function orderDoor(path: unknown, body: unknown): Door<{ path: { orderKeyType: string; orderKey: string }; body: OrderBody }> {
  const p = orderPathSchema.safeParse(path, { reportInput: true });
  const pathErrors = p.success ? [] : fieldErrors(p.error, 'path');
  const surrogates = loneSurrogateErrors(body);
  if (surrogates.length > 0) return { ok: false, errors: [...pathErrors, ...surrogates] };
  const b = orderBodySchema.safeParse(body, { reportInput: true });
  if (!p.success || !b.success) return { ok: false, errors: [...pathErrors, ...(b.success ? [] : fieldErrors(b.error, 'body'))] };
  return { ok: true, value: { path: p.data, body: b.data } };
}

function paymentDoor(body: unknown): Door<ValidPayment> {
  const surrogates = loneSurrogateErrors(body);
  if (surrogates.length > 0) return { ok: false, errors: surrogates };
  const v = validatePaymentRequest(body);
  return v.ok ? { ok: true, value: v.payment } : { ok: false, errors: v.errors };
}

/** Every string in a JSON value, property names included. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

/** Every error names a field: `<where>.<key> …`, or `<where> …` for the whole part. */
function expectNamedErrors(errors: FieldError[]) {
  expect(errors.length).toBeGreaterThan(0);
  for (const { key, message } of errors) {
    expect(typeof key).toBe('string');
    expect(key).not.toBe('');
    const named = ['body', 'path'].some(
      (where) => message.startsWith(`${where}.${key} `) || (key === where && message.startsWith(`${where} `)),
    );
    expect(named, `${JSON.stringify(key)}: ${JSON.stringify(message)}`).toBe(true);
    // The answer is JSON in UTF-8: no message may carry a lone surrogate.
    expect(message).not.toMatch(LONE_SURROGATE);
  }
}

// ---------------------------------------------------------------------------------------------
// Text from everywhere.

const fromCodes = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCodePoint(c));
const SAMPLES = ['🍕', '👍🏽', '🇧🇷', '1️⃣', '👨‍👩‍👧', '𝐏', 'Ⓐ', 'ﬁ', '㎏', '€', '…', '‘', '’', '“', '”', '–', '—', '•', '№', 'Œ', 'ł'];
const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u200e', '\u202e', '\ufe0f'];
const SPACES = [' ', '\u00a0', '\u2003', '\u3000', '\u2028'];

/** One character a POS might send; `controls`: which control characters may appear. */
function character(controls: 'all' | 'line-breaks' | 'none') {
  const parts = [
    { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
    { weight: 3, arbitrary: fromCodes(0xa1, 0xff) },
    { weight: 2, arbitrary: fc.constantFrom(...SAMPLES) },
    { weight: 2, arbitrary: fc.constantFrom(...INVISIBLE) },
    { weight: 2, arbitrary: fc.constantFrom(...SPACES) },
    { weight: 2, arbitrary: fromCodes(0x300, 0x36f) }, // combining marks
    { weight: 1, arbitrary: fromCodes(0x1f300, 0x1faff) }, // emoji
    { weight: 1, arbitrary: fromCodes(0x100, 0x24f) }, // Latin Extended
    { weight: 1, arbitrary: fromCodes(0x370, 0x4ff) }, // Greek, Cyrillic
    { weight: 1, arbitrary: fromCodes(0x4e00, 0x4fff) }, // CJK
    // every plane: BMP, SMP, SIP, TIP, SSP, private use (binary has no surrogate halves)
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !CONTROL.test(c)) },
    { weight: 1, arbitrary: fromCodes(0xe0000, 0x10ffff) },
  ];
  if (controls !== 'none') parts.push({ weight: 2, arbitrary: fc.constantFrom('\t', '\r', '\n') });
  if (controls === 'all') {
    parts.push({ weight: 2, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) });
    parts.push({ weight: 1, arbitrary: fc.integer({ min: 0x7f, max: 0x9f }).map((c) => String.fromCharCode(c)) });
    parts.push({ weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) });
  }
  return fc.oneof(...parts);
}

const KEPT = fc
  .integer({ min: 0x21, max: 0xff })
  .filter((c) => c < 0x7f || (c > 0xa0 && c !== 0xad))
  .map((c) => String.fromCharCode(c));

/**
 * Text for one field of at most `max` UTF-16 units: plain, dirty around a printable letter, only
 * dirty (may map to nothing), or Latin-1 up to `max` ending in a character that expands (… → ...,
 * € → EUR) so the NFC-e truncates it; with `tooLong`, also text over `max`.
 */
function text(max: number, controls: 'all' | 'line-breaks' | 'none', tooLong = controls === 'all') {
  const unit = character(controls);
  // A character is at most 2 UTF-16 units (astral planes).
  const quarter = Math.max(1, Math.floor((max - 1) / 4));
  const variants: { weight: number; arbitrary: fc.Arbitrary<string> }[] = [
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: max }) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.string({ unit, maxLength: quarter }), fc.constantFrom(...'AZaz09ÇÃéß'), fc.string({ unit, maxLength: quarter }))
        .map((parts) => parts.join('')),
    },
    { weight: 1, arbitrary: fc.string({ unit, minLength: 1, maxLength: quarter * 2 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.string({ unit: KEPT, minLength: max - 1, maxLength: max - 1 }), fc.constantFrom('…', '€', '№'))
        .map((parts) => parts.join('')),
    },
  ];
  if (tooLong)
    variants.push({ weight: 1, arbitrary: fc.string({ unit, minLength: max + 1, maxLength: Math.max(max * 3, 300) }) });
  return fc.oneof(...variants);
}

/** A field's value at the door: text, or (when `anything`) sometimes absent or some other JSON. */
function field(arbitrary: fc.Arbitrary<string>, anything: boolean) {
  if (!anything) return arbitrary;
  return fc.oneof(
    { weight: 12, arbitrary },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
}

// ---------------------------------------------------------------------------------------------
// Orders and payments.

const ORDER_KEY_TYPES = ['TABLE', 'CARD', 'ORDER_ID'] as const;
/** The catalog's skus, and names an object lookup could find on Object.prototype. */
const SKUS = ['058', '101', '202', '303', '__proto__', 'constructor', 'toString', 'hasOwnProperty'];

/**
 * `any`: every field may hold anything (a lone surrogate, any control, text too long, other JSON)
 * though most hold what may pass; `passable`: no lone surrogate nor refused control, lengths
 * within bounds, so only text that maps to nothing is refused.
 */
function orderArbitrary(mode: 'any' | 'passable') {
  const anything = mode === 'any';
  const free = mode === 'any' ? 'all' : 'line-breaks';
  const fieldText = (max: number, kind: 'free' | 'id') => {
    const passable = text(max, kind === 'free' ? 'line-breaks' : 'none');
    return anything ? fc.oneof({ weight: 3, arbitrary: passable }, { weight: 2, arbitrary: text(max, 'all') }) : passable;
  };
  const item = fc.record(
    {
      sku: field(
        fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...SKUS) }, { weight: 3, arbitrary: fieldText(60, 'id') }),
        anything,
      ),
      name: field(fieldText(120, 'free'), anything),
      quantity: fc.integer({ min: 1, max: 200_000 }).map((n) => n / 10_000),
      unitPrice: fc.integer({ min: 0, max: 50_000 }).map((c) => c / 100),
      unit: field(fc.oneof(fc.constantFrom('UN', 'KG', 'L'), fieldText(6, 'free')), anything),
    },
    { requiredKeys: ['sku', 'name', 'quantity', 'unitPrice'] },
  );
  return fc.record({
    path: fc.record({ orderKeyType: fc.constantFrom(...ORDER_KEY_TYPES), orderKey: field(fieldText(60, 'id'), anything) }),
    body: fc.record(
      {
        integrationHubServiceId: fc.constant(GUID),
        items: fc.array(item, { minLength: 1, maxLength: 4 }),
        notes: fc.oneof(
          { weight: 4, arbitrary: field(fieldText(500, 'free'), anything) },
          { weight: 1, arbitrary: fc.constant(null) },
        ),
        // Extra properties are ignored by the schema but not by the lone-surrogate check.
        extra: fc.dictionary(
          fc.string({ unit: character(free), maxLength: 4 }),
          fc.string({ unit: character(free), maxLength: 4 }),
          {
            maxKeys: 2,
          },
        ),
      },
      { requiredKeys: ['integrationHubServiceId', 'items'] },
    ),
    tpAmb: fc.constantFrom(1 as const, 2 as const),
    fees: fc.integer({ min: 0, max: 2_000 }),
    discountShare: fc.double({ min: 0, max: 0.5, noNaN: true }),
    methods: fc.array(fc.constantFrom(...PAYMENT_METHODS), { minLength: 1, maxLength: 3 }),
    numberPersons: fc.option(fc.integer({ min: 0, max: 9999 })),
    customer: fc.constantFrom(null, '529.982.247-25', '11.222.333/0001-81'),
  });
}
type Generated = ReturnType<typeof orderArbitrary> extends fc.Arbitrary<infer T> ? T : never;

/** The POS's payment for an accepted order: the same orderKey, amounts that add up. */
function paymentBody(g: Generated, orderKey: string, orderAmount: number): unknown {
  const fees = orderAmount + g.fees === 0 ? 100 : g.fees;
  const discounts = Math.min(Math.floor((orderAmount + fees) * g.discountShare), orderAmount + fees - 1);
  const total = orderAmount + fees - discounts;
  const values = g.methods.map((_, i) => (i === g.methods.length - 1 ? 0 : Math.floor(total / g.methods.length)));
  values[values.length - 1] = total - values.reduce((a, b) => a + b, 0);
  return {
    integrationHubServiceId: GUID,
    orderKeyType: g.path.orderKeyType,
    orderKey,
    paymentObject: {
      printOrderAtPos: true,
      generateInvoice: true,
      printInvoiceAtPos: true,
      sendInvoiceEmail: false,
      summaryExtract: false,
      customerDocument: g.customer,
      documentInReceipt: g.customer !== null,
      numberPersons: g.numberPersons,
      removeServiceFee: false,
      methods: g.methods
        .map((method, i) => ({
          value: values[i]! / 100,
          currency: 'BRL',
          type: 'OFFLINE',
          method,
          ...(CARD_METHODS.includes(method) ? { brand: 'ELO' } : {}),
          ...(method === 'CASH' ? { changeFor: Math.ceil((values[i]! + 1) / 5000) * 50 } : {}),
        }))
        .filter((m) => m.value > 0),
      orderAmount: orderAmount / 100,
      discounts: discounts / 100,
      fees: fees / 100,
      total: total / 100,
    },
  };
}

interface Issued {
  xml: string;
  input: NfceInput;
}

/** An accepted order and its payment, issued: build, sign. */
function issue(g: Generated, accepted: { path: { orderKeyType: string; orderKey: string }; body: OrderBody }): Issued {
  const items = toOrderItems(accepted.body);
  const orderAmount = items.reduce((sum, i) => sum + Math.round((i.quantity * i.unitPrice) / 10_000), 0);
  const payment = paymentDoor(paymentBody(g, accepted.path.orderKey, orderAmount));
  if (!payment.ok) throw new Error(`the payment for an accepted order was refused: ${JSON.stringify(payment.errors)}`);
  const notes = accepted.body.notes || undefined;
  const input: NfceInput = {
    emitter: { ...demoEmitter(), tpAmb: g.tpAmb },
    catalog: demoCatalog(),
    numbering: NUMBERING,
    order: {
      orderKeyType: payment.value.request.orderKeyType,
      orderKey: payment.value.request.orderKey,
      items,
      ...(notes ? { notes } : {}),
    },
    payment: payment.value,
    verProc: 'checkout-test 1.0',
  };
  const signed = signNfce(buildDocument(input), testCertificate());
  return { xml: XML_DECLARATION + signed.nfeXml, input };
}

const unescape = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
/** The text of every `<tag>` in document order. */
const texts = (xml: string, tag: string) =>
  Array.from(xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g')), (m) => unescape(m[1]!));

/** What must hold of any issued NFC-e. */
function expectValidNfce({ xml, input }: Issued) {
  expect(xml).not.toMatch(LONE_SURROGATE);
  expect(parseErrors(xml)).toEqual([]);
  if (xsd) expect(xsd.failures(xml)).toEqual([]);
  for (const tag of ['cProd', 'xProd', 'uCom', 'uTrib', 'infCpl']) {
    for (const value of texts(xml, tag)) {
      expect(value, tag).toMatch(TSTRING);
      expect(value, tag).toMatch(STRICT);
      expect(value, tag).not.toMatch(/ {2}/);
    }
  }
  const { items } = input.order;
  const home = input.emitter.tpAmb === 2;
  expect(texts(xml, 'cProd').slice(0, items.length)).toEqual(items.map((i) => schemaText(i.sku, 60)));
  expect(texts(xml, 'xProd').slice(0, items.length)).toEqual(
    items.map((i, n) => (home && n === 0 ? HOMOLOGATION_FIRST_ITEM : schemaText(i.name, 120))),
  );
  expect(texts(xml, 'uCom').slice(0, items.length)).toEqual(items.map((i) => schemaText(i.unit, 6)));
  const [infCpl] = texts(xml, 'infCpl');
  expect(infCpl).toContain(`: ${schemaText(input.order.orderKey, 5000)} |`);
  const notes = schemaText(input.order.notes ?? '', 5000);
  if (notes) expect(infCpl).toContain(` | ${notes.slice(0, 200)}`);
}

// ---------------------------------------------------------------------------------------------

const counts = { ordersSeen: 0, ordersAccepted: 0, paymentsSeen: 0, paymentsAccepted: 0, issued: 0, issueRuns: 0 };
afterAll(() => console.info(`property cases: ${JSON.stringify(counts)}`));

describe('(a) the door never throws: it accepts, or refuses naming each field', () => {
  it('orders: path and body from every Unicode plane, controls, surrogate halves, marks, emoji, long text, other JSON', () => {
    fc.assert(
      fc.property(orderArbitrary('any'), (g) => {
        counts.ordersSeen++;
        const result = orderDoor(g.path, g.body);
        if (!result.ok) {
          expectNamedErrors(result.errors);
        } else {
          // Accepted from the wild: it must issue as well as the ones of (b).
          counts.ordersAccepted++;
          expectValidNfce(issue(g, result.value));
        }
        // What the rules promise, field by field, whatever else is wrong with the body. A body
        // with a lone surrogate anywhere is refused before its schema runs.
        const keys = result.ok ? [] : result.errors.map((e) => e.key);
        const bodyShortCut = loneSurrogateErrors(g.body).length > 0;
        const check = (key: string, value: unknown, identifier: boolean, required: boolean) => {
          if (typeof value !== 'string') return;
          const named = keys.includes(key);
          const refused = named || (key !== 'orderKey' && bodyShortCut);
          if (LONE_SURROGATE.test(value)) expect(named, `${key}: lone surrogate`).toBe(true);
          if ((identifier ? CONTROL : CONTROL_BUT_LINE_BREAKS).test(value)) expect(refused, `${key}: control`).toBe(true);
          if (required && value.trim() !== '' && schemaText(value, 5000) === '')
            expect(refused, `${key}: unprintable`).toBe(true);
        };
        check('orderKey', g.path.orderKey, true, true);
        g.body.items.forEach((item, i) => {
          check(`items.${i}.sku`, item.sku, true, true);
          check(`items.${i}.name`, item.name, false, true);
          check(`items.${i}.unit`, item.unit, false, true);
        });
        check('notes', g.body.notes, false, false);
      }),
      { numRuns: 1500 },
    );
  });

  it('payments: orderKey, methodInfo, customerDocument, currency from everywhere, and other JSON in their place', () => {
    const methodText = text(100, 'all');
    fc.assert(
      fc.property(
        orderArbitrary('any'),
        field(fc.oneof({ weight: 3, arbitrary: text(60, 'none') }, { weight: 2, arbitrary: text(60, 'all') }), true),
        fc.array(
          fc.record({
            methodInfo: field(methodText, true),
            currency: field(
              fc.oneof({ weight: 6, arbitrary: fc.constant('BRL') }, { weight: 1, arbitrary: text(3, 'all') }),
              true,
            ),
          }),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(null, '529.982.247-25', '11.222.333/0001-81') },
          { weight: 1, arbitrary: field(text(20, 'all'), true) },
        ),
        (g, orderKey, extras, customerDocument) => {
          counts.paymentsSeen++;
          const body = paymentBody(g, 'x', 1000) as { orderKey: unknown; paymentObject: Record<string, any> };
          body.orderKey = orderKey;
          body.paymentObject.customerDocument = customerDocument;
          body.paymentObject.documentInReceipt = typeof customerDocument === 'string';
          body.paymentObject.methods = body.paymentObject.methods.map((m: object, i: number) => ({
            ...m,
            ...extras[i % extras.length],
          }));
          const result = paymentDoor(body);
          if (!result.ok) {
            expectNamedErrors(result.errors);
            return;
          }
          counts.paymentsAccepted++;
          const { request } = result.value;
          expect(request.orderKey).not.toMatch(CONTROL);
          expect(strings(request).filter((t) => LONE_SURROGATE.test(t))).toEqual([]);
          expect(schemaText(request.orderKey, 60)).not.toBe('');
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('(b) every accepted order, with its payment, is a well-formed, XSD-valid NFC-e', () => {
  it('builds and signs an NFC-e whose text fields are TStrings, mapped as schemaText says', () => {
    fc.assert(
      fc.property(orderArbitrary('passable'), (g) => {
        counts.issueRuns++;
        const result = orderDoor(g.path, g.body);
        if (!result.ok) {
          expectNamedErrors(result.errors);
          return;
        }
        counts.issued++;
        expectValidNfce(issue(g, result.value));
      }),
      { numRuns: 1200 },
    );
    // Not vacuous: most of these orders pass the door and are issued.
    expect(counts.issued).toBeGreaterThan(counts.issueRuns / 2);
  });
});

describe('regressions from the issue', () => {
  const path = { orderKeyType: 'TABLE', orderKey: 'T1' };
  const item = (overrides: Record<string, unknown>) => ({
    sku: '058',
    name: 'Suco de uva',
    quantity: 2,
    unitPrice: 30.5,
    ...overrides,
  });
  const tab = (items: unknown[], extra: Record<string, unknown> = {}) => ({ integrationHubServiceId: GUID, items, ...extra });
  const errors = (door: Door<unknown>) => (door.ok ? [] : door.errors);
  const UNPRINTABLE =
    'must contain a letter, digit or sign the NFC-e can carry (emoji, symbols and invisible characters are dropped)';
  const SURROGATE = 'must be valid Unicode text (it contains a lone surrogate)';
  /** The seed's payment for an accepted order, issued with the given environment. */
  const issued = (body: unknown, tpAmb: 1 | 2 = 1, orderPath = path) => {
    const door = orderDoor(orderPath, body);
    if (!door.ok) throw new Error(JSON.stringify(door.errors));
    const g = { path: orderPath, body, tpAmb, fees: 0, discountShare: 0, methods: ['CREDIT'], numberPersons: 2, customer: null };
    return issue(g as unknown as Generated, door.value);
  };

  it('PUT /orders/TABLE/T1 with an sku of 🍕: 400 naming body.items.0.sku (it was 201, then an empty cProd)', () => {
    expect(errors(orderDoor(path, tab([item({ sku: '🍕', name: 'Pizza' })])))).toEqual([
      { key: 'items.0.sku', message: `body.items.0.sku ${UNPRINTABLE}` },
    ]);
  });

  it('U+0001 in an sku or in the notes: 400 (it was a signed XML that is not well-formed)', () => {
    expect(errors(orderDoor(path, tab([item({ sku: '05\u00018' })])))).toEqual([
      { key: 'items.0.sku', message: 'body.items.0.sku must not contain control characters (found U+0001)' },
    ]);
    expect(errors(orderDoor(path, tab([item({})], { notes: 'sem\u0001gelo' })))).toEqual([
      { key: 'notes', message: 'body.notes must not contain control characters other than tab, CR and LF (found U+0001)' },
    ]);
  });

  it('an order stored before the fix, with U+0001 in its sku, name and notes, still issues: the mapping drops them', () => {
    const { input, xml } = issued(tab([item({})], { notes: 'Mesa da janela' }));
    const legacy: NfceInput = {
      ...input,
      order: {
        ...input.order,
        items: [{ ...input.order.items[0]!, sku: '05\u00018', name: 'Suco\u0001 de\u0007uva\u007f\u0085' }],
        notes: 'sem\u0001 gelo\u001b',
      },
    };
    const signed = XML_DECLARATION + signNfce(buildDocument(legacy), testCertificate()).nfeXml;
    expect(signed).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/);
    expectValidNfce({ xml: signed, input: legacy });
    expect(texts(signed, 'cProd')[0]).toBe('058');
    expect(texts(signed, 'xProd')[0]).toBe('Suco deuva');
    expect(texts(signed, 'infCpl')[0]).toMatch(/^Mesa: T1 \| Pessoas: 2 \| sem gelo \| Valor aproximado/);
    expect(xml).toContain('Mesa da janela');
  });

  it('an sku of zero-width characters only: 400', () => {
    expect(errors(orderDoor(path, tab([item({ sku: '\u200b\u200d\ufeff\u2060' })])))).toEqual([
      { key: 'items.0.sku', message: `body.items.0.sku ${UNPRINTABLE}` },
    ]);
  });

  it('a lone surrogate: 400, in any field, in any string or property name of the body, in the path', () => {
    const fields = orderBodySchema.safeParse(
      tab([item({ sku: '\ud800', name: 'Pizza\udc00', unit: '\udbff' })], { notes: 'x\ud83d' }),
      { reportInput: true },
    );
    expect(fields.success ? [] : fieldErrors(fields.error, 'body')).toEqual([
      { key: 'items.0.sku', message: `body.items.0.sku ${SURROGATE}` },
      { key: 'items.0.name', message: `body.items.0.name ${SURROGATE}` },
      { key: 'items.0.unit', message: `body.items.0.unit ${SURROGATE}` },
      { key: 'notes', message: `body.notes ${SURROGATE}` },
    ]);
    expect(errors(orderDoor({ orderKeyType: 'TABLE', orderKey: 'T\udc001' }, tab([item({})])))).toEqual([
      { key: 'orderKey', message: `path.orderKey ${SURROGATE}` },
    ]);
    const payment = JSON.parse(JSON.stringify(paymentBody(issuedArgs(), 'T1', 6100))) as any;
    payment.orderKey = 'T\ud8001';
    expect(validatePaymentRequest(payment)).toEqual({
      ok: false,
      errors: [{ key: 'orderKey', message: `body.orderKey ${SURROGATE}` }],
    });
    payment.orderKey = 'T1';
    payment.paymentObject.methods[0].methodInfo = 'VISA\udfff';
    // methodInfo never reaches the NFC-e, but it is stored: the HTTP layer's body-wide check refuses it.
    expect(errors(paymentDoor(payment))).toEqual([
      {
        key: 'paymentObject.methods.0.methodInfo',
        message: 'body.paymentObject.methods.0.methodInfo must be valid Unicode text (it contains a lone surrogate)',
      },
    ]);
  });

  it('a tab full of curly quotes, dashes, accents and emoji among letters: a valid NFC-e, every text mapped exactly', () => {
    const body = tab(
      [
        item({ sku: '058', name: 'Suco “Uva” – 500ml 🍇' }),
        item({ sku: '101', name: 'Pão d’água — crocante', unit: 'PÇ' }),
        item({ sku: 'X-🍕-1', name: '🍕 Pizza Margherita 🇮🇹 (fatia)', unit: 'FATIA' }),
        item({ sku: '202', name: 'Crème brûlée… de maracujá' }),
        item({ sku: '303', name: 'Cerveja\tartesanal\r\n500ml', unit: 'GRF' }),
        item({ sku: 'ŁÓDŹ-2', name: '𝐁𝐮𝐫𝐠𝐞𝐫 Ⓥ ﬁt № 2 ½', unit: '㎏' }),
      ],
      { notes: 'Aniversário 🎂 “João” – mesa 7\nsem cebola…' },
    );
    const { xml, input } = issued(body, 1, { orderKeyType: 'TABLE', orderKey: 'Mesa “7” – varanda' });
    expectValidNfce({ xml, input });
    expect(texts(xml, 'cProd')).toEqual(['058', '101', 'X--1', '202', '303', 'LÓDZ-2']);
    expect(texts(xml, 'xProd')).toEqual([
      'Suco "Uva" - 500ml',
      "Pão d'água - crocante",
      'Pizza Margherita (fatia)',
      'Crème brûlée... de maracujá',
      'Cerveja artesanal 500ml',
      'Burger V fit Nº 2 ½',
    ]);
    expect(texts(xml, 'uCom')).toEqual(['UN', 'PÇ', 'FATIA', 'UN', 'GRF', 'kg']);
    expect(texts(xml, 'infCpl')[0]).toMatch(
      /^Mesa: Mesa "7" - varanda \| Pessoas: 2 \| Aniversário "João" - mesa 7 sem cebola\.\.\. \| Valor aproximado dos tributos/,
    );
  });

  it('an sku named like a property of every object (__proto__, constructor) is not in the catalog: its default is used', () => {
    const skus = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    const { xml, input } = issued(tab(skus.map((sku) => item({ sku }))));
    expectValidNfce({ xml, input });
    expect(texts(xml, 'cProd').slice(0, skus.length)).toEqual(skus);
    expect(
      buildDocument(input)
        .det.slice(0, skus.length)
        .map((d) => [d.defaulted, d.ncm]),
    ).toEqual(skus.map(() => [true, demoCatalog().default.ncm]));
  });

  it('the builder refuses, as a programming error, a required text of which nothing is left', () => {
    const { input } = issued(tab([item({})]));
    const broken = { ...input, order: { ...input.order, items: [{ ...input.order.items[0]!, sku: '🍕' }] } };
    expect(() => buildDocument(broken)).toThrow(`item 1's code "🍕" has no character an NFC-e can carry`);
    const unnamed = { ...input, order: { ...input.order, items: [{ ...input.order.items[0]!, name: '\u200b' }] } };
    expect(() => buildDocument(unnamed)).toThrow(`item 1's name "\u200b" has no character an NFC-e can carry`);
  });

  it('the checks can fail: a control character is not well-formed, a missing element is not valid', () => {
    const { xml } = issued(tab([item({ name: 'Suco de uva' })]));
    expect(parseErrors(xml.replace('Suco de uva', 'Suco\u0001de uva')).join('\n')).toMatch(/invalid Char value 1/);
    if (!xsd) return;
    expect(xsd.failures(xml.replace('<natOp>VENDA</natOp>', '')).join('\n')).toMatch(/natOp|mod/);
    expect(xsd.failures(xml.replace('Suco de uva', 'Suco de uva ')).join('\n')).toMatch(/xProd.*pattern/);
  });
});

/** A plain payment's parameters, as the generator makes them. */
function issuedArgs(): Generated {
  return {
    path: { orderKeyType: 'TABLE', orderKey: 'T1' },
    body: { integrationHubServiceId: GUID, items: [] },
    tpAmb: 1,
    fees: 0,
    discountShare: 0,
    methods: ['CREDIT'],
    numberPersons: 2,
    customer: null,
  } as unknown as Generated;
}
