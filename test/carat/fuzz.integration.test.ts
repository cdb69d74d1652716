import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { CARAT_PARTNER } from '../../functions/carat/partner.ts';
import { BRAZILIAN_DDDS } from '../../functions/carat/recharge.ts';
import { envName } from '../../lib/manifest.ts';
import { provisionCarat } from '../../lib/local/carat.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { issueToken, post, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * Every Carat route of the store API and e-SiTef's authenticity POST, through the local gateway,
 * the real handlers and the e-SiTef simulator, with generated bodies, query strings and paths:
 * never a 5xx, and every 4xx in the error format `{"errors":[{key, message}]}`. The PUT and the
 * branches are fuzzed on a real NOV recharge (its carriers read), so what passes the schema reaches
 * the checks against e-SiTef's carriers and values. Then the log of a whole recharge, and of
 * requests carrying card data, is searched for what must never be logged.
 */
let stack: LocalRuntime;
let token: string;
let secret: string;
const MERCHANT_KEY = 'fuzz-merchant-key-9c41e7d2a8b35f60';
/** A realistic e-SiTef card token (base64 of the card's reference). */
const CARD_TOKEN = 'OGJlNjM3ZWMtYTJkMS00ZjVjLWI4NDktM2M3ZWQ5ZTFhNmQ1OjQ1MDY6MTIyNw==';
const CARD_NUMBER = '4111111111111111';
const CVV = '737';
const PHONE = '987612345';

/** Everything the handlers' Powertools logger writes (stdout, and stderr for warnings and errors). */
const captured: string[] = [];
const capture = (chunk: string | Uint8Array) => {
  captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  return true;
};

beforeAll(async () => {
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  stack = await startTestRuntime({
    rateLimitPerSecond: 1e9,
    burstLimit: 1e9,
    partnerRateLimitPerSecond: 1e6,
    partnerBurstLimit: 1e6,
    env: { CARAT_TIMEOUT_SECONDS: '2', CARAT_NIT_WAIT_SECONDS: '1', POWERTOOLS_LOG_LEVEL: 'INFO' },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
  const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  secret = await integrations.issuePartnerSecret(await integrations.ensure(SEED_INTEGRATION, 'test'), CARAT_PARTNER);
  provisionCarat(stack.env, { integrationHubServiceId: SEED_INTEGRATION, merchantKey: MERCHANT_KEY });
  stack.carat.control.addMerchant(MERCHANT_KEY, `${stack.baseUrl}/carat/authenticity/${secret}`);
});
afterAll(async () => {
  await stack?.close();
  vi.restoreAllMocks();
});

/* ------------------------------------------------------------------------------------------------
 * Generators
 * --------------------------------------------------------------------------------------------- */

const char = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCodePoint(c));
/** Text with controls, Latin-1, combining and zero-width marks, lone surrogate halves, emoji, any plane. */
const unicode = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: char(0x20, 0x7e) },
    char(0x00, 0x1f),
    char(0x80, 0xff),
    char(0x300, 0x36f),
    char(0x200b, 0x200f),
    char(0xd800, 0xdfff),
    char(0x1f300, 0x1faff),
    char(0x10000, 0x10ffff),
  ),
  maxLength: 60,
});
const hugeNumber = fc.constantFrom(
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 64,
  5e-324,
  -0,
  1e21,
  123456789012345678901234567890,
);
const digitString = fc.stringMatching(/^\d{0,25}$/);
/** Values for one field: noise of every kind, huge numbers, digit strings, card numbers. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  unicode,
  fc.jsonValue({ maxDepth: 2 }),
  fc.double(),
  fc.integer(),
  hugeNumber,
  digitString,
  fc.constantFrom(null, true, false, '', ' ', '0', '001', '11', '987654321', CARD_NUMBER, '4111 1111 1111 1111', [], {}),
);
/** A whole body: JSON of any shape, anything serialized, or raw text. */
const anyBody: fc.Arbitrary<string> = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.anything({ maxDepth: 2 }).map((value) => {
    try {
      return JSON.stringify(value) ?? '';
    } catch {
      return String(value);
    }
  }),
  unicode,
  fc.constantFrom('', ' ', '{', '[]', 'null', '"x"', `"${CARD_NUMBER}"`, CARD_NUMBER, '{"a":1}{', 'x'.repeat(5000)),
);

/**
 * `base` with some of its fields (dotted paths) set to generated values — plausible ones for the
 * field, anything, or undefined (deleted) — and maybe an unknown or card-like property.
 */
function objectsAround(
  base: Record<string, unknown>,
  fields: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  const change = fc
    .constantFrom(...Object.keys(fields))
    .chain((key) =>
      fc.tuple(
        fc.constant(key),
        fc.oneof(
          { weight: 3, arbitrary: fields[key]! },
          { weight: 2, arbitrary: anyValue },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
      ),
    );
  const extra = fc.tuple(fc.oneof(unicode, fc.constantFrom('__proto__', 'constructor', 'card', 'cvv', 'pan', '')), anyValue);
  return fc
    .tuple(
      fc.array(change, { minLength: 1, maxLength: 4 }),
      fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: extra }),
    )
    .map(([changes, extra]) => {
      const body: Record<string, unknown> = structuredClone(base);
      for (const [key, value] of changes) {
        const path = key.split('.');
        let target = body;
        for (const part of path.slice(0, -1)) {
          if (target[part] === null || typeof target[part] !== 'object' || Array.isArray(target[part])) target[part] = {};
          target = target[part] as Record<string, unknown>;
        }
        if (value === undefined) delete target[path.at(-1)!];
        else target[path.at(-1)!] = value;
      }
      if (extra) Object.defineProperty(body, extra[0], { value: extra[1], enumerable: true, configurable: true, writable: true });
      return body;
    });
}

/** A body as sent: JSON of a generated object, or any body at all. */
function bodiesAround(base: Record<string, unknown>, fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: objectsAround(base, fields).map((body) => JSON.stringify(body)) },
    { weight: 1, arbitrary: anyBody },
  );
}

/** A path segment: a GUID, nearly one, anything (percent-encoded; a lone surrogate as bytes no decoder takes), or bad escapes. */
const segment = fc.oneof(
  fc.uuid(),
  fc.uuid().map((id) => id.toUpperCase()),
  unicode.map(encodedOrInvalid),
  fc.constantFrom(
    '%',
    '%zz',
    '%C0%AF',
    '%ED%A0%80',
    '..',
    '.',
    '%2F',
    '%00',
    'x'.repeat(300),
    '00000000-0000-0000-0000-000000000000',
  ),
);

function encodedOrInvalid(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

const queryPart = (name: string, value: string) => `${encodedOrInvalid(name)}=${encodedOrInvalid(value)}`;

/** Query strings around `ddd=11&dealer=1`: each value kept, generated or left out, maybe an unknown name. */
const branchesQuery = fc
  .tuple(
    fc.option(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...BRAZILIAN_DDDS) },
        fc.constantFrom('20', '00', '10', '1', '011', ' 11', '11 ', '+11', '1e1', '11.0', ''),
        digitString,
        unicode,
      ),
    ),
    fc.option(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('1', '2', '3', '4', '001', '004', '01', '0004') },
        fc.constantFrom('5', '0', '999', '1000', '-1', '1.0', ' 1', ''),
        digitString,
        unicode,
      ),
    ),
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.oneof(fc.constantFrom('nit', 'dealercode', 'DDD', 'ddd', 'dealer'), unicode), unicode),
      },
    ),
  )
  .map(([ddd, dealer, extra]) =>
    [
      ...(ddd === null ? [] : [queryPart('ddd', ddd)]),
      ...(dealer === null ? [] : [queryPart('dealer', dealer)]),
      ...(extra === null ? [] : [queryPart(...extra)]),
    ].join('&'),
  );

/** A query string: known and unknown names with generated values, or raw text. */
const queryString = fc.oneof(
  { weight: 3, arbitrary: branchesQuery },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.tuple(fc.oneof(fc.constantFrom('ddd', 'dealer', 'DDD', 'dealercode', 'nit'), unicode), fc.oneof(digitString, unicode)),
        {
          maxLength: 4,
        },
      )
      .map((pairs) => pairs.map(([name, value]) => queryPart(name, value)).join('&')),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9=&%+;.\-]{0,40}$/) },
);

/* ------------------------------------------------------------------------------------------------
 * Checks and helpers
 * --------------------------------------------------------------------------------------------- */

/** The project's error format, strictly: `{"errors":[{key, message}, …]}`, non-empty strings. */
function expectErrorFormat(body: unknown, context: string) {
  expect(body, context).toBeTypeOf('object');
  expect(Object.keys(body as object), context).toEqual(['errors']);
  const { errors } = body as { errors: unknown };
  expect(Array.isArray(errors), context).toBe(true);
  expect((errors as unknown[]).length, context).toBeGreaterThan(0);
  for (const error of errors as Record<string, unknown>[]) {
    expect(Object.keys(error).sort(), context).toEqual(['key', 'message']);
    expect(error.key, context).toBeTypeOf('string');
    expect(error.message, context).toBeTypeOf('string');
    expect((error.key as string).length, `${context}: empty key in ${JSON.stringify(error)}`).toBeGreaterThan(0);
    expect((error.message as string).length, `${context}: empty message in ${JSON.stringify(error)}`).toBeGreaterThan(0);
  }
}

type Answer = { status: number; body: any };

function expectAnswer(answer: Answer, allowed: number[], request: string) {
  const context = `${request} → ${answer.status} ${JSON.stringify(answer.body)}`;
  expect(answer.status, context).toBeLessThan(500);
  expect(allowed, context).toContain(answer.status);
  if (answer.status >= 400) expectErrorFormat(answer.body, context);
}

/** A raw request: any bytes, any content type, no bearer token (the authenticity POST). */
async function raw(method: string, path: string, body: string | Uint8Array, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${stack.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, body: json ? JSON.parse(text) : text };
}

/** A new recharge, NOV, with e-SiTef's carriers read (the store's usual first step). */
async function novRecharge(): Promise<string> {
  const started = await post(stack, '/recharges', {}, token);
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const id: string = started.body.rechargeId;
  const dealers = await send(stack, 'GET', `/recharges/${id}/dealers`, undefined, token);
  expect(dealers.status, JSON.stringify(dealers.body)).toBe(200);
  return id;
}

const VALID_RECHARGE = { dealer: '1', ddd: '11', phone: PHONE, amount: 15 };

/** The PUT's fields with plausible values: carriers or not, area codes or not, values offered or not. */
const RECHARGE_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  dealer: fc.constantFrom('1', '2', '3', '4', '001', 4, '004', '5', '0', 9, '999'),
  ddd: fc.oneof(fc.constantFrom(...BRAZILIAN_DDDS), fc.constantFrom(11, 21, '20', '00', '011')),
  phone: fc.constantFrom(PHONE, 987612345, '98761-2345', '(98) 7612 345', '87612345', '0987612345', '9'.repeat(9)),
  amount: fc.constantFrom(10, 15, 20, 30, 50, 100, 12, 15.5, 10.001, 0.01, 0, -15, 500, 500.01, 1e7, 1e7 + 1),
  amountKey: fc.constantFrom('1', '2', '3', '6', '99', '7', 2, '1.0', 'ABCDEFGHIJK'),
  'payment.cardToken': fc.constantFrom(CARD_TOKEN, 'short', CARD_NUMBER, `${CARD_TOKEN}!`, 'x'.repeat(513)),
  'payment.installments': fc.constantFrom(1, 2, 12, 13, 0, 1.5, '3'),
  'payment.authorizerId': fc.constantFrom('2', 2, '123456', 'visa'),
  'payment.customerId': fc.constantFrom('cliente-7', '', 'x'.repeat(41), 'com espaço'),
  payment: fc.constantFrom(undefined, null, {}, { cardToken: CARD_TOKEN, installments: 3 }),
  'payment.number': fc.constantFrom(CARD_NUMBER, '4111 1111 1111 1111', 4111111111111111),
};

/** A recharge done and pending confirmation (PPC). */
async function ppcRecharge(): Promise<string> {
  const id = await novRecharge();
  const done = await send(stack, 'PUT', `/recharges/${id}`, VALID_RECHARGE, token);
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  expect(done.body.status).toBe('PPC');
  return id;
}

/* ------------------------------------------------------------------------------------------------
 * Fuzz
 * --------------------------------------------------------------------------------------------- */

describe('generated requests never get a 5xx; every 4xx is in the error format', () => {
  it('POST /recharges', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodiesAround(
          { orderId: 'pedido-1' },
          {
            orderId: fc.oneof(
              fc.stringMatching(/^[A-Za-z0-9._-]{0,22}$/),
              fc.constantFrom('pedido-1', 'pedido 1', 'pedido/1', CARD_NUMBER),
            ),
            payment: anyValue,
            phone: anyValue,
          },
        ),
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded'),
        async (body, contentType) => {
          const answer = await send(stack, 'POST', '/recharges', body, token, { 'content-type': contentType });
          expectAnswer(answer, [200, 201, 202, 400, 413, 415], `POST /recharges ${contentType} ${body}`);
          // A body that is not JSON is a 415; no body at all is `{}`, whatever its declared type.
          if (body !== '' && (contentType === 'text/plain' || contentType.startsWith('application/x-www')))
            expect(answer.status).toBe(415);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('GET /recharges/{id}, …/dealers with generated ids', async () => {
    const real = await novRecharge();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 4, arbitrary: segment }, { weight: 1, arbitrary: fc.constant(real) }),
        fc.constantFrom('', '/dealers'),
        async (id, suffix) => {
          const path = `/recharges/${id}${suffix}`;
          const answer = await send(stack, 'GET', path, undefined, token);
          expectAnswer(answer, [200, 400, 404], `GET ${path}`);
          if (id === real) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('GET /recharges/{id}/branches with generated query strings, on a NOV recharge', async () => {
    const id = await novRecharge();
    let listed = 0;
    await fc.assert(
      fc.asyncProperty(queryString, async (query) => {
        const path = `/recharges/${id}/branches${query === '' ? '' : `?${query}`}`;
        const answer = await send(stack, 'GET', path, undefined, token);
        expectAnswer(answer, [200, 400], `GET ${path}`);
        if (answer.status === 200) listed++;
      }),
      { numRuns: 500 },
    );
    // The generated queries reach e-SiTef, not only the schema.
    expect(listed).toBeGreaterThan(10);
  });

  it('GET …/branches: a dealer code that is not one of e-SiTef’s carriers is a 400 naming dealer', async () => {
    const id = await novRecharge();
    for (const dealer of ['5', '9', '0', '999']) {
      const answer = await send(stack, 'GET', `/recharges/${id}/branches?ddd=11&dealer=${dealer}`, undefined, token);
      expectAnswer(answer, [400], `GET …/branches?ddd=11&dealer=${dealer}`);
      expect(answer.body.errors.map((e: { key: string }) => e.key)).toEqual(['dealer']);
    }
    const vivo = await send(stack, 'GET', `/recharges/${id}/branches?ddd=11&dealer=001`, undefined, token);
    expect(vivo.status, JSON.stringify(vivo.body)).toBe(200);
  });

  it('PUT /recharges/{id} with generated bodies, on a NOV recharge (a fresh one after each accepted)', async () => {
    let id = await novRecharge();
    let accepted = 0;
    let checkedAgainstEsitef = 0;
    await fc.assert(
      fc.asyncProperty(bodiesAround({ ...VALID_RECHARGE, payment: { cardToken: CARD_TOKEN } }, RECHARGE_FIELDS), async (body) => {
        const answer = await send(stack, 'PUT', `/recharges/${id}`, body, token);
        expectAnswer(answer, [200, 400, 413, 422], `PUT /recharges/{id} ${body}`);
        const messages = JSON.stringify(answer.body.errors ?? []);
        if (/not offered here|not one of e-SiTef’s carriers|must be within amountKey/.test(messages)) checkedAgainstEsitef++;
        if (answer.status === 200) {
          expect(answer.body.status).toBe('PPC');
          accepted++;
          id = await novRecharge();
        }
      }),
      { numRuns: 800 },
    );
    // Bodies that pass the schema reach the checks against e-SiTef's carriers and values, and some are sent.
    expect(accepted).toBeGreaterThan(0);
    expect(checkedAgainstEsitef).toBeGreaterThan(0);
  });

  it('a body that is only a card number, or has one under an empty name, is refused with non-empty keys', async () => {
    const nov = await novRecharge();
    for (const [method, path] of [
      ['POST', '/recharges'],
      ['PUT', `/recharges/${nov}`],
      ['POST', `/recharges/${nov}/confirmation`],
    ] as const) {
      for (const body of [`"${CARD_NUMBER}"`, CARD_NUMBER, JSON.stringify({ '': CARD_NUMBER })]) {
        const answer = await send(stack, method, path, body, token);
        expectAnswer(answer, [400], `${method} ${path} ${body}`);
        expect(JSON.stringify(answer.body)).not.toContain(CARD_NUMBER);
      }
      const root = await send(stack, method, path, `"${CARD_NUMBER}"`, token);
      expect(root.body.errors, `${method} ${path}`).toContainEqual({
        key: 'body',
        message: expect.stringMatching(/card number/),
      });
    }
  });

  it('PUT /recharges/{id} with generated paths', async () => {
    await fc.assert(
      fc.asyncProperty(segment, async (id) => {
        const answer = await send(stack, 'PUT', `/recharges/${id}`, VALID_RECHARGE, token);
        expectAnswer(answer, [400, 404], `PUT /recharges/${id}`);
      }),
      { numRuns: 100 },
    );
  });

  it('POST /recharges/{id}/confirmation with generated bodies, on a PPC recharge and a NOV one', async () => {
    const ppc = await ppcRecharge();
    const nov = await novRecharge();
    await fc.assert(
      fc.asyncProperty(
        bodiesAround({ confirm: true }, { confirm: fc.constantFrom(true, false, 'true', 1, 0, null), decision: anyValue }),
        fc.constantFrom(ppc, nov),
        async (body, id) => {
          const answer = await send(stack, 'POST', `/recharges/${id}/confirmation`, body, token);
          expectAnswer(answer, [200, 400, 409, 413], `POST …/confirmation ${body}`);
          if (id === nov) expect(answer.status).not.toBe(200);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('POST /carat/authenticity/{secret} with generated forms, content types and secrets', async () => {
    const known = stack.carat.control.transactions();
    const usedUsn = known.at(-1)?.merchantUsn ?? '1';
    const formValue = fc.oneof(
      unicode,
      digitString,
      fc.constantFrom(usedUsn, '999999999', 'A'.repeat(64), known.at(-1)?.nit ?? 'B'.repeat(64), '', '1'.repeat(400)),
    );
    const form = fc
      .array(
        fc.tuple(fc.oneof(fc.constantFrom('nit', 'NIT', 'merchantUSN', 'merchantusn', 'orderId', 'status'), unicode), formValue),
        { maxLength: 5 },
      )
      .map((pairs) => pairs.map(([name, value]) => `${encodedOrInvalid(name)}=${encodedOrInvalid(value)}`).join('&'));
    const body = fc.oneof(
      { weight: 3, arbitrary: form.map((text): string | Uint8Array => text) },
      { weight: 1, arbitrary: anyBody.map((text): string | Uint8Array => text) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): string | Uint8Array => bytes) },
      { weight: 1, arbitrary: fc.constant<string | Uint8Array>('x='.padEnd(17 * 1024, 'y')) },
    );
    const contentType = fc.oneof(
      fc.constantFrom(
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded; charset=ISO-8859-1',
        'application/json',
        'text/plain',
        'multipart/form-data; boundary=x',
        '',
      ),
      fc.stringMatching(/^[\x21-\x7e]{1,30}$/),
    );
    const secrets = fc.oneof({ weight: 3, arbitrary: fc.constant(secret) }, { weight: 1, arbitrary: segment });
    await fc.assert(
      fc.asyncProperty(body, contentType, secrets, async (payload, type, pathSecret) => {
        const path = `/carat/authenticity/${pathSecret}`;
        const answer = await raw('POST', path, payload, type === '' ? {} : { 'content-type': type });
        const shown = typeof payload === 'string' ? payload.slice(0, 200) : `bytes ${Buffer.from(payload).toString('hex')}`;
        expectAnswer(answer, [400, 401, 404, 409, 413], `POST /carat/authenticity/… ${type} ${shown}`);
        if (pathSecret !== secret && answer.status !== 404) expect([400, 401]).toContain(answer.status);
      }),
      { numRuns: 500 },
    );
  });
});

/* ------------------------------------------------------------------------------------------------
 * Logs
 * --------------------------------------------------------------------------------------------- */

describe('the log', () => {
  it('of a whole recharge and of requests with card data holds no card data, token, NIT, merchant key or phone', async () => {
    captured.length = 0;
    const nitsBefore = new Set(stack.carat.control.transactions().map((t) => t.nit));

    // A whole recharge, paid by card token.
    const started = await post(stack, '/recharges', { orderId: 'log-check-1' }, token);
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.rechargeId;
    expect((await send(stack, 'GET', `/recharges/${id}/dealers`, undefined, token)).status).toBe(200);
    expect((await send(stack, 'GET', `/recharges/${id}/branches?ddd=11&dealer=1`, undefined, token)).status).toBe(200);
    const done = await send(
      stack,
      'PUT',
      `/recharges/${id}`,
      { dealer: '1', ddd: '11', phone: PHONE, amount: 15, payment: { cardToken: CARD_TOKEN, installments: 1 } },
      token,
    );
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('PPC');
    const confirmed = await post(stack, `/recharges/${id}/confirmation`, { confirm: true }, token);
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body.status).toBe('CON');
    const transaction = stack.carat.control.transactions().find((t) => t.orderId === 'log-check-1')!;
    expect(transaction).toMatchObject({ status: 'CON', phone: PHONE, payment: { tokenLast4: CARD_TOKEN.slice(-4) } });

    // Card data in the bodies: 400 naming exactly the fields (and what else is wrong), before anything is sent.
    const other = (await post(stack, '/recharges', { orderId: 'log-check-2' }, token)).body.rechargeId;
    const refusals: [string, string, unknown, string[]][] = [
      [
        'PUT',
        `/recharges/${other}`,
        { ...VALID_RECHARGE, payment: { cardToken: CARD_TOKEN, number: CARD_NUMBER, cvv: CVV } },
        ['payment.number', 'payment.cvv'],
      ],
      ['PUT', `/recharges/${other}`, { ...VALID_RECHARGE, payment: { cardToken: CARD_NUMBER } }, ['payment.cardToken']],
      [
        'PUT',
        `/recharges/${other}`,
        { ...VALID_RECHARGE, payment: { number: CARD_NUMBER } },
        ['payment.number', 'payment.cardToken'],
      ],
      [
        'PUT',
        `/recharges/${other}`,
        { ...VALID_RECHARGE, card_number: CARD_NUMBER, security_code: CVV },
        ['card_number', 'security_code'],
      ],
      ['POST', '/recharges', { orderId: CARD_NUMBER }, ['orderId']],
      ['POST', `/recharges/${id}/confirmation`, { confirm: true, cvv: CVV }, ['cvv']],
    ];
    for (const [method, path, body, keys] of refusals) {
      const answer = await send(stack, method, path, body, token);
      expectAnswer(answer, [400], `${method} ${path} ${JSON.stringify(body)}`);
      const answered = answer.body.errors.map((e: { key: string }) => e.key);
      expect(new Set(answered), `${method} ${path} ${JSON.stringify(answer.body)}`).toEqual(new Set(keys));
      expect(JSON.stringify(answer.body)).not.toContain(CARD_NUMBER);
      expect(JSON.stringify(answer.body)).not.toContain(`"${CVV}"`);
    }
    // The other recharge was never sent to e-SiTef (no do with the card).
    const otherTransaction = stack.carat.control.transactions().find((t) => t.orderId === 'log-check-2')!;
    expect(otherTransaction).toMatchObject({ status: 'NOV', doCalls: 0 });

    const text = captured.join('');
    const entries = text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // The capture works: the Carat handlers' own lines are there.
    const messages = entries.map((e) => `${e.function_name} ${e.message}`);
    for (const expected of [
      'caratStart recharge started',
      'caratAuthenticity NIT received',
      'caratRecharge recharge sent',
      'caratConfirmation recharge decided',
      'caratRecharge request refused',
      'caratStart request refused',
      'caratConfirmation request refused',
    ])
      expect(messages, text).toContain(expected);
    expect(entries.find((e) => e.message === 'recharge sent')).toMatchObject({
      rechargeId: id,
      status: 'PPC',
      withPayment: true,
    });

    const nits = stack.carat.control
      .transactions()
      .map((t) => t.nit)
      .filter((nit) => !nitsBefore.has(nit));
    expect(nits).toHaveLength(2);
    const forbidden = [...nits, MERCHANT_KEY, CARD_TOKEN, CARD_NUMBER, '4111 1111 1111 1111', PHONE, `11${PHONE}`, token, secret];
    for (const value of forbidden) expect(text, `the log holds ${value}`).not.toContain(value);
    // The CVV's digits may well appear inside a timestamp or an id: no logged value is the CVV.
    const leaves = (value: unknown): unknown[] =>
      value !== null && typeof value === 'object' ? Object.values(value).flatMap(leaves) : [value];
    for (const leaf of entries.flatMap(leaves)) expect(String(leaf)).not.toBe(CVV);
    expect(text).not.toContain(`"${CVV}"`);
  });
});
