import { randomInt, randomUUID } from 'node:crypto';
import { listenLocal, readBody } from '../http.ts';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { apiRoutes, type ApiAnswer } from './api.ts';
import { createClock } from './clock.ts';
import { ApiError } from './errors.ts';
import {
  Notifier,
  type Delivery,
  type HeldNotification,
  type NotifierBlocks,
  type ReleaseOptions,
  type ReleaseResult,
} from './notifier.ts';
import { normalizeStatus, OrderBook, type StoredOrder } from './orders.ts';
import type { CieloCredentials, CieloOrder, CieloOrderStatus } from './types.ts';

/** The API's path prefix; `CieloSimulator.url` ends with it. */
export const API_BASE_PATH = '/order-management/v1';
/** Bodies over 1 MiB are answered 413. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface CieloSimulatorOptions {
  /** 0 or absent: a free port. Always bound to 127.0.0.1. */
  port?: number;
  /** The accepted Client-Id / Access-Token / Merchant-Id triples (none by default: see control.addMerchant). */
  merchants?: CieloCredentials[];
  /** 'real' (default): Date and timers. 'manual': time stands still until control.advance(ms). */
  clock?: 'real' | 'manual';
  /** Where the manual clock starts (default: now). */
  now?: () => Date;
  /** How long a webhook has to answer a notification, in ms of real time (default 5000). */
  deliveryTimeoutMs?: number;
}

/** control.lioPays: the payment made on the LIO; amounts in centavos. */
export interface LioPayment {
  /** Default: the order's `remaining`. */
  amount?: number;
  /** Default "VISA". */
  brand?: string;
  /** Default "CREDITO". */
  primaryProductName?: 'CREDITO' | 'DEBITO' | 'PIX';
  /** Default "A VISTA" (none for PIX). */
  secondaryProductName?: string;
  /** Default 6 random digits. */
  authorizationCode?: string;
  /** Default "12345678". */
  terminalNumber?: string;
}

export interface CieloControl {
  /** Cielo POSTs the merchant's notifications to `url` from now on (in real life, support registers it). */
  registerWebhook(merchantId: string, url: string): void;
  /** Accepts one more header triple. */
  addMerchant(credentials: CieloCredentials): void;
  /** The simulator's clock. */
  now(): Date;
  /**
   * Manual clock only: moves it `ms` forward and performs every delivery that became due, one at a
   * time, earliest first, each at its due time; resolves once they are all answered.
   */
  advance(ms: number): Promise<void>;
  /** Performs the deliveries due now (manual clock: advance(0)); on the real clock, also awaits those under way. */
  deliverDue(): Promise<void>;
  /** While on, new notifications are kept for held()/release() instead of being sent. */
  hold(on: boolean): void;
  held(): HeldNotification[];
  /** POSTs every held notification (`duplicates` copies each, seeded `shuffle`), awaiting each; no retries. */
  release(options?: ReleaseOptions): Promise<ReleaseResult>;
  /** Every POST made to a webhook, in order. */
  deliveries(): Delivery[];
  /** Blocked merchants and orders, and how many notifications the blocks dropped. */
  blocks(): NotifierBlocks;
  /** Cielo support's unblocking: the merchant and its orders get notifications again. */
  unblock(merchantId: string): void;
  /** While on, every API call is answered 503 SERVICE_UNAVAILABLE. */
  down(on: boolean): void;
  /** The next `times` API calls (0 stops) are answered `status`, unprocessed. */
  failNext(status: 429 | 500, times: number): void;
  /** Sets the order's status as the LIO would: updated_at, a status notification (even when unchanged). */
  setStatus(orderId: string, status: CieloOrderStatus | 'RE_ENTERED'): void;
  /**
   * A payment on the LIO of an ENTERED or RE-ENTERED order: a CONFIRMED PAYMENT transaction
   * (notified), then PAID when nothing remains (notified); returns the transaction id.
   */
  lioPays(orderId: string, payment?: LioPayment): string;
  /**
   * A cancellation on the LIO of a CONFIRMED PAYMENT: a CONFIRMED CANCELLATION of the same amount
   * (notified), then RE-ENTERED if the order was PAID (notified); returns the cancellation's id.
   */
  lioCancels(orderId: string, transactionId: string): string;
  /** Copies of the stored orders (of one merchant, when given), in creation order. */
  orders(merchantId?: string): CieloOrder[];
  /** API calls received per route, keyed `METHOD /path/template` (e.g. "PUT /orders/{id}"). */
  calls(): Record<string, number>;
}

export interface CieloSimulator {
  /** The API base, e.g. http://127.0.0.1:40123/order-management/v1 (the client calls `${url}/orders`). */
  url: string;
  control: CieloControl;
  close(): Promise<void>;
}

/**
 * A Cielo LIO Order Manager (remote integration API and its webhook notifier) on 127.0.0.1, in
 * memory, with a control surface to drive the LIO, the clock and failures.
 */
export async function startCieloSimulator(options: CieloSimulatorOptions = {}): Promise<CieloSimulator> {
  const merchants = [...(options.merchants ?? [])];
  const clock = createClock(options.clock ?? 'real', options.now?.() ?? new Date());
  const notifier = new Notifier(clock, options.deliveryTimeoutMs ?? 5000);
  const book = new OrderBook(clock, (notification) => notifier.enqueue(notification));
  const routes = apiRoutes(book);
  const calls: Record<string, number> = {};
  let unavailable = false;
  let failure = { status: 500 as 429 | 500, remaining: 0 };
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (req.socket.destroyed) return;
      console.error('Cielo simulator failure', error);
      send(res, { status: 500, body: { code: 'INTERNAL_SERVER_ERROR', detail: 'simulator failure' } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, MAX_BODY_BYTES);
    send(res, answer(req, body));
  }

  function answer(req: IncomingMessage, body: string | undefined): ApiAnswer {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = req.method ?? 'GET';
      const path = url.pathname.startsWith(`${API_BASE_PATH}/`) ? url.pathname.slice(API_BASE_PATH.length) : '';
      const route = routes.find((candidate) => candidate.pattern.test(path));
      const handler = route?.methods[method];
      if (!route || !handler) throw new ApiError(404, 'NOT_FOUND', `no route ${method} ${url.pathname}`);
      const key = `${method} ${route.template}`;
      calls[key] = (calls[key] ?? 0) + 1;
      if (unavailable) throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'the Order Manager is unavailable');
      if (failure.remaining > 0) {
        failure.remaining--;
        if (failure.status === 429) throw new ApiError(429, 'TOO_MANY_REQUESTS', 'rate limit exceeded');
        throw new ApiError(500, 'INTERNAL_SERVER_ERROR', 'internal server error');
      }
      const credentials = authenticate(req.headers);
      if (body === undefined) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes`);
      const params = (route.pattern.exec(path) ?? []).slice(1).map(decodePathSegment);
      return handler({ credentials, params, query: url.searchParams, body });
    } catch (error) {
      if (error instanceof ApiError) return { status: error.httpStatus, body: error.body() };
      throw error;
    }
  }

  function authenticate(headers: IncomingHttpHeaders): CieloCredentials {
    const [clientId, accessToken, merchantId] = ['client-id', 'access-token', 'merchant-id'].map((name) => headers[name]);
    if (typeof clientId !== 'string' || typeof accessToken !== 'string' || typeof merchantId !== 'string')
      throw new ApiError(401, 'UNAUTHORIZED', 'the Client-Id, Access-Token and Merchant-Id headers are required');
    const credentials = merchants.find(
      (known) => known.clientId === clientId && known.accessToken === accessToken && known.merchantId === merchantId,
    );
    if (!credentials) throw new ApiError(401, 'UNAUTHORIZED', 'no access with these Client-Id, Access-Token and Merchant-Id');
    return credentials;
  }

  const port = await listenLocal(server, options.port);

  /** Stored order `orderId` of any merchant, or an Error for the control's caller. */
  const stored = (orderId: string): StoredOrder => book.find(orderId);

  const control: CieloControl = {
    registerWebhook: (merchantId, url) => notifier.registerWebhook(merchantId, url),
    addMerchant: (credentials) => void merchants.push({ ...credentials }),
    now: () => new Date(clock.now()),
    advance: (ms) => notifier.advance(ms),
    deliverDue: () => notifier.deliverDue(),
    hold: (on) => notifier.hold(on),
    held: () => notifier.held(),
    release: (releaseOptions) => notifier.release(releaseOptions),
    deliveries: () => notifier.deliveries(),
    blocks: () => notifier.blocks(),
    unblock: (merchantId) => notifier.unblock(merchantId),
    down: (on) => void (unavailable = on),
    failNext: (status, times) => void (failure = { status, remaining: times }),
    setStatus: (orderId, status) => book.changeStatus(stored(orderId), normalizeStatus(status) as CieloOrderStatus),
    lioPays(orderId, payment = {}) {
      const order = stored(orderId);
      const { status, remaining } = order.order;
      if (status !== 'ENTERED' && status !== 'RE-ENTERED')
        throw new Error(`the LIO only pays ENTERED or RE-ENTERED orders, not ${status}`);
      const amount = payment.amount ?? remaining;
      if (!Number.isInteger(amount) || amount < 1 || amount > remaining)
        throw new Error(`the LIO pays 1…${remaining} centavos of this order, not ${amount}`);
      const primary = payment.primaryProductName ?? 'CREDITO';
      const transaction = book.addTransaction(order, {
        external_id: randomUUID(),
        status: 'CONFIRMED',
        terminal_number: payment.terminalNumber ?? '12345678',
        authorization_code: payment.authorizationCode ?? digits(6),
        number: digits(6),
        amount,
        transaction_type: 'PAYMENT',
        payment_fields: {
          primary_product_name: primary,
          secondary_product_name: payment.secondaryProductName ?? (primary === 'PIX' ? null : 'A VISTA'),
          number_of_quotas: 0,
        },
        card: { brand: payment.brand ?? 'VISA', mask: `************${digits(4)}` },
      });
      if (order.order.remaining === 0) book.changeStatus(order, 'PAID');
      return transaction.id;
    },
    lioCancels(orderId, transactionId) {
      const order = stored(orderId);
      const payment = order.order.transactions.find((transaction) => transaction.id === transactionId);
      if (payment?.transaction_type !== 'PAYMENT' || payment.status !== 'CONFIRMED')
        throw new Error(`${transactionId} is not a confirmed payment of order ${orderId}`);
      if ([...order.originals.values()].includes(transactionId)) throw new Error(`${transactionId} is already cancelled`);
      const cancellation = book.addTransaction(
        order,
        {
          external_id: randomUUID(),
          status: 'CONFIRMED',
          terminal_number: payment.terminal_number,
          authorization_code: payment.authorization_code,
          number: digits(6),
          amount: payment.amount,
          transaction_type: 'CANCELLATION',
          payment_fields: { ...payment.payment_fields },
          card: { ...payment.card },
        },
        transactionId,
      );
      if (order.order.status === 'PAID') book.changeStatus(order, 'RE-ENTERED');
      return cancellation.id;
    },
    orders: (merchantId) => book.all(merchantId).map(({ order }) => structuredClone(order)),
    calls: () => ({ ...calls }),
  };

  return {
    url: `http://127.0.0.1:${port}${API_BASE_PATH}`,
    control,
    async close() {
      await notifier.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

/** A path segment, percent-decoded; a malformed one names no order (404). */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(404, 'NOT_FOUND', `no such id "${segment}"`);
  }
}

function send(res: ServerResponse, answer: ApiAnswer): void {
  if (res.destroyed) return;
  if (answer.body === undefined) {
    res.writeHead(answer.status, { 'content-length': 0 });
    return void res.end();
  }
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(answer.body));
}

/** `count` random decimal digits. */
function digits(count: number): string {
  return String(randomInt(10 ** count)).padStart(count, '0');
}
