import { itemTotal } from '../nfce/document.ts';
import type { OrderStore, StoredOrder } from '../orders/order.ts';
import type { IntakeOutcome } from '../payments/intake.ts';
import { orderRef } from '../payments/record.ts';
import {
  BRANDS,
  validatePaymentRequest,
  type PaymentMethod,
  type PaymentRequest,
  type ValidPayment,
} from '../payments/request.ts';
import { formatReais } from '../shared/money.ts';
import { saoPauloIso } from '../shared/time.ts';
import type { ApiOrder } from './api.ts';
import { nfceItems } from './items.ts';
import type { CieloTransaction } from './notification.ts';
import { claimsPayment, type CieloOrderState } from './order-state.ts';
import { updateOrder, type CieloOrders } from './store.ts';

/**
 * An order paid at the LIO gets its NFC-e (issue: "Orders paid at the LIO"): once the Order
 * Manager API confirmed it PAID or CLOSED, the order becomes a payment on its own slot
 * (`ORDER_ID CIELO-<order id>`) through the same intake and NFC-e queue as Order Mesa — so the
 * queue, retries, numbering and S3 are the same — with the items and the transactions the API
 * answered, as integrated payments (tpIntegra 1, Cielo's CNPJ, cAut = the verified
 * `authorization_code`). The Cielo order is claimed first: a POS payment that already invoiced it
 * (or is issuing it) wins, and repeating this (a retried verification) finds its own claim and
 * the same payment (the intake recognises the identical request).
 */

/** Cielo S.A., the acquirer behind the LIO (tpIntegra 1's CNPJ). */
export const CIELO_CNPJ = '01027058000191';

export interface LioSaleDeps {
  orders: Pick<CieloOrders, 'get' | 'save'>;
  tabs: Pick<OrderStore, 'put'>;
  /** The Order Mesa intake (takePayment with its adapters). */
  takePayment: (payment: ValidPayment, correlationId: string) => Promise<IntakeOutcome>;
  now: () => Date;
}

export type LioSaleOutcome = 'queued' | 'already-invoiced' | 'failed';

/** Cielo `primary_product_name` → Order Mesa method; PIX and vouchers included, anything else OTHER. */
function methodOf(t: CieloTransaction): PaymentMethod {
  const product = `${t.payment_fields.primary_product_name ?? ''} ${t.payment_fields.secondary_product_name ?? ''}`;
  if (/\bPIX\b/.test(product)) return 'PIX';
  if (/ALIMENTA/.test(product)) return 'FOOD_VOUCHER';
  if (/REFEI|VOUCHER/.test(product)) return 'MEAL_VOUCHER';
  if (/^\s*DEBITO/.test(product)) return 'DEBIT';
  if (/^\s*CREDITO/.test(product)) return 'CREDIT';
  return 'OTHER';
}

const CARD_LIKE: readonly PaymentMethod[] = ['CREDIT', 'DEBIT', 'MEAL_VOUCHER', 'FOOD_VOUCHER'];

/** Builds the payment request for the API's order; the reasons when it cannot be one. */
export function lioPayment(integrationHubServiceId: string, order: ApiOrder): { payment: ValidPayment } | { problems: string[] } {
  const items = nfceItems(order.items);
  if ('problems' in items) return { problems: items.problems };
  if (order.transactions.some((t) => t.transaction_type === 'CANCELLATION' && t.status === 'CONFIRMED'))
    return { problems: ['a payment of this order was cancelled at the LIO; its NFC-e must be issued by hand'] };
  const paid = order.transactions.filter((t) => claimsPayment(t) && t.amount !== null && t.amount > 0);
  if (paid.length === 0) return { problems: ['the Order Manager API lists no CONFIRMED payment for this order'] };
  if (paid.length > 20) return { problems: [`the order has ${paid.length} payments; an NFC-e takes at most 20`] };
  const itemsTotal = items.items.reduce((sum, item) => sum + itemTotal(item), 0);
  const paidTotal = paid.reduce((sum, t) => sum + t.amount!, 0);
  if (paidTotal < itemsTotal)
    return { problems: [`the payments (R$ ${formatReais(paidTotal)}) do not cover the items (R$ ${formatReais(itemsTotal)})`] };

  const request: PaymentRequest = {
    integrationHubServiceId,
    orderKeyType: 'ORDER_ID',
    orderKey: `CIELO-${order.id}`,
    paymentObject: {
      printOrderAtPos: false,
      generateInvoice: true,
      // The LIO app prints the receipt text: GET /invoices/{key}/receipt.
      printInvoiceAtPos: true,
      sendInvoiceEmail: false,
      summaryExtract: false,
      customerDocument: null,
      documentInReceipt: false,
      numberPersons: null,
      removeServiceFee: false,
      methods: paid.map((t) => {
        const method = methodOf(t);
        const brand = t.card.brand === 'MASTER' ? 'MASTERCARD' : t.card.brand;
        const known = CARD_LIKE.includes(method) && (BRANDS as readonly string[]).includes(brand ?? '');
        return {
          value: t.amount! / 100,
          currency: 'BRL',
          type: 'ONLINE' as const,
          method,
          brand: known ? (brand as (typeof BRANDS)[number]) : null,
          methodInfo: CARD_LIKE.includes(method) && !known && brand ? brand.slice(0, 100) : null,
          changeFor: null,
        };
      }),
      orderAmount: itemsTotal / 100,
      discounts: 0,
      // What was paid above the items (a tip, the service charge) is the sale's other charges.
      fees: (paidTotal - itemsTotal) / 100,
      total: paidTotal / 100,
    },
  };
  const valid = validatePaymentRequest(request);
  if (!valid.ok) return { problems: valid.errors.map((e) => e.message) };
  return {
    payment: {
      ...valid.payment,
      integrated: { acquirerCnpj: CIELO_CNPJ, cAut: paid.map((t) => t.authorization_code?.slice(0, 128) ?? null) },
    },
  };
}

/**
 * Starts (or finds) the NFC-e of an order the API confirmed paid. `state` is the stored order,
 * `order` the API's answer it was verified with.
 */
export async function startLioSale(
  state: CieloOrderState,
  order: ApiOrder,
  correlationId: string,
  deps: LioSaleDeps,
): Promise<LioSaleOutcome> {
  const { integrationHubServiceId, id } = state;
  const at = () => saoPauloIso(deps.now());
  const ours = (s: CieloOrderState | undefined) => s?.invoice?.via === 'LIO' && s.invoice.status === 'ISSUING';
  const claimed = await updateOrder(deps.orders, integrationHubServiceId, id, (current) => {
    if (!current || ours(current)) return undefined;
    // A POS payment that failed leaves the order to the LIO; one that issued (or is issuing) keeps it.
    if (current.invoice && !(current.invoice.via === 'ORDER_MESA' && current.invoice.status === 'FAILED')) return undefined;
    return { ...current, invoice: { paymentId: '', via: 'LIO', status: 'ISSUING', key: null, error: null }, updatedAt: at() };
  });
  if (!ours(claimed)) return 'already-invoiced';

  const built = lioPayment(integrationHubServiceId, order);
  /** Changes the LIO claim (`change` returns nothing: no write). */
  const settle = (change: (s: CieloOrderState) => Partial<CieloOrderState['invoice']> | undefined) =>
    updateOrder(deps.orders, integrationHubServiceId, id, (current) => {
      const changed = current && ours(current) ? change(current) : undefined;
      return changed ? { ...current!, invoice: { ...current!.invoice!, ...changed }, updatedAt: at() } : undefined;
    });
  if ('problems' in built) {
    await settle(() => ({
      status: 'FAILED',
      error: `the NFC-e of this LIO sale cannot be issued: ${built.problems.join('; ')}`,
    }));
    return 'failed';
  }
  const { request } = built.payment;
  const tab: StoredOrder = {
    pk: orderRef(integrationHubServiceId, request.orderKeyType, request.orderKey),
    integrationHubServiceId,
    orderKeyType: request.orderKeyType,
    orderKey: request.orderKey,
    items: (nfceItems(order.items) as { items: StoredOrder['items'] }).items,
    ...(order.notes ? { notes: order.notes } : {}),
    source: 'CIELO',
    cieloOrderId: id,
    updatedAt: at(),
  };
  // A retry rewrites the same tab; while its payment issues, the tab is locked and stays as it is.
  await deps.tabs.put(tab, claimed!.invoice!.paymentId || undefined);
  const outcome = await deps.takePayment(built.payment, correlationId);
  await settle((s) => (s.invoice!.paymentId ? undefined : { paymentId: outcome.record.paymentId }));
  return 'queued';
}
