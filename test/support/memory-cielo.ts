import { attentionOf, isOpen, needsVerification, orderPk, type CieloOrderState } from '../../functions/cielo/order-state.ts';
import type { AttentionItem, CieloOrders, UnreadableNotification } from '../../functions/cielo/store.ts';

/**
 * CieloOrders in memory with the same optimistic-concurrency contract as DynamoCieloOrders (a save
 * applies only over the version it read), for use-case tests and property runs. `beforeSave` lets a
 * test interleave a concurrent writer or fail a write.
 */
export class MemoryCieloOrders implements CieloOrders {
  readonly items = new Map<string, CieloOrderState>();
  readonly unreadable: UnreadableNotification[] = [];
  beforeSave?: (state: CieloOrderState) => void;

  async get(integrationHubServiceId: string, orderId: string): Promise<CieloOrderState | undefined> {
    const item = this.items.get(orderPk(integrationHubServiceId, orderId));
    return item ? structuredClone(item) : undefined;
  }

  async save(state: CieloOrderState): Promise<boolean> {
    this.beforeSave?.(state);
    const stored = this.items.get(state.pk);
    if ((stored?.version ?? 0) !== state.version) return false;
    this.items.set(state.pk, structuredClone({ ...state, version: state.version + 1 }));
    return true;
  }

  async openOrders(integrationHubServiceId: string, limit: number): Promise<CieloOrderState[]> {
    return [...this.items.values()]
      .filter((o) => o.integrationHubServiceId === integrationHubServiceId && isOpen(o))
      .slice(0, limit);
  }

  async pendingVerifications(limit: number): Promise<CieloOrderState[]> {
    return [...this.items.values()].filter(needsVerification).slice(0, limit);
  }

  async needingAttention(limit: number): Promise<AttentionItem[]> {
    const orders = [...this.items.values()]
      .filter((o) => attentionOf(o).length > 0)
      .map((order) => ({ kind: 'order' as const, order }));
    return [...orders, ...this.unreadable.map((u) => ({ kind: 'unreadable' as const, ...u }))].slice(0, limit);
  }

  async recordUnreadable(entry: UnreadableNotification): Promise<void> {
    this.unreadable.push(entry);
  }
}
