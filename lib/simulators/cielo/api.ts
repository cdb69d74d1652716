import { ApiError } from './errors.ts';
import { sandboxTransaction, type OrderBook, type OrderFilter } from './orders.ts';
import { itemInput, itemPatch, orderInput, parseBody, transactionInput } from './schemas.ts';
import type { CieloCredentials } from './types.ts';

/** An authenticated API call: the caller's credentials, the path's ids, the query and the raw body. */
export interface ApiRequest {
  credentials: CieloCredentials;
  /** The path's `{id}` and `{itemId}`, decoded, in order. */
  params: string[];
  query: URLSearchParams;
  body: string;
}

/** The HTTP status and the JSON body (none: an empty body). */
export interface ApiAnswer {
  status: number;
  body?: unknown;
}

type Handler = (request: ApiRequest) => ApiAnswer;

/** A route of the Order Manager API: its path under /order-management/v1 and its handler per method. */
export interface ApiRoute {
  /** e.g. "/orders/{id}/items"; calls are counted as `${method} ${template}`. */
  template: string;
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

/** The Order Manager's routes over `book`; every order is looked up among the caller's merchant's. */
export function apiRoutes(book: OrderBook): ApiRoute[] {
  const order = ({ params, credentials }: ApiRequest) => book.find(params[0] ?? '', credentials.merchantId);
  return [
    {
      template: '/orders',
      pattern: /^\/orders\/?$/,
      methods: {
        POST: ({ credentials, body }) => ({
          status: 201,
          body: { id: book.create(credentials, parseBody(orderInput, json(body))).id },
        }),
        GET: ({ credentials, query }) => ({ status: 200, body: book.list(credentials.merchantId, listFilter(query)) }),
      },
    },
    {
      template: '/orders/{id}',
      pattern: /^\/orders\/([^/]+)\/?$/,
      methods: {
        GET: (request) => ({ status: 200, body: order(request).order }),
        PUT: (request) => {
          book.operate(order(request), request.query.get('operation') ?? '');
          return { status: 200 };
        },
        DELETE: (request) => {
          book.remove(order(request));
          return { status: 200 };
        },
      },
    },
    {
      template: '/orders/{id}/items',
      pattern: /^\/orders\/([^/]+)\/items\/?$/,
      methods: {
        GET: (request) => ({ status: 200, body: order(request).order.items }),
        POST: (request) => {
          book.addItem(order(request), parseBody(itemInput, json(request.body)));
          return { status: 200 };
        },
      },
    },
    {
      template: '/orders/{id}/items/{itemId}',
      pattern: /^\/orders\/([^/]+)\/items\/([^/]+)\/?$/,
      methods: {
        PUT: (request) => {
          book.updateItem(order(request), request.params[1] ?? '', parseBody(itemPatch, json(request.body)));
          return { status: 200 };
        },
        DELETE: (request) => {
          book.removeItem(order(request), request.params[1] ?? '');
          return { status: 200 };
        },
      },
    },
    {
      template: '/orders/{id}/transactions',
      pattern: /^\/orders\/([^/]+)\/transactions\/?$/,
      methods: {
        GET: (request) => ({ status: 200, body: order(request).order.transactions }),
        POST: (request) => {
          const stored = order(request);
          const input = sandboxTransaction(parseBody(transactionInput, json(request.body)));
          return { status: 201, body: { id: book.addTransaction(stored, input).id } };
        },
      },
    },
  ];
}

function json(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new ApiError(400, 'INVALID_JSON', 'the body is not valid JSON');
  }
}

/** `GET /orders` query: number, reference, status, terminal_number, page (from 0), page_size (1…100, default 10). */
function listFilter(query: URLSearchParams): OrderFilter {
  const page = integerParameter(query, 'page', 0);
  const pageSize = integerParameter(query, 'page_size', 10);
  if (pageSize < 1 || pageSize > 100) throw new ApiError(400, 'INVALID_PARAMETER', `page_size must be 1…100, not ${pageSize}`);
  return {
    number: query.get('number') ?? undefined,
    reference: query.get('reference') ?? undefined,
    status: query.get('status') ?? undefined,
    terminalNumber: query.get('terminal_number') ?? undefined,
    page,
    pageSize,
  };
}

function integerParameter(query: URLSearchParams, name: string, fallback: number): number {
  const value = query.get(name);
  if (value === null) return fallback;
  if (!/^\d{1,9}$/.test(value)) throw new ApiError(400, 'INVALID_PARAMETER', `${name} must be an integer ≥ 0, not "${value}"`);
  return Number(value);
}
