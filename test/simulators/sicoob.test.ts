import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import JSZip from 'jszip';
import forge from 'node-forge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reply, type Reply } from '../support/reply.ts';
import {
  SICOOB_API_BASE_PATH,
  SICOOB_TOKEN_PATH,
  startSicoobSimulator,
  type SicoobSimulator,
  type SicoobSimulatorOptions,
} from '../../lib/simulators/sicoob/index.ts';

const START = Date.parse('2026-03-02T12:00:00.000Z'); // 09:00 in São Paulo: "today" is 2026-03-02
const CLIENT = 'cli-restaurante-0001';
const NUMERO = 707090;
const OTHER = 'cli-outra-loja';
const OTHER_NUMERO = 808080;
const SCOPES = 'boletos_consulta boletos_inclusao webhooks_inclusao webhooks_consulta webhooks_alteracao';
const WEBHOOK_ANSWER = '{"messsage":"Webhook recebido com sucesso!"}';

/** A webhook endpoint: records every POST; answers what `respond` says (default 200). */
interface Receiver {
  url: string;
  posts: { path: string; contentType: string | undefined; raw: string; body: any }[];
  respond: (post: { path: string; body: any }) => number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const post = { path: req.url ?? '', contentType: req.headers['content-type'], raw, body: JSON.parse(raw) };
      receiver.posts.push(post);
      const status = receiver.respond(post);
      res
        .writeHead(status, status === 302 ? { location: 'https://example.com/' } : {})
        .end(status === 204 ? undefined : WEBHOOK_ANSWER);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/sicoob/segredo-1`,
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
let sicoob: SicoobSimulator;
let hook: Receiver;
let tokens: Map<string, string>;

async function restart(options: SicoobSimulatorOptions = {}): Promise<void> {
  await sicoob?.close();
  tokens = new Map();
  sicoob = await startSicoobSimulator({
    clients: [
      { clientId: CLIENT, numeroCliente: NUMERO },
      { clientId: OTHER, numeroCliente: OTHER_NUMERO },
    ],
    now: () => new Date(clock),
    allowInsecureWebhooks: true,
    ...options,
  });
}

beforeEach(async () => {
  clock = START;
  hook = await startReceiver();
  await restart();
});
afterEach(async () => {
  await sicoob.close();
  await hook.close();
});

function tokenCall(fields: Record<string, string>): Promise<Reply> {
  return fetch(sicoob.authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  }).then(reply);
}

async function tokenFor(clientId: string): Promise<string> {
  let token = tokens.get(clientId);
  if (!token) {
    const answer = await tokenCall({ grant_type: 'client_credentials', client_id: clientId, scope: SCOPES });
    token = answer.json.access_token as string;
    tokens.set(clientId, token);
  }
  return token;
}

/** An API call as CLIENT (or `as`), with its token and client_id header unless `headers` replaces them. */
async function api(
  method: string,
  path: string,
  init: { body?: unknown; raw?: string; as?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Reply> {
  const payload = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const clientId = init.as ?? CLIENT;
  const headers = init.headers ?? { authorization: `Bearer ${await tokenFor(clientId)}`, client_id: clientId };
  const response = await fetch(`${sicoob.url}${path}`, {
    method,
    body: payload,
    signal: init.signal,
    headers: { accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
  });
  return reply(response);
}

function error(status: number, codigo: string, mensagem: string) {
  return { status, json: { mensagens: [{ codigo, mensagem }] } };
}

function expectReply(actual: Reply, expected: { status: number; json?: unknown; text?: string }): void {
  expect({
    status: actual.status,
    ...('json' in expected ? { json: actual.json } : {}),
    ...('text' in expected ? { text: actual.text } : {}),
  }).toEqual(expected);
}

async function requestReport(dataInicial: string, dataFinal: string, tipoMovimento = 5): Promise<number> {
  const answer = await api('POST', '/boletos/movimentacoes', {
    body: { numeroCliente: NUMERO, tipoMovimento, dataInicial, dataFinal },
  });
  expect(answer.status).toBe(200);
  return answer.json.resultado.codigoSolicitacao as number;
}

function query(codigo: number): Promise<Reply> {
  return api('GET', `/boletos/movimentacoes?numeroCliente=${NUMERO}&codigoSolicitacao=${codigo}`);
}

/** Polls until the report is no longer "not ready" (204 or 5004). */
async function ready(codigo: number): Promise<Reply> {
  for (;;) {
    const answer = await query(codigo);
    if (answer.status !== 204 && answer.json?.mensagens?.[0]?.codigo !== '5004') return answer;
  }
}

async function download(
  codigo: number,
  idArquivo: number,
): Promise<{ nomeArquivo: string; entries: { name: string; text: string }[] }> {
  const answer = await api(
    'GET',
    `/boletos/movimentacoes/download?numeroCliente=${NUMERO}&codigoSolicitacao=${codigo}&idArquivo=${idArquivo}`,
  );
  expect(answer.status).toBe(200);
  const zip = await JSZip.loadAsync(Buffer.from(answer.json.resultado.arquivo as string, 'base64'));
  const entries = await Promise.all(
    Object.values(zip.files).map(async (entry) => ({ name: entry.name, text: await entry.async('string') })),
  );
  return { nomeArquivo: answer.json.resultado.nomeArquivo as string, entries };
}

/** Every record of a report, file after file, entry after entry (JSON arrays or one object per line). */
async function reportRecords(codigo: number): Promise<any[]> {
  const { idArquivos } = (await ready(codigo)).json.resultado as { idArquivos: number[] };
  const records: any[] = [];
  for (const id of idArquivos)
    for (const { text } of (await download(codigo, id)).entries)
      records.push(
        ...(text.startsWith('[')
          ? JSON.parse(text)
          : text
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line))),
      );
  return records;
}

/** FEBRABAN's barcode: its check digit (mod 11, weights 2…9 from the right; 0, 10, 11 → 1) put in place 5. */
function barcode(withoutDv: string): string {
  let sum = 0;
  [...withoutDv].reverse().forEach((digit, i) => (sum += Number(digit) * ((i % 8) + 2)));
  const dv = 11 - (sum % 11);
  return `${withoutDv.slice(0, 4)}${dv === 0 || dv >= 10 ? 1 : dv}${withoutDv.slice(4)}`;
}

/** Sicoob's free field: carteira 1, cooperativa 3069, modalidade 01, cliente 7 digits, nosso número 8 digits, parcela 001. */
function sicoobBarcode(factor: string, valor: number, nossoNumero: string, numeroCliente = NUMERO): string {
  return barcode(
    `7569${factor}${String(valor).padStart(10, '0')}1306901${String(numeroCliente).padStart(7, '0')}${nossoNumero.padStart(8, '0')}001`,
  );
}

const MIDNIGHT = 'T00:00:00-03:00';

/** The long-dialect LIQUI record of the window 2026-03-01 … 2026-03-02, with `fields` changed. */
function liqui(fields: Record<string, unknown>) {
  return {
    codigoTipoMovimento: 5,
    siglaMovimento: 'LIQUI',
    dataInicioMovimento: `2026-03-01${MIDNIGHT}`,
    dataFimMovimento: `2026-03-02${MIDNIGHT}`,
    numeroCliente: NUMERO,
    numeroContrato: NUMERO,
    modalidade: 1,
    numeroTitulo: 0,
    seuNumero: '',
    dataVencimentoTitulo: '',
    valorTitulo: 0,
    codigoBarras: '',
    dataMovimentoLiquidacao: '',
    dataLiquidacao: '',
    dataPrevisaoCredito: '',
    numeroBancoRecebedor: 756,
    numeroAgenciaRecebedora: 3069,
    numeroContaCorrente: 807090,
    idTipoOpFinanceira: 212,
    tipoOpFinanceira: '07 - Via Pix',
    valorAbatimento: 0,
    valorDesconto: 0,
    valorMora: 0,
    valorLiquido: 0,
    valorTarifaMovimento: 1.5,
    tipoCarteiraOpCredito: 'COBRANÇA',
    ...fields,
  };
}

/** Two seeded and liquidated boletos in the 2026-03-01 … 02 window, one outside it, one of another client, one unmatched. */
function seedLiquidations() {
  const c = sicoob.control;
  c.seedBoleto({ numeroCliente: NUMERO, nossoNumero: '24437', seuNumero: 'PED-1001', valor: 8500, dataVencimento: '2026-03-05' });
  c.seedBoleto({
    numeroCliente: NUMERO,
    nossoNumero: '0000031518',
    seuNumero: 'PED-1002 "ção"',
    valor: 12000,
    dataVencimento: '2026-02-28',
  });
  c.seedBoleto({ numeroCliente: NUMERO, nossoNumero: '40001', seuNumero: 'PED-0999', valor: 1000, dataVencimento: '2026-02-27' });
  c.seedBoleto({ numeroCliente: OTHER_NUMERO, nossoNumero: '24437', seuNumero: 'X-1', valor: 700, dataVencimento: '2026-03-05' });
  const first = c.liquidate(NUMERO, '24437', { dataLiquidacao: '2026-03-01' });
  c.liquidate(NUMERO, '40001', { dataLiquidacao: '2026-02-28' });
  const second = c.liquidate(NUMERO, '31518', {
    dataLiquidacao: '2026-03-01',
    dataMovimento: '2026-03-02',
    dataPrevisaoCredito: '2026-03-04',
    valorMora: 240,
    valorDesconto: 100,
    valorAbatimento: 50,
    valorTarifaMovimento: 200,
    idTipoOpFinanceira: 58,
  });
  c.liquidate(OTHER_NUMERO, '24437', { dataLiquidacao: '2026-03-01' });
  c.addLiquidation({ numeroCliente: NUMERO, numeroTitulo: '99990', valorTitulo: 5000, dataLiquidacao: '2026-03-02' });
  return { first, second };
}

const RECORD_A = liqui({
  numeroTitulo: 24437,
  seuNumero: 'PED-1001',
  dataVencimentoTitulo: `2026-03-05${MIDNIGHT}`,
  valorTitulo: 85,
  // 2026-03-05: due factor 1376 (1000 on 2025-02-22)
  codigoBarras: sicoobBarcode('1376', 8500, '24437'),
  dataMovimentoLiquidacao: `2026-03-01${MIDNIGHT}`,
  dataLiquidacao: `2026-03-01${MIDNIGHT}`,
  dataPrevisaoCredito: `2026-03-02${MIDNIGHT}`,
  valorLiquido: 85,
});
const RECORD_B = liqui({
  numeroTitulo: 31518,
  seuNumero: 'PED-1002 "ção"',
  dataVencimentoTitulo: `2026-02-28${MIDNIGHT}`,
  valorTitulo: 120,
  codigoBarras: sicoobBarcode('1371', 12000, '31518'),
  dataMovimentoLiquidacao: `2026-03-02${MIDNIGHT}`,
  dataLiquidacao: `2026-03-01${MIDNIGHT}`,
  dataPrevisaoCredito: `2026-03-04${MIDNIGHT}`,
  idTipoOpFinanceira: 58,
  tipoOpFinanceira: '04 - Via Compensação',
  valorAbatimento: 0.5,
  valorDesconto: 1,
  valorMora: 2.4,
  valorLiquido: 120.9,
  valorTarifaMovimento: 2,
});
const RECORD_UNMATCHED = liqui({
  numeroTitulo: 99990,
  dataVencimentoTitulo: `2026-03-02${MIDNIGHT}`,
  valorTitulo: 50,
  codigoBarras: sicoobBarcode('1373', 5000, '99990'),
  dataMovimentoLiquidacao: `2026-03-02${MIDNIGHT}`,
  dataLiquidacao: `2026-03-02${MIDNIGHT}`,
  dataPrevisaoCredito: `2026-03-03${MIDNIGHT}`,
  valorLiquido: 50,
});

describe('token and authorization', () => {
  it('issues client_credentials tokens to known clients and refuses the rest in OAuth’s words', async () => {
    const issued = await tokenCall({ grant_type: 'client_credentials', client_id: CLIENT, scope: SCOPES });
    expect(issued.status).toBe(200);
    expect(issued.contentType).toBe('application/json; charset=utf-8');
    expect(issued.json).toEqual({
      access_token: expect.stringMatching(/^[\w-]{43}$/),
      expires_in: 300,
      refresh_expires_in: 0,
      token_type: 'Bearer',
      'not-before-policy': 0,
      scope: SCOPES,
    });
    expect(sicoob.authUrl).toBe(sicoob.url.replace(SICOOB_API_BASE_PATH, SICOOB_TOKEN_PATH));
    expect(sicoob.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/cobranca-bancaria\/v3$/);

    expectReply(await tokenCall({ grant_type: 'client_credentials', client_id: 'desconhecido', scope: SCOPES }), {
      status: 401,
      json: { error: 'invalid_client' },
    });
    for (const missing of ['grant_type', 'client_id', 'scope']) {
      const fields: Record<string, string> = { grant_type: 'client_credentials', client_id: CLIENT, scope: SCOPES };
      delete fields[missing];
      expectReply(await tokenCall(fields), { status: 400, json: { error: 'invalid_request' } });
    }
    expectReply(await tokenCall({ grant_type: 'password', client_id: CLIENT, scope: SCOPES }), {
      status: 400,
      json: { error: 'unsupported_grant_type' },
    });
    expect(sicoob.control.tokensIssued()).toBe(1);
    expect(sicoob.control.calls()).toEqual({ token: 6, request: 0, query: 0, download: 0, webhooks: 0 });
  });

  it('needs a valid unexpired token, the token’s client_id and the client’s own numeroCliente', async () => {
    await restart({ tokenTtlSeconds: 60 });
    const path = `/boletos/movimentacoes?numeroCliente=${NUMERO}&codigoSolicitacao=1`;
    const unauthorized = error(401, '401', 'Token de acesso ausente, inválido ou expirado.');
    const wrongClient = error(403, '403', 'O client_id informado não corresponde ao token de acesso.');
    const token = await tokenFor(CLIENT);
    const otherToken = await tokenFor(OTHER);
    expectReply(await api('GET', path, { headers: {} }), unauthorized);
    expectReply(await api('GET', path, { headers: { authorization: 'Bearer nada', client_id: CLIENT } }), unauthorized);
    expectReply(await api('GET', path, { headers: { authorization: token, client_id: CLIENT } }), unauthorized);
    expectReply(await api('GET', path, { headers: { authorization: `Bearer ${token}` } }), wrongClient);
    expectReply(await api('GET', path, { headers: { authorization: `Bearer ${otherToken}`, client_id: CLIENT } }), wrongClient);
    expectReply(
      await api('GET', `/boletos/movimentacoes?numeroCliente=${NUMERO}&codigoSolicitacao=1`, { as: OTHER }),
      error(403, '403', `O numeroCliente ${NUMERO} não pertence ao client_id informado.`),
    );
    const body = { numeroCliente: OTHER_NUMERO, tipoMovimento: 5, dataInicial: '2026-03-01', dataFinal: '2026-03-02' };
    expectReply(
      await api('POST', '/boletos/movimentacoes', { body }),
      error(403, '403', `O numeroCliente ${OTHER_NUMERO} não pertence ao client_id informado.`),
    );
    expect((await api('POST', '/boletos/movimentacoes', { body, as: OTHER })).status).toBe(200);

    clock += 59_999;
    expect((await api('GET', '/webhooks')).status).toBe(204);
    clock += 1;
    expectReply(await api('GET', '/webhooks'), unauthorized);
    tokens.clear();
    expect((await api('GET', '/webhooks')).status).toBe(204);
    expect(sicoob.control.tokensIssued()).toBe(3);

    sicoob.control.addClient('cli-nova', 909090);
    expect((await api('GET', '/webhooks', { as: 'cli-nova' })).status).toBe(204);
    expect(() => sicoob.control.addClient('cli-nova', 1)).toThrow('client cli-nova exists');
  });
});

describe('movement reports', () => {
  it('requests, polls (204), downloads and unzips the exact LIQUI records of the window', async () => {
    const { first, second } = seedLiquidations();
    const { dataInicioMovimento, dataFimMovimento, ...withoutWindow } = RECORD_A;
    expect(first).toEqual(withoutWindow);
    expect(Object.keys(first)).toEqual(Object.keys(withoutWindow));
    expect(second.valorLiquido).toBe(120.9);

    const requested = await api('POST', '/boletos/movimentacoes', {
      body: { numeroCliente: NUMERO, tipoMovimento: 5, dataInicial: '2026-03-01', dataFinal: '2026-03-02' },
    });
    expectReply(requested, {
      status: 200,
      json: { resultado: { mensagem: 'Solicitação recebida com sucesso.', codigoSolicitacao: 132 } },
    });
    expectReply(await query(132), { status: 204, text: '' });
    expectReply(await query(132), {
      status: 200,
      json: {
        resultado: {
          quantidadeTotalRegistros: 3,
          quantidadeRegistrosArquivo: 500000,
          quantidadeArquivo: 1,
          idArquivos: [30025254],
        },
      },
    });

    const answer = await api(
      'GET',
      `/boletos/movimentacoes/download?numeroCliente=${NUMERO}&codigoSolicitacao=132&idArquivo=30025254`,
    );
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.json.resultado)).toEqual(['arquivo', 'nomeArquivo']);
    expect(answer.json.resultado.arquivo).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const { nomeArquivo, entries } = await download(132, 30025254);
    // the request's São Paulo time, 09:00:00.000, and 4 more fraction digits
    expect(nomeArquivo).toBe('LIQUI_3069_707090_202603020900000000000_132_0.zip');
    expect(entries.map((entry) => entry.name)).toEqual(['LIQUI_3069_707090_202603020900000000000_132_0.json']);
    const { text } = entries[0]!;
    expect(text).not.toContain('\n');
    expect(text).toContain('"valorTitulo":85.0000,');
    expect(text).toContain('"valorMora":2.4000,"valorLiquido":120.9000,"valorTarifaMovimento":2.0000,');
    expect(text).toContain('"valorAbatimento":0.0000,');
    const records = JSON.parse(text);
    expect(records).toEqual([RECORD_A, RECORD_B, RECORD_UNMATCHED]);
    expect(Object.keys(records[0])).toEqual(Object.keys(RECORD_A));

    expect(sicoob.control.movementRequests()).toEqual([
      {
        codigoSolicitacao: 132,
        numeroCliente: NUMERO,
        tipoMovimento: 5,
        dataInicial: '2026-03-01',
        dataFinal: '2026-03-02',
        at: '2026-03-02T12:00:00.000Z',
      },
    ]);
    expect(sicoob.control.calls()).toEqual({ token: 1, request: 1, query: 2, download: 2, webhooks: 0 });
  });

  it('says "not ready" with 5004 when told, for as many polls as told, and refuses downloads until ready', async () => {
    seedLiquidations();
    sicoob.control.fileOptions({ notReady: '5004' });
    sicoob.control.notReadyPolls(2);
    const codigo = await requestReport('2026-03-01', '2026-03-02');
    const processing = {
      status: 400,
      text: '{"mensagens":[{"mensagem":"Solicitação ainda em processamento.","codigo":"5004"}]}',
    };
    expectReply(await query(codigo), processing);
    const early = `/boletos/movimentacoes/download?numeroCliente=${NUMERO}&codigoSolicitacao=${codigo}&idArquivo=30025254`;
    expectReply(await api('GET', early), processing);
    expectReply(await query(codigo), processing);
    expect((await query(codigo)).json.resultado.idArquivos).toEqual([30025254]);
    expect((await download(codigo, 30025254)).entries).toHaveLength(1);

    await restart({ notReadyPolls: 0 });
    seedLiquidations();
    expect((await query(await requestReport('2026-03-01', '2026-03-02'))).status).toBe(200);
  });

  it('refuses windows over 2 days, reversed or older than a year, bad fields and unknown requests; answers 5002 when empty', async () => {
    const post = (body: Record<string, unknown>) => api('POST', '/boletos/movimentacoes', { body });
    const window = (dataInicial: string, dataFinal: string, tipoMovimento = 5) =>
      post({ numeroCliente: NUMERO, tipoMovimento, dataInicial, dataFinal });
    expectReply(
      await window('2026-03-01', '2026-03-03'),
      error(400, '400', 'O período de consulta deve ser de no máximo 2 dias.'),
    );
    expectReply(
      await window('2026-03-02', '2026-03-01'),
      error(400, '400', 'A dataFinal deve ser igual ou posterior à dataInicial.'),
    );
    const old = error(400, '400', 'A dataInicial deve estar dentro de um ano até a data da solicitação.');
    expectReply(await window('2025-03-01', '2025-03-02'), old);
    expect((await window('2025-03-02', '2025-03-03')).status).toBe(200); // exactly 365 days before today
    expect((await window('2026-03-02', '2026-03-02')).status).toBe(200);
    expect((await window('2026-03-05', '2026-03-06')).status).toBe(200); // the future holds nothing yet
    expectReply(await window('2026-02-30', '2026-03-01'), error(400, '400', 'Campo dataInicial inválido.'));
    expectReply(await window('2026-3-1', '2026-03-01'), error(400, '400', 'Campo dataInicial inválido.'));
    expectReply(await window('2026-03-01', '2026-03-02', 8), error(400, '400', 'Campo tipoMovimento inválido.'));
    expectReply(
      await post({ numeroCliente: NUMERO, tipoMovimento: 5, dataInicial: '2026-03-01' }),
      error(400, '400', 'Campo dataFinal obrigatório.'),
    );
    expectReply(
      await post({ numeroCliente: String(NUMERO), tipoMovimento: 5, dataInicial: '2026-03-01', dataFinal: '2026-03-01' }),
      error(400, '400', 'Campo numeroCliente inválido.'),
    );
    expectReply(
      await api('POST', '/boletos/movimentacoes', { raw: 'numeroCliente=707090' }),
      error(400, '400', 'Corpo da requisição inválido: JSON esperado.'),
    );
    expectReply(
      await api('POST', '/boletos/movimentacoes', { body: [] }),
      error(400, '400', 'Corpo da requisição inválido: objeto JSON esperado.'),
    );

    sicoob.control.notReadyPolls(0);
    seedLiquidations();
    const empty = error(400, '5002', 'NENHUM REGISTRO ENCONTRADO PARA A SOLICITACAO');
    expectReply(await query(await requestReport('2026-02-25', '2026-02-26')), empty);
    expectReply(await query(await requestReport('2026-03-01', '2026-03-02', 1)), empty);
    const codigo = await requestReport('2026-03-01', '2026-03-02');
    expectReply(
      await api('GET', `/boletos/movimentacoes?numeroCliente=${NUMERO}&codigoSolicitacao=999`),
      error(400, '400', 'Solicitação 999 não encontrada.'),
    );
    expectReply(
      await api('GET', `/boletos/movimentacoes?numeroCliente=${NUMERO}`),
      error(400, '400', 'Parâmetro codigoSolicitacao obrigatório.'),
    );
    expectReply(
      await api('GET', `/boletos/movimentacoes?numeroCliente=${OTHER_NUMERO}&codigoSolicitacao=${codigo}`, { as: OTHER }),
      error(400, '400', `Solicitação ${codigo} não encontrada.`),
    );
    expectReply(
      await api('GET', `/boletos/movimentacoes/download?numeroCliente=${NUMERO}&codigoSolicitacao=${codigo}&idArquivo=1`),
      error(400, '400', `Arquivo 1 não encontrado para a solicitação ${codigo}.`),
    );
    clock += 30 * 86_400_000;
    tokens.clear(); // the first token expired long ago
    expect((await query(codigo)).status).toBe(200);
    clock += 1;
    expectReply(
      await query(codigo),
      error(400, '400', `Solicitação ${codigo} expirada: os arquivos ficam disponíveis por 30 dias.`),
    );
  });

  it('freezes a report when requested: a later liquidation goes to the next request', async () => {
    seedLiquidations();
    const before = await requestReport('2026-03-01', '2026-03-02');
    sicoob.control.seedBoleto({
      numeroCliente: NUMERO,
      nossoNumero: '50005',
      seuNumero: 'PED-1003',
      valor: 2000,
      dataVencimento: '2026-03-10',
    });
    sicoob.control.liquidate(NUMERO, '50005', { dataLiquidacao: '2026-03-02' });
    const after = await requestReport('2026-03-01', '2026-03-02');
    expect((await reportRecords(before)).map((record) => record.numeroTitulo)).toEqual([24437, 31518, 99990]);
    expect((await reportRecords(after)).map((record) => record.numeroTitulo)).toEqual([24437, 31518, 99990, 50005]);
  });

  it('splits records over files and entries; writes jsonl, txt, the short dialect, unpadded dates and string totals', async () => {
    await restart({ recordsPerFile: 3, notReadyPolls: 0 });
    const { nossoNumeros } = sicoob.control.bulkLiquidations(NUMERO, 7, '2026-03-01', 1000);
    expect(nossoNumeros).toEqual(['1000', '1001', '1002', '1003', '1004', '1005', '1006']);
    sicoob.control.fileOptions({ entriesPerFile: 2, format: 'jsonl', totalAsString: true });
    const codigo = await requestReport('2026-03-01', '2026-03-02');
    expectReply(await query(codigo), {
      status: 200,
      json: {
        resultado: {
          quantidadeTotalRegistros: '7',
          quantidadeRegistrosArquivo: 3,
          quantidadeArquivo: 3,
          idArquivos: [30025254, 30025255, 30025256],
        },
      },
    });
    const files = await Promise.all([30025254, 30025255, 30025256].map((id) => download(codigo, id)));
    expect(files.map((file) => file.nomeArquivo)).toEqual(
      [0, 1, 2].map((i) => `LIQUI_3069_707090_202603020900000000000_${codigo}_${i}.zip`),
    );
    const base = `LIQUI_3069_707090_202603020900000000000_${codigo}`;
    expect(files[2]!.entries.map((entry) => entry.name)).toEqual([`${base}_2_0.json`, `${base}_2_1.json`]);
    const lines = files.map((file) =>
      file.entries.map((entry) =>
        entry.text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line).numeroTitulo),
      ),
    );
    expect(lines).toEqual([
      [[1000], [1001, 1002]],
      [[1003], [1004, 1005]],
      [[], [1006]],
    ]);
    expect(files[0]!.entries[1]!.text.endsWith('}\n')).toBe(true);

    // Options are fixed per report: the earlier one keeps its layout.
    sicoob.control.fileOptions({ entriesPerFile: 1, format: 'txt', dialect: 'short', unpaddedDates: true });
    const short = await requestReport('2026-03-01', '2026-03-02');
    expect((await download(codigo, 30025254)).entries).toHaveLength(2);
    const txt = await download(short, 30025257);
    expect(txt.entries.map((entry) => entry.name)).toEqual([`LIQUI_3069_707090_202603020900000000000_${short}_0.txt`]);
    const [record] = JSON.parse(txt.entries[0]!.text);
    expect(record).toEqual({
      idSolicitacaoProcessamentoMovimento: short,
      numAgrupamento: 0,
      codTipoMovimento: 5,
      siglaMovimento: 'LIQUI',
      dataInicioMovimento: '2026-3-1T00:00:00-03:00',
      dataFimMovimento: '2026-3-2T00:00:00-03:00',
      dataHoraSolicitacaoProcessamento: '2026-3-2T09:00:00-03:00',
      numCliente: NUMERO,
      numContrato: NUMERO,
      idModalidadeProduto: 1,
      numTitulo: 1000,
      descSeuNumero: 'BULK-1000',
      dataVencimentoTitulo: '2026-3-11T00:00:00-03:00',
      valorTitulo: 10,
      codigoBarras: sicoobBarcode('1382', 1000, '1000'),
      dataMovLiquidacao: '2026-3-1T00:00:00-03:00',
      dataLiquidacao: '2026-3-1T00:00:00-03:00',
      dataPrevisaoCredito: '2026-3-2T00:00:00-03:00',
      numeroBancoRecebedor: 756,
      numeroAgenciaRecebedora: 3069,
      numContaCorrente: 807090,
      idTipoOpFinanceira: 212,
      tipoOpFinanceira: '07 - Via Pix',
      valorAbatimento: 0,
      valorDesconto: 0,
      valorMora: 0,
      valorLiquido: 10,
      valorTarifaMovimento: 1.5,
      tipoCarteiraOpCredito: 'COBRANÇA',
    });
    expect(txt.entries[0]!.text).toContain('"valorTitulo":10.0000,');

    sicoob.control.fileOptions({ format: 'json', dialect: 'mixed', unpaddedDates: false, totalAsString: false });
    const mixed = await reportRecords(await requestReport('2026-03-01', '2026-03-02'));
    expect(mixed.map((r) => r.numeroTitulo ?? r.numTitulo)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006]);
    expect(mixed.map((r) => ('numTitulo' in r ? 'short' : 'long'))).toEqual([
      'long',
      'short',
      'long',
      'long',
      'short',
      'long',
      'long',
    ]);
    expect(mixed[1].valorTitulo).toBe(10.37);

    await restart({ notReadyPolls: 0 });
    sicoob.control.fileOptions({ totalAsString: true });
    sicoob.control.bulkLiquidations(NUMERO, 1500, '2026-03-01');
    expect((await query(await requestReport('2026-03-01', '2026-03-01'))).json.resultado.quantidadeTotalRegistros).toBe('1.500');
    expect(() => sicoob.control.bulkLiquidations(NUMERO, 1, '2026-03-01', 1500)).toThrow(
      'boleto 1500 of 707090 is already seeded',
    );
    expect(sicoob.control.bulkLiquidations(NUMERO, 1, '2026-03-01').nossoNumeros).toEqual(['1501']);
  });

  it('builds and serves a 100,000-record file in well under 5 s', async () => {
    await restart({ notReadyPolls: 0 });
    let started = performance.now();
    const { nossoNumeros } = sicoob.control.bulkLiquidations(NUMERO, 100_000, '2026-03-01', 1_000_000);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(nossoNumeros).toHaveLength(100_000);
    expect(nossoNumeros.at(-1)).toBe('1099999');

    started = performance.now();
    const codigo = await requestReport('2026-03-01', '2026-03-02');
    expect((await query(codigo)).json.resultado).toEqual({
      quantidadeTotalRegistros: 100_000,
      quantidadeRegistrosArquivo: 500_000,
      quantidadeArquivo: 1,
      idArquivos: [30025254],
    });
    const { entries } = await download(codigo, 30025254);
    const records = JSON.parse(entries[0]!.text);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(records).toHaveLength(100_000);
    expect(records[99_999]).toMatchObject({
      numeroTitulo: 1_099_999,
      seuNumero: 'BULK-1099999',
      valorLiquido: records[99_999].valorTitulo,
    });
  });

  it('rejects control input it cannot write', () => {
    const c = sicoob.control;
    expect(() => c.liquidate(NUMERO, '123', { dataLiquidacao: '2026-03-01' })).toThrow('boleto 123 of 707090 is not seeded');
    c.seedBoleto({ numeroCliente: NUMERO, nossoNumero: '123', seuNumero: 'A', valor: 100, dataVencimento: '2026-03-01' });
    expect(() =>
      c.seedBoleto({ numeroCliente: NUMERO, nossoNumero: '0123', seuNumero: 'A', valor: 100, dataVencimento: '2026-03-01' }),
    ).toThrow('already seeded');
    expect(() => c.liquidate(NUMERO, '123', { dataLiquidacao: '2026-3-1' })).toThrow('dataLiquidacao must be a yyyy-MM-dd day');
    expect(() => c.liquidate(NUMERO, '123', { dataLiquidacao: '2026-03-01', valorMora: 1.5 })).toThrow(
      'valorMora must be integer centavos',
    );
    expect(() => c.liquidate(NUMERO, '123', { dataLiquidacao: '2026-03-01', idTipoOpFinanceira: 1 })).toThrow(
      'unknown idTipoOpFinanceira 1',
    );
    expect(() => c.fileOptions({ entriesPerFile: 0 })).toThrow('entriesPerFile must be an integer ≥ 1');
  });
});

describe('webhooks', () => {
  const register = (url: string, extra: Record<string, unknown> = {}, as?: string) =>
    api('POST', '/webhooks', { body: { url, codigoTipoMovimento: 7, codigoPeriodoMovimento: 1, ...extra }, as });
  const situation = (idWebhook: number) => sicoob.control.webhooks().find((w) => w.idWebhook === idWebhook)?.codigoSituacao;
  const history = async (idWebhook: number, query = '') =>
    (await api('GET', `/webhooks/${idWebhook}/solicitacoes?dataSolicitacao=2026-03-02${query}`)).json.resultado;

  it('refuses non-https or non-443 URLs unless allowed, and bad fields', async () => {
    await restart({ allowInsecureWebhooks: false });
    const insecure = error(400, '400', 'A URL do webhook deve usar HTTPS na porta 443.');
    expectReply(await register(hook.url), insecure);
    expectReply(await register('https://127.0.0.1:8443/hook'), insecure);
    expectReply(await register('ftp://127.0.0.1/hook'), insecure);
    expectReply(await register('não é url'), error(400, '400', 'Campo url inválido.'));
    expectReply(
      await register('https://127.0.0.1/hook', { codigoTipoMovimento: 5 }),
      error(400, '400', 'Campo codigoTipoMovimento inválido: somente 7 (Pagamento) é aceito.'),
    );
    expectReply(
      await register('https://127.0.0.1/hook', { codigoPeriodoMovimento: 2 }),
      error(400, '400', 'Campo codigoPeriodoMovimento inválido: somente 1 (Movimento atual) é aceito.'),
    );
    expectReply(await register('https://127.0.0.1/hook', { email: null }), error(400, '400', 'Campo email inválido.'));
    expectReply(await register('https://127.0.0.1/hook', { email: '' }), error(400, '400', 'Campo email inválido.'));
    expectReply(
      await api('POST', '/webhooks', { body: { url: 'https://127.0.0.1/hook' } }),
      error(400, '400', 'Campo codigoTipoMovimento obrigatório.'),
    );
    // Port 443 here has nobody listening: accepted, then the validation fails and it waits in 1.
    expectReply(await register('https://127.0.0.1:443/hook', { email: 'financeiro@loja.com.br' }), {
      status: 201,
      json: { resultado: { idWebhook: 214 } },
    });
    await expect.poll(async () => (await history(214)).webhookSolicitacoes[0]?.codigoSolicitacaoSituacao).toBe(6);
    expect(sicoob.control.webhooks()).toEqual([
      {
        idWebhook: 214,
        url: 'https://127.0.0.1:443/hook',
        numeroCliente: NUMERO,
        codigoSituacao: 1,
        email: 'financeiro@loja.com.br',
      },
    ]);
  });

  it('validates a new webhook (situation 2) and lists it, to its own client only', async () => {
    expectReply(await api('GET', '/webhooks'), { status: 204, text: '' });
    expectReply(await register(hook.url), { status: 201, json: { resultado: { idWebhook: 214 } } });
    await expect.poll(() => situation(214)).toBe(2);
    expect(hook.posts).toEqual([
      {
        path: '/webhooks/sicoob/segredo-1',
        contentType: 'application/json',
        raw: '{"idWebhook":214,"validacaoWebhook":true}',
        body: { idWebhook: 214, validacaoWebhook: true },
      },
    ]);
    const listed = {
      idWebhook: 214,
      url: hook.url,
      email: null,
      codigoTipoMovimento: 7,
      descricaoTipoMovimento: 'Pagamento (Baixa operacional)',
      codigoPeriodoMovimento: 1,
      descricaoPeriodoMovimento: 'Movimento atual (D0)',
      codigoSituacao: 2,
      descricaoSituacao: 'Validado com sucesso',
      dataHoraCadastro: '2026-03-02T12:00:00.000Z',
      dataHoraUltimaAlteracao: '2026-03-02T12:00:00.000Z',
      dataHoraInativacao: null,
      descricaoMotivoInativacao: null,
    };
    expectReply(await api('GET', '/webhooks'), { status: 200, json: { resultado: [listed] } });
    expectReply(await api('GET', '/webhooks?idWebhook=214&codigoTipoMovimento=7'), {
      status: 200,
      json: { resultado: [listed] },
    });
    expectReply(await api('GET', '/webhooks?idWebhook=215'), { status: 204, text: '' });
    expectReply(await api('GET', '/webhooks?codigoTipoMovimento=5'), { status: 204, text: '' });
    expectReply(await api('GET', '/webhooks', { as: OTHER }), { status: 204, text: '' });
    expectReply(await api('DELETE', '/webhooks/214', { as: OTHER }), error(400, '400', 'Webhook 214 não encontrado.'));
    expect(await history(214)).toEqual({
      paginaAtual: 1,
      totalPaginas: 1,
      totalRegistros: 1,
      webhookSolicitacoes: [
        {
          codigoWebhookSituacao: 1,
          descricaoWebhookSituacao: 'Aguardando validação',
          codigoSolicitacaoSituacao: 3,
          descricaoSolicitacaoSituacao: 'Enviado com sucesso',
          codigoTipoMovimento: 7,
          descricaoTipoMovimento: 'Pagamento (Baixa operacional)',
          codigoPeriodoMovimento: 1,
          descricaoPeriodoMovimento: 'Movimento atual (D0)',
          descricaoErroProcessamento: null,
          dataHoraCadastro: '2026-03-02T12:00:00.000Z',
          validacaoWebhook: true,
          nossoNumero: null,
          codigoBarras: null,
          webhookNotificacoes: [
            {
              url: hook.url,
              dataHoraInicio: '2026-03-02T12:00:00.000Z',
              dataHoraFim: '2026-03-02T12:00:00.000Z',
              tempoComunicao: 0,
              codigoStatusRequisicao: 200,
              descricaoCodigoStatusRequisicao: WEBHOOK_ANSWER,
            },
          ],
        },
      ],
    });
    expect(await history(214, '&pagina=2')).toMatchObject({
      paginaAtual: 2,
      totalPaginas: 1,
      totalRegistros: 1,
      webhookSolicitacoes: [],
    });
    expectReply(await api('GET', '/webhooks/214/solicitacoes'), error(400, '400', 'Parâmetro dataSolicitacao obrigatório.'));
    expectReply(
      await api('GET', '/webhooks/214/solicitacoes?dataSolicitacao=02/03/2026'),
      error(400, '400', 'Parâmetro dataSolicitacao inválido.'),
    );
    expect(await api('GET', '/webhooks/214/solicitacoes?dataSolicitacao=2026-03-01')).toMatchObject({
      status: 200,
      json: { resultado: { totalRegistros: 0, totalPaginas: 0, webhookSolicitacoes: [] } },
    });
  });

  it('keeps a webhook in 1 while its validation fails (202, 500, 302) and makes it Inativo at the third; reativar validates it again', async () => {
    const answers = [202, 500, 302, 204];
    hook.respond = () => answers.shift() ?? 200;
    await register(hook.url);
    await expect.poll(() => hook.posts.length).toBe(1);
    await expect.poll(async () => (await history(214)).webhookSolicitacoes[0].codigoSolicitacaoSituacao).toBe(6);
    expect(situation(214)).toBe(1);
    expectReply(await api('PATCH', '/webhooks/214/reativar'), { status: 204, text: '' });
    await expect.poll(async () => (await history(214)).webhookSolicitacoes[1]?.codigoSolicitacaoSituacao).toBe(6);
    expect(situation(214)).toBe(1);
    clock += 60_000;
    expectReply(await api('PATCH', '/webhooks/214/reativar'), { status: 204, text: '' });
    await expect.poll(() => situation(214)).toBe(3);
    const [inactive] = (await api('GET', '/webhooks')).json.resultado;
    expect(inactive).toMatchObject({
      codigoSituacao: 3,
      descricaoSituacao: 'Inativo',
      dataHoraUltimaAlteracao: '2026-03-02T12:01:00.000Z',
      dataHoraInativacao: '2026-03-02T12:01:00.000Z',
      descricaoMotivoInativacao: 'Erro na validação do webhook',
    });
    expectReply(await api('PATCH', '/webhooks/214/reativar'), { status: 204, text: '' });
    await expect.poll(() => situation(214)).toBe(2);
    expect((await api('GET', '/webhooks')).json.resultado[0]).toMatchObject({
      dataHoraInativacao: null,
      descricaoMotivoInativacao: null,
    });
    expectReply(await api('PATCH', '/webhooks/214/reativar'), error(400, '400', 'Webhook 214 já está validado.'));

    const { webhookSolicitacoes } = await history(214);
    expect(
      webhookSolicitacoes.map((s: any) => [
        s.validacaoWebhook,
        s.codigoSolicitacaoSituacao,
        s.descricaoErroProcessamento,
        s.webhookNotificacoes[0].codigoStatusRequisicao,
      ]),
    ).toEqual([
      [true, 6, 'Falha na validação do webhook: HTTP 202', 202],
      [true, 6, 'Falha na validação do webhook: HTTP 500', 500],
      [true, 6, 'Falha na validação do webhook: HTTP 302', 302],
      [true, 3, null, 204],
    ]);
    expect(webhookSolicitacoes[3].webhookNotificacoes[0].descricaoCodigoStatusRequisicao).toBe('');
    expect((await history(214, '&codigoSolicitacaoSituacao=6')).totalRegistros).toBe(3);
  });

  it('changes the URL (PATCH, validated again), deletes, and answers unknown routes, methods and big bodies', async () => {
    const second = await startReceiver();
    try {
      await register(hook.url);
      await expect.poll(() => situation(214)).toBe(2);
      clock += 1000;
      expectReply(await api('PATCH', '/webhooks/214', { body: { url: second.url, email: 'ti@loja.com.br' } }), {
        status: 204,
        text: '',
      });
      await expect.poll(() => second.posts.length).toBe(1);
      await expect.poll(() => situation(214)).toBe(2);
      expect(second.posts.map((post) => post.body)).toEqual([{ idWebhook: 214, validacaoWebhook: true }]);
      expect((await api('GET', '/webhooks')).json.resultado[0]).toMatchObject({
        url: second.url,
        email: 'ti@loja.com.br',
        dataHoraCadastro: '2026-03-02T12:00:00.000Z',
        dataHoraUltimaAlteracao: '2026-03-02T12:00:01.000Z',
      });
      expectReply(
        await api('PATCH', '/webhooks/214', { body: { email: 'ti@loja.com.br' } }),
        error(400, '400', 'Campo url obrigatório.'),
      );
      expectReply(await api('DELETE', '/webhooks/214'), { status: 204, text: '' });
      expectReply(await api('GET', '/webhooks'), { status: 204, text: '' });
      expect(sicoob.control.webhooks()).toEqual([]);
      expectReply(await api('DELETE', '/webhooks/214'), error(400, '400', 'Webhook 214 não encontrado.'));
      expectReply(
        await api('PATCH', '/webhooks/abc', { body: { url: hook.url } }),
        error(400, '400', 'Webhook abc não encontrado.'),
      );
      expectReply(
        await api('GET', '/webhooks/214/solicitacoes?dataSolicitacao=2026-03-02'),
        error(400, '400', 'Webhook 214 não encontrado.'),
      );
    } finally {
      await second.close();
    }
    expectReply(await api('GET', '/boletos'), error(404, '404', 'Recurso não encontrado: /cobranca-bancaria/v3/boletos'));
    expectReply(
      await api('GET', '/webhooks/1/outra'),
      error(404, '404', 'Recurso não encontrado: /cobranca-bancaria/v3/webhooks/1/outra'),
    );
    expectReply(
      await api('PUT', '/webhooks/214', { body: { url: hook.url } }),
      error(405, '405', 'Método PUT não permitido (use PATCH ou DELETE).'),
    );
    expectReply(
      await api('DELETE', '/boletos/movimentacoes'),
      error(405, '405', 'Método DELETE não permitido (use POST ou GET).'),
    );
    expectReply(
      await api('POST', '/webhooks', { body: { url: hook.url, padding: 'x'.repeat(1024 * 1024) } }),
      error(413, '413', 'Requisição maior que 1 MiB.'),
    );
    expect(sicoob.control.calls().webhooks).toBe(9);
  });

  it('notifies validated webhooks with the §2.3 envelope: exact fields, reversal, unknown number', async () => {
    sicoob.control.seedBoleto({
      numeroCliente: NUMERO,
      nossoNumero: '24437',
      seuNumero: 'PED-1001',
      valor: 40500,
      dataVencimento: '2026-03-05',
    });
    // A baixa with nobody to tell: its numeroIdentificadorBaixa (…823) is used all the same.
    expect(await sicoob.control.notify(NUMERO, '24437')).toEqual([]);
    await register(hook.url);
    await expect.poll(() => situation(214)).toBe(2);
    hook.posts = [];
    clock += 5_000;
    expect(await sicoob.control.notify(NUMERO, '24437', { valorPagamento: 40741 })).toEqual([{ url: hook.url, status: 200 }]);
    const codigoBarras = sicoobBarcode('1376', 40500, '24437');
    const dados = {
      numeroIdentificadorBaixa: '2026030200741150824',
      codigoBarrasBoleto: codigoBarras,
      codigoBarrasBaixa: codigoBarras,
      nossoNumero: '0000024437',
      seuNumero: 'PED-1001',
      codigoBancoRecebedor: '756',
      codigoAgenciaRecebedora: 3069,
      numeroCliente: NUMERO,
      cpfCnpjBeneficiario: expect.stringMatching(/^\d{14}$/),
      codigoTipoPessoaPagador: 'J',
      nomePagador: 'Comércio São João 24437 Ltda',
      cpfCnpjPagador: expect.stringMatching(/^\d{14}$/),
      nomeFantasiaPagador: 'Empório São João 24437',
      codigoTipoPessoaPortador: 'F',
      nomePortador: 'Maria Conceição Araújo',
      cpfCnpjPortador: expect.stringMatching(/^\d{11}$/),
      valorBoleto: 405,
      valorPagamento: 407.41,
      codigoCanalPagamento: 3,
      codigoMotivoCancelamento: 2,
      dataEmissao: '2026-03-02',
      dataVencimento: '2026-03-05',
      dataLimitePagamento: null,
      dataHoraSituacaoBaixa: '2026-03-02T12:00:05.000Z',
      baixaRealizadaEmContigencia: false,
      cancelamentoBaixa: false,
    };
    expect(hook.posts).toHaveLength(1);
    expect(hook.posts[0]!.contentType).toBe('application/json');
    expect(hook.posts[0]!.body).toEqual({ idWebhook: 214, tipoMovimento: 7, dados });
    expect(Object.keys(hook.posts[0]!.body.dados)).toEqual(Object.keys(dados));
    expect(hook.posts[0]!.raw).toContain('"valorBoleto":405,"valorPagamento":407.41,');

    await sicoob.control.notify(NUMERO, '24437', { cancelamentoBaixa: true, numeroIdentificadorBaixa: '2026030200741150824' });
    expect(hook.posts[1]!.body.dados).toMatchObject({
      numeroIdentificadorBaixa: '2026030200741150824',
      cancelamentoBaixa: true,
      valorPagamento: 405,
    });
    await sicoob.control.notify(NUMERO, '24437', { nossoNumeroUnknown: true });
    expect(hook.posts[2]!.body.dados).toMatchObject({
      numeroIdentificadorBaixa: '2026030200741150825',
      nossoNumero: '0000024438',
    });

    sicoob.control.liquidate(NUMERO, '24437', { dataLiquidacao: '2026-03-02', valorMora: 120 });
    await sicoob.control.notify(NUMERO, '24437');
    expect(hook.posts[3]!.body.dados.valorPagamento).toBe(406.2);

    const { webhookSolicitacoes } = await history(214, '&nossoNumero=24437');
    expect(webhookSolicitacoes).toHaveLength(3);
    expect(webhookSolicitacoes[0]).toMatchObject({
      validacaoWebhook: false,
      codigoWebhookSituacao: 2,
      nossoNumero: 24437,
      codigoBarras: expect.stringMatching(/^\d{47}$/),
    });
    expect(webhookSolicitacoes[0].codigoBarras.slice(0, 4)).toBe('7569');
    expect((await history(214, `&codigoBarras=${codigoBarras}`)).totalRegistros).toBe(3);
    expect((await history(214, `&codigoBarras=${webhookSolicitacoes[0].codigoBarras}`)).totalRegistros).toBe(3);
    await expect(sicoob.control.notify(NUMERO, '777')).rejects.toThrow('boleto 777 of 707090 is not seeded');
  });

  it('retries a notice twice, records every attempt, and makes a webhook failing three notices Inativo', async () => {
    sicoob.control.seedBoleto({
      numeroCliente: NUMERO,
      nossoNumero: '24437',
      seuNumero: 'PED-1001',
      valor: 8500,
      dataVencimento: '2026-03-05',
    });
    await register(hook.url);
    await expect.poll(() => situation(214)).toBe(2);
    const answers = [500, 202];
    hook.respond = () => answers.shift() ?? 201;
    expect(await sicoob.control.notify(NUMERO, '24437')).toEqual([{ url: hook.url, status: 201 }]);
    expect(hook.posts).toHaveLength(4);
    expect(hook.posts[3]!.raw).toBe(hook.posts[1]!.raw);
    const [, delivered] = (await history(214)).webhookSolicitacoes;
    expect(delivered).toMatchObject({ codigoSolicitacaoSituacao: 3, descricaoErroProcessamento: null });
    expect(delivered.webhookNotificacoes.map((a: any) => a.codigoStatusRequisicao)).toEqual([500, 202, 201]);

    hook.respond = () => 503;
    expect(await sicoob.control.notify(NUMERO, '24437')).toEqual([{ url: hook.url, status: 503 }]);
    expect(await sicoob.control.notify(NUMERO, '24437')).toEqual([{ url: hook.url, status: 503 }]);
    expect(situation(214)).toBe(2);
    expect(await sicoob.control.notify(NUMERO, '24437')).toEqual([{ url: hook.url, status: 503 }]);
    expect(situation(214)).toBe(3);
    expect((await api('GET', '/webhooks')).json.resultado[0].descricaoMotivoInativacao).toBe('Erro ao enviar notificação');
    const failed = await history(214, '&codigoSolicitacaoSituacao=6');
    expect(failed.totalRegistros).toBe(3);
    expect(failed.webhookSolicitacoes[0]).toMatchObject({
      codigoSolicitacaoSituacao: 6,
      descricaoSolicitacaoSituacao: 'Erro no envio',
      descricaoErroProcessamento: 'Erro ao enviar notificação: HTTP 503',
    });
    expect(failed.webhookSolicitacoes[0].webhookNotificacoes).toHaveLength(3);
    expect(await sicoob.control.notify(NUMERO, '24437')).toEqual([]);
    expect(hook.posts).toHaveLength(4 + 9);

    // Nobody answers: status 0 and why.
    await api('PATCH', '/webhooks/214', { body: { url: 'http://127.0.0.1:1/hook' } });
    await expect.poll(async () => (await history(214)).totalRegistros).toBe(6);
    const [unanswered] = (await history(214)).webhookSolicitacoes.slice(-1)[0].webhookNotificacoes;
    expect(unanswered).toMatchObject({ url: 'http://127.0.0.1:1/hook', codigoStatusRequisicao: 0 });
    expect(unanswered.descricaoCodigoStatusRequisicao).toMatch(/^Falha de comunicação: connect ECONNREFUSED 127\.0\.0\.1:1$/);
  });
});

describe('faults', () => {
  it('answers injected statuses and bodies per endpoint, or never, without applying the call', async () => {
    const c = sicoob.control;
    c.failNext('token', { kind: 'http', status: 503 });
    expectReply(
      await tokenCall({ grant_type: 'client_credentials', client_id: CLIENT, scope: SCOPES }),
      error(503, '503', 'Erro ao processar a requisição (HTTP 503).'),
    );
    expect(c.tokensIssued()).toBe(0);
    c.failNext('request', { kind: 'body', body: '{"resultado":{"codigoSolicit' });
    c.failNext('request', { kind: 'http', status: 500, body: '<html>erro</html>' }, 2);
    const body = { numeroCliente: NUMERO, tipoMovimento: 5, dataInicial: '2026-03-01', dataFinal: '2026-03-02' };
    expectReply(await api('POST', '/boletos/movimentacoes', { body }), { status: 200, text: '{"resultado":{"codigoSolicit' });
    expectReply(await api('POST', '/boletos/movimentacoes', { body }), { status: 500, text: '<html>erro</html>' });
    c.clearFaults();
    expect((await api('POST', '/boletos/movimentacoes', { body })).json.resultado.codigoSolicitacao).toBe(132);
    expect(c.movementRequests()).toHaveLength(1);

    c.failNext('webhooks', { kind: 'body', status: 201, body: '' });
    expectReply(await api('POST', '/webhooks', { body: { url: hook.url, codigoTipoMovimento: 7, codigoPeriodoMovimento: 1 } }), {
      status: 201,
      text: '',
    });
    expect(c.webhooks()).toEqual([]);
    // Faults come before the token is checked.
    c.failNext('query', { kind: 'http', status: 429 });
    expect((await api('GET', '/boletos/movimentacoes', { headers: {} })).status).toBe(429);

    c.failNext('download', { kind: 'timeout' });
    await expect(api('GET', '/boletos/movimentacoes/download', { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    c.failNext('query', { kind: 'timeout' });
    const pending = api('GET', '/boletos/movimentacoes').catch((failure: unknown) => failure);
    await expect.poll(() => c.calls().query).toBe(2);
    expect(c.calls()).toEqual({ token: 2, request: 3, query: 2, download: 1, webhooks: 1 });
    await sicoob.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('mutual TLS', () => {
  it('refuses a connection without a client certificate signed by clientCa and serves one with it', async () => {
    const ca = certificate('Sicoob Simulador CA');
    const server = certificate('127.0.0.1', ca);
    const client = certificate('LOJA EXEMPLO LTDA:12345678000195', ca);
    const stranger = certificate('Estranho');
    await restart({ tls: { key: server.key, cert: server.cert, clientCa: ca.cert } });
    expect(sicoob.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/cobranca-bancaria\/v3$/);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT, scope: SCOPES }).toString();

    await expect(fetch(sicoob.authUrl, { method: 'POST', body: form })).rejects.toThrow();
    await expect(post(sicoob.authUrl, form, { ca: ca.cert })).rejects.toThrow();
    await expect(post(sicoob.authUrl, form, { ca: ca.cert, key: stranger.key, cert: stranger.cert })).rejects.toThrow();
    const answer = await post(sicoob.authUrl, form, { ca: ca.cert, key: client.key, cert: client.cert });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect(sicoob.control.tokensIssued()).toBe(1);
  });
});

/** A POST over node:https with the given trust and client certificate; rejects when the TLS handshake or connection fails. */
function post(
  url: string,
  body: string,
  tls: { ca: string; key?: string; cert?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...tls },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** A PEM key and certificate for `commonName`: self-signed (a CA) without `issuer`, else signed by it (127.0.0.1 as its address). */
function certificate(commonName: string, issuer?: { key: string; cert: string }): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = String(Math.floor(Math.random() * 1e9) + 1e9);
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(issuer ? forge.pki.certificateFromPem(issuer.cert).subject.attributes : subject);
  cert.setExtensions(
    issuer
      ? [
          { name: 'basicConstraints', cA: false },
          { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
          { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
        ]
      : [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true },
        ],
  );
  const signer = issuer ? issuer.key : privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  cert.sign(forge.pki.privateKeyFromPem(signer), forge.md.sha256.create());
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: forge.pki.certificateToPem(cert) };
}
