import * as z from 'zod';
import type { CieloCredentials } from './config.ts';
import { orderSnapshotSchema, type CieloOrderSnapshot, type CieloStatus } from './notification.ts';

/**
 * Cielo LIO Order Manager API client (spec §1): `GET /orders/{id}` and `GET /orders?…` with the
 * `Client-Id`, `Access-Token` and `Merchant-Id` headers; every answer validated. The API is the
 * source of truth for an order, so a failure never reads as an answer: 5xx, 429, a timeout, a
 * refused connection or a body that is not an order throw CieloUnavailable ("ask again later");
 * 401/403 (credentials) throw CieloRefused; 404 is "no such order".
 */

/** An order as the API answers it; money in centavos. */
export interface ApiOrder extends CieloOrderSnapshot {
  id: string;
  status: CieloStatus;
  /** `updated_at`, ISO 8601 UTC, or null. */
  at: string | null;
}

export interface OrderManagerApi {
  /** The order, or undefined when the API says 404. */
  getOrder(orderId: string): Promise<ApiOrder | undefined>;
  /** Orders matching `reference` or `number` (first page of 100). */
  findOrders(query: { reference?: string; number?: string }): Promise<ApiOrder[]>;
}

/** The API could not give an answer now: retry later, never assume one. */
export class CieloUnavailable extends Error {
  override name = 'CieloUnavailable';
}

/** The API refused the credentials (401/403) or the request (4xx): retrying the same will not help. */
export class CieloRefused extends Error {
  override name = 'CieloRefused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const errorBody = z.object({
  code: z.string().optional(),
  detail: z.string().optional(),
  developerMessage: z.string().optional(),
});

const toApiOrder = (o: z.infer<typeof orderSnapshotSchema>): ApiOrder => ({ id: o.id, status: o.status, at: o.at, ...o.order });

export interface ClientOptions {
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** A client for one merchant's credentials; `baseUrl` such as `https://api.cielo.com.br/order-management/v1`. */
export function orderManagerApi(baseUrl: string, credentials: CieloCredentials, options: ClientOptions): OrderManagerApi {
  const doFetch = options.fetch ?? fetch;
  const base = baseUrl.replace(/\/+$/, '');

  async function call(path: string): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        headers: {
          'Client-Id': credentials.clientId,
          'Access-Token': credentials.accessToken,
          'Merchant-Id': credentials.merchantId,
          accept: 'application/json',
        },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw new CieloUnavailable(`the Order Manager API could not be reached (${(error as Error).name})`);
    }
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.status >= 500 || response.status === 429)
      throw new CieloUnavailable(`the Order Manager API answered ${response.status}`);
    if (response.status === 404) return { status: 404, body };
    if (response.status >= 400) {
      const detail = errorBody.safeParse(body);
      const why = detail.success ? (detail.data.detail ?? detail.data.developerMessage ?? detail.data.code ?? '') : '';
      throw new CieloRefused(
        response.status,
        `the Order Manager API refused ${path.split('?')[0]} with ${response.status}${why ? `: ${why.slice(0, 200)}` : ''}`,
      );
    }
    return { status: response.status, body };
  }

  return {
    async getOrder(orderId) {
      const { status, body } = await call(`/orders/${encodeURIComponent(orderId)}`);
      if (status === 404) return undefined;
      const order = orderSnapshotSchema.safeParse(body);
      if (!order.success) throw new CieloUnavailable('the Order Manager API answered something that is not an order');
      if (order.data.id !== orderId)
        throw new CieloUnavailable(`the Order Manager API answered order ${order.data.id} for ${orderId}`);
      return toApiOrder(order.data);
    },
    async findOrders(query) {
      const params = new URLSearchParams({ ...query, page: '0', page_size: '100' });
      const { status, body } = await call(`/orders?${params}`);
      if (status === 404) return [];
      const list = z.array(z.unknown()).safeParse(body);
      if (!list.success) throw new CieloUnavailable('the Order Manager API answered something that is not a list of orders');
      return list.data.flatMap((entry) => {
        const order = orderSnapshotSchema.safeParse(entry);
        return order.success ? [toApiOrder(order.data)] : [];
      });
    },
  };
}
