import { needsSettlement, type Recharge } from '../../functions/carat/recharge.ts';
import type { RechargeStore } from '../../functions/carat/store.ts';

/**
 * RechargeStore in memory with DynamoRecharges' contract (a save applies only over the version it
 * read; version 0 only when new; the order pointer taken once), for use-case and property tests.
 */
export class MemoryRecharges implements RechargeStore {
  readonly items = new Map<string, Recharge>();
  private readonly pointers = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  async get(integration: string, rechargeId: string): Promise<Recharge | undefined> {
    const item = this.items.get(`${integration}#${rechargeId}`);
    return item ? structuredClone(item) : undefined;
  }

  async save(recharge: Recharge): Promise<boolean> {
    const key = `${recharge.integrationHubServiceId}#${recharge.rechargeId}`;
    if ((this.items.get(key)?.version ?? 0) !== recharge.version) return false;
    this.items.set(key, structuredClone({ ...recharge, version: recharge.version + 1 }));
    return true;
  }

  async nextUsn(integration: string): Promise<string> {
    const next = (this.counters.get(integration) ?? 0) + 1;
    this.counters.set(integration, next);
    return String(next);
  }

  async pointUsn(integration: string, usn: string, rechargeId: string): Promise<void> {
    this.pointers.set(`USN#${integration}#${usn}`, rechargeId);
  }

  async rechargeForUsn(integration: string, usn: string): Promise<string | undefined> {
    return this.pointers.get(`USN#${integration}#${usn}`);
  }

  async pointOrder(integration: string, orderId: string, rechargeId: string, replacing?: string): Promise<string> {
    const key = `ORDER#${integration}#${orderId}`;
    const current = this.pointers.get(key);
    if (current === undefined || current === replacing) this.pointers.set(key, rechargeId);
    return this.pointers.get(key)!;
  }

  async rechargeForOrder(integration: string, orderId: string): Promise<string | undefined> {
    return this.pointers.get(`ORDER#${integration}#${orderId}`);
  }

  async unsettled(dueBy: string, limit: number): Promise<Recharge[]> {
    return [...this.items.values()]
      .filter((r) => needsSettlement(r) && r.updatedAt <= dueBy)
      .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async unsettledSummary(): Promise<{ count: number; oldestSince?: string }> {
    const pending = [...this.items.values()].filter(needsSettlement);
    const oldest = pending.map((r) => r.choice!.at).sort()[0];
    return { count: pending.length, ...(oldest ? { oldestSince: oldest } : {}) };
  }
}
