import { randomInt } from 'node:crypto';
import { ESITEF_CODES, EsitefError } from './errors.ts';
import type { BeginRequest } from './schemas.ts';
import type { CaratTransaction } from './types.ts';

/** A store known to the simulator. */
export interface Merchant {
  key: string;
  /** Where begin POSTs the new NIT; none: every begin fails (131). */
  authenticityUrl?: string;
  /** The acquirer's merchant code (15 digits), shown in answers and on receipts. */
  merchantCode: string;
}

/** What the carrier's authorization of a successful do produced (status query, receipts). */
export interface Authorization {
  /** Epoch milliseconds of the simulator's clock. */
  at: number;
  confirmationData: string;
  hostUsn: string;
  sitefUsn: string;
  number: string;
}

/** A transaction with what only the simulator sees. */
export interface StoredRecharge {
  /** The live record; control hands out copies. */
  transaction: CaratTransaction;
  /** Epoch milliseconds of the simulator's clock. */
  createdAt: number;
  authorization?: Authorization;
  /** The carrier's refusal of a denied do. */
  denial?: { code: string; message: string };
}

const NIT_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The simulator's stores and recharge transactions. A NOV transaction older than `lifetimeMs`
 * becomes EXP when next read (any step or control read).
 */
export class RechargeBook {
  private readonly merchants = new Map<string, Merchant>();
  private readonly recharges = new Map<string, StoredRecharge>();

  constructor(
    private readonly now: () => number,
    private readonly lifetimeMs: number,
  ) {}

  addMerchant(key: string, authenticityUrl?: string): void {
    if (this.merchants.has(key)) throw new Error(`merchant ${key} already exists`);
    this.merchants.set(key, { key, authenticityUrl, merchantCode: digits(15) });
  }

  setAuthenticityUrl(key: string, url: string): void {
    const merchant = this.merchants.get(key);
    if (!merchant) throw new Error(`no merchant ${key}`);
    merchant.authenticityUrl = url;
  }

  merchant(key: string): Merchant | undefined {
    return this.merchants.get(key);
  }

  /** A new NOV transaction for `request`'s store (401 MERCHANT_UNAUTHORIZED for an unknown merchant_key). */
  create(request: BeginRequest): { stored: StoredRecharge; merchant: Merchant } {
    const merchant = this.merchants.get(request.merchant_key);
    if (!merchant) throw new EsitefError(401, ESITEF_CODES.MERCHANT_UNAUTHORIZED, 'Loja não autorizada');
    const stored: StoredRecharge = {
      transaction: {
        nit: newNit(),
        merchantKey: merchant.key,
        ...(request.merchant_usn === undefined ? {} : { merchantUsn: request.merchant_usn }),
        ...(request.order_id === undefined ? {} : { orderId: request.order_id }),
        status: 'NOV',
        history: ['NOV'],
        doCalls: 0,
        confirmCalls: 0,
      },
      createdAt: this.now(),
    };
    this.recharges.set(stored.transaction.nit, stored);
    return { stored, merchant };
  }

  /** The transaction of `nit`, expired if due; undefined when there is none. */
  get(nit: string): StoredRecharge | undefined {
    const stored = this.recharges.get(nit);
    if (stored) this.expire(stored);
    return stored;
  }

  /** The transaction of `nit`, or 404 NIT_NOT_FOUND (1 NIT_MISSING when `nit` is empty). */
  find(nit: string | null): StoredRecharge {
    if (!nit) throw new EsitefError(400, ESITEF_CODES.NIT_MISSING, 'Campo NIT nulo');
    const stored = this.get(nit);
    if (!stored) throw new EsitefError(404, ESITEF_CODES.NIT_NOT_FOUND, 'Transação não encontrada');
    return stored;
  }

  /** 401 MERCHANT_UNAUTHORIZED unless `merchantKey` is the transaction's store's. */
  authorize(stored: StoredRecharge, merchantKey: string | null): void {
    if (merchantKey !== stored.transaction.merchantKey)
      throw new EsitefError(401, ESITEF_CODES.MERCHANT_UNAUTHORIZED, 'Loja não autorizada', stored.transaction.status);
  }

  /** The transaction's store (stores are never removed). */
  merchantOf(stored: StoredRecharge): Merchant {
    const merchant = this.merchants.get(stored.transaction.merchantKey);
    if (!merchant) throw new Error(`no merchant ${stored.transaction.merchantKey}`);
    return merchant;
  }

  /** Every transaction, in creation order. */
  all(): StoredRecharge[] {
    const all = [...this.recharges.values()];
    for (const stored of all) this.expire(stored);
    return all;
  }

  /** The store's latest transaction begun with `merchantUsn`. */
  byUsn(merchantKey: string, merchantUsn: string): StoredRecharge | undefined {
    return this.all()
      .filter(({ transaction }) => transaction.merchantKey === merchantKey && transaction.merchantUsn === merchantUsn)
      .at(-1);
  }

  /** Moves the transaction (and its payment) to `status`; history records each change. */
  move(stored: StoredRecharge, status: string): void {
    const { transaction } = stored;
    if (transaction.payment) transaction.payment.status = status;
    if (transaction.status === status) return;
    transaction.status = status;
    transaction.history.push(status);
  }

  private expire(stored: StoredRecharge): void {
    if (stored.transaction.status === 'NOV' && this.now() - stored.createdAt >= this.lifetimeMs) this.move(stored, 'EXP');
  }
}

/** 64 random alphanumeric characters. */
function newNit(): string {
  return Array.from({ length: 64 }, () => NIT_ALPHABET[randomInt(NIT_ALPHABET.length)]).join('');
}

/** `count` random decimal digits. */
export function digits(count: number): string {
  return Array.from({ length: count }, () => randomInt(10)).join('');
}
