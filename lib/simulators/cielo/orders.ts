import { createHash, randomUUID } from 'node:crypto';
import { cieloTimestamp, type Clock } from './clock.ts';
import { ApiError } from './errors.ts';
import type { Notification } from './notifier.ts';
import { statusNotification, transactionNotification } from './payloads.ts';
import type { ItemInput, ItemPatch, OrderInput, TransactionInput } from './schemas.ts';
import type { CieloCredentials, CieloItem, CieloOrder, CieloOrderStatus, CieloTransaction } from './types.ts';

/** An order with what the API does not show: its merchant and the cancellations' originals. */
export interface StoredOrder {
  merchantId: string;
  /** Creation rank, to sort orders created within one second. */
  sequence: number;
  order: CieloOrder;
  /** CANCELLATION transaction id → the PAYMENT transaction id it cancelled. */
  originals: Map<string, string>;
}

/** `GET /orders` query, already checked: `page` from 0, `pageSize` 1…100. */
export interface OrderFilter {
  number?: string;
  reference?: string;
  status?: string;
  terminalNumber?: string;
  page: number;
  pageSize: number;
}

/** A transaction to record, in the API's snake_case; what the sandbox and the LIO both add. */
export type NewTransaction = Omit<CieloTransaction, 'id' | 'created_at' | 'updated_at'>;

/** The `PUT /orders/{id}?operation=` moves: operation → [statuses it applies to, status it leads to]. */
const OPERATIONS: Record<string, [CieloOrderStatus[], CieloOrderStatus]> = {
  place: [['DRAFT'], 'ENTERED'],
  pay: [['ENTERED', 'RE-ENTERED'], 'PAID'],
  close: [['PAID'], 'CLOSED'],
  cancel: [['DRAFT', 'ENTERED', 'RE-ENTERED'], 'CANCELED'],
};
/** Statuses in which transactions may not be added. */
const NO_TRANSACTIONS: CieloOrderStatus[] = ['DRAFT', 'CLOSED', 'CANCELED'];

/** "RE_ENTERED" (the SDK's and Cielo sample's spelling) and "re-entered" read as "RE-ENTERED". */
export function normalizeStatus(status: string): string {
  return status.trim().toUpperCase().replace('RE_ENTERED', 'RE-ENTERED');
}

/**
 * Every merchant's orders, in memory, with the order rules of the Order Manager. Each status change
 * and each transaction added is handed to `notify` as the notification Cielo would send.
 */
export class OrderBook {
  private readonly stored = new Map<string, StoredOrder>();
  private sequence = 0;

  constructor(
    private readonly clock: Clock,
    private readonly notify: (notification: Notification) => void,
  ) {}

  /** Stores a new order for the credentials' merchant and notifies its (first) status; returns it. */
  create(credentials: CieloCredentials, input: OrderInput): CieloOrder {
    const now = this.timestamp();
    const id = randomUUID();
    const order: CieloOrder = {
      id,
      number: input.number ?? null,
      reference: input.reference ?? null,
      status: input.status,
      notes: input.notes ?? null,
      price: input.price,
      remaining: input.price,
      created_at: now,
      updated_at: now,
      order_type: 'PAYMENT',
      merchant: ecNumber(credentials.merchantId),
      source_id: sourceId(credentials.clientId),
      items: input.items.map((item) => newItem(item, now)),
      transactions: [],
    };
    const stored: StoredOrder = { merchantId: credentials.merchantId, sequence: this.sequence++, order, originals: new Map() };
    this.stored.set(id, stored);
    this.notifyStatus(stored);
    return order;
  }

  /** The order `id`, if `merchantId` (any when undefined) owns it; 404 otherwise. */
  find(id: string, merchantId?: string): StoredOrder {
    const stored = this.stored.get(id);
    if (!stored || (merchantId !== undefined && stored.merchantId !== merchantId))
      throw new ApiError(404, 'NOT_FOUND', `order ${id} not found`);
    return stored;
  }

  /** Every order (of `merchantId`, when given) in creation order. */
  all(merchantId?: string): StoredOrder[] {
    return [...this.stored.values()].filter((stored) => merchantId === undefined || stored.merchantId === merchantId);
  }

  /** `GET /orders`: the merchant's orders matching `filter`, newest `created_at` first, one page. */
  list(merchantId: string, filter: OrderFilter): CieloOrder[] {
    const status = filter.status === undefined ? undefined : normalizeStatus(filter.status);
    return this.all(merchantId)
      .filter(
        ({ order }) =>
          (filter.number === undefined || order.number === filter.number) &&
          (filter.reference === undefined || order.reference === filter.reference) &&
          (status === undefined || order.status === status) &&
          (filter.terminalNumber === undefined ||
            order.transactions.some((transaction) => transaction.terminal_number === filter.terminalNumber)),
      )
      .sort((a, b) => b.order.created_at.localeCompare(a.order.created_at) || b.sequence - a.sequence)
      .slice(filter.page * filter.pageSize, (filter.page + 1) * filter.pageSize)
      .map(({ order }) => order);
  }

  /** `PUT /orders/{id}?operation=`: place, pay, close or cancel (any case); 400 when the status does not allow it. */
  operate(stored: StoredOrder, operation: string): void {
    const move = OPERATIONS[operation.toLowerCase()];
    if (!move) throw new ApiError(400, 'INVALID_OPERATION', `invalid operation "${operation}": use place, pay, close or cancel`);
    const [from, to] = move;
    const status = stored.order.status;
    if (operation.toLowerCase() === 'place' && status === 'RE-ENTERED') return; // already payable again
    if (!from.includes(status))
      throw new ApiError(400, 'INVALID_STATUS', `operation ${operation} is not allowed for an order in status ${status}`);
    this.changeStatus(stored, to);
  }

  /** Moves the order to `status`, sets `updated_at` and notifies the new status (even when unchanged). */
  changeStatus(stored: StoredOrder, status: CieloOrderStatus): void {
    stored.order.status = status;
    stored.order.updated_at = this.timestamp();
    this.notifyStatus(stored);
  }

  /** `DELETE /orders/{id}`: DRAFT orders only. */
  remove(stored: StoredOrder): void {
    this.requireDraft(stored, 'deleted');
    this.stored.delete(stored.order.id);
  }

  /** `POST /orders/{id}/items`: DRAFT only; `price` and `remaining` become Σ unit_price × quantity. */
  addItem(stored: StoredOrder, input: ItemInput): CieloItem {
    this.requireDraft(stored, 'given items');
    const item = newItem(input, this.timestamp());
    stored.order.items.push(item);
    this.repriced(stored);
    return item;
  }

  /** `PUT /orders/{id}/items/{itemId}`: DRAFT only; changes the given fields and reprices. */
  updateItem(stored: StoredOrder, itemId: string, patch: ItemPatch): void {
    this.requireDraft(stored, 'changed');
    const item = findItem(stored, itemId);
    for (const [key, value] of Object.entries(patch)) if (value !== undefined) Object.assign(item, { [key]: value });
    item.updated_at = this.timestamp();
    this.repriced(stored);
  }

  /** `DELETE /orders/{id}/items/{itemId}`: DRAFT only; reprices. */
  removeItem(stored: StoredOrder, itemId: string): void {
    this.requireDraft(stored, 'changed');
    stored.order.items.splice(stored.order.items.indexOf(findItem(stored, itemId)), 1);
    this.repriced(stored);
  }

  /**
   * Records a transaction (not on DRAFT, CLOSED or CANCELED orders) and notifies it; the status is
   * left alone. A CONFIRMED PAYMENT lowers `remaining` by its amount, a CONFIRMED CANCELLATION raises
   * it back; 400 when that would leave `remaining` outside 0…price. `original` is the PAYMENT a
   * CANCELLATION cancels, when known.
   */
  addTransaction(stored: StoredOrder, input: NewTransaction, original?: string): CieloTransaction {
    const order = stored.order;
    if (NO_TRANSACTIONS.includes(order.status))
      throw new ApiError(400, 'INVALID_STATUS', `no transactions can be added to an order in status ${order.status}`);
    const confirmed = input.status === 'CONFIRMED';
    const change = !confirmed ? 0 : input.transaction_type === 'PAYMENT' ? -input.amount : input.amount;
    const remaining = order.remaining + change;
    if (remaining < 0 || remaining > order.price)
      throw new ApiError(
        400,
        'INVALID_PARAMETER',
        `amount ${input.amount} leaves remaining ${remaining} outside 0…${order.price}`,
      );
    const now = this.timestamp();
    const transaction: CieloTransaction = { id: randomUUID(), ...input, created_at: now, updated_at: now };
    order.transactions.push(transaction);
    order.remaining = remaining;
    order.updated_at = now;
    if (original) stored.originals.set(transaction.id, original);
    this.notify({
      kind: 'transaction',
      orderId: order.id,
      merchantId: stored.merchantId,
      body: transactionNotification(order, transaction),
    });
    return transaction;
  }

  private notifyStatus(stored: StoredOrder): void {
    this.notify({
      kind: 'status',
      orderId: stored.order.id,
      merchantId: stored.merchantId,
      body: statusNotification(stored.order, stored.originals),
    });
  }

  private requireDraft(stored: StoredOrder, what: string): void {
    if (stored.order.status !== 'DRAFT')
      throw new ApiError(400, 'INVALID_STATUS', `only DRAFT orders can be ${what}; this one is ${stored.order.status}`);
  }

  private repriced(stored: StoredOrder): void {
    const order = stored.order;
    order.price = order.items.reduce((sum, item) => sum + item.unit_price * item.quantity, 0);
    order.remaining = order.price; // DRAFT orders have no transactions
    order.updated_at = this.timestamp();
  }

  private timestamp(): string {
    return cieloTimestamp(this.clock.now());
  }
}

/** The sandbox call's transaction in the stored (snake_case) shape; absent fields are null, quotas 0. */
export function sandboxTransaction(input: TransactionInput): NewTransaction {
  const fields = input.paymentFields ?? input.payment_fields;
  return {
    external_id: input.external_id ?? null,
    status: input.status,
    terminal_number: input.terminal_number ?? null,
    authorization_code: input.authorization_code ?? null,
    number: input.number ?? null,
    amount: input.amount,
    transaction_type: input.transaction_type,
    payment_fields: {
      primary_product_name: fields?.primaryProductName ?? fields?.primary_product_name ?? null,
      secondary_product_name: fields?.secondaryProductName ?? fields?.secondary_product_name ?? null,
      number_of_quotas: fields?.numberOfQuotas ?? fields?.number_of_quotas ?? 0,
    },
    card: { brand: input.card?.brand ?? null, mask: input.card?.mask ?? null },
  };
}

/** The merchant's EC number: "0010" and 12 digits from the SHA-256 of its merchantId. */
function ecNumber(merchantId: string): string {
  const digits = BigInt(`0x${sha256(merchantId)}`) % 10n ** 12n;
  return `0010${digits.toString().padStart(12, '0')}`;
}

/** 12 base-62 characters from the SHA-256 of the Client-Id, like Cielo's "4QeQD63ZeKsz". */
function sourceId(clientId: string): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let value = BigInt(`0x${sha256(clientId)}`);
  let id = '';
  for (let i = 0; i < 12; i++, value /= 62n) id += alphabet[Number(value % 62n)];
  return id;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function newItem(input: ItemInput, now: string): CieloItem {
  return {
    id: randomUUID(),
    sku: input.sku,
    name: input.name ?? null,
    description: input.description ?? null,
    unit_price: input.unit_price,
    quantity: input.quantity,
    unit_of_measure: input.unit_of_measure,
    details: input.details ?? null,
    sku_type: input.sku_type ?? null,
    created_at: now,
    updated_at: now,
  };
}

function findItem(stored: StoredOrder, itemId: string): CieloItem {
  const item = stored.order.items.find((candidate) => candidate.id === itemId);
  if (!item) throw new ApiError(404, 'NOT_FOUND', `item ${itemId} not found in order ${stored.order.id}`);
  return item;
}
