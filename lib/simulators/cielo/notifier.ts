import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from './clock.ts';

/** Time between two attempts of a failing notification: 15 minutes. */
export const RETRY_INTERVAL_MS = 15 * 60_000;
/** The first attempt and 28 retries, at 0, 15, …, 420 minutes; the order is blocked when the last fails. */
export const MAX_ATTEMPTS = 29;
/** A merchant is blocked when ≥ 80 % of its orders with an attempt in the last 24 hours are blocked. */
const MERCHANT_WINDOW_MS = 24 * 60 * 60_000;

export type NotificationKind = 'status' | 'transaction';

/** A notification on its way to the merchant's webhook; `body` is the exact JSON text POSTed. */
export interface Notification {
  kind: NotificationKind;
  orderId: string;
  merchantId: string;
  body: string;
}

/** A notification kept by control.hold(true); `body` is the exact JSON text that would be POSTed. */
export interface HeldNotification {
  kind: NotificationKind;
  orderId: string;
  body: string;
}

/** The webhook's HTTP status, 'timeout' (no answer within deliveryTimeoutMs) or 'error' (connection failed). */
export type DeliveryStatus = number | 'timeout' | 'error';

/** One POST to a webhook. */
export interface Delivery {
  orderId: string;
  kind: NotificationKind;
  /** 1 for the first attempt of a notification, up to MAX_ATTEMPTS; 1 for each copy control.release sends. */
  attempt: number;
  /** When the attempt started, on the simulator's clock (ISO 8601 with milliseconds). */
  at: string;
  status: DeliveryStatus;
  body: string;
}

/** control.release: send each held notification `duplicates` times (default 1), in an order shuffled by the seed `shuffle` (none: as held). */
export interface ReleaseOptions {
  duplicates?: number;
  shuffle?: number;
}

/** What control.release sent: answered 2xx, or not. */
export interface ReleaseResult {
  delivered: number;
  failed: number;
}

/** What the blocking policy has stopped: merchants and orders blocked, notifications dropped unsent. */
export interface NotifierBlocks {
  merchants: string[];
  orders: string[];
  /** Notifications never attempted because their order or merchant was blocked. */
  dropped: number;
}

interface Queued extends Notification {
  attempts: number;
}

/** One order's notifications, sent one at a time, in order. */
interface Lane {
  orderId: string;
  merchantId: string;
  /** The head is the one being tried; the others wait for it to be delivered or given up. */
  queue: Queued[];
  /** When the head is due (epoch ms), and a rank among heads due at the same time. */
  dueAt: number;
  dueRank: number;
  blocked: boolean;
  lastAttemptAt?: number;
  timer?: NodeJS.Timeout;
  sending?: Promise<void>;
}

/**
 * Cielo's notifier: POSTs each order's notifications to its merchant's webhook, one at a time per
 * order and in order (a failing one holds back the order's later ones), retries a failure every
 * 15 minutes until MAX_ATTEMPTS, then blocks the order; blocks the merchant per its 80 % rule.
 * On the real clock each order's deliveries run on timers, concurrently across orders; on the
 * manual clock only advance()/deliverDue() send, one delivery at a time, earliest due first.
 */
export class Notifier {
  private readonly webhooks = new Map<string, URL>();
  private readonly lanes = new Map<string, Lane>();
  private readonly blockedMerchants = new Set<string>();
  private readonly log: Delivery[] = [];
  private readonly requests = new Set<ClientRequest>();
  private heldNotifications: Notification[] = [];
  private holding = false;
  private dropped = 0;
  private rank = 0;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /** Where the merchant's notifications go from now on (an http: or https: URL). */
  registerWebhook(merchantId: string, url: string): void {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`not an http(s) webhook: ${url}`);
    this.webhooks.set(merchantId, parsed);
  }

  /** Queues (or holds, or drops when blocked) a notification; nothing when its merchant has no webhook. */
  enqueue(notification: Notification): void {
    if (!this.webhooks.has(notification.merchantId)) return;
    const lane = this.lane(notification);
    if (lane.blocked || this.blockedMerchants.has(notification.merchantId)) return void this.dropped++;
    if (this.holding) return void this.heldNotifications.push(notification);
    if (lane.queue.length === 0) this.makeDue(lane, this.clock.now());
    lane.queue.push({ ...notification, attempts: 0 });
    this.schedule(lane);
  }

  /** Manual clock: moves it `ms` forward, performing each delivery due by then, in due order, at its due time. */
  async advance(ms: number): Promise<void> {
    const clock = this.clock;
    if (clock.mode !== 'manual') throw new Error('advance needs the manual clock (clock: "manual")');
    if (!(ms >= 0)) throw new Error(`advance needs a duration ≥ 0 ms, not ${ms}`);
    const target = clock.now() + ms;
    for (let lane = this.nextDue(target); lane; lane = this.nextDue(target)) {
      clock.moveTo(lane.dueAt);
      await this.send(lane);
    }
    clock.moveTo(target);
  }

  /** Performs the deliveries due now (and, on the real clock, waits for those under way). */
  async deliverDue(): Promise<void> {
    if (this.clock.mode === 'manual') return this.advance(0);
    for (;;) {
      const now = this.clock.now();
      const lanes = [...this.lanes.values()].filter((lane) => lane.sending || (this.sendable(lane) && lane.dueAt <= now));
      if (lanes.length === 0) return;
      await Promise.all(lanes.map((lane) => this.send(lane)));
    }
  }

  /** While on, new notifications are kept (see held()) instead of queued; those already queued carry on. */
  hold(on: boolean): void {
    this.holding = on;
  }

  held(): HeldNotification[] {
    return this.heldNotifications.map(({ kind, orderId, body }) => ({ kind, orderId, body }));
  }

  /**
   * Sends every held notification (`duplicates` copies of each, in a seeded shuffle when asked),
   * one POST at a time, once each: no retries, no blocking. The held list is emptied.
   */
  async release(options: ReleaseOptions = {}): Promise<ReleaseResult> {
    const duplicates = options.duplicates ?? 1;
    if (!Number.isInteger(duplicates) || duplicates < 1) throw new Error(`duplicates must be an integer ≥ 1, not ${duplicates}`);
    const batch = this.heldNotifications.flatMap((notification) => Array<Notification>(duplicates).fill(notification));
    this.heldNotifications = [];
    if (options.shuffle !== undefined) seededShuffle(batch, options.shuffle);
    const result: ReleaseResult = { delivered: 0, failed: 0 };
    for (const notification of batch) {
      const status = await this.post(notification, 1);
      result[delivered(status) ? 'delivered' : 'failed']++;
    }
    return result;
  }

  deliveries(): Delivery[] {
    return this.log.map((delivery) => ({ ...delivery }));
  }

  blocks(): NotifierBlocks {
    return {
      merchants: [...this.blockedMerchants],
      orders: [...this.lanes.values()].filter((lane) => lane.blocked).map((lane) => lane.orderId),
      dropped: this.dropped,
    };
  }

  /** What Cielo support does on request: the merchant and all its orders receive notifications again. */
  unblock(merchantId: string): void {
    this.blockedMerchants.delete(merchantId);
    for (const lane of this.lanes.values()) if (lane.merchantId === merchantId) lane.blocked = false;
  }

  /** Stops every timer and aborts the POSTs under way. */
  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes.values()) clearTimeout(lane.timer);
    for (const request of this.requests) request.destroy();
    await Promise.all([...this.lanes.values()].map((lane) => lane.sending));
  }

  private lane(notification: Notification): Lane {
    let lane = this.lanes.get(notification.orderId);
    if (!lane) {
      lane = {
        orderId: notification.orderId,
        merchantId: notification.merchantId,
        queue: [],
        dueAt: 0,
        dueRank: 0,
        blocked: false,
      };
      this.lanes.set(notification.orderId, lane);
    }
    return lane;
  }

  private sendable(lane: Lane): boolean {
    return lane.queue.length > 0 && !lane.blocked;
  }

  private makeDue(lane: Lane, at: number): void {
    lane.dueAt = at;
    lane.dueRank = this.rank++;
  }

  /** The manual clock's next delivery: the lane due first (by `limit`), ties in the order they became due. */
  private nextDue(limit: number): Lane | undefined {
    let next: Lane | undefined;
    for (const lane of this.lanes.values())
      if (
        this.sendable(lane) &&
        lane.dueAt <= limit &&
        (!next || lane.dueAt < next.dueAt || (lane.dueAt === next.dueAt && lane.dueRank < next.dueRank))
      )
        next = lane;
    return next;
  }

  /** Real clock: a timer for the lane's head, unless one is set or a delivery is under way. */
  private schedule(lane: Lane): void {
    if (this.clock.mode === 'manual' || this.closed || lane.sending || lane.timer || !this.sendable(lane)) return;
    lane.timer = setTimeout(() => void this.send(lane), Math.max(0, lane.dueAt - this.clock.now()));
  }

  /** One attempt of the lane's head (or joins the one under way), then the next step's schedule. */
  private send(lane: Lane): Promise<void> {
    lane.sending ??= this.attempt(lane).finally(() => {
      lane.sending = undefined;
      this.schedule(lane);
    });
    return lane.sending;
  }

  private async attempt(lane: Lane): Promise<void> {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    const head = lane.queue[0];
    if (!head) return;
    if (this.blockedMerchants.has(lane.merchantId)) {
      this.dropped += lane.queue.length;
      lane.queue = [];
      return;
    }
    const startedAt = this.clock.now();
    lane.lastAttemptAt = startedAt;
    head.attempts++;
    const status = await this.post(head, head.attempts);
    if (delivered(status)) {
      lane.queue.shift();
      if (lane.queue.length > 0) this.makeDue(lane, this.clock.now());
    } else if (head.attempts < MAX_ATTEMPTS) {
      this.makeDue(lane, startedAt + RETRY_INTERVAL_MS);
    } else {
      this.dropped += lane.queue.length - 1;
      lane.queue = [];
      lane.blocked = true;
      this.checkMerchant(lane.merchantId);
    }
  }

  /** Blocks the merchant when ≥ 80 % of its orders with an attempt in the last 24 hours are blocked. */
  private checkMerchant(merchantId: string): void {
    const since = this.clock.now() - MERCHANT_WINDOW_MS;
    const recent = [...this.lanes.values()].filter(
      (lane) => lane.merchantId === merchantId && lane.lastAttemptAt !== undefined && lane.lastAttemptAt >= since,
    );
    const blocked = recent.filter((lane) => lane.blocked).length;
    if (blocked * 5 >= recent.length * 4) this.blockedMerchants.add(merchantId);
  }

  /** POSTs the notification to its merchant's webhook and logs the attempt. */
  private async post(notification: Notification, attempt: number): Promise<DeliveryStatus> {
    const at = new Date(this.clock.now()).toISOString();
    const webhook = this.webhooks.get(notification.merchantId);
    const status = webhook ? await postJson(webhook, notification.body, this.timeoutMs, this.requests) : 'error';
    const { orderId, kind, body } = notification;
    this.log.push({ orderId, kind, attempt, at, status, body });
    return status;
  }
}

function delivered(status: DeliveryStatus): boolean {
  return typeof status === 'number' && status >= 200 && status < 300;
}

/** POST `body` as application/json on a fresh connection; the answer's status once its headers arrive. */
function postJson(url: URL, body: string, timeoutMs: number, requests: Set<ClientRequest>): Promise<DeliveryStatus> {
  return new Promise((resolve) => {
    let timedOut = false;
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy(new Error('no answer in time'));
    }, timeoutMs);
    const finish = (status: DeliveryStatus) => {
      clearTimeout(timer);
      resolve(status);
    };
    requests.add(request);
    request.on('response', (response) => {
      response.on('error', () => undefined).resume(); // the status is all that counts
      finish(response.statusCode ?? 'error');
    });
    request.on('error', () => finish(timedOut ? 'timeout' : 'error'));
    request.on('close', () => {
      requests.delete(request);
      finish(timedOut ? 'timeout' : 'error');
    });
    request.end(body);
  });
}

/** Fisher–Yates with mulberry32 seeded by `seed`: the same seed always gives the same order. */
function seededShuffle<T>(items: T[], seed: number): void {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}
