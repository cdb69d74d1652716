import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import * as z from 'zod';
import { listenLocal, readBody } from '../http.ts';
import { json, type Answer } from './answers.ts';
import { Credentials } from './auth.ts';
import { saoPauloDay } from './dates.ts';
import { mensagens, OAuthError, SICOOB_CODES, SicoobError } from './errors.ts';
import { Ledger } from './ledger.ts';
import { MovementReports } from './movements.ts';
import { noticeData } from './notices.ts';
import { recordObject } from './records.ts';
import type { SicoobControl, SicoobEndpoint, SicoobFault, SicoobSimulator, SicoobSimulatorOptions } from './types.ts';
import { Webhooks } from './webhooks.ts';

/** The API's path prefix; `SicoobSimulator.url` ends with it. */
export const SICOOB_API_BASE_PATH = '/cobranca-bancaria/v3';
/** The token endpoint's path, on the same host here (auth.sicoob.com.br in production). */
export const SICOOB_TOKEN_PATH = '/auth/realms/cooperado/protocol/openid-connect/token';
/** Bodies over 1 MiB are answered 413. */
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_TOKEN_TTL_SECONDS = 300;
const DEFAULT_RECORDS_PER_FILE = 500_000;
const DEFAULT_NOT_READY_POLLS = 1;
/** Where generated numeroIdentificadorBaixa counters start (after the `yyyyMMdd` of the day): the portal example's. */
const FIRST_BAIXA = 741_150_823;

/** A call whose endpoint is known, to run once its fault (if any) is taken. */
interface Routed {
  endpoint: SicoobEndpoint;
  run(): Answer | Promise<Answer>;
}

/**
 * A Sicoob Cobrança Bancária v3 API (movement reports and webhooks) and its token endpoint on
 * 127.0.0.1, in memory, over HTTP or mutual TLS, with a control surface for the boletos, their
 * liquidations, the payment notices and injected faults.
 */
export async function startSicoobSimulator(options: SicoobSimulatorOptions = {}): Promise<SicoobSimulator> {
  const clock = options.now ?? (() => new Date());
  const now = () => clock().getTime();
  const recordsPerFile = options.recordsPerFile ?? DEFAULT_RECORDS_PER_FILE;
  if (!Number.isSafeInteger(recordsPerFile) || recordsPerFile < 1)
    throw new Error(`recordsPerFile must be an integer ≥ 1, not ${recordsPerFile}`);
  const credentials = new Credentials(now, options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS);
  for (const { clientId, numeroCliente } of options.clients ?? []) credentials.addClient(clientId, numeroCliente);
  const ledger = new Ledger(() => saoPauloDay(now()));
  const reports = new MovementReports(ledger, now, recordsPerFile, DEFAULT_NOT_READY_POLLS);
  if (options.notReadyPolls !== undefined) reports.notReadyPolls(options.notReadyPolls);
  const webhooks = new Webhooks(now, options.allowInsecureWebhooks ?? false);
  const calls: Record<SicoobEndpoint, number> = { token: 0, request: 0, query: 0, download: 0, webhooks: 0 };
  const faults: Record<SicoobEndpoint, SicoobFault[]> = { token: [], request: [], query: [], download: [], webhooks: [] };
  const sockets = new Set<Socket>();
  let nextBaixa = FIRST_BAIXA;

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      console.error('Sicoob simulator failure', error);
      send(res, { status: 500, body: mensagens('500', 'Erro interno do simulador.') });
    });
  };
  // With tls, a connection without a client certificate signed by clientCa is refused by the handshake itself.
  const tls = options.tls;
  const server = tls
    ? createHttpsServer({ key: tls.key, cert: tls.cert, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }, listener)
    : createHttpServer(listener);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, MAX_BODY_BYTES);
    if ((req.url ?? '').startsWith(DEMO_PATH)) return send(res, await demo(req, raw));
    let routed: Routed;
    try {
      if (raw === undefined) throw new SicoobError(413, SICOOB_CODES.TOO_LARGE, 'Requisição maior que 1 MiB.');
      routed = route(req, new URL(req.url ?? '/', 'http://127.0.0.1'), raw);
    } catch (error) {
      return send(res, failure(error));
    }
    calls[routed.endpoint]++;
    const fault = faults[routed.endpoint].shift();
    switch (fault?.kind) {
      case undefined:
        break;
      case 'http':
        return send(res, {
          status: fault.status,
          body: fault.body ?? mensagens(String(fault.status), `Erro ao processar a requisição (HTTP ${fault.status}).`),
        });
      case 'body':
        return send(res, { status: fault.status ?? 200, body: fault.body });
      case 'timeout':
        // Never answered: the socket stays open until the client gives up or close() destroys it.
        return;
    }
    let answer: Answer;
    try {
      answer = await routed.run();
    } catch (error) {
      answer = failure(error);
    }
    send(res, answer);
    answer.after?.();
  }

  /** The endpoint of a call and how to run it; a SicoobError for unknown routes and methods. */
  function route(req: IncomingMessage, url: URL, raw: string): Routed {
    const method = req.method ?? 'GET';
    const notAllowed = (allowed: string) =>
      new SicoobError(405, SICOOB_CODES.METHOD_NOT_ALLOWED, `Método ${method} não permitido (use ${allowed}).`);
    const notFound = new SicoobError(404, SICOOB_CODES.NOT_FOUND, `Recurso não encontrado: ${url.pathname}`);
    if (url.pathname === SICOOB_TOKEN_PATH) {
      if (method !== 'POST') throw notAllowed('POST');
      return { endpoint: 'token', run: () => json(200, credentials.issue(raw)) };
    }
    if (!url.pathname.startsWith(`${SICOOB_API_BASE_PATH}/`)) throw notFound;
    const path = url.pathname.slice(SICOOB_API_BASE_PATH.length).replace(/\/$/, '');
    const params = url.searchParams;
    const client = () => credentials.authorize(req.headers);
    if (path === '/boletos/movimentacoes') {
      if (method === 'POST') return { endpoint: 'request', run: () => reports.request(client(), raw) };
      if (method === 'GET') return { endpoint: 'query', run: () => reports.query(client(), params) };
      throw notAllowed('POST ou GET');
    }
    if (path === '/boletos/movimentacoes/download') {
      if (method !== 'GET') throw notAllowed('GET');
      return { endpoint: 'download', run: () => reports.download(client(), params) };
    }
    if (path === '/webhooks') {
      if (method === 'POST') return { endpoint: 'webhooks', run: () => webhooks.create(client(), raw) };
      if (method === 'GET') return { endpoint: 'webhooks', run: () => webhooks.list(client(), params) };
      throw notAllowed('POST ou GET');
    }
    const [, id, action = ''] = /^\/webhooks\/([^/]+)(\/reativar|\/solicitacoes)?$/.exec(path) ?? [];
    if (id === undefined) throw notFound;
    if (action === '/reativar') {
      if (method !== 'PATCH') throw notAllowed('PATCH');
      return { endpoint: 'webhooks', run: () => webhooks.reactivate(client(), id) };
    }
    if (action === '/solicitacoes') {
      if (method !== 'GET') throw notAllowed('GET');
      return { endpoint: 'webhooks', run: () => webhooks.history(client(), id, params) };
    }
    if (method === 'PATCH') return { endpoint: 'webhooks', run: () => webhooks.update(client(), id, raw) };
    if (method === 'DELETE') return { endpoint: 'webhooks', run: () => webhooks.remove(client(), id) };
    throw notAllowed('PATCH ou DELETE');
  }

  /**
   * The demo's stand-in for payers (not Sicoob's API; no token): `POST /_simulator/paid` — the
   * boleto is paid, Sicoob sends its payment notice to the validated webhooks — and `POST
   * /_simulator/liquidated` — the liquidation appears in the next movement reports. Body
   * `{"numeroCliente","nossoNumero","seuNumero","valor" (reais),"dataLiquidacao"? (yyyy-MM-dd, today)}`;
   * an unknown boleto is registered first (the platform issued it through Sicoob).
   */
  async function demo(req: IncomingMessage, raw: string | undefined): Promise<Answer> {
    let body: unknown;
    try {
      body = JSON.parse(raw ?? '');
    } catch {
      body = undefined;
    }
    const parsed = demoSchema.safeParse(body);
    const action = (req.url ?? '').slice(DEMO_PATH.length).split('?')[0];
    if (req.method !== 'POST' || (action !== 'paid' && action !== 'liquidated'))
      return json(404, { error: 'POST /_simulator/paid or /_simulator/liquidated' });
    if (!parsed.success)
      return json(400, { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const { numeroCliente, nossoNumero, seuNumero, valor, dataLiquidacao = saoPauloDay(now()) } = parsed.data;
    if (!ledger.boleto(numeroCliente, nossoNumero))
      ledger.seed({ numeroCliente, nossoNumero, seuNumero, valor, dataVencimento: dataLiquidacao });
    if (action === 'paid') return json(200, { deliveries: await control.notify(numeroCliente, nossoNumero) });
    return json(200, { record: control.liquidate(numeroCliente, nossoNumero, { dataLiquidacao }) });
  }

  const port = await listenLocal(server, options.port);

  const control: SicoobControl = {
    addClient: (clientId, numeroCliente) => credentials.addClient(clientId, numeroCliente),
    seedBoleto: (b) => void ledger.seed(b),
    liquidate: (numeroCliente, nossoNumero, l) => recordObject(ledger.liquidate(numeroCliente, nossoNumero, l)),
    addLiquidation: (record) => void ledger.addLiquidation(record),
    bulkLiquidations: (numeroCliente, count, date, firstNossoNumero = ledger.nextNossoNumero(numeroCliente)) => ({
      nossoNumeros: ledger.bulk(numeroCliente, count, date, firstNossoNumero),
    }),
    fileOptions: (o) => reports.fileOptions(o),
    notReadyPolls: (n) => reports.notReadyPolls(n),
    failNext(endpoint, fault, times = 1) {
      if (!Number.isInteger(times) || times < 0) throw new Error(`times must be an integer ≥ 0, not ${times}`);
      for (let count = 0; count < times; count++) faults[endpoint].push({ ...fault });
    },
    clearFaults() {
      for (const queued of Object.values(faults)) queued.length = 0;
    },
    movementRequests: () => reports.requests(),
    tokensIssued: () => credentials.tokensIssued(),
    calls: () => ({ ...calls }),
    webhooks: () => webhooks.info(),
    async notify(numeroCliente, nossoNumero, n = {}) {
      const seeded = ledger.boleto(numeroCliente, nossoNumero);
      if (!seeded) throw new Error(`boleto ${nossoNumero} of ${numeroCliente} is not seeded`);
      if (n.numeroIdentificadorBaixa !== undefined && !/^\d{19}$/.test(n.numeroIdentificadorBaixa))
        throw new Error(`numeroIdentificadorBaixa must be 19 digits, not ${n.numeroIdentificadorBaixa}`);
      const valorPagamento = n.valorPagamento ?? seeded.valorPago ?? seeded.valor;
      if (!Number.isSafeInteger(valorPagamento) || valorPagamento < 0)
        throw new Error(`valorPagamento must be integer centavos ≥ 0, not ${valorPagamento}`);
      const at = now();
      // An unknown number: one past the client's highest, which no boleto has (yet).
      const boleto = n.nossoNumeroUnknown ? { ...seeded, nossoNumero: String(ledger.nextNossoNumero(numeroCliente)) } : seeded;
      const dados = noticeData(boleto, {
        numeroIdentificadorBaixa:
          n.numeroIdentificadorBaixa ?? `${saoPauloDay(at).replace(/-/g, '')}${String(nextBaixa++).padStart(11, '0')}`,
        valorPagamento,
        cancelamentoBaixa: n.cancelamentoBaixa ?? false,
        at,
      });
      return webhooks.notify(numeroCliente, {
        body: (idWebhook) => JSON.stringify({ idWebhook, tipoMovimento: 7, dados }),
        nossoNumero: Number(boleto.nossoNumero),
        codigoBarras: String(dados.codigoBarrasBoleto),
      });
    },
  };

  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    url: `${origin}${SICOOB_API_BASE_PATH}`,
    authUrl: `${origin}${SICOOB_TOKEN_PATH}`,
    control,
    async close() {
      webhooks.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

const DEMO_PATH = '/_simulator/';
const demoSchema = z.object({
  numeroCliente: z.coerce.number().int().positive(),
  nossoNumero: z.union([z.string().regex(/^\d{1,20}$/), z.number().int().positive()]).transform(String),
  seuNumero: z.string().min(1).max(25),
  valor: z
    .number()
    .positive()
    .transform((reais) => Math.round(reais * 100)),
  dataLiquidacao: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});

/** The answer of a refused call: the cobrança error body, or OAuth's on the token endpoint. */
function failure(error: unknown): Answer {
  if (error instanceof OAuthError) return json(error.httpStatus, { error: error.error });
  if (error instanceof SicoobError) return { status: error.httpStatus, body: mensagens(error.codigo, error.message) };
  throw error;
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed || res.headersSent) return;
  if (answer.body === undefined) return void res.writeHead(answer.status).end();
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(answer.body);
}
