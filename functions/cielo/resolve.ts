import type { CieloOrderLink } from '../nfce/issuer.ts';
import type { OrderStore, StoredOrder } from '../orders/order.ts';
import type { PaymentRecord } from '../payments/record.ts';
import { saoPauloIso } from '../shared/time.ts';
import type { ApiOrder, OrderManagerApi } from './api.ts';
import { CieloSetupProblem, tableOf, type CieloConfig, type CieloCredentials } from './config.ts';
import { nfceItems } from './items.ts';
import { applyNotification, emptyOrder, isOpen, type CieloOrderState } from './order-state.ts';
import { updateOrder, type CieloOrders } from './store.ts';

/**
 * Cielo orders as Order Mesa tabs (issue: "Orders for Order Mesa payments"). A payment whose order
 * the POS never pushed is matched with the integration's open Cielo orders: a TABLE by the table
 * its `notes` name (the integration's rule, "Mesa N" by default), a CARD or ORDER_ID by `number`,
 * `reference` or the order's id — and, for those two, through the Order Manager API when no
 * notification brought the order yet (`GET /orders?reference=…` / `number=…`; the API cannot search
 * `notes`). The one match is claimed for the payment (an order gets one NFC-e, whichever path pays
 * it) and stored as the payment's tab; two matches refuse the payment, naming both.
 */
export interface LinkDeps {
  orders: Pick<CieloOrders, 'get' | 'save' | 'openOrders'>;
  config: Pick<CieloConfig, 'load'>;
  api: (credentials: CieloCredentials) => OrderManagerApi;
  tabs: Pick<OrderStore, 'put'>;
  now: () => Date;
}

/** What a Cielo order id looks like (notification.ts reads ids with the same rule). */
const ORDER_ID = /^[\x21-\x7e]{1,100}$/;

/** Open orders looked at per payment: far more than a store has tables. */
const OPEN_ORDERS_READ = 1000;

const describe = (o: Pick<CieloOrderState, 'id' | 'number' | 'reference' | 'notes'>) =>
  `${o.id} (number ${o.number ?? '-'}, reference ${o.reference ?? '-'}, notes "${(o.notes ?? '').slice(0, 40)}")`;

/** Stores an order the API knows but no notification brought (source API); returns what is stored. */
async function remember(integrationHubServiceId: string, order: ApiOrder, deps: LinkDeps): Promise<CieloOrderState> {
  const now = deps.now();
  const stored = await updateOrder(deps.orders, integrationHubServiceId, order.id, (current) => {
    if (current) return undefined;
    const fresh = { ...emptyOrder(integrationHubServiceId, order.id, saoPauloIso(now)), source: 'API' as const };
    return applyNotification(
      fresh,
      { kind: 'status', orderId: order.id, status: order.status, at: order.at, previousStatus: null, order },
      'api',
      now.toISOString(),
    );
  });
  return stored!;
}

export function cieloOrderLink(deps: LinkDeps): CieloOrderLink {
  return {
    async resolve(record: PaymentRecord) {
      // A LIO sale's payment (integrated) has its own tab from the verified order: nothing to look up.
      if (record.integrated) return undefined;
      const integration = record.integrationHubServiceId;
      let setup;
      try {
        setup = await deps.config.load(integration);
      } catch (error) {
        // An integration without Cielo has no Cielo orders.
        if (error instanceof CieloSetupProblem) return undefined;
        throw error;
      }
      const key = record.orderKey;
      const label = `${record.orderKeyType} ${key}`;
      const open = await deps.orders.openOrders(integration, OPEN_ORDERS_READ);
      const table = key.replace(/^0+(?=.)/, '');
      const matches = (o: CieloOrderState) =>
        record.orderKeyType === 'TABLE'
          ? tableOf(o.notes, setup.settings.tableRule) === table
          : o.number === key || o.reference === key || o.id === key;
      // An order another payment invoiced (or is invoicing) is paid: not a candidate for this one.
      const free = (o: CieloOrderState) =>
        !o.invoice || o.invoice.status === 'FAILED' || o.invoice.paymentId === record.paymentId;
      let candidates = open.filter((o) => matches(o) && free(o));
      if (candidates.length === 0 && record.orderKeyType !== 'TABLE') {
        const api = deps.api(setup.credentials);
        const found = [...(await api.findOrders({ reference: key })), ...(await api.findOrders({ number: key }))];
        // The order's own id, which GET /orders cannot search by.
        if (found.length === 0 && record.orderKeyType === 'ORDER_ID' && ORDER_ID.test(key)) {
          const byId = await api.getOrder(key);
          if (byId) found.push(byId);
        }
        const unique = [...new Map(found.filter((o) => isOpen(o)).map((o) => [o.id, o])).values()];
        candidates = await Promise.all(unique.map((o) => remember(integration, o, deps)));
        candidates = candidates.filter((o) => isOpen(o) && matches(o) && free(o));
      }
      if (candidates.length === 0) return undefined;
      if (candidates.length > 1) {
        return {
          found: false as const,
          code: 'CIELO_ORDER_AMBIGUOUS',
          message: `${candidates.length} open Cielo orders match ${label}: ${candidates.map(describe).join('; ')}; close or correct one of them on the LIO, or push the tab with PUT /orders/${record.orderKeyType}/${key}`,
        };
      }
      const cielo = candidates[0]!;
      const items = nfceItems(cielo.items);
      if ('problems' in items) {
        return {
          found: false as const,
          code: 'CIELO_ORDER_UNUSABLE',
          message: `the Cielo order ${describe(cielo)} cannot be invoiced: ${items.problems.join('; ')}`,
        };
      }
      const at = saoPauloIso(deps.now());
      const claimed = await updateOrder(deps.orders, integration, cielo.id, (current) => {
        const invoice = current?.invoice;
        if (!current || (invoice && (invoice.paymentId === record.paymentId || invoice.status !== 'FAILED'))) return undefined;
        return {
          ...current,
          invoice: { paymentId: record.paymentId, via: 'ORDER_MESA', status: 'ISSUING', key: null, error: null },
          updatedAt: at,
        };
      });
      const invoice = claimed?.invoice;
      if (invoice?.paymentId !== record.paymentId) {
        return {
          found: false as const,
          code: 'ORDER_ALREADY_INVOICED',
          message: `the Cielo order ${describe(cielo)} ${invoice?.key ? `already has the NFC-e ${invoice.key}` : 'has its NFC-e being issued'} (${invoice?.via === 'LIO' ? 'paid at the LIO' : `payment ${invoice?.paymentId}`})`,
        };
      }
      const tab: StoredOrder = {
        pk: record.pk,
        integrationHubServiceId: integration,
        orderKeyType: record.orderKeyType as StoredOrder['orderKeyType'],
        orderKey: key,
        items: items.items,
        ...(cielo.notes ? { notes: cielo.notes } : {}),
        source: 'CIELO',
        cieloOrderId: cielo.id,
        updatedAt: at,
      };
      // The issuer holds this order's lock for the payment: the tab is replaced under it.
      if ((await deps.tabs.put(tab, record.paymentId)) === undefined)
        throw new Error(`the tab of ${label} is locked by another payment`);
      return { found: true as const };
    },

    async settle(tab, paymentId, outcome) {
      const at = saoPauloIso(deps.now());
      await updateOrder(deps.orders, tab.integrationHubServiceId, tab.cieloOrderId!, (current) => {
        const invoice = current?.invoice;
        // A LIO sale's claim learns its payment id after the job was queued: the issuer may be first.
        const lioUnnamed = invoice?.via === 'LIO' && invoice.paymentId === '' && tab.orderKey === `CIELO-${tab.cieloOrderId}`;
        if (!current || !invoice || (invoice.paymentId !== paymentId && !lioUnnamed)) return undefined;
        const settled =
          'key' in outcome
            ? {
                ...invoice,
                paymentId,
                status: outcome.contingency ? ('CONTINGENCY' as const) : ('AUTHORIZED' as const),
                key: outcome.key,
                error: null,
              }
            : { ...invoice, paymentId, status: 'FAILED' as const, error: outcome.error };
        return { ...current, invoice: settled, updatedAt: at };
      });
    },
  };
}
