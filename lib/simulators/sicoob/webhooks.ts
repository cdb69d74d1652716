import type { ClientRequest } from 'node:http';
import * as z from 'zod';
import { json, NO_CONTENT, type Answer } from './answers.ts';
import type { Client } from './auth.ts';
import { saoPauloDay } from './dates.ts';
import { postJson } from './delivery.ts';
import { invalid } from './errors.ts';
import { linhaDigitavel } from './numbers.ts';
import { day, integerParam, jsonObject, optionalIntegerParam, parseFields } from './requests.ts';
import type { SicoobWebhookInfo } from './types.ts';

/** The only movement type and period of cobrança webhooks (spec §2). */
const PAGAMENTO = 7;
const MOVIMENTO_ATUAL = 1;
const DESCRICAO_TIPO = 'Pagamento (Baixa operacional)';
const DESCRICAO_PERIODO = 'Movimento atual (D0)';
const SITUACOES = { 1: 'Aguardando validação', 2: 'Validado com sucesso', 3: 'Inativo' } as const;
const SOLICITACAO_SITUACOES = { 2: 'Aguardando envio', 3: 'Enviado com sucesso', 6: 'Erro no envio' } as const;
/** The first idWebhook handed out (the portal example's). */
const FIRST_ID = 214;
/** How long a webhook has to answer, in ms of real time (Sicoob's is Unknown; its history shows 60 s). */
const DELIVERY_TIMEOUT_MS = 5000;
/** A notice is tried this many times, one right after the other, until answered 200, 201 or 204 (Sicoob's retry policy is Unknown). */
const NOTICE_ATTEMPTS = 3;
/**
 * Consecutive failed solicitações (a validation, or a notice's every attempt) that make a webhook
 * Inativo (what Sicoob does is Unknown); a success resets the count, and so does reactivating an
 * Inativo one. A validation is one attempt: after a failure the webhook stays 1 until changed or
 * reactivated.
 */
const FAILURES_TO_INACTIVATE = 3;
const MOTIVO_VALIDACAO = 'Erro na validação do webhook';
const MOTIVO_NOTIFICACAO = 'Erro ao enviar notificação';
/** Delivery-history items per page (Sicoob's page size is Unknown). */
const PAGE_SIZE = 50;

type Situacao = keyof typeof SITUACOES;

interface Attempt {
  url: string;
  inicio: number;
  fim: number;
  /** Whole seconds of real time. */
  tempoComunicao: number;
  status: number;
  resposta: string;
}

/** One validation or notice and its attempts (spec §2.4). */
interface Solicitacao {
  codigoWebhookSituacao: Situacao;
  situacao: keyof typeof SOLICITACAO_SITUACOES;
  erro?: string;
  cadastro: number;
  validacao: boolean;
  nossoNumero?: number;
  codigoBarras?: string;
  attempts: Attempt[];
}

interface StoredWebhook {
  idWebhook: number;
  numeroCliente: number;
  url: string;
  email?: string;
  situacao: Situacao;
  cadastro: number;
  alteracao: number;
  inativacao?: number;
  motivo?: string;
  failures: number;
  /** Counts validations started: a validation's outcome only applies if no later one began. */
  validation: number;
  deleted: boolean;
  solicitacoes: Solicitacao[];
}

/** A notice to deliver: its JSON body for a webhook, and the boleto's numbers for the history. */
export interface Notice {
  body(idWebhook: number): string;
  nossoNumero: number;
  codigoBarras: string;
}

const createBody = z.object({
  url: z.string().min(1),
  codigoTipoMovimento: z.number().int(),
  codigoPeriodoMovimento: z.number().int(),
  email: z.email().optional(),
});
const updateBody = z.object({ url: z.string().min(1), email: z.email().optional() });

/**
 * Sicoob's cobrança webhooks (spec §2): the management endpoints, the validation POST that moves a
 * webhook from 1 (awaiting validation) to 2 (validated), the payment notices to validated ones and
 * the delivery history. Every webhook belongs to the numeroCliente of the client that created it;
 * another client's is answered as not found.
 */
export class Webhooks {
  private readonly webhooks = new Map<number, StoredWebhook>();
  private readonly requests = new Set<ClientRequest>();
  private nextId = FIRST_ID;
  private closed = false;

  constructor(
    private readonly now: () => number,
    private readonly allowInsecure: boolean,
  ) {}

  info(): SicoobWebhookInfo[] {
    return [...this.webhooks.values()].map((w) => ({
      idWebhook: w.idWebhook,
      url: w.url,
      numeroCliente: w.numeroCliente,
      codigoSituacao: w.situacao,
      ...(w.email === undefined ? {} : { email: w.email }),
    }));
  }

  /** POST /webhooks: 201 with the new id, then the validation POST. */
  create(client: Client, raw: string): Answer {
    const body = parseFields(createBody, jsonObject(raw));
    this.checkUrl(body.url);
    if (body.codigoTipoMovimento !== PAGAMENTO)
      throw invalid('Campo codigoTipoMovimento inválido: somente 7 (Pagamento) é aceito.');
    if (body.codigoPeriodoMovimento !== MOVIMENTO_ATUAL)
      throw invalid('Campo codigoPeriodoMovimento inválido: somente 1 (Movimento atual) é aceito.');
    const now = this.now();
    const webhook: StoredWebhook = {
      idWebhook: this.nextId++,
      numeroCliente: client.numeroCliente,
      url: body.url,
      ...(body.email === undefined ? {} : { email: body.email }),
      situacao: 1,
      cadastro: now,
      alteracao: now,
      failures: 0,
      validation: 0,
      deleted: false,
      solicitacoes: [],
    };
    this.webhooks.set(webhook.idWebhook, webhook);
    return { ...json(201, { resultado: { idWebhook: webhook.idWebhook } }), after: this.startValidation(webhook) };
  }

  /** GET /webhooks[?idWebhook&codigoTipoMovimento]: the client's webhooks, 204 when none. */
  list(client: Client, params: URLSearchParams): Answer {
    const idWebhook = optionalIntegerParam(params, 'idWebhook');
    const tipo = optionalIntegerParam(params, 'codigoTipoMovimento');
    const found = [...this.webhooks.values()].filter(
      (w) =>
        w.numeroCliente === client.numeroCliente &&
        (idWebhook ?? w.idWebhook) === w.idWebhook &&
        (tipo ?? PAGAMENTO) === PAGAMENTO,
    );
    if (found.length === 0) return NO_CONTENT;
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return json(200, {
      resultado: found.map((w) => ({
        idWebhook: w.idWebhook,
        url: w.url,
        email: w.email ?? null,
        codigoTipoMovimento: PAGAMENTO,
        descricaoTipoMovimento: DESCRICAO_TIPO,
        codigoPeriodoMovimento: MOVIMENTO_ATUAL,
        descricaoPeriodoMovimento: DESCRICAO_PERIODO,
        codigoSituacao: w.situacao,
        descricaoSituacao: SITUACOES[w.situacao],
        dataHoraCadastro: iso(w.cadastro),
        dataHoraUltimaAlteracao: iso(w.alteracao),
        dataHoraInativacao: iso(w.inativacao),
        descricaoMotivoInativacao: w.motivo ?? null,
      })),
    });
  }

  /** PATCH /webhooks/{id} `{url, email?}`: 204, back to 1 and validated again (an omitted email stays). */
  update(client: Client, id: string, raw: string): Answer {
    const webhook = this.owned(client, id);
    const body = parseFields(updateBody, jsonObject(raw));
    this.checkUrl(body.url);
    webhook.url = body.url;
    if (body.email !== undefined) webhook.email = body.email;
    this.awaitValidation(webhook);
    return { ...NO_CONTENT, after: this.startValidation(webhook) };
  }

  /** DELETE /webhooks/{id}: 204; its history goes with it. */
  remove(client: Client, id: string): Answer {
    const webhook = this.owned(client, id);
    webhook.deleted = true;
    this.webhooks.delete(webhook.idWebhook);
    return NO_CONTENT;
  }

  /** PATCH /webhooks/{id}/reativar: 204 and validated again; 400 when it is validated already. */
  reactivate(client: Client, id: string): Answer {
    const webhook = this.owned(client, id);
    if (webhook.situacao === 2) throw invalid(`Webhook ${webhook.idWebhook} já está validado.`);
    if (webhook.situacao === 3) webhook.failures = 0;
    this.awaitValidation(webhook);
    return { ...NO_CONTENT, after: this.startValidation(webhook) };
  }

  /**
   * GET /webhooks/{id}/solicitacoes?dataSolicitacao=yyyy-MM-dd (São Paulo day, required)
   * [&pagina&codigoSolicitacaoSituacao&codigoBarras&nossoNumero]: the validations and notices of
   * that day, oldest first, PAGE_SIZE a page; 200 with an empty list when none. `codigoBarras` is the
   * 47-digit linha digitável, as the spec's example (the filter takes it or the 44-digit barcode).
   */
  history(client: Client, id: string, params: URLSearchParams): Answer {
    const webhook = this.owned(client, id);
    const date = params.get('dataSolicitacao');
    if (date === null || date === '') throw invalid('Parâmetro dataSolicitacao obrigatório.');
    if (!day.safeParse(date).success) throw invalid('Parâmetro dataSolicitacao inválido.');
    const pagina = optionalIntegerParam(params, 'pagina') ?? 1;
    const situacao = optionalIntegerParam(params, 'codigoSolicitacaoSituacao');
    const nossoNumero = optionalIntegerParam(params, 'nossoNumero');
    const barcode = params.get('codigoBarras');
    const found = webhook.solicitacoes.filter(
      (s) =>
        saoPauloDay(s.cadastro) === date &&
        (situacao ?? s.situacao) === s.situacao &&
        (nossoNumero ?? s.nossoNumero) === s.nossoNumero &&
        (barcode === null ||
          (s.codigoBarras !== undefined && [s.codigoBarras, linhaDigitavel(s.codigoBarras)].includes(barcode))),
    );
    const iso = (ms: number) => new Date(ms).toISOString();
    return json(200, {
      resultado: {
        paginaAtual: pagina,
        totalPaginas: Math.ceil(found.length / PAGE_SIZE),
        totalRegistros: found.length,
        webhookSolicitacoes: found.slice((pagina - 1) * PAGE_SIZE, pagina * PAGE_SIZE).map((s) => ({
          codigoWebhookSituacao: s.codigoWebhookSituacao,
          descricaoWebhookSituacao: SITUACOES[s.codigoWebhookSituacao],
          codigoSolicitacaoSituacao: s.situacao,
          descricaoSolicitacaoSituacao: SOLICITACAO_SITUACOES[s.situacao],
          codigoTipoMovimento: PAGAMENTO,
          descricaoTipoMovimento: DESCRICAO_TIPO,
          codigoPeriodoMovimento: MOVIMENTO_ATUAL,
          descricaoPeriodoMovimento: DESCRICAO_PERIODO,
          descricaoErroProcessamento: s.erro ?? null,
          dataHoraCadastro: iso(s.cadastro),
          validacaoWebhook: s.validacao,
          nossoNumero: s.nossoNumero ?? null,
          codigoBarras: s.codigoBarras === undefined ? null : linhaDigitavel(s.codigoBarras),
          webhookNotificacoes: s.attempts.map((a) => ({
            url: a.url,
            dataHoraInicio: iso(a.inicio),
            dataHoraFim: iso(a.fim),
            tempoComunicao: a.tempoComunicao,
            codigoStatusRequisicao: a.status,
            descricaoCodigoStatusRequisicao: a.resposta,
          })),
        })),
      },
    });
  }

  /**
   * Delivers `notice` to every validated webhook of `numeroCliente`, each tried up to
   * NOTICE_ATTEMPTS times; resolves with each one's URL and last status (0: no answer).
   */
  async notify(numeroCliente: number, notice: Notice): Promise<{ url: string; status: number }[]> {
    const targets = [...this.webhooks.values()].filter((w) => w.numeroCliente === numeroCliente && w.situacao === 2);
    return Promise.all(
      targets.map(async (webhook) => {
        const { url } = webhook;
        const solicitacao = this.open(webhook, false, notice);
        const body = notice.body(webhook.idWebhook);
        const { attempts } = solicitacao;
        do attempts.push(await this.attempt(url, body));
        while (attempts.length < NOTICE_ATTEMPTS && !accepted(attempts.at(-1)!.status));
        const last = attempts.at(-1)!;
        const delivered = accepted(last.status);
        settle(solicitacao, delivered, `Erro ao enviar notificação: ${describe(last)}`);
        webhook.failures = delivered ? 0 : webhook.failures + 1;
        if (webhook.failures >= FAILURES_TO_INACTIVATE && webhook.situacao === 2) this.inactivate(webhook, MOTIVO_NOTIFICACAO);
        return { url, status: last.status };
      }),
    );
  }

  /** Aborts the POSTs under way; no more are made. */
  close(): void {
    this.closed = true;
    for (const request of this.requests) request.destroy(new Error('the simulator closed'));
  }

  /** Sicoob only calls `https` URLs on port 443 (spec §2.1), unless the simulator allows others. */
  private checkUrl(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalid('Campo url inválido.');
    }
    const secure = parsed.protocol === 'https:' && parsed.port === '';
    const allowed = secure || (this.allowInsecure && (parsed.protocol === 'https:' || parsed.protocol === 'http:'));
    if (!allowed) throw invalid('A URL do webhook deve usar HTTPS na porta 443.');
  }

  /** The client's webhook `id`; 400 for anyone else's or an unknown one. */
  private owned(client: Client, id: string): StoredWebhook {
    const webhook = /^\d{1,15}$/.test(id) ? this.webhooks.get(Number(id)) : undefined;
    if (!webhook || webhook.numeroCliente !== client.numeroCliente) throw invalid(`Webhook ${id} não encontrado.`);
    return webhook;
  }

  /** Changed or reactivated: situation 1 until its URL validates. */
  private awaitValidation(webhook: StoredWebhook): void {
    webhook.situacao = 1;
    webhook.alteracao = this.now();
    delete webhook.inativacao;
    delete webhook.motivo;
  }

  /** The validation POST `{"idWebhook","validacaoWebhook":true}`, to run once the answer is sent: 200, 201 or 204 validates. */
  private startValidation(webhook: StoredWebhook): () => void {
    const validation = ++webhook.validation;
    return () =>
      void (async () => {
        const solicitacao = this.open(webhook, true);
        const attempt = await this.attempt(webhook.url, JSON.stringify({ idWebhook: webhook.idWebhook, validacaoWebhook: true }));
        solicitacao.attempts.push(attempt);
        const validated = accepted(attempt.status);
        settle(solicitacao, validated, `Falha na validação do webhook: ${describe(attempt)}`);
        // A later change or reactivation (or the deletion) makes this outcome moot for the webhook.
        if (webhook.deleted || webhook.validation !== validation) return;
        webhook.failures = validated ? 0 : webhook.failures + 1;
        if (validated) webhook.situacao = 2;
        else if (webhook.failures >= FAILURES_TO_INACTIVATE) this.inactivate(webhook, MOTIVO_VALIDACAO);
      })();
  }

  /** A new solicitação, awaiting delivery. */
  private open(webhook: StoredWebhook, validacao: boolean, notice?: Notice): Solicitacao {
    const solicitacao: Solicitacao = {
      codigoWebhookSituacao: webhook.situacao,
      situacao: 2,
      cadastro: this.now(),
      validacao,
      ...(notice ? { nossoNumero: notice.nossoNumero, codigoBarras: notice.codigoBarras } : {}),
      attempts: [],
    };
    webhook.solicitacoes.push(solicitacao);
    return solicitacao;
  }

  private inactivate(webhook: StoredWebhook, motivo: string): void {
    webhook.situacao = 3;
    webhook.inativacao = this.now();
    webhook.motivo = motivo;
  }

  /** One POST of a solicitação (none once closed). */
  private async attempt(url: string, body: string): Promise<Attempt> {
    const inicio = this.now();
    if (this.closed) return { url, inicio, fim: inicio, tempoComunicao: 0, status: 0, resposta: 'Simulador encerrado.' };
    const started = performance.now();
    const { status, body: resposta } = await postJson(url, body, DELIVERY_TIMEOUT_MS, this.requests);
    return { url, inicio, fim: this.now(), tempoComunicao: Math.round((performance.now() - started) / 1000), status, resposta };
  }
}

/** Sicoob accepts only these answers, directly: 202, redirects and the rest fail (spec §2.2). */
function accepted(status: number): boolean {
  return status === 200 || status === 201 || status === 204;
}

/** Closes a solicitação as sent (3) or failed (6, with why). */
function settle(solicitacao: Solicitacao, delivered: boolean, erro: string): void {
  solicitacao.situacao = delivered ? 3 : 6;
  if (!delivered) solicitacao.erro = erro;
}

function describe(attempt: Attempt): string {
  return attempt.status === 0 ? attempt.resposta : `HTTP ${attempt.status}`;
}
