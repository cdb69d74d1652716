import { holdsOrder, RESTARTABLE_FAILURES, type PaymentRecord, type PaymentResult } from '../../functions/payments/record.ts';
import type { PaymentStore } from '../../functions/payments/store.ts';

/**
 * The payment store's contract in memory, for use-case tests: the same conditions as the DynamoDB
 * adapter (slot per order, archive per payment), on structured clones so callers cannot alias it.
 */
export class MemoryPaymentStore implements PaymentStore {
  readonly items = new Map<string, PaymentRecord & { orderRef?: string }>();

  async get(orderRef: string) {
    return structuredClone(this.items.get(orderRef));
  }

  async create(record: PaymentRecord, replacing?: string) {
    const current = this.items.get(record.pk);
    const allowed = replacing ? current?.paymentId === replacing && current.status === 'DONE' : !current;
    if (!allowed) return { written: false as const, ...(current ? { current: structuredClone(current) } : {}) };
    this.items.set(record.pk, structuredClone(record));
    return { written: true as const };
  }

  async archive(record: PaymentRecord) {
    const { enqueuePending: _pending, replaced: _slotOnly, ...rest } = structuredClone(record);
    this.items.set(`PAYMENT#${record.paymentId}`, { ...rest, pk: `PAYMENT#${record.paymentId}`, orderRef: record.pk });
  }

  async markAnswered(orderRef: string, paymentId: string, at: string) {
    const current = this.items.get(orderRef);
    if (current?.paymentId === paymentId && current.status === 'DONE' && !current.answeredAt) current.answeredAt = at;
  }

  async getArchived(paymentId: string) {
    const item = this.items.get(`PAYMENT#${paymentId}`);
    return item ? { ...structuredClone(item), pk: item.orderRef! } : undefined;
  }

  async claimEnqueue(orderRef: string, paymentId: string, nowMs: number, staleBeforeMs: number) {
    const current = this.items.get(orderRef);
    if (!current || current.paymentId !== paymentId || !current.enqueuePending) return false;
    if (current.enqueueClaimedAtMs >= staleBeforeMs || current.status === 'DONE') return false;
    current.enqueueClaimedAtMs = nowMs;
    current.enqueueAttempts++;
    return true;
  }

  async pendingEnqueue(limit: number) {
    return [...this.items.values()]
      .filter((r) => r.enqueuePending)
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async startProcessing(orderRef: string, paymentId: string, at: string) {
    const current = this.items.get(orderRef);
    if (current?.paymentId !== paymentId) return undefined;
    const restartable = (RESTARTABLE_FAILURES as readonly string[]).includes(current.result?.error?.code ?? '');
    if (current.status === 'DONE' && !restartable) return undefined;
    current.status = 'PROCESSING';
    current.updatedAt = at;
    current.enqueuedAt ??= at;
    current.processingAttempts = (current.processingAttempts ?? 0) + 1;
    delete current.enqueuePending;
    return structuredClone(current);
  }

  async release(record: PaymentRecord) {
    await this.archive(record);
    const current = this.items.get(record.pk);
    if (current?.paymentId !== record.paymentId || current.status !== 'DONE') return false;
    this.items.delete(record.pk);
    return true;
  }

  async reopen(orderRef: string, paymentId: string, at: string) {
    const current = this.items.get(orderRef);
    const restartable = (RESTARTABLE_FAILURES as readonly string[]).includes(current?.result?.error?.code ?? '');
    if (current?.paymentId !== paymentId || current.status !== 'DONE' || !restartable) return;
    Object.assign(current, { status: 'QUEUED', updatedAt: at });
    delete current.result;
  }

  async finish(orderRef: string, paymentId: string, result: PaymentResult, at: string) {
    const current = this.items.get(orderRef);
    if (current?.paymentId !== paymentId || current.status !== 'PROCESSING') return;
    Object.assign(current, { status: 'DONE', result: structuredClone(result), updatedAt: at });
    delete current.enqueuePending;
  }

  /** True while the order's slot holds a payment that keeps the tab from changing. */
  holds(orderRef: string): boolean {
    const current = this.items.get(orderRef);
    return current !== undefined && holdsOrder(current);
  }
}
