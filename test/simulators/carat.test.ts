import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reply, type Reply } from '../support/reply.ts';
import {
  CARAT_CATALOGUE,
  startCaratSimulator,
  type CaratSimulator,
  type CaratSimulatorOptions,
  type CaratTransaction,
} from '../../lib/simulators/carat/index.ts';

const START = Date.parse('2026-03-02T12:00:00.000Z'); // 09:00 in Brasília
const MINUTE = 60_000;
const KEY = 'loja-key-0001';
const OTHER_KEY = 'outra-loja-key';
const NIT = /^[0-9A-Za-z]{64}$/;
const USN = /^\d{15}$/;
const CARD_TOKEN = 'tok_6f1e2d3c4b5a6978';

/** The store's authenticity URL: records every POST; answers what `respond` says (default 200 "OK"). */
interface Receiver {
  url: string;
  posts: { contentType: string | undefined; body: string; form: URLSearchParams }[];
  /** The HTTP status to answer with; never settling leaves the POST unanswered. */
  respond: (post: URLSearchParams) => number | Promise<number>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      receiver.posts.push({ contentType: req.headers['content-type'], body, form });
      void Promise.resolve(receiver.respond(form)).then((status) => res.writeHead(status).end(status === 200 ? 'OK' : 'ERRO'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/carat/autenticidade`,
    posts: [],
    respond: () => 200,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return receiver;
}

let clock = START;
let carat: CaratSimulator;
let store: Receiver;

async function restart(options: CaratSimulatorOptions = {}): Promise<void> {
  await carat?.close();
  carat = await startCaratSimulator({
    merchants: [{ merchantKey: KEY, authenticityUrl: store.url }, { merchantKey: OTHER_KEY }],
    now: () => new Date(clock),
    authenticityTimeoutMs: 300,
    ...options,
  });
}

beforeEach(async () => {
  clock = START;
  store = await startReceiver();
  await restart();
});
afterEach(async () => {
  await carat.close();
  await store.close();
});

/** A call to `${carat.url}${path}` with a JSON body (or a raw one). */
async function call(method: string, path: string, body?: unknown, init: { raw?: string; signal?: AbortSignal } = {}) {
  const payload = init.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const response = await fetch(`${carat.url}${path}`, {
    method,
    body: payload,
    signal: init.signal,
    headers: payload === undefined ? {} : { 'content-type': 'application/json' },
  });
  return reply(response);
}

/** `value` without the unknown fields the simulator adds (tef_version, extra, ext). */
function known(value: unknown): any {
  if (Array.isArray(value)) return value.map(known);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !['tef_version', 'extra', 'ext'].includes(key))
      .map(([key, inner]) => [key, known(inner)]),
  );
}

/** An esitef error answer, without the unknown fields. */
const esitefError = (status: number, root: string, code: string, message: string, txStatus?: string) => ({
  status,
  json: { [root]: { ...(txStatus ? { status: txStatus } : {}), esitef: { code, message } } },
});
const expectReply = (reply: Reply, expected: { status: number; json: unknown }) =>
  expect({ status: reply.status, json: known(reply.json) }).toEqual(expected);

/** Begins a recharge for the store and returns the NIT its authenticity URL received. */
async function begin(request: Record<string, string> = { merchant_usn: '2398', order_id: '023748' }): Promise<string> {
  const before = store.posts.length;
  const reply = await call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: KEY, ...request } });
  expect(reply.status).toBe(200);
  expect(known(reply.json)).toEqual({
    begin_recharge_response: { esitef: { message: 'OK. Transaction successful.', code: '0' } },
  });
  expect(store.posts).toHaveLength(before + 1);
  return store.posts.at(-1)!.form.get('nit')!;
}

const doRequest = (overrides: Record<string, unknown> = {}) => ({
  do_recharge_request: {
    amount: '1500',
    dealer: { code: '1' },
    phone: { ddd: '11', number: '987654321' },
    hashes: { general: '09A9681D09A9681D' },
    terminal_type: '04',
    ...overrides,
  },
});
const withPayment = (amount = '1500') =>
  doRequest({
    payment: {
      amount,
      authorizer_id: '2',
      customer_id: '12345678909',
      merchant_key: KEY,
      installment: { number: '1', type: '4' },
      card: { token: CARD_TOKEN },
    },
  });
const doRecharge = (nit: string, body: unknown = doRequest()) => call('PUT', `/v3/recharge/${nit}`, body);
const confirm = (nit: string, decision: 'true' | 'false', merchantKey = KEY) =>
  call('PUT', `/v3/recharge/${nit}`, { confirm_recharge_request: { confirm: decision, merchant_key: merchantKey } });
const status = (nit: string, merchantKey = KEY, slash = '') =>
  call('GET', `/v3/recharge/${nit}${slash}?merchantkey=${merchantKey}`);
const dealers = (nit: string) => call('GET', `/v3/rechargedealers?nit=${nit}&generalhash=0000000000000000`);
const branches = (nit: string, ddd: string, dealer: string) =>
  call('GET', `/v3/rechargebranches?nit=${nit}&ddd=${ddd}&dealercode=${dealer}&generalhash=09A9681D09A9681D`);

/** Every leaf of `value` (a JSON answer) is a string. */
function expectAllStrings(value: unknown, path = '$'): void {
  if (Array.isArray(value)) return value.forEach((item, index) => expectAllStrings(item, `${path}[${index}]`));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).forEach(([key, inner]) => expectAllStrings(inner, `${path}.${key}`));
  expect(typeof value, path).toBe('string');
}

/** The response object carries tef_version and extra, every object nested in it an ext. */
function expectUnknownFields(envelope: Record<string, any>): void {
  const [response] = Object.values(envelope);
  expect(response).toMatchObject({ tef_version: '3.1', extra: { x: '1' } });
  const nested = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(nested);
    if (value === null || typeof value !== 'object') return;
    expect(value).toHaveProperty('ext', '1');
    Object.values(value).forEach(nested);
  };
  for (const [key, value] of Object.entries(response)) if (key !== 'extra') nested(value);
}

const OK = { message: 'OK', code: '0' };
const TRANSACTION_OK = { message: 'OK. Transaction successful.', code: '0' };

describe('the recharge flow', () => {
  it('begins, posts the NIT to the store, lists, recharges with payment, confirms and shows the receipts', async () => {
    const reply = await call('POST', '/v3/recharge', {
      begin_recharge_request: { merchant_key: KEY, merchant_usn: '2398', order_id: '023748', general_hash: '0000000000000000' },
    });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json; charset=utf-8');
    expect(reply.json).toEqual({
      begin_recharge_response: { esitef: { ...TRANSACTION_OK, ext: '1' }, tef_version: '3.1', extra: { x: '1' } },
    });

    expect(store.posts).toHaveLength(1);
    const [post] = store.posts;
    expect(post!.contentType).toBe('application/x-www-form-urlencoded');
    const nit = post!.form.get('nit')!;
    expect(nit).toMatch(NIT);
    expect(post!.body).toBe(`merchantUSN=2398&nit=${nit}&orderId=023748&status=NOV&transactionType=recarga`);
    expect(carat.control.authenticityPosts()).toEqual([{ url: store.url, body: post!.body, status: 200, answer: 'OK' }]);

    const listed = await dealers(nit);
    expect(listed.status).toBe(200);
    expect(known(listed.json)).toEqual({
      list_dealers_response: {
        status: 'NOV',
        esitef: TRANSACTION_OK,
        authorizer: { message: '', code: '000' },
        hashes: { general: '09A9681D09A9681D' },
        dealers: [
          { name: 'Vivo', code: '001' },
          { name: 'Claro', code: '002' },
          { name: 'Oi', code: '003' },
          { name: 'Tim', code: '004' },
        ],
      },
    });
    expectUnknownFields(listed.json);

    const claro = await branches(nit, '21', '2');
    expect(claro.status).toBe(200);
    expectAllStrings(claro.json);
    expectUnknownFields(claro.json);
    const range = (message: string, key: string, min: string, max: string, payment: string) => ({
      message,
      amount_key: key,
      bonus_in_percentage: '0',
      bonus: '0',
      payment_amount: payment,
      bonus_category: '',
      expiry_date: '30',
      bonus_expiry_date: '',
      min_amount: min,
      max_amount: max,
    });
    expect(known(claro.json)).toEqual({
      list_branch_data_response: {
        status: 'NOV',
        esitef: TRANSACTION_OK,
        sitef: { code: '0' },
        hashes: { general: '09A9681D09A9681D' },
        questions: [],
        general: [{ message: 'Recarga Claro: créditos válidos por 30 dias.' }],
        categories: [
          {
            code: '1',
            description: 'Recarga',
            amount_ranges: [
              range('R$ 15,00', '1', '1500', '1500', '1500'),
              range('R$ 20,00', '2', '2000', '2000', '2000'),
              range('R$ 30,00', '3', '3000', '3000', '3000'),
              range('R$ 10,00 a R$ 500,00', '99', '1000', '50000', ''),
            ],
          },
        ],
      },
    });

    const done = await doRecharge(nit, { ...withPayment('1500') });
    expect(done.status).toBe(200);
    expectAllStrings(done.json);
    expectUnknownFields(done.json);
    const merchantCode = done.json.do_recharge_response.acquirer.merchant_code;
    expect(merchantCode).toMatch(USN);
    const esitefUsn = done.json.do_recharge_response.esitef.usn;
    expect(esitefUsn).toMatch(USN);
    expect(known(done.json)).toEqual({
      do_recharge_response: {
        status: 'PPC',
        order_id: '023748',
        merchant_usn: '2398',
        esitef: { ...OK, usn: esitefUsn },
        sitef: OK,
        host: OK,
        acquirer: { branch_code: '0001', merchant_code: merchantCode },
        payment: { status: 'PPC' },
      },
    });

    const confirmed = await confirm(nit, 'true');
    expect(confirmed.status).toBe(200);
    expect(known(confirmed.json)).toEqual({
      confirm_recharge_response: { esitef: OK, status: 'CON', payment: { status: 'CON' } },
    });

    const queried = await status(nit);
    expect(queried.status).toBe(200);
    expectAllStrings(queried.json);
    expectUnknownFields(queried.json);
    const record = known(queried.json).get_status_recharge_response;
    expect(record).toEqual({
      status: 'CON',
      order_id: '023748',
      merchant_usn: '2398',
      amount: '1500',
      esitef: OK,
      authorizers: [
        { name: 'SiTef', ...OK },
        { name: 'Vivo', message: 'OK', code: '00' },
      ],
      acquirer: { branch_code: '0001', merchant_code: merchantCode },
      authorization: {
        confirmation_data: expect.stringMatching(/^\d{10}$/),
        authorizer_date: '20260302',
        authorizer_time: '0900',
        host_usn: expect.stringMatching(/^\d{9}$/),
        sitef_usn: expect.stringMatching(/^\d{6}$/),
        number: expect.stringMatching(/^\d{6}$/),
      },
      customer: { total_copies: '1', receipt: expect.any(String) },
      merchant: { total_copies: '1', receipt: expect.any(String) },
    });
    const { sitef_usn, host_usn, number } = record.authorization;
    expect(record.customer.receipt.split('\n')).toEqual([
      'COMPROVANTE DE RECARGA',
      'VIA CLIENTE',
      'OPERADORA: VIVO',
      'TELEFONE: *******4321',
      'VALOR: R$ 15,00',
      'DATA: 02/03/2026 09:00',
      `NSU SITEF: ${sitef_usn}`,
      `AUTORIZACAO: ${number}`,
      'CREDITOS VALIDOS POR 30 DIAS',
    ]);
    expect(record.merchant.receipt.split('\n')).toEqual([
      'COMPROVANTE DE RECARGA',
      'VIA ESTABELECIMENTO',
      `ESTAB: ${merchantCode}`,
      'OPERADORA: VIVO',
      'TELEFONE: *******4321',
      'VALOR: R$ 15,00',
      'DATA: 02/03/2026 09:00',
      `NSU SITEF: ${sitef_usn}`,
      `AUTORIZACAO: ${number}`,
      `NSU HOST: ${host_usn}`,
    ]);
    expect(queried.text).not.toContain('987654321');
    expect(queried.text).not.toContain(CARD_TOKEN);

    const transaction = carat.control.transaction(nit);
    expect(transaction).toEqual<CaratTransaction>({
      nit,
      merchantKey: KEY,
      merchantUsn: '2398',
      orderId: '023748',
      status: 'CON',
      history: ['NOV', 'PPC', 'CON'],
      amount: 1500,
      dealer: '001',
      ddd: '11',
      phone: '987654321',
      amountKey: '2',
      payment: { amount: 1500, tokenLast4: '6978', authorizerId: '2', installments: 1, status: 'CON' },
      doCalls: 1,
      confirmCalls: 1,
      confirmed: true,
      esitefUsn,
    });
    transaction!.history.push('EST');
    expect(carat.control.transaction(nit)!.history).toEqual(['NOV', 'PPC', 'CON']);
    expect(carat.control.transactions()).toEqual([carat.control.transaction(nit)]);
    expect(carat.control.calls()).toEqual({ begin: 1, dealers: 1, branches: 1, do: 1, confirm: 1, status: 1 });
  });

  it('undoes a pending recharge (PPN) and recharges without payment', async () => {
    const nit = await begin({ merchant_usn: '77' });
    const done = await doRecharge(nit, doRequest({ amount: '12345', amount_key: '99', dealer: { code: '002' } }));
    expect(done.status).toBe(200);
    expect(known(done.json).do_recharge_response).toMatchObject({ status: 'PPC', order_id: '', merchant_usn: '77' });
    expect(done.json.do_recharge_response).not.toHaveProperty('payment');

    const undone = await confirm(nit, 'false');
    expect(undone.status).toBe(200);
    expect(known(undone.json)).toEqual({ confirm_recharge_response: { esitef: OK, status: 'PPN' } });
    expect(carat.control.transaction(nit)).toMatchObject({
      status: 'PPN',
      history: ['NOV', 'PPC', 'PPN'],
      amount: 12345,
      dealer: '002',
      amountKey: '99',
      confirmed: false,
    });
    expect(known((await status(nit)).json).get_status_recharge_response).toMatchObject({
      status: 'PPN',
      amount: '12345',
      authorizers: [
        { name: 'SiTef', ...OK },
        { name: 'Claro', message: 'OK', code: '00' },
      ],
    });
  });

  it('shows a Tim bonus in the branches and on the receipt, and never a card number sent instead of a token', async () => {
    const nit = await begin();
    const tim = known((await branches(nit, '99', '004')).json).list_branch_data_response.categories[0].amount_ranges;
    expect(
      tim.map((range: Record<string, string>) => [
        range.amount_key,
        range.payment_amount,
        range.bonus_in_percentage,
        range.bonus,
      ]),
    ).toEqual([
      ['1', '1000', '10', '100'],
      ['2', '2000', '10', '200'],
      ['3', '5000', '10', '500'],
    ]);
    const card = { number: '4111111111111111', security_code: '123', expiry_date: '1230' };
    const done = await doRecharge(
      nit,
      doRequest({
        amount: '5000',
        dealer: { code: '4' },
        phone: { ddd: '99', number: '87654321' },
        payment: { amount: '5000', card },
      }),
    );
    expect(done.status).toBe(200);
    expect(carat.control.transaction(nit)!.payment).toEqual({ amount: 5000, tokenLast4: '1111', status: 'PPC' });
    const queried = await status(nit);
    expect(queried.json.get_status_recharge_response.customer.receipt).toContain(
      'TELEFONE: ******4321\nVALOR: R$ 50,00\nBONUS: R$ 5,00',
    );
    expect(queried.text).not.toMatch(/4111111111111111|1230|"123"/);
    expect(JSON.stringify(carat.control.transactions())).not.toContain('4111111111111111');
  });

  it('answers the catalogue it exports, for every dealer, padded or not', async () => {
    expect(Object.isFrozen(CARAT_CATALOGUE)).toBe(true);
    expect(Object.isFrozen(CARAT_CATALOGUE[0]!.ranges[0])).toBe(true);
    const nit = await begin();
    for (const dealer of CARAT_CATALOGUE) {
      for (const code of [dealer.code, String(Number(dealer.code))]) {
        const reply = await branches(nit, '31', code);
        expect(reply.status).toBe(200);
        const ranges = known(reply.json).list_branch_data_response.categories[0].amount_ranges;
        expect(
          ranges.map((range: Record<string, string>) => [range.amount_key, Number(range.min_amount), Number(range.max_amount)]),
        ).toEqual(dealer.ranges.map((range) => [range.amountKey, range.min, range.max]));
      }
    }
    expect(CARAT_CATALOGUE.map((dealer) => [dealer.name, dealer.ranges.length])).toEqual([
      ['Vivo', 6],
      ['Claro', 4],
      ['Oi', 1],
      ['Tim', 3],
    ]);
  });
});

describe('the authenticity POST', () => {
  it('makes the transaction INV and begin fail (131) when the store answers 500, hangs, is unreachable or has no URL', async () => {
    const failed = {
      status: 200,
      json: { begin_recharge_response: { esitef: { code: '131', message: 'Falha no POST de autenticidade' } } },
    };
    const beginFor = (merchantKey: string, usn: string) =>
      call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: merchantKey, merchant_usn: usn } });

    store.respond = () => 500;
    expectReply(await beginFor(KEY, '1'), failed);
    const nit = store.posts[0]!.form.get('nit')!;
    expect(carat.control.transaction(nit)).toMatchObject({ status: 'INV', history: ['NOV', 'INV'] });
    expectReply(
      await dealers(nit),
      esitefError(200, 'list_dealers_response', '6', 'Transação com status INV não permite esta operação', 'INV'),
    );
    expectReply(
      await doRecharge(nit),
      esitefError(400, 'do_recharge_response', '6', 'Transação com status INV não permite esta operação', 'INV'),
    );

    store.respond = () => new Promise<number>(() => undefined);
    expectReply(await beginFor(KEY, '2'), failed);
    store.respond = () => 204; // only 200 will do
    expectReply(await beginFor(KEY, '3'), failed);
    carat.control.setAuthenticityUrl(KEY, 'http://127.0.0.1:1/nada');
    expectReply(await beginFor(KEY, '4'), failed);
    expectReply(await beginFor(OTHER_KEY, '5'), failed);

    const posts = carat.control.authenticityPosts();
    expect(posts.map(({ status, answer, error }) => ({ status, answer, error }))).toEqual([
      { status: 500, answer: 'ERRO', error: undefined },
      { status: 0, answer: '', error: 'no answer within 300 ms' },
      { status: 204, answer: '', error: undefined },
      { status: 0, answer: '', error: expect.stringContaining('ECONNREFUSED') },
    ]);
    expect(posts[3]!.url).toBe('http://127.0.0.1:1/nada');
    expect(carat.control.transactions().map((transaction) => [transaction.merchantUsn, transaction.status])).toEqual([
      ['1', 'INV'],
      ['2', 'INV'],
      ['3', 'INV'],
      ['4', 'INV'],
      ['5', 'INV'],
    ]);
    expect(carat.control.transactionByUsn(OTHER_KEY, '5')!.merchantKey).toBe(OTHER_KEY);
  });

  it("answers begin first in 'after' mode, then POSTs `repeat` times; the first answer decides", async () => {
    carat.control.authenticityMode({ when: 'after', delayMs: 100, repeat: 3 });
    const statuses = [200, 500, 500];
    store.respond = () => statuses.shift()!;
    const reply = await call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: KEY, merchant_usn: '9' } });
    expectReply(reply, { status: 200, json: { begin_recharge_response: { esitef: TRANSACTION_OK } } });
    expect(store.posts).toEqual([]);
    const [transaction] = carat.control.transactions();
    await expect.poll(() => carat.control.authenticityPosts().length).toBe(3);
    const body = `merchantUSN=9&nit=${transaction!.nit}&status=NOV&transactionType=recarga`;
    expect(store.posts.map((post) => post.body)).toEqual([body, body, body]);
    expect(carat.control.authenticityPosts().map((post) => post.status)).toEqual([200, 500, 500]);
    expect(carat.control.transaction(transaction!.nit)!.status).toBe('NOV');

    // The POST failing later kills the NIT all the same.
    store.respond = () => 500;
    carat.control.authenticityMode({ when: 'after' });
    await call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: KEY, merchant_usn: '10' } });
    await expect.poll(() => carat.control.transactionByUsn(KEY, '10')!.status).toBe('INV');
  });

  it("repeats within begin in 'during' mode, and handles several begins at once", async () => {
    carat.control.authenticityMode({ when: 'during', repeat: 2 });
    const reply = await call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: KEY, merchant_usn: '1' } });
    expect(known(reply.json).begin_recharge_response.esitef.code).toBe('0');
    // Both sent before begin answered.
    expect(store.posts.map((post) => post.form.get('merchantUSN'))).toEqual(['1', '1']);

    carat.control.authenticityMode({ when: 'during' });
    let arrived = 0;
    let release: () => void = () => undefined;
    const both = new Promise<void>((resolve) => (release = resolve));
    store.respond = async (form) => {
      if (++arrived === 2) release();
      await both; // each POST is held until both begins are under way
      // The store may use the NIT before answering: it is NOV already.
      expect((await dealers(form.get('nit')!)).status).toBe(200);
      return 200;
    };
    const replies = await Promise.all(
      ['2', '3'].map((usn) => call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: KEY, merchant_usn: usn } })),
    );
    expect(replies.map((reply) => known(reply.json).begin_recharge_response.esitef.code)).toEqual(['0', '0']);
    expect(['2', '3'].map((usn) => carat.control.transactionByUsn(KEY, usn)!.status)).toEqual(['NOV', 'NOV']);
  });

  it('refuses an unknown merchant_key (401) and malformed begins (400)', async () => {
    expectReply(
      await call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: 'intrusa' } }),
      esitefError(401, 'begin_recharge_response', '3', 'Loja não autorizada'),
    );
    expectReply(
      await call('POST', '/v3/recharge', undefined, { raw: '{"begin_recharge_request":' }),
      esitefError(400, 'begin_recharge_response', '2', 'Requisição inválida: o corpo não é JSON'),
    );
    expectReply(
      await call('POST', '/v3/recharge', { merchant_key: KEY }),
      esitefError(400, 'begin_recharge_response', '2', 'Requisição inválida: falta begin_recharge_request'),
    );
    expectReply(
      await call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: KEY, recharge_type: 'invoice' } }),
      esitefError(400, 'begin_recharge_response', '2', 'Requisição inválida: campo recharge_type inválido'),
    );
    expectReply(
      await call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: KEY, merchant_usn: 2398 } }),
      esitefError(400, 'begin_recharge_response', '2', 'Requisição inválida: campo merchant_usn inválido'),
    );
    expect(carat.control.transactions()).toEqual([]);
    expect(store.posts).toEqual([]);

    // Only merchant_key is required.
    const nit = await begin({});
    expect(store.posts[0]!.body).toBe(`merchantUSN=&nit=${nit}&status=NOV&transactionType=recarga`);
  });
});

describe('refusals', () => {
  it('refuses a carrier, DDD, phone, amount or payment it cannot take, leaving the transaction as it was', async () => {
    const nit = await begin();
    const refused = (code: string, message: string) => esitefError(400, 'do_recharge_response', code, message, 'NOV');
    const cases: [unknown, ReturnType<typeof refused>][] = [
      [doRequest({ dealer: { code: '5' } }), refused('10', 'Concessionária inválida')],
      [doRequest({ dealer: { code: '0001' } }), refused('10', 'Concessionária inválida')],
      [doRequest({ dealer: {} }), refused('10', 'Concessionária inválida: campo dealer.code inválido')],
      [doRequest({ phone: { ddd: '10', number: '987654321' } }), refused('11', 'DDD inválido')],
      [doRequest({ phone: { ddd: '1', number: '987654321' } }), refused('11', 'DDD inválido')],
      [doRequest({ phone: { ddd: '11', number: '1234567' } }), refused('12', 'Telefone inválido')],
      [doRequest({ phone: { ddd: '11', number: '9876543210' } }), refused('12', 'Telefone inválido')],
      [doRequest({ amount: '1234' }), refused('13', 'Valor inválido para a operadora Vivo')],
      [doRequest({ amount: '0' }), refused('13', 'Valor inválido para a operadora Vivo')],
      [doRequest({ amount: '15.00' }), refused('13', 'Valor inválido para a operadora Vivo')],
      [doRequest({ amount: '1500', amount_key: '1' }), refused('13', 'Valor inválido para a operadora Vivo')],
      [doRequest({ amount: 1500 }), refused('13', 'Valor inválido: campo amount inválido')],
      [doRequest({ amount: '60000', dealer: { code: '2' } }), refused('13', 'Valor inválido para a operadora Claro')],
      [withPayment('2000'), refused('14', 'Valor do pagamento diferente do valor da recarga')],
      [doRequest({ payment: { amount: '1500', card: {} } }), refused('14', 'Token do cartão ausente')],
      [doRequest({ payment: { amount: '1500' } }), refused('14', 'Pagamento inválido: campo payment.card inválido')],
    ];
    for (const [body, expected] of cases) expectReply(await doRecharge(nit, body), expected);
    expect(carat.control.transaction(nit)).toEqual({
      nit,
      merchantKey: KEY,
      merchantUsn: '2398',
      orderId: '023748',
      status: 'NOV',
      history: ['NOV'],
      doCalls: cases.length,
      confirmCalls: 0,
    });
    expect(known((await status(nit)).json)).toEqual({
      get_status_recharge_response: {
        status: 'NOV',
        order_id: '023748',
        merchant_usn: '2398',
        esitef: OK,
        acquirer: { branch_code: '0001', merchant_code: expect.stringMatching(USN) },
      },
    });
    expect((await doRecharge(nit)).status).toBe(200);
  });

  it('refuses bad branch queries and unknown or missing NITs', async () => {
    const nit = await begin();
    const root = 'list_branch_data_response';
    expectReply(await branches(nit, '20', '1'), esitefError(400, root, '11', 'DDD inválido', 'NOV'));
    expectReply(await branches(nit, 'AB', '1'), esitefError(400, root, '11', 'DDD inválido', 'NOV'));
    expectReply(await branches(nit, '11', '9'), esitefError(400, root, '10', 'Concessionária inválida', 'NOV'));
    expectReply(await branches('X'.repeat(64), '11', '1'), esitefError(404, root, '4', 'Transação não encontrada'));
    expectReply(await call('GET', '/v3/rechargedealers'), esitefError(400, 'list_dealers_response', '1', 'Campo NIT nulo'));
    expectReply(await dealers('X'.repeat(64)), esitefError(404, 'list_dealers_response', '4', 'Transação não encontrada'));
    expectReply(await doRecharge('X'.repeat(64)), esitefError(404, 'do_recharge_response', '4', 'Transação não encontrada'));
    expectReply(
      await confirm('X'.repeat(64), 'true'),
      esitefError(404, 'confirm_recharge_response', '4', 'Transação não encontrada'),
    );
    expectReply(await status('X'.repeat(64)), esitefError(404, 'get_status_recharge_response', '4', 'Transação não encontrada'));
  });

  it('never recharges twice, and accepts the same decision again but not the opposite one', async () => {
    const nit = await begin();
    expectReply(
      await confirm(nit, 'true'),
      esitefError(400, 'confirm_recharge_response', '6', 'Transação com status NOV não pode ser confirmada', 'NOV'),
    );
    const first = await doRecharge(nit);
    const usn = first.json.do_recharge_response.esitef.usn;
    expectReply(
      await doRecharge(nit),
      esitefError(400, 'do_recharge_response', '6', 'Transação com status PPC não permite esta operação', 'PPC'),
    );
    expectReply(
      await confirm(nit, 'true', OTHER_KEY),
      esitefError(401, 'confirm_recharge_response', '3', 'Loja não autorizada', 'PPC'),
    );
    expectReply(
      await call('PUT', `/v3/recharge/${nit}`, { confirm_recharge_request: { confirm: 'sim', merchant_key: KEY } }),
      esitefError(400, 'confirm_recharge_response', '2', 'Requisição inválida: campo confirm inválido', 'PPC'),
    );
    const success = { status: 200, json: { confirm_recharge_response: { esitef: OK, status: 'CON' } } };
    expectReply(await confirm(nit, 'true'), success);
    expectReply(await confirm(nit, 'true'), success);
    expectReply(
      await confirm(nit, 'false'),
      esitefError(400, 'confirm_recharge_response', '6', 'Transação com status CON não pode ser desfeita', 'CON'),
    );
    expectReply(
      await doRecharge(nit),
      esitefError(400, 'do_recharge_response', '6', 'Transação com status CON não permite esta operação', 'CON'),
    );
    expect(carat.control.transaction(nit)).toMatchObject({
      status: 'CON',
      history: ['NOV', 'PPC', 'CON'],
      doCalls: 3,
      confirmCalls: 6,
      confirmed: true,
      esitefUsn: usn,
    });

    const undone = await begin();
    await doRecharge(undone);
    const undoSuccess = { status: 200, json: { confirm_recharge_response: { esitef: OK, status: 'PPN' } } };
    expectReply(await confirm(undone, 'false'), undoSuccess);
    expectReply(await confirm(undone, 'false'), undoSuccess);
    expectReply(
      await confirm(undone, 'true'),
      esitefError(400, 'confirm_recharge_response', '6', 'Transação com status PPN não pode ser confirmada', 'PPN'),
    );
  });

  it('answers status with or without the trailing slash, to the transaction’s store only', async () => {
    const nit = await begin();
    await doRecharge(nit);
    const plain = await status(nit);
    const slashed = await status(nit, KEY, '/');
    expect(plain.status).toBe(200);
    expect(slashed.status).toBe(200);
    expect(slashed.json).toEqual(plain.json);
    expect(plain.json.get_status_recharge_response.status).toBe('PPC');
    const root = 'get_status_recharge_response';
    expectReply(await status(nit, OTHER_KEY), esitefError(401, root, '3', 'Loja não autorizada', 'PPC'));
    expectReply(await status(nit, OTHER_KEY, '/'), esitefError(401, root, '3', 'Loja não autorizada', 'PPC'));
    expectReply(await call('GET', `/v3/recharge/${nit}`), esitefError(401, root, '3', 'Loja não autorizada', 'PPC'));
  });

  it('answers unknown routes 404, wrong methods 405, bodies naming no step 400 and big bodies 413', async () => {
    const nit = await begin();
    const generic = (status: number, code: string, message: string) => esitefError(status, 'error_response', code, message);
    expectReply(await call('GET', '/v3/recharges'), generic(404, '20', 'Recurso não encontrado: /e-sitef/v3/recharges'));
    expectReply(await call('GET', '/v3/recharge/a/b'), generic(404, '20', 'Recurso não encontrado: /e-sitef/v3/recharge/a/b'));
    expectReply(await call('GET', '/v3/recharge'), generic(405, '21', 'Método GET não permitido (use POST)'));
    expectReply(await call('DELETE', `/v3/recharge/${nit}`), generic(405, '21', 'Método DELETE não permitido (use GET ou PUT)'));
    expectReply(await call('POST', '/v3/rechargedealers'), generic(405, '21', 'Método POST não permitido (use GET)'));
    const neither = generic(400, '2', 'Requisição inválida: envie do_recharge_request ou confirm_recharge_request');
    expectReply(await call('PUT', `/v3/recharge/${nit}`, { recharge: {} }), neither);
    expectReply(await call('PUT', `/v3/recharge/${nit}`, { ...doRequest(), confirm_recharge_request: {} }), neither);
    expectReply(
      await call('PUT', `/v3/recharge/${nit}`, undefined, { raw: 'amount=1500' }),
      generic(400, '2', 'Requisição inválida: o corpo não é JSON'),
    );
    expectReply(
      await call('PUT', `/v3/recharge/${nit}`, [doRequest()]),
      generic(400, '2', 'Requisição inválida: o corpo não é um objeto JSON'),
    );
    expectReply(
      await call('PUT', `/v3/recharge/${nit}`, doRequest({ padding: 'x'.repeat(1024 * 1024) })),
      generic(413, '22', 'Requisição maior que 1 MiB'),
    );
    expect(carat.control.calls()).toEqual({ begin: 1, dealers: 0, branches: 0, do: 0, confirm: 0, status: 0 });
    expect(carat.control.transaction(nit)!.status).toBe('NOV');
  });

  it('expires a NOV NIT after nitLifetimeMs on the simulator’s clock, and takes back-office status changes', async () => {
    const nit = await begin();
    clock += 15 * MINUTE - 1;
    expect((await dealers(nit)).status).toBe(200);
    clock += 1;
    expectReply(
      await dealers(nit),
      esitefError(200, 'list_dealers_response', '6', 'Transação com status EXP não permite esta operação', 'EXP'),
    );
    expectReply(
      await doRecharge(nit),
      esitefError(400, 'do_recharge_response', '6', 'Transação com status EXP não permite esta operação', 'EXP'),
    );
    expect(known((await status(nit)).json).get_status_recharge_response.status).toBe('EXP');
    expect(carat.control.transaction(nit)!.history).toEqual(['NOV', 'EXP']);

    // Read lazily by control too; a shorter lifetime from the options.
    await restart({ nitLifetimeMs: MINUTE });
    const short = await begin();
    clock += MINUTE;
    expect(carat.control.transaction(short)!.status).toBe('EXP');

    // Carat undoing a pending recharge by itself: the store's own undo then agrees with it.
    const pending = await begin();
    await doRecharge(pending, withPayment());
    carat.control.setStatus(pending, 'PPN');
    expect(carat.control.transaction(pending)).toMatchObject({
      status: 'PPN',
      history: ['NOV', 'PPC', 'PPN'],
      payment: { status: 'PPN' },
    });
    expectReply(await confirm(pending, 'false'), {
      status: 200,
      json: { confirm_recharge_response: { esitef: OK, status: 'PPN', payment: { status: 'PPN' } } },
    });
    expect(() => carat.control.setStatus('nope', 'EXP')).toThrow('no transaction nope');
  });
});

describe('faults', () => {
  it('deny: the carrier refuses the recharge (NEG, HTTP 400), with the default or a given code', async () => {
    const nit = await begin();
    carat.control.failNext('do', { kind: 'deny' });
    const denied = await doRecharge(nit, withPayment());
    expectReply(denied, {
      status: 400,
      json: {
        do_recharge_response: {
          status: 'NEG',
          esitef: { code: '5', message: 'Recarga negada pela operadora' },
          payment: { status: 'NEG' },
        },
      },
    });
    expect(carat.control.transaction(nit)).toMatchObject({
      status: 'NEG',
      history: ['NOV', 'NEG'],
      amount: 1500,
      payment: { status: 'NEG' },
    });
    expect(carat.control.transaction(nit)!.esitefUsn).toBeUndefined();
    const record = known((await status(nit)).json).get_status_recharge_response;
    expect(record.authorizers).toEqual([
      { name: 'SiTef', ...OK },
      { name: 'Vivo', message: 'Recarga negada pela operadora', code: '05' },
    ]);
    expect(record).not.toHaveProperty('authorization');
    expect(record).not.toHaveProperty('customer');
    expectReply(
      await confirm(nit, 'false'),
      esitefError(400, 'confirm_recharge_response', '6', 'Transação com status NEG não pode ser desfeita', 'NEG'),
    );

    const other = await begin();
    carat.control.failNext('do', { kind: 'deny', code: '51', message: 'Saldo insuficiente' });
    expectReply(await doRecharge(other), {
      status: 400,
      json: { do_recharge_response: { status: 'NEG', esitef: { code: '51', message: 'Saldo insuficiente' } } },
    });
    expect(() => carat.control.failNext('confirm', { kind: 'deny' })).toThrow("a deny fault is for 'do' only, not 'confirm'");
  });

  it('http and esitef: answered as told, the step not applied; faults queue per step', async () => {
    const nit = await begin();
    carat.control.failNext('do', { kind: 'http', status: 503 });
    carat.control.failNext('do', { kind: 'http', status: 502, body: '<html>Bad Gateway</html>' });
    const unavailable = await doRecharge(nit);
    expectReply(unavailable, esitefError(503, 'do_recharge_response', '99', 'Serviço temporariamente indisponível'));
    expect(unavailable.contentType).toBe('application/json; charset=utf-8');
    expect(await doRecharge(nit)).toMatchObject({ status: 502, text: '<html>Bad Gateway</html>' });
    expect(carat.control.transaction(nit)).toMatchObject({ status: 'NOV', doCalls: 0 });

    carat.control.failNext('dealers', { kind: 'esitef', code: '255', message: 'Erro de comunicação' }, 2);
    const answer = esitefError(200, 'list_dealers_response', '255', 'Erro de comunicação');
    expectReply(await dealers(nit), answer);
    expectReply(await dealers(nit), answer);
    expect((await dealers(nit)).status).toBe(200);

    carat.control.failNext('begin', { kind: 'esitef', code: '7', message: 'Indisponível' });
    expectReply(
      await call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: KEY } }),
      esitefError(200, 'begin_recharge_response', '7', 'Indisponível'),
    );
    expect(store.posts).toHaveLength(1);
    expect(carat.control.transactions()).toHaveLength(1);
    expect(carat.control.calls()).toEqual({ begin: 2, dealers: 3, branches: 0, do: 2, confirm: 0, status: 0 });
  });

  it('timeout: applied or not, no answer comes until the client gives up', async () => {
    const nit = await begin();
    await doRecharge(nit);
    carat.control.failNext('confirm', { kind: 'timeout', apply: true });
    const body = { confirm_recharge_request: { confirm: 'true', merchant_key: KEY } };
    await expect(call('PUT', `/v3/recharge/${nit}`, body, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/aborted/);
    expect(carat.control.transaction(nit)).toMatchObject({ status: 'CON', confirmCalls: 1, confirmed: true });

    const other = await begin();
    carat.control.failNext('do', { kind: 'timeout', apply: true });
    await expect(call('PUT', `/v3/recharge/${other}`, doRequest(), { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(carat.control.transaction(other)).toMatchObject({ status: 'PPC', doCalls: 1, esitefUsn: expect.stringMatching(USN) });
    expectReply(
      await doRecharge(other),
      esitefError(400, 'do_recharge_response', '6', 'Transação com status PPC não permite esta operação', 'PPC'),
    );

    carat.control.failNext('status', { kind: 'timeout', apply: false });
    await expect(
      call('GET', `/v3/recharge/${other}?merchantkey=${KEY}`, undefined, { signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    expect((await status(other)).status).toBe(200);
  });

  it('reset: the connection is dropped without an answer, after applying the step or not', async () => {
    const nit = await begin();
    carat.control.failNext('do', { kind: 'reset', apply: false });
    await expect(doRecharge(nit)).rejects.toThrow();
    expect(carat.control.transaction(nit)).toMatchObject({ status: 'NOV', history: ['NOV'], doCalls: 0 });
    expect(carat.control.calls().do).toBe(1);

    await doRecharge(nit);
    carat.control.failNext('confirm', { kind: 'reset', apply: true });
    await expect(confirm(nit, 'false')).rejects.toThrow();
    expect(carat.control.transaction(nit)).toMatchObject({ status: 'PPN', confirmed: false });

    carat.control.failNext('begin', { kind: 'reset', apply: true });
    await expect(
      call('POST', '/v3/recharge', { begin_recharge_request: { merchant_key: KEY, merchant_usn: 'r' } }),
    ).rejects.toThrow();
    expect(carat.control.transactionByUsn(KEY, 'r')!.status).toBe('NOV');
    expect(store.posts.at(-1)!.form.get('merchantUSN')).toBe('r');
  });

  it('body: a malformed answer, the step not applied', async () => {
    const nit = await begin();
    carat.control.failNext('do', { kind: 'body', body: '{"do_recharge_response":{"status":"PP' });
    carat.control.failNext('status', { kind: 'body', status: 500, body: '' });
    expect(await doRecharge(nit)).toMatchObject({ status: 200, text: '{"do_recharge_response":{"status":"PP', json: undefined });
    expect(await status(nit)).toMatchObject({ status: 500, text: '' });
    expect(carat.control.transaction(nit)!.status).toBe('NOV');
  });

  it('closes with a call left unanswered', async () => {
    const nit = await begin();
    carat.control.failNext('dealers', { kind: 'timeout', apply: false });
    const pending = dealers(nit).catch((error: unknown) => error);
    await expect.poll(() => carat.control.calls().dealers).toBe(1);
    await carat.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});
