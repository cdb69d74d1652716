import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import * as z from 'zod';

/**
 * Sicoob Cobrança Bancária v3 client (spec ../shared/specs/sicoob-cobranca-v3.md): OAuth2
 * `client_credentials` over mutual TLS (the cooperado's A1 certificate; no client secret), the token
 * cached until shortly before it expires, `client_id` and the bearer on every call; the movement
 * report triple (§1.1–1.3) and the webhook registration (§2.1). Every answer is validated (zod);
 * 200 and 201 are both success; numbers that come as strings (`"1.500.000"`) are read.
 *
 * Failures: SicoobUnavailable — no answer, a timeout, 5xx or 429 after retries with backoff and
 * jitter, or an answer that cannot be read (`detail` says which); SicoobRefused — a 4xx with
 * Sicoob's `mensagens` (codigo and mensagem), a refusal retrying will not change.
 */

/** The production API base (spec §0); sandbox: https://sandbox.sicoob.com.br/sicoob/sandbox/cobranca-bancaria/v3. */
export const SICOOB_PRODUCTION_URL = 'https://api.sicoob.com.br/cobranca-bancaria/v3';
export const SICOOB_PRODUCTION_AUTH_URL = 'https://auth.sicoob.com.br/auth/realms/cooperado/protocol/openid-connect/token';
/** Every cobrança v3 scope (portal list); which one guards the movements is not documented. */
const SCOPES = 'boletos_inclusao boletos_consulta boletos_alteracao webhooks_inclusao webhooks_consulta webhooks_alteracao';
/** A token is renewed this long before Sicoob says it expires. */
const TOKEN_MARGIN_MS = 30_000;

export class SicoobUnavailable extends Error {
  override name = 'SicoobUnavailable';
}

export class SicoobRefused extends Error {
  override name = 'SicoobRefused';
  constructor(
    readonly httpStatus: number,
    readonly mensagens: { codigo: string; mensagem: string }[],
    what: string,
  ) {
    super(
      `Sicoob refused ${what} (HTTP ${httpStatus}): ${mensagens.map((m) => `${m.codigo} ${m.mensagem}`).join('; ') || 'no message'}`,
    );
  }
}

/** One Sicoob account of the platform: its contract, its app's client_id and its A1 certificate (PEM). */
export interface SicoobAccount {
  numeroCliente: string;
  clientId: string;
  tls?: { key: string; cert: string };
}

export interface CobrancaOptions {
  apiUrl: string;
  authUrl: string;
  timeoutMs: number;
  /** Attempts per call on 5xx, 429 and no answer (default 3). */
  attempts?: number;
  /** First backoff (doubled per attempt, ± half as jitter); default 300 ms. */
  retryBaseMs?: number;
}

export type Readiness = { ready: false } | { ready: true; total: number; idArquivos: string[] };

export interface CobrancaApi {
  /** POST /boletos/movimentacoes, tipoMovimento 5 (liquidação): the report's codigoSolicitacao. */
  requestLiquidations(window: { dataInicial: string; dataFinal: string }): Promise<string>;
  /** GET /boletos/movimentacoes: not ready (204, code 5004), ready with its files, or ready and empty ("nenhum registro"). */
  readiness(codigoSolicitacao: string): Promise<Readiness>;
  /** GET /boletos/movimentacoes/download: the file's base64 ZIP and name. */
  download(codigoSolicitacao: string, idArquivo: string): Promise<{ arquivo: string; nomeArquivo: string }>;
  /** POST /webhooks (codigoTipoMovimento 7, codigoPeriodoMovimento 1): its idWebhook. */
  registerWebhook(url: string, email?: string): Promise<string>;
  /** GET /webhooks: the account's registrations (none: 204). */
  webhooks(): Promise<WebhookRegistration[]>;
  deleteWebhook(idWebhook: string): Promise<void>;
}

export interface WebhookRegistration {
  idWebhook: string;
  url: string;
  codigoSituacao: number;
  descricaoSituacao: string;
  descricaoMotivoInativacao?: string;
}

const number = z
  .union([
    z.number().int().nonnegative(),
    z
      .string()
      .trim()
      .regex(/^\d{1,3}(\.?\d{3})*$/),
  ])
  .transform((v) => Number(String(v).replace(/\./g, '')));
const id = z
  .union([
    z.number().int().nonnegative(),
    z
      .string()
      .trim()
      .regex(/^\d{1,20}$/),
  ])
  .transform(String);
const mensagensSchema = z.object({
  mensagens: z.array(
    z.object({ codigo: z.union([z.string(), z.number()]).transform(String).optional(), mensagem: z.string().optional() }),
  ),
});
const requestAnswer = z.object({ resultado: z.object({ codigoSolicitacao: id }) });
const readyAnswer = z.object({
  resultado: z.object({ quantidadeTotalRegistros: number, quantidadeArquivo: number.optional(), idArquivos: z.array(id) }),
});
const downloadAnswer = z.object({ resultado: z.object({ arquivo: z.string().min(1), nomeArquivo: z.string().default('') }) });
const tokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() });
const webhookAnswer = z.object({ resultado: z.object({ idWebhook: id }) });
const webhooksAnswer = z.object({
  resultado: z.array(
    z.object({
      idWebhook: id,
      url: z.string(),
      codigoSituacao: z.coerce.number(),
      descricaoSituacao: z.string().default(''),
      descricaoMotivoInativacao: z.string().nullish(),
    }),
  ),
});

/** Tokens by auth URL and client, for the container's life. */
const tokens = new Map<string, { token: string; until: number }>();

interface Reply {
  status: number;
  body: unknown;
  text: string;
}

/** A client for one account. */
export function cobrancaApi(account: SicoobAccount, options: CobrancaOptions): CobrancaApi {
  const apiBase = options.apiUrl.replace(/\/+$/, '');
  const attempts = options.attempts ?? 3;
  const retryBaseMs = options.retryBaseMs ?? 300;
  const tokenKey = `${options.authUrl}\u0000${account.clientId}`;

  async function token(): Promise<string> {
    const cached = tokens.get(tokenKey);
    if (cached && cached.until > Date.now()) return cached.token;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: account.clientId, scope: SCOPES }).toString();
    const reply = await retrying('the token', () =>
      send(options.authUrl, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, form),
    );
    if (reply.status >= 400) throw refused(reply, 'the token (client_id or certificate)');
    const parsed = tokenAnswer.safeParse(reply.body);
    if (!parsed.success) throw new SicoobUnavailable('Sicoob answered the token request without access_token and expires_in');
    tokens.set(tokenKey, {
      token: parsed.data.access_token,
      until: Date.now() + parsed.data.expires_in * 1000 - TOKEN_MARGIN_MS,
    });
    return parsed.data.access_token;
  }

  /** An authorized API call; a 401 renews the token once (it may have been revoked early). */
  async function api(what: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<Reply> {
    for (let renewed = false; ; renewed = true) {
      const bearer = await token();
      const reply = await retrying(what, () =>
        send(
          `${apiBase}${path}`,
          method,
          {
            authorization: `Bearer ${bearer}`,
            client_id: account.clientId,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body === undefined ? undefined : JSON.stringify(body),
        ),
      );
      if (reply.status !== 401 || renewed) return reply;
      tokens.delete(tokenKey);
    }
  }

  /** Retries 5xx, 429 and no answer with exponential backoff and jitter; the last failure throws SicoobUnavailable. */
  async function retrying(what: string, call: () => Promise<Reply>): Promise<Reply> {
    let last = '';
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0)
        await new Promise((resolve) => setTimeout(resolve, retryBaseMs * 2 ** (attempt - 1) * (0.5 + Math.random())));
      try {
        const reply = await call();
        if (reply.status < 500 && reply.status !== 429) return reply;
        last = `HTTP ${reply.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
    }
    throw new SicoobUnavailable(`Sicoob did not answer ${what} after ${attempts} attempts (${last})`);
  }

  function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Reply> {
    const target = new URL(url);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
          ...(account.tls && target.protocol === 'https:' ? { key: account.tls.key, cert: account.tls.cert } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, text });
          });
          res.on('error', (error) => reject(new Error(`the answer broke off (${error.message})`)));
        },
      );
      // A limit on the whole exchange (a socket timeout only counts idle time).
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.end(body);
    });
  }

  function refused(reply: Reply, what: string): SicoobRefused {
    const parsed = mensagensSchema.safeParse(reply.body);
    const mensagens = parsed.success
      ? parsed.data.mensagens.map((m) => ({ codigo: (m.codigo ?? '').slice(0, 20), mensagem: (m.mensagem ?? '').slice(0, 300) }))
      : [];
    return new SicoobRefused(reply.status, mensagens, what);
  }

  function read<T>(schema: z.ZodType<T>, reply: Reply, what: string): T {
    if (reply.status >= 300) throw refused(reply, what);
    const parsed = schema.safeParse(reply.body);
    if (!parsed.success)
      throw new SicoobUnavailable(`Sicoob answered ${what} with HTTP ${reply.status} and a body without the documented fields`);
    return parsed.data;
  }

  const cliente = Number(account.numeroCliente);
  return {
    async requestLiquidations(window) {
      const reply = await api('the movement request', 'POST', '/boletos/movimentacoes', {
        numeroCliente: cliente,
        tipoMovimento: 5,
        dataInicial: window.dataInicial,
        dataFinal: window.dataFinal,
      });
      return read(requestAnswer, reply, 'the movement request').resultado.codigoSolicitacao;
    },
    async readiness(codigoSolicitacao) {
      const query = new URLSearchParams({ numeroCliente: account.numeroCliente, codigoSolicitacao });
      const reply = await api('the movement query', 'GET', `/boletos/movimentacoes?${query}`);
      if (reply.status === 204 || reply.status === 202) return { ready: false };
      if (reply.status >= 300) {
        const refusal = refused(reply, 'the movement query');
        if (refusal.mensagens.some((m) => m.codigo === '5004')) return { ready: false };
        if (refusal.mensagens.some((m) => /nenhum registro/i.test(m.mensagem))) return { ready: true, total: 0, idArquivos: [] };
        throw refusal;
      }
      const { resultado } = read(readyAnswer, reply, 'the movement query');
      return { ready: true, total: resultado.quantidadeTotalRegistros, idArquivos: resultado.idArquivos };
    },
    async download(codigoSolicitacao, idArquivo) {
      const query = new URLSearchParams({ numeroCliente: account.numeroCliente, codigoSolicitacao, idArquivo });
      const reply = await api('the file download', 'GET', `/boletos/movimentacoes/download?${query}`);
      return read(downloadAnswer, reply, 'the file download').resultado;
    },
    async registerWebhook(url, email) {
      const reply = await api('the webhook registration', 'POST', '/webhooks', {
        url,
        codigoTipoMovimento: 7,
        codigoPeriodoMovimento: 1,
        // Optional properties are omitted, never sent empty (spec §0).
        ...(email ? { email } : {}),
      });
      return read(webhookAnswer, reply, 'the webhook registration').resultado.idWebhook;
    },
    async webhooks() {
      const reply = await api('the webhook list', 'GET', '/webhooks?codigoTipoMovimento=7');
      if (reply.status === 204) return [];
      return read(webhooksAnswer, reply, 'the webhook list').resultado.map((w) => ({
        idWebhook: w.idWebhook,
        url: w.url,
        codigoSituacao: w.codigoSituacao,
        descricaoSituacao: w.descricaoSituacao,
        ...(w.descricaoMotivoInativacao ? { descricaoMotivoInativacao: w.descricaoMotivoInativacao } : {}),
      }));
    },
    async deleteWebhook(idWebhook) {
      const reply = await api('the webhook deletion', 'DELETE', `/webhooks/${encodeURIComponent(idWebhook)}`);
      if (reply.status >= 300) throw refused(reply, 'the webhook deletion');
    },
  };
}
