import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  esitefApi,
  EsitefNoAnswer,
  type BranchesAnswer,
  type DealersAnswer,
  type EsitefAnswer,
  type EsitefApi,
  type StatusAnswer,
} from '../../functions/carat/esitef.ts';
import type { EsitefStep } from '../../functions/carat/recharge.ts';

/**
 * The e-SiTef "Recarga REST" client (functions/carat/esitef.ts) against an injected `fetch`: the
 * exact requests of spec §2 (paths, root keys, every value a string, amounts in centavos,
 * `merchant_key` where the spec puts it), how answers are read (strings or numbers, unknown
 * fields, padded dealer codes, refusals at any HTTP status), and what is no answer
 * (EsitefNoAnswer: sent or not, with the HTTP status when one came).
 */

const BASE = 'https://esitef-homologacao.softwareexpress.com.br/e-sitef';
const MERCHANT_KEY = 'F0C1A7E3B9D2481A9C6E5F4D3B2A1908-loja-1';
/** 64 alphanumeric characters (spec §0). */
const NIT = 'Q7pX2mN9kL4vR8sT1wY6zA3bC5dE0fG7hJ9kM2nP4qR6sT8uV1wX3yZ5aB7cD9eF';
const TOKEN = 'OGJlNjM3ZWMtYTJkMS00ZjVjLWI4NDktM2M3ZWQ5ZTFhNmQ1OjQ1MDY6MTIyNw==';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal | undefined;
}

type Reply = (request: Sent) => Response | Promise<Response>;

/** A client whose fetch records each request and answers with `reply`. */
function client(reply: Reply, options: { merchantKey?: string; timeoutMs?: number; base?: string } = {}) {
  const sent: Sent[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const request: Sent = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string> | undefined) },
      body: init?.body === undefined || init.body === null ? undefined : String(init.body),
      signal: init?.signal ?? undefined,
    };
    sent.push(request);
    return reply(request);
  }) as typeof fetch;
  const api = esitefApi(options.base ?? BASE, {
    merchantKey: options.merchantKey ?? MERCHANT_KEY,
    timeoutMs: options.timeoutMs ?? 5_000,
    fetch: fetchFn,
  });
  return { api, sent };
}

/** A JSON answer (a real Response). */
const json =
  (status: number, body: unknown): Reply =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

/** Any status (1xx and 204 included, which a real Response cannot carry with a body) and raw text. */
const raw =
  (status: number, text: string): Reply =>
  () =>
    ({ status, headers: new Headers(), text: () => Promise.resolve(text) }) as unknown as Response;

/** A rejection as undici's fetch gives it: TypeError "fetch failed" with the system error as cause. */
function fetchFailed(code: string): Error {
  return Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error(`connect ${code} 200.201.169.10:443`), { code, syscall: 'connect' }),
  });
}

/** Every leaf value of a JSON value. */
function leaves(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [value];
}

const OK_ANSWER = { message: 'OK. Transaction successful.', code: '0' };
/** The docs' fixed R$ 15,00 value, with a 10 % bonus. */
const RANGE_15 = {
  message: 'R$ 15,00',
  amount_key: '2',
  bonus_in_percentage: '10',
  bonus: '150',
  payment_amount: '1500',
  bonus_category: '',
  expiry_date: '30',
  bonus_expiry_date: '30',
  min_amount: '1500',
  max_amount: '1500',
};

/** The six calls, each with the answer's root key and a valid answer (spec §2's examples). */
const CALLS: {
  step: EsitefStep;
  root: string;
  valid: Record<string, unknown>;
  run: (api: EsitefApi) => Promise<EsitefAnswer>;
}[] = [
  {
    step: 'begin',
    root: 'begin_recharge_response',
    valid: { esitef: OK_ANSWER },
    run: (api) => api.begin({ merchantUsn: '17', orderId: 'pedido-1' }),
  },
  {
    step: 'dealers',
    root: 'list_dealers_response',
    valid: {
      status: 'NOV',
      esitef: OK_ANSWER,
      authorizer: { message: '', code: '000' },
      hashes: { general: '09A9681D09A9681D' },
      dealers: [
        { name: 'Vivo', code: '001' },
        { name: 'Claro', code: '002' },
      ],
    },
    run: (api) => api.dealers(NIT),
  },
  {
    step: 'branches',
    root: 'list_branch_data_response',
    valid: {
      status: 'NOV',
      esitef: OK_ANSWER,
      sitef: { code: '0' },
      questions: [],
      categories: [
        {
          code: '1',
          description: 'Recarga',
          amount_ranges: [RANGE_15],
        },
      ],
    },
    run: (api) => api.branches(NIT, '11', '1'),
  },
  {
    step: 'do',
    root: 'do_recharge_response',
    valid: {
      status: 'PPC',
      order_id: 'pedido-1',
      merchant_usn: '17',
      esitef: { message: 'OK', code: '0', usn: '123456789012345' },
      sitef: { message: 'OK', code: '0' },
      host: { message: 'OK', code: '0' },
      acquirer: { branch_code: '0001', merchant_code: '123' },
      payment: { status: 'PPC' },
    },
    run: (api) =>
      api.doRecharge(NIT, {
        amountCentavos: 1500,
        amountKey: '2',
        dealer: '1',
        ddd: '11',
        phone: '987654321',
        payment: { cardToken: TOKEN, installments: 1 },
      }),
  },
  {
    step: 'confirm',
    root: 'confirm_recharge_response',
    valid: { esitef: { message: 'OK', code: '0' }, status: 'CON', payment: { status: 'CON' } },
    run: (api) => api.confirm(NIT, true),
  },
  {
    step: 'status',
    root: 'get_status_recharge_response',
    valid: {
      status: 'CON',
      order_id: 'pedido-1',
      esitef: { message: 'OK', code: '0' },
      authorizers: [{ name: 'SiTef', message: 'OK', code: '0' }],
      customer: { total_copies: '1', receipt: 'COMPROVANTE DE RECARGA\nVIA CLIENTE' },
      merchant: { total_copies: '1', receipt: 'COMPROVANTE DE RECARGA\nVIA ESTABELECIMENTO' },
    },
    run: (api) => api.status(NIT),
  },
];

const JSON_HEADERS = { accept: 'application/json', 'content-type': 'application/json' };
const READ_HEADERS = { accept: 'application/json' };

describe('the requests sent (spec §2)', () => {
  it('begin: POST /v3/recharge with begin_recharge_request, merchant_key in the body', async () => {
    const { api, sent } = client(json(200, { begin_recharge_response: { esitef: OK_ANSWER } }));
    await api.begin({ merchantUsn: '17', orderId: 'pedido-1' });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual({
      url: `${BASE}/v3/recharge`,
      method: 'POST',
      headers: JSON_HEADERS,
      body: expect.any(String),
      signal: expect.any(AbortSignal),
    });
    expect(JSON.parse(sent[0]!.body!)).toEqual({
      begin_recharge_request: { merchant_key: MERCHANT_KEY, merchant_usn: '17', order_id: 'pedido-1', recharge_type: 'normal' },
    });
    expect(leaves(JSON.parse(sent[0]!.body!)).every((value) => typeof value === 'string')).toBe(true);
  });

  it('begin without an orderId sends no order_id; a trailing slash of the base URL is dropped', async () => {
    const { api, sent } = client(json(200, { begin_recharge_response: { esitef: OK_ANSWER } }), { base: `${BASE}//` });
    await api.begin({ merchantUsn: '1' });
    expect(sent[0]!.url).toBe(`${BASE}/v3/recharge`);
    expect(JSON.parse(sent[0]!.body!)).toEqual({
      begin_recharge_request: { merchant_key: MERCHANT_KEY, merchant_usn: '1', recharge_type: 'normal' },
    });
  });

  it('dealers: GET /v3/rechargedealers?nit=…, no body, no merchant key', async () => {
    const { api, sent } = client(json(200, { list_dealers_response: { esitef: OK_ANSWER, dealers: [] } }));
    await api.dealers(NIT);
    expect(sent).toEqual([
      {
        url: `${BASE}/v3/rechargedealers?nit=${NIT}`,
        method: 'GET',
        headers: READ_HEADERS,
        body: undefined,
        signal: expect.any(AbortSignal),
      },
    ]);
  });

  it('branches: GET /v3/rechargebranches?nit=…&ddd=…&dealercode=1, the code as the dealers answer gave it (unpadded)', async () => {
    const { api, sent } = client((request) =>
      request.url.includes('rechargedealers')
        ? json(200, { list_dealers_response: { esitef: OK_ANSWER, dealers: [{ name: 'Vivo', code: '001' }] } })(request)
        : json(200, { list_branch_data_response: { esitef: OK_ANSWER, categories: [] } })(request),
    );
    const [vivo] = (await api.dealers(NIT)).dealers;
    expect(vivo).toEqual({ code: '1', name: 'Vivo' });
    await api.branches(NIT, '11', vivo!.code);
    expect(sent[1]).toEqual({
      url: `${BASE}/v3/rechargebranches?nit=${NIT}&ddd=11&dealercode=1`,
      method: 'GET',
      headers: READ_HEADERS,
      body: undefined,
      signal: expect.any(AbortSignal),
    });
  });

  it('do: PUT /v3/recharge/{nit} with do_recharge_request, amount in centavos, every value a string, no merchant key without payment', async () => {
    const { api, sent } = client(json(200, { do_recharge_response: { esitef: OK_ANSWER, status: 'PPC' } }));
    await api.doRecharge(NIT, { amountCentavos: 1500, amountKey: '2', dealer: '1', ddd: '11', phone: '987654321' });
    expect(sent[0]).toEqual({
      url: `${BASE}/v3/recharge/${NIT}`,
      method: 'PUT',
      headers: JSON_HEADERS,
      body: expect.any(String),
      signal: expect.any(AbortSignal),
    });
    const body = JSON.parse(sent[0]!.body!);
    expect(body).toEqual({
      do_recharge_request: { amount: '1500', amount_key: '2', dealer: { code: '1' }, phone: { ddd: '11', number: '987654321' } },
    });
    expect(leaves(body).every((value) => typeof value === 'string')).toBe(true);
  });

  it('do without amountKey sends no amount_key', async () => {
    const { api, sent } = client(json(200, { do_recharge_response: { esitef: OK_ANSWER, status: 'PPC' } }));
    await api.doRecharge(NIT, { amountCentavos: 12345, dealer: '3', ddd: '21', phone: '912345678' });
    expect(JSON.parse(sent[0]!.body!)).toEqual({
      do_recharge_request: { amount: '12345', dealer: { code: '3' }, phone: { ddd: '21', number: '912345678' } },
    });
  });

  it('do with payment: the same amount, merchant_key, installment {number, type 1 à vista}, card {token} only', async () => {
    const { api, sent } = client(json(200, { do_recharge_response: { esitef: OK_ANSWER, status: 'PPC' } }));
    await api.doRecharge(NIT, {
      amountCentavos: 2000,
      dealer: '4',
      ddd: '11',
      phone: '987654321',
      payment: { cardToken: TOKEN, authorizerId: '2', installments: 1, customerId: 'cliente-7' },
    });
    const body = JSON.parse(sent[0]!.body!);
    expect(body).toEqual({
      do_recharge_request: {
        amount: '2000',
        dealer: { code: '4' },
        phone: { ddd: '11', number: '987654321' },
        payment: {
          amount: '2000',
          merchant_key: MERCHANT_KEY,
          authorizer_id: '2',
          customer_id: 'cliente-7',
          installment: { number: '1', type: '1' },
          card: { token: TOKEN },
        },
      },
    });
    expect(leaves(body).every((value) => typeof value === 'string')).toBe(true);
  });

  it('do with payment in 3 installments: installment type 4 (store plan); no authorizer_id or customer_id when not given', async () => {
    const { api, sent } = client(json(200, { do_recharge_response: { esitef: OK_ANSWER, status: 'PPC' } }));
    await api.doRecharge(NIT, {
      amountCentavos: 5000,
      dealer: '1',
      ddd: '11',
      phone: '987654321',
      payment: { cardToken: TOKEN, installments: 3 },
    });
    expect(JSON.parse(sent[0]!.body!).do_recharge_request.payment).toEqual({
      amount: '5000',
      merchant_key: MERCHANT_KEY,
      installment: { number: '3', type: '4' },
      card: { token: TOKEN },
    });
  });

  it('confirm: PUT /v3/recharge/{nit} with confirm_recharge_request {confirm "true" | "false", merchant_key}', async () => {
    const { api, sent } = client(json(200, { confirm_recharge_response: { esitef: OK_ANSWER, status: 'CON' } }));
    await api.confirm(NIT, true);
    await api.confirm(NIT, false);
    for (const request of sent)
      expect(request).toEqual({
        url: `${BASE}/v3/recharge/${NIT}`,
        method: 'PUT',
        headers: JSON_HEADERS,
        body: expect.any(String),
        signal: expect.any(AbortSignal),
      });
    expect(sent.map((request) => JSON.parse(request.body!))).toEqual([
      { confirm_recharge_request: { confirm: 'true', merchant_key: MERCHANT_KEY } },
      { confirm_recharge_request: { confirm: 'false', merchant_key: MERCHANT_KEY } },
    ]);
    for (const request of sent) expect(leaves(JSON.parse(request.body!)).every((value) => typeof value === 'string')).toBe(true);
  });

  it('status: GET /v3/recharge/{nit}?merchantkey=…, no body', async () => {
    const { api, sent } = client(json(200, { get_status_recharge_response: { esitef: OK_ANSWER, status: 'NOV' } }));
    await api.status(NIT);
    expect(sent).toEqual([
      {
        url: `${BASE}/v3/recharge/${NIT}?merchantkey=${MERCHANT_KEY}`,
        method: 'GET',
        headers: READ_HEADERS,
        body: undefined,
        signal: expect.any(AbortSignal),
      },
    ]);
  });

  it('query values are encoded: a merchant key with & + = and spaces reads back whole', async () => {
    const key = 'chave &+=/? loja%1';
    const { api, sent } = client(json(200, { get_status_recharge_response: { esitef: OK_ANSWER } }), { merchantKey: key });
    await api.status(NIT);
    const url = new URL(sent[0]!.url);
    expect(url.pathname).toBe(`/e-sitef/v3/recharge/${NIT}`);
    expect([...url.searchParams]).toEqual([['merchantkey', key]]);
  });

  it('the merchant key goes only where the spec puts it (begin, payment, confirm, status query)', async () => {
    const { api, sent } = client(raw(500, ''));
    await api.dealers(NIT).catch(() => undefined);
    await api.branches(NIT, '11', '1').catch(() => undefined);
    await api.doRecharge(NIT, { amountCentavos: 1000, dealer: '1', ddd: '11', phone: '987654321' }).catch(() => undefined);
    expect(sent).toHaveLength(3);
    for (const request of sent) expect(`${request.url} ${request.body ?? ''}`).not.toContain(MERCHANT_KEY);
  });
});

describe('answers', () => {
  it('begin: the spec’s answer is ok', async () => {
    const { api } = client(json(200, { begin_recharge_response: { esitef: OK_ANSWER } }));
    expect(await api.begin({ merchantUsn: '17' })).toEqual({
      step: 'begin',
      httpStatus: 200,
      ok: true,
      esitef: { code: '0', message: 'OK. Transaction successful.' },
    });
  });

  it('numbers where strings are documented, a missing message, a lower-case status and unknown fields', async () => {
    const { api } = client(
      json(200, {
        do_recharge_response: {
          status: 'ppc',
          esitef: { code: 0, usn: 123456789012345, ext: '1' },
          sitef: { code: 0, message: 'OK', ext: '1' },
          host: { code: '00', message: 7 },
          payment: { status: 'ppc', ext: '1' },
          acquirer: { branch_code: '0001' },
          tef_version: '3.1',
          extra: { x: '1' },
        },
        something_else: true,
      }),
    );
    const answer = await api.doRecharge(NIT, { amountCentavos: 1000, dealer: '1', ddd: '11', phone: '987654321' });
    expect(answer).toEqual({
      step: 'do',
      httpStatus: 200,
      ok: true,
      esitef: { code: '0', message: '', usn: '123456789012345' },
      status: 'PPC',
      paymentStatus: 'PPC',
      sitef: { code: '0', message: 'OK' },
      host: { code: '00', message: '7' },
    });
  });

  it('dealers: padded codes ("001", " 004 ", 2) become unpadded, unknown fields are dropped', async () => {
    const { api } = client(
      json(200, {
        list_dealers_response: {
          status: 'NOV',
          esitef: OK_ANSWER,
          authorizer: { message: '', code: '000' },
          hashes: { general: '09A9681D09A9681D' },
          dealers: [
            { name: 'Vivo', code: '001', ext: '1' },
            { name: 'Claro', code: 2 },
            { name: 'Oi', code: '003', type_name: 'PIN TELEFONE', type_code: '02', branches: [] },
            { name: 'Tim', code: ' 004 ' },
          ],
        },
      }),
    );
    expect(await api.dealers(NIT)).toEqual({
      step: 'dealers',
      httpStatus: 200,
      ok: true,
      esitef: { code: '0', message: 'OK. Transaction successful.' },
      status: 'NOV',
      dealers: [
        { code: '1', name: 'Vivo' },
        { code: '2', name: 'Claro' },
        { code: '3', name: 'Oi' },
        { code: '4', name: 'Tim' },
      ],
    });
  });

  it('dealers: no list is an empty one', async () => {
    const { api } = client(json(200, { list_dealers_response: { esitef: OK_ANSWER } }));
    expect((await api.dealers(NIT)).dealers).toEqual([]);
  });

  it('branches: ranges in centavos across categories, numbers or strings, bonus 0 when absent, an inverted range dropped', async () => {
    const { api } = client(
      json(200, {
        list_branch_data_response: {
          status: 'NOV',
          esitef: OK_ANSWER,
          sitef: { code: '0' },
          hashes: { general: '09A9681D09A9681D' },
          questions: [],
          general: [{ message: 'créditos válidos por 30 dias' }],
          categories: [
            {
              code: '1',
              description: 'Recarga',
              amount_ranges: [
                RANGE_15,
                { amount_key: 99, min_amount: 1000, max_amount: 50000, ext: '1' },
                { amount_key: '7', min_amount: '3000', max_amount: '2000' },
              ],
            },
            {
              code: '2',
              description: 'Bônus',
              amount_ranges: [{ amount_key: 'B1', min_amount: '0500', max_amount: '0500', bonus: 0 }],
            },
            { code: '3' },
          ],
        },
      }),
    );
    const answer = await api.branches(NIT, '11', '2');
    expect(answer).toEqual({
      step: 'branches',
      httpStatus: 200,
      ok: true,
      esitef: { code: '0', message: 'OK. Transaction successful.' },
      status: 'NOV',
      ranges: [
        {
          amountKey: '2',
          category: 'Recarga',
          message: 'R$ 15,00',
          minCentavos: 1500,
          maxCentavos: 1500,
          bonusCentavos: 150,
          bonusPercent: '10',
          validity: '30',
          bonusValidity: '30',
        },
        {
          amountKey: '99',
          category: 'Recarga',
          message: '',
          minCentavos: 1000,
          maxCentavos: 50000,
          bonusCentavos: 0,
          bonusPercent: '',
          validity: '',
          bonusValidity: '',
        },
        {
          amountKey: 'B1',
          category: 'Bônus',
          message: '',
          minCentavos: 500,
          maxCentavos: 500,
          bonusCentavos: 0,
          bonusPercent: '',
          validity: '',
          bonusValidity: '',
        },
      ],
    });
  });

  it('confirm: CON with the payment’s status', async () => {
    const { api } = client(
      json(200, {
        confirm_recharge_response: { esitef: { message: 'OK', code: '0' }, status: 'CON', payment: { status: 'CON' } },
      }),
    );
    expect(await api.confirm(NIT, true)).toEqual({
      step: 'confirm',
      httpStatus: 200,
      ok: true,
      esitef: { code: '0', message: 'OK' },
      status: 'CON',
      paymentStatus: 'CON',
    });
  });

  it('status: both receipts; none when absent or empty', async () => {
    const full = client(json(200, { get_status_recharge_response: CALLS.find((c) => c.step === 'status')!.valid }));
    expect(await full.api.status(NIT)).toEqual({
      step: 'status',
      httpStatus: 200,
      ok: true,
      esitef: { code: '0', message: 'OK' },
      status: 'CON',
      receipts: { customer: 'COMPROVANTE DE RECARGA\nVIA CLIENTE', merchant: 'COMPROVANTE DE RECARGA\nVIA ESTABELECIMENTO' },
    });
    const bare = client(
      json(200, { get_status_recharge_response: { status: 'NOV', esitef: OK_ANSWER, customer: { receipt: '' }, merchant: {} } }),
    );
    expect((await bare.api.status(NIT)).receipts).toEqual({});
  });

  it('a refusal at HTTP 400 with a readable body is an answer: ok=false, its status and code (do denied, NEG)', async () => {
    const { api } = client(
      json(400, { do_recharge_response: { status: 'NEG', esitef: { code: '5', message: 'Recarga negada pela operadora' } } }),
    );
    const answer = await api.doRecharge(NIT, { amountCentavos: 1500, dealer: '1', ddd: '11', phone: '987654321' });
    expect(answer).toEqual({
      step: 'do',
      httpStatus: 400,
      ok: false,
      esitef: { code: '5', message: 'Recarga negada pela operadora' },
      status: 'NEG',
    });
  });

  it('code "0" at a status other than 200 is not ok (spec §0: only HTTP 200 is success)', async () => {
    for (const status of [201, 202, 400, 401, 404, 500]) {
      const { api } = client(json(status, { confirm_recharge_response: { esitef: OK_ANSWER, status: 'CON' } }));
      const answer = await api.confirm(NIT, true);
      expect(answer).toMatchObject({ step: 'confirm', httpStatus: status, ok: false, status: 'CON' });
    }
  });

  it('a code other than "0" at HTTP 200 is not ok', async () => {
    for (const code of ['6', 131, '00', ' 0', '']) {
      const { api } = client(json(200, { begin_recharge_response: { esitef: { code, message: 'Falha' } } }));
      const answer = await api.begin({ merchantUsn: '3' });
      expect(answer).toEqual({ step: 'begin', httpStatus: 200, ok: false, esitef: { code: String(code), message: 'Falha' } });
    }
  });

  it('a 5xx with a readable answer is an answer too (the use case decides what a 5xx means)', async () => {
    const { api } = client(json(503, { do_recharge_response: { esitef: { code: '99', message: 'Serviço indisponível' } } }));
    const answer = await api.doRecharge(NIT, { amountCentavos: 1000, dealer: '1', ddd: '11', phone: '987654321' });
    expect(answer).toEqual({ step: 'do', httpStatus: 503, ok: false, esitef: { code: '99', message: 'Serviço indisponível' } });
  });
});

describe('no answer: EsitefNoAnswer', () => {
  async function noAnswer(promise: Promise<unknown>): Promise<EsitefNoAnswer> {
    const error = await promise.then(
      (value) => {
        throw new Error(`expected EsitefNoAnswer, got an answer: ${JSON.stringify(value)}`);
      },
      (error: unknown) => error,
    );
    expect(error).toBeInstanceOf(EsitefNoAnswer);
    return error as EsitefNoAnswer;
  }

  it.each([
    ['a 5xx with no body', 503, ''],
    ['a 502 with an HTML page', 502, '<html><body><h1>502 Bad Gateway</h1></body></html>'],
    ['a 500 with JSON of another shape', 500, '{"error":"internal"}'],
    ['a 200 with the wrong root key', 200, JSON.stringify({ confirm_recharge_response: { esitef: OK_ANSWER } })],
    ['a 200 without esitef', 200, JSON.stringify({ do_recharge_response: { status: 'PPC' } })],
    ['a 200 with esitef.code an object', 200, JSON.stringify({ do_recharge_response: { esitef: { code: { x: 1 } } } })],
    ['a 200 that is not JSON', 200, 'OK'],
    ['a 200 with JSON null', 200, 'null'],
    ['a 204', 204, ''],
  ])('%s → sent=true with the HTTP status', async (_, status, text) => {
    const { api } = client(raw(status, text));
    const error = await noAnswer(api.doRecharge(NIT, { amountCentavos: 1000, dealer: '1', ddd: '11', phone: '987654321' }));
    expect(error).toMatchObject({ name: 'EsitefNoAnswer', step: 'do', sent: true, httpStatus: status });
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it('a dealer code that is not digits, or a range amount that is not digits, makes the answer unreadable (sent=true)', async () => {
    const dealers = client(json(200, { list_dealers_response: { esitef: OK_ANSWER, dealers: [{ name: 'Vivo', code: 'V1' }] } }));
    expect(await noAnswer(dealers.api.dealers(NIT))).toMatchObject({ step: 'dealers', sent: true, httpStatus: 200 });
    const branches = client(
      json(200, {
        list_branch_data_response: {
          esitef: OK_ANSWER,
          categories: [{ amount_ranges: [{ amount_key: '1', min_amount: '10,00', max_amount: '1000' }] }],
        },
      }),
    );
    expect(await noAnswer(branches.api.branches(NIT, '11', '1'))).toMatchObject({
      step: 'branches',
      sent: true,
      httpStatus: 200,
    });
  });

  it.each([
    ['ECONNREFUSED', false],
    ['ENOTFOUND', false],
    ['EAI_AGAIN', false],
    ['ECONNRESET', true],
    ['UND_ERR_SOCKET', true],
    ['EPIPE', true],
  ])('fetch rejecting with cause.code %s → sent=%s, no HTTP status', async (code, sent) => {
    const { api } = client(() => Promise.reject(fetchFailed(code)));
    const error = await noAnswer(api.confirm(NIT, true));
    expect(error).toMatchObject({ step: 'confirm', sent });
    expect(error.httpStatus).toBeUndefined();
    expect(error.message).toContain(code);
  });

  it('no answer before timeoutMs (the fetch aborted by its signal, TimeoutError) → sent=true', async () => {
    const { api, sent } = client(
      (request) =>
        new Promise<Response>((_, reject) => {
          request.signal!.addEventListener('abort', () => reject(request.signal!.reason));
        }),
      { timeoutMs: 30 },
    );
    const started = Date.now();
    const error = await noAnswer(api.doRecharge(NIT, { amountCentavos: 1000, dealer: '1', ddd: '11', phone: '987654321' }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sent[0]!.signal!.aborted).toBe(true);
    expect((sent[0]!.signal!.reason as Error).name).toBe('TimeoutError');
    expect(error).toMatchObject({ step: 'do', sent: true, message: 'e-SiTef do: no answer in time' });
    expect(error.httpStatus).toBeUndefined();
  });

  it('a DOMException TimeoutError thrown by fetch → sent=true', async () => {
    const { api } = client(() => Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError')));
    expect(await noAnswer(api.status(NIT))).toMatchObject({
      step: 'status',
      sent: true,
      message: 'e-SiTef status: no answer in time',
    });
  });

  it('the body cut off while read (reset mid-answer) → sent=true', async () => {
    const { api } = client(
      () =>
        ({ status: 200, headers: new Headers(), text: () => Promise.reject(fetchFailed('ECONNRESET')) }) as unknown as Response,
    );
    const error = await noAnswer(api.confirm(NIT, false));
    expect(error).toMatchObject({ step: 'confirm', sent: true });
  });

  it('the real fetch to a closed port: ECONNREFUSED → sent=false', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const api = esitefApi(`http://127.0.0.1:${port}/e-sitef`, {
      merchantKey: MERCHANT_KEY,
      timeoutMs: 2_000,
      fetch: globalThis.fetch,
    });
    const error = await noAnswer(api.begin({ merchantUsn: '1' }));
    expect(error).toMatchObject({ step: 'begin', sent: false, message: 'e-SiTef begin: the connection failed (ECONNREFUSED)' });
  });

  it('no message quotes the NIT, the merchant key or the card token', async () => {
    const failures: Reply[] = [
      raw(500, ''),
      raw(200, `{"do_recharge_response":{"nit":"${NIT}"}}`),
      () => Promise.reject(fetchFailed('ECONNREFUSED')),
      () => Promise.reject(fetchFailed('ECONNRESET')),
      () => Promise.reject(new DOMException('timeout', 'TimeoutError')),
    ];
    for (const failure of failures) {
      const { api } = client(failure);
      const error = await noAnswer(
        api.doRecharge(NIT, {
          amountCentavos: 1000,
          dealer: '1',
          ddd: '11',
          phone: '987654321',
          payment: { cardToken: TOKEN, installments: 1 },
        }),
      );
      for (const secret of [NIT, MERCHANT_KEY, TOKEN, '987654321']) expect(error.message).not.toContain(secret);
    }
  });
});

/* ------------------------------------------------------------------------------------------------
 * Generated answers: whatever comes back, an answer with the declared types or EsitefNoAnswer.
 * --------------------------------------------------------------------------------------------- */

const noise: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(undefined, null, true, '', '0', ' 0 ', '-1', '1e3', '001', 'NaN', '9007199254740993', 1e21, -0),
);

/** `template` with each part mostly kept, else replaced by noise or left out, and unknown fields added. */
function mutated(template: unknown): fc.Arbitrary<unknown> {
  const replaced = fc.oneof(noise, fc.constant(undefined));
  if (Array.isArray(template)) {
    const element = template.length > 0 ? mutated(template[0]) : noise;
    return fc.oneof({ weight: 8, arbitrary: fc.array(element, { maxLength: 4 }) }, { weight: 1, arbitrary: replaced });
  }
  if (template !== null && typeof template === 'object') {
    const fields = Object.fromEntries(Object.entries(template).map(([key, value]) => [key, mutated(value)]));
    const object = fc
      .tuple(fc.record(fields), fc.dictionary(fc.string({ maxLength: 8 }), noise, { maxKeys: 2 }))
      .map(([known, extra]) => ({ ...extra, ...known }));
    return fc.oneof({ weight: 12, arbitrary: object }, { weight: 1, arbitrary: replaced });
  }
  const digitsLike = fc.oneof(fc.nat().map(String), fc.nat(), fc.stringMatching(/^\s?0{0,3}\d{0,13}\s?$/));
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(template) },
    { weight: 1, arbitrary: digitsLike },
    { weight: 1, arbitrary: replaced },
  );
}

/** Any HTTP status a server may send. */
const statuses = fc.oneof(
  fc.constantFrom(200, 200, 201, 204, 400, 401, 404, 500, 502, 503, 504),
  fc.integer({ min: 100, max: 599 }),
);

/** Bodies: JSON of any kind, anything serialized, random text, and the right root key with random inner values. */
function bodies(root: string, valid: Record<string, unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.json({ maxDepth: 3 }),
    fc.anything({ maxDepth: 3 }).map((value) => {
      try {
        return JSON.stringify(value) ?? '';
      } catch {
        return String(value);
      }
    }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc
      .dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
      .map((inner) => JSON.stringify({ [root]: inner })),
    fc.jsonValue({ maxDepth: 2 }).map((inner) => JSON.stringify({ [root]: inner })),
    { weight: 3, arbitrary: mutated(valid).map((inner) => JSON.stringify({ [root]: inner, tef_version: '3.1' })) },
    { weight: 3, arbitrary: mutated(valid).map((inner) => JSON.stringify({ [root]: inner })) },
  );
}

const ANSWER_KEYS = ['step', 'httpStatus', 'ok', 'esitef', 'status', 'sitef', 'host', 'paymentStatus'];
const EXTRA_KEYS: Partial<Record<EsitefStep, string>> = { dealers: 'dealers', branches: 'ranges', status: 'receipts' };

function expectResultCode(value: unknown, withUsn: boolean) {
  expect(value).toBeTypeOf('object');
  const code = value as Record<string, unknown>;
  expect(Object.keys(code).every((key) => ['code', 'message', ...(withUsn ? ['usn'] : [])].includes(key))).toBe(true);
  expect(code.code).toBeTypeOf('string');
  expect(code.message).toBeTypeOf('string');
  if (withUsn && 'usn' in code) {
    expect(code.usn).toBeTypeOf('string');
    expect(code.usn).not.toBe('');
  }
}

/** The declared types of an answer of `step` that came with HTTP `httpStatus`. */
function expectWellTyped(answer: EsitefAnswer, step: EsitefStep, httpStatus: number) {
  const allowed = [...ANSWER_KEYS, ...(EXTRA_KEYS[step] ? [EXTRA_KEYS[step]!] : [])];
  for (const key of Object.keys(answer)) expect(allowed, `unexpected field ${key}`).toContain(key);
  expect(answer.step).toBe(step);
  expect(answer.httpStatus).toBe(httpStatus);
  expect(answer.ok).toBe(httpStatus === 200 && answer.esitef.code === '0');
  expectResultCode(answer.esitef, true);
  for (const key of ['status', 'paymentStatus'] as const)
    if (key in answer) {
      expect(answer[key]).toBeTypeOf('string');
      expect(answer[key]).not.toBe('');
      expect(answer[key]).toBe(answer[key]!.toUpperCase());
    }
  for (const key of ['sitef', 'host'] as const) if (key in answer) expectResultCode(answer[key], false);
  if (step === 'dealers') {
    const { dealers } = answer as DealersAnswer;
    expect(Array.isArray(dealers)).toBe(true);
    for (const dealer of dealers) {
      expect(Object.keys(dealer).sort()).toEqual(['code', 'name']);
      expect(dealer.code).toMatch(/^(0|[1-9]\d*)$/);
      expect(dealer.name).toBeTypeOf('string');
    }
  }
  if (step === 'branches') {
    const { ranges } = answer as BranchesAnswer;
    expect(Array.isArray(ranges)).toBe(true);
    for (const range of ranges) {
      for (const key of ['minCentavos', 'maxCentavos', 'bonusCentavos'] as const) {
        expect(Number.isSafeInteger(range[key]), `${key} ${range[key]}`).toBe(true);
        expect(range[key]).toBeGreaterThanOrEqual(0);
      }
      expect(range.minCentavos).toBeLessThanOrEqual(range.maxCentavos);
      for (const key of ['amountKey', 'category', 'message', 'bonusPercent', 'validity', 'bonusValidity'] as const)
        expect(range[key]).toBeTypeOf('string');
    }
  }
  if (step === 'status') {
    const { receipts } = answer as StatusAnswer;
    expect(receipts).toBeTypeOf('object');
    for (const [key, value] of Object.entries(receipts)) {
      expect(['customer', 'merchant']).toContain(key);
      expect(value).toBeTypeOf('string');
      expect(value).not.toBe('');
    }
  }
}

const RUNS = 400;

describe('generated answers: declared types or EsitefNoAnswer, never another error', () => {
  for (const call of CALLS) {
    it(`${call.step} (${RUNS} runs)`, async () => {
      let answered = 0;
      await fc.assert(
        fc.asyncProperty(statuses, bodies(call.root, call.valid), async (status, text) => {
          const { api } = client(raw(status, text));
          let answer: EsitefAnswer;
          try {
            answer = await call.run(api);
          } catch (error) {
            if (!(error instanceof EsitefNoAnswer)) throw error;
            expect(error.step).toBe(call.step);
            expect(error.sent).toBe(true);
            expect(error.httpStatus).toBe(status);
            return;
          }
          answered++;
          expectWellTyped(answer, call.step, status);
        }),
        { numRuns: RUNS },
      );
      // The generators reach past the schema: some answers are read, not all refused.
      expect(answered).toBeGreaterThan(RUNS / 20);
    });
  }

  it('do without payment, as real Responses at every status a Response may carry (300 runs)', async () => {
    const call = CALLS.find((c) => c.step === 'do')!;
    const bodyStatuses = fc.integer({ min: 200, max: 599 }).filter((s) => ![204, 205, 304].includes(s));
    await fc.assert(
      fc.asyncProperty(bodyStatuses, bodies(call.root, call.valid), async (status, text) => {
        const { api } = client(() => new Response(text, { status }));
        try {
          expectWellTyped(
            await api.doRecharge(NIT, { amountCentavos: 1, dealer: '1', ddd: '11', phone: '900000000' }),
            'do',
            status,
          );
        } catch (error) {
          if (!(error instanceof EsitefNoAnswer)) throw error;
          expect(error).toMatchObject({ step: 'do', sent: true, httpStatus: status });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a fetch rejecting with any error → EsitefNoAnswer; sent=false only for a refused or unresolvable host (300 runs)', async () => {
    const codes = fc.oneof(
      fc.constantFrom('ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'EPIPE'),
      fc.string({ maxLength: 12 }),
    );
    const errors = fc.oneof(
      codes.map((code) => ({ error: fetchFailed(code), neverSent: ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) })),
      fc.tuple(fc.string({ maxLength: 12 }), fc.anything({ maxDepth: 1 })).map(([name, cause]) => {
        const error = Object.assign(new Error('boom'), { cause });
        error.name = name;
        const code = (cause as { code?: unknown } | null | undefined)?.code ?? name;
        return { error, neverSent: ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code as string) };
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CALLS), errors, async (call, { error, neverSent }) => {
        const { api } = client(() => Promise.reject(error));
        const thrown = await call.run(api).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(thrown).toBeInstanceOf(EsitefNoAnswer);
        expect(thrown).toMatchObject({ step: call.step, sent: !neverSent });
        expect((thrown as EsitefNoAnswer).httpStatus).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});
