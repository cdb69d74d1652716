import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenLocal, readBody } from '../http.ts';
import { AuthenticitySender } from './authenticity.ts';
import { ESITEF_CODES, EsitefError } from './errors.ts';
import { errorResponse, withUnknownFields, type Envelope } from './payloads.ts';
import { RechargeBook, type StoredRecharge } from './recharges.ts';
import { jsonObject, RechargeSteps, RESPONSE_ROOTS, type Denial, type StepAnswer } from './steps.ts';
import type { AuthenticityMode, AuthenticityPost, CaratFault, CaratStep, CaratTransaction } from './types.ts';

/** The API's path prefix; `CaratSimulator.url` ends with it and the resources are under `/v3`. */
export const API_BASE_PATH = '/e-sitef';
/** Bodies over 1 MiB are answered 413. */
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_NIT_LIFETIME_MS = 15 * 60 * 1000;
const DEFAULT_AUTHENTICITY_TIMEOUT_MS = 5000;
/** Root key of errors that belong to no step (unknown route or method, body too large, PUT naming neither request). */
const GENERIC_ROOT = 'error_response';

export interface CaratSimulatorOptions {
  /** 0 or absent: a free port. Always bound to 127.0.0.1. */
  port?: number;
  /** The stores accepted by merchant_key, each with the URL its authenticity POST goes to (none: begin fails). */
  merchants?: { merchantKey: string; authenticityUrl?: string }[];
  /** The simulator's clock (default: real time): NIT expiry and authorization dates. */
  now?: () => Date;
  /** A NOV transaction older than this (ms, default 15 minutes) is EXP, checked whenever it is read. */
  nitLifetimeMs?: number;
  /** How long the store has to answer the authenticity POST, in ms of real time (default 5000). */
  authenticityTimeoutMs?: number;
}

export interface CaratControl {
  /** Accepts one more store (an Error if merchantKey exists). */
  addMerchant(merchantKey: string, authenticityUrl?: string): void;
  /** Where the store's authenticity POSTs go from now on (in real life, set in Carat's back office). */
  setAuthenticityUrl(merchantKey: string, url: string): void;
  /** The next `times` (default 1) calls of `step` get `fault`. Faults queue per step in order. */
  failNext(step: CaratStep, fault: CaratFault, times?: number): void;
  /** Drops every fault not yet taken (a test's leftovers must not reach the next one). */
  clearFaults(): void;
  /** How begin delivers the authenticity POST (default: 'during', once). */
  authenticityMode(mode: AuthenticityMode): void;
  /** Every authenticity POST made, in the order their answers (or failures) came. */
  authenticityPosts(): AuthenticityPost[];
  transaction(nit: string): CaratTransaction | undefined;
  /** The store's latest transaction begun with this merchant_usn. */
  transactionByUsn(merchantKey: string, merchantUsn: string): CaratTransaction | undefined;
  /** Every transaction, in creation order. */
  transactions(): CaratTransaction[];
  /** Moves a transaction to a status as Carat's back office would (e.g. 'EXP', 'PPN' for an auto-undo). */
  setStatus(nit: string, status: string): void;
  /** Calls received per step (faulted ones included; unknown routes and PUT bodies naming no step are not counted). */
  calls(): Record<CaratStep, number>;
}

export interface CaratSimulator {
  /** The API base, e.g. http://127.0.0.1:40123/e-sitef (the client calls `${url}/v3/recharge`). */
  url: string;
  control: CaratControl;
  close(): Promise<void>;
}

/** A call whose step is known, to run once its fault (if any) is taken. */
interface Routed {
  step: CaratStep;
  run(denial?: Denial): StepAnswer | Promise<StepAnswer>;
}

/**
 * A Carat e-SiTef "Recarga REST" API on 127.0.0.1, in memory, with its authenticity POSTs to the
 * stores and a control surface for faults, the transactions and the authenticity delivery.
 */
export async function startCaratSimulator(options: CaratSimulatorOptions = {}): Promise<CaratSimulator> {
  const clock = options.now ?? (() => new Date());
  const now = () => clock().getTime();
  const book = new RechargeBook(now, options.nitLifetimeMs ?? DEFAULT_NIT_LIFETIME_MS);
  for (const { merchantKey, authenticityUrl } of options.merchants ?? []) book.addMerchant(merchantKey, authenticityUrl);
  const authenticity = new AuthenticitySender(options.authenticityTimeoutMs ?? DEFAULT_AUTHENTICITY_TIMEOUT_MS);
  const steps = new RechargeSteps(book, authenticity, now);
  const calls: Record<CaratStep, number> = { begin: 0, dealers: 0, branches: 0, do: 0, confirm: 0, status: 0 };
  const faults: Record<CaratStep, CaratFault[]> = { begin: [], dealers: [], branches: [], do: [], confirm: [], status: [] };
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('Carat simulator failure', error);
      const failure = new EsitefError(500, ESITEF_CODES.UNAVAILABLE, 'Erro interno do simulador');
      send(res, failure.httpStatus, errorResponse(GENERIC_ROOT, failure));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, MAX_BODY_BYTES);
    let routed: Routed;
    try {
      if (raw === undefined) throw new EsitefError(413, ESITEF_CODES.BODY_TOO_LARGE, 'Requisição maior que 1 MiB');
      routed = route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://127.0.0.1'), raw);
    } catch (error) {
      if (!(error instanceof EsitefError)) throw error;
      return send(res, error.httpStatus, errorResponse(GENERIC_ROOT, error));
    }
    const root = RESPONSE_ROOTS[routed.step];
    const answer = async (denial?: Denial): Promise<StepAnswer> => {
      try {
        return await routed.run(denial);
      } catch (error) {
        if (!(error instanceof EsitefError)) throw error;
        return { status: error.httpStatus, body: errorResponse(root, error) };
      }
    };
    calls[routed.step]++;
    const fault = faults[routed.step].shift();
    if (!fault) {
      const { status, body } = await answer();
      return send(res, status, body);
    }
    switch (fault.kind) {
      case 'http': {
        if (fault.body !== undefined) return sendText(res, fault.status, fault.body);
        const failure = new EsitefError(fault.status, ESITEF_CODES.UNAVAILABLE, 'Serviço temporariamente indisponível');
        return send(res, fault.status, errorResponse(root, failure));
      }
      case 'esitef':
        return send(res, 200, errorResponse(root, new EsitefError(200, fault.code, fault.message)));
      case 'deny': {
        const { status, body } = await answer(fault);
        return send(res, status, body);
      }
      case 'body':
        return sendText(res, fault.status ?? 200, fault.body);
      case 'timeout':
        // Never answered: the socket stays open until the client gives up or close() destroys it.
        if (fault.apply) await answer();
        return;
      case 'reset':
        if (fault.apply) await answer();
        return void res.socket?.destroy();
    }
  }

  /** The step of a call and how to run it; EsitefError for unknown routes, methods and PUT bodies naming no step. */
  function route(method: string, url: URL, raw: string): Routed {
    const path = url.pathname.startsWith(`${API_BASE_PATH}/`) ? url.pathname.slice(API_BASE_PATH.length) : '';
    const notAllowed = (allowed: string) =>
      new EsitefError(405, ESITEF_CODES.METHOD_NOT_ALLOWED, `Método ${method} não permitido (use ${allowed})`);
    if (/^\/v3\/recharge\/?$/.test(path)) {
      if (method !== 'POST') throw notAllowed('POST');
      return { step: 'begin', run: () => steps.begin(raw) };
    }
    if (/^\/v3\/rechargedealers\/?$/.test(path)) {
      if (method !== 'GET') throw notAllowed('GET');
      return { step: 'dealers', run: () => steps.dealers(url.searchParams) };
    }
    if (/^\/v3\/rechargebranches\/?$/.test(path)) {
      if (method !== 'GET') throw notAllowed('GET');
      return { step: 'branches', run: () => steps.branches(url.searchParams) };
    }
    // NITs are alphanumeric: the segment is taken as it comes (an encoded one names no transaction).
    const nit = /^\/v3\/recharge\/([^/]+)\/?$/.exec(path)?.[1];
    if (nit === undefined) throw new EsitefError(404, ESITEF_CODES.NOT_FOUND, `Recurso não encontrado: ${url.pathname}`);
    if (method === 'GET') return { step: 'status', run: () => steps.status(nit, url.searchParams) };
    if (method !== 'PUT') throw notAllowed('GET ou PUT');
    // The same URL does and confirms: the body's root key tells them apart.
    const body = jsonObject(raw);
    const isDo = 'do_recharge_request' in body;
    const isConfirm = 'confirm_recharge_request' in body;
    if (isDo === isConfirm)
      throw new EsitefError(
        400,
        ESITEF_CODES.INVALID_REQUEST,
        'Requisição inválida: envie do_recharge_request ou confirm_recharge_request',
      );
    if (isDo) return { step: 'do', run: (denial) => steps.doRecharge(nit, body.do_recharge_request, denial) };
    return { step: 'confirm', run: () => steps.confirm(nit, body.confirm_recharge_request) };
  }

  const port = await listenLocal(server, options.port);

  const copy = (stored: StoredRecharge | undefined) => (stored ? structuredClone(stored.transaction) : undefined);
  const control: CaratControl = {
    addMerchant: (merchantKey, authenticityUrl) => book.addMerchant(merchantKey, authenticityUrl),
    setAuthenticityUrl: (merchantKey, url) => book.setAuthenticityUrl(merchantKey, url),
    failNext(step, fault, times = 1) {
      if (fault.kind === 'deny' && step !== 'do') throw new Error(`a deny fault is for 'do' only, not '${step}'`);
      if (!Number.isInteger(times) || times < 0) throw new Error(`times must be an integer ≥ 0, not ${times}`);
      for (let count = 0; count < times; count++) faults[step].push({ ...fault });
    },
    clearFaults() {
      for (const queued of Object.values(faults)) queued.length = 0;
    },
    authenticityMode: (mode) => authenticity.setMode(mode),
    authenticityPosts: () => authenticity.posts(),
    transaction: (nit) => copy(book.get(nit)),
    transactionByUsn: (merchantKey, merchantUsn) => copy(book.byUsn(merchantKey, merchantUsn)),
    transactions: () => book.all().map(({ transaction }) => structuredClone(transaction)),
    setStatus(nit, status) {
      const stored = book.get(nit);
      if (!stored) throw new Error(`no transaction ${nit}`);
      book.move(stored, status);
    },
    calls: () => ({ ...calls }),
  };

  return {
    url: `http://127.0.0.1:${port}${API_BASE_PATH}`,
    control,
    async close() {
      authenticity.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

/** A JSON answer, with the unknown fields the real API may add. */
function send(res: ServerResponse, status: number, body: Envelope): void {
  sendText(res, status, JSON.stringify(withUnknownFields(body)));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(text);
}
