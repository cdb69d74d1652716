import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notificationId, parseNotification, type Notification } from '../../functions/cielo/notification.ts';
import {
  applyNotification,
  attentionOf,
  emptyOrder,
  needsVerification,
  type CieloOrderState,
  type KeptTransaction,
} from '../../functions/cielo/order-state.ts';

/**
 * The order state does not depend on how Cielo delivers an order's notifications: an order's
 * whole life (status changes carrying the whole order, PENDING then CONFIRMED transactions),
 * written as Cielo writes its bodies, parsed, and applied once each in order or three times each
 * in any order, ends in the same state — and that state is the life's last status, its history,
 * its last snapshot and its transactions' latest values.
 */

const INTEGRATION = 'efdd6093-5539-4ac4-ad84-7423a8078dde';
const ORDER = '943f2276-5e2b-44bb-a68a-fd9b6418afa4';
const RECEIVED_AT = '2026-03-02T20:00:00.000Z';
const BASE = Date.parse('2026-03-02T13:00:00Z');

/** Seconds after BASE as the state keeps times (ISO with milliseconds). */
const iso = (seconds: number) => new Date(BASE + seconds * 1000).toISOString();
/** The same instant as Cielo writes it (`2023-04-04T16:19:37Z`). */
const cieloIso = (seconds: number) => iso(seconds).replace('.000Z', 'Z');

type Applicable = Exclude<Notification, { kind: 'unreadable' }>;

/** Parses a body as the webhook does and applies it; the id is the SHA-256 of the bytes. */
function apply(state: CieloOrderState, body: string): CieloOrderState {
  const parsed = parseNotification(body);
  if (parsed.kind === 'unreadable') throw new Error(`unreadable test body (${parsed.reason}): ${body}`);
  return applyNotification(state, parsed as Applicable, idOf(body), RECEIVED_AT);
}
const idOf = (body: string) => notificationId(Buffer.from(body, 'utf8'));
const applyAll = (bodies: readonly string[], start = emptyOrder(INTEGRATION, ORDER, '2026-03-02T10:00:00.000-03:00')) =>
  bodies.reduce(apply, start);

// ---------------------------------------------------------------------------------------------
// An order's life
// ---------------------------------------------------------------------------------------------

const RANK: Record<string, number> = { DRAFT: 0, ENTERED: 1, PAID: 2, 'RE-ENTERED': 3, CANCELED: 4, CLOSED: 5 };
const NEXT: Record<string, string[]> = {
  DRAFT: ['ENTERED', 'CANCELED'],
  ENTERED: ['PAID', 'CANCELED'],
  PAID: ['CLOSED', 'RE-ENTERED', 'CANCELED'],
  'RE-ENTERED': ['PAID', 'CANCELED'],
  CANCELED: [],
  CLOSED: [],
};
/** How a status may be spelled in a body: RE-ENTERED also as the SDK's RE_ENTERED, any case. */
const SPELLINGS: Record<string, string[]> = {
  DRAFT: ['DRAFT', 'draft'],
  ENTERED: ['ENTERED', 'Entered'],
  PAID: ['PAID', 'paid'],
  'RE-ENTERED': ['RE-ENTERED', 'RE_ENTERED', 're_entered', 're-entered'],
  CANCELED: ['CANCELED', 'canceled'],
  CLOSED: ['CLOSED', 'closed'],
};

interface Item {
  id: string;
  sku: string;
  name: string;
  unit_price: number;
  quantity: number;
  unit_of_measure: string;
}

interface Snapshot {
  number: string;
  reference: string | null;
  notes: string | null;
  price: number | null;
  priceAsString: boolean;
  remaining: number | null;
  items: Item[];
  indent: number;
}

interface StatusChange {
  status: string;
  spelled: string;
  /** Seconds after BASE. */
  at: number;
  snapshot: Snapshot;
}

type OptionalField = 'terminal_number' | 'number' | 'external_id' | 'authorization_code';

/** How one transaction notification is written. */
interface Notice {
  key: 'trasaction' | 'transaction';
  amountAsString: boolean;
  withTime: boolean;
  /** Fields this notification sends as null. */
  nulls: OptionalField[];
  lowerType: boolean;
}

interface Transaction {
  id: string;
  external_id: string;
  type: 'PAYMENT' | 'CANCELLATION';
  amount: number;
  product: { primary: string; secondary: string | null; quotas: number | null };
  brand: string;
  mask: string;
  terminal: string;
  nsu: string;
  auth: string;
  pendingAt: number;
  /** When it was confirmed (seconds after BASE), or null when it stays PENDING. */
  confirmedAt: number | null;
  pendingNotice: Notice;
  confirmedNotice: Notice;
}

interface Life {
  changes: StatusChange[];
  transactions: Transaction[];
}

const item: fc.Arbitrary<Item> = fc.record({
  id: fc.uuid(),
  sku: fc.integer({ min: 1, max: 9999 }).map(String),
  name: fc.constantFrom('TESTE CALLBACK', 'Coca-Cola 350ml', 'Pão de queijo', 'X-Salada'),
  unit_price: fc.integer({ min: 1, max: 20_000 }),
  quantity: fc.integer({ min: 1, max: 6 }),
  unit_of_measure: fc.constantFrom('EACH', 'LITRE', 'SIX_PACK'),
});

const snapshot: fc.Arbitrary<Snapshot> = fc.record({
  number: fc.constantFrom('1078069', '42', '7'),
  reference: fc.option(fc.constantFrom('REFERENCIA DO PEDIDO', 'PEDIDO 99'), { nil: null }),
  notes: fc.option(fc.constantFrom('Mesa 6', 'TESTE', 'Mesa 12 - janela'), { nil: null }),
  price: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
  priceAsString: fc.boolean(),
  remaining: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
  items: fc.array(item, { maxLength: 3 }),
  indent: fc.constantFrom(0, 2),
});

const changes: fc.Arbitrary<StatusChange[]> = fc
  .record({
    start: fc.constantFrom('DRAFT', 'ENTERED'),
    startAt: fc.integer({ min: 0, max: 600 }),
    steps: fc.array(
      fc.record({
        choice: fc.nat(),
        // Often the same second (place, pay and close in one), else seconds to a day later.
        gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 60, max: 86_400 })),
        spelling: fc.nat(),
      }),
      { maxLength: 7 },
    ),
    snapshots: fc.array(snapshot, { minLength: 8, maxLength: 8 }),
    spelling: fc.nat(),
  })
  .map(({ start, startAt, steps, snapshots, spelling }) => {
    const spell = (status: string, n: number) => SPELLINGS[status]![n % SPELLINGS[status]!.length]!;
    const life: StatusChange[] = [{ status: start, spelled: spell(start, spelling), at: startAt, snapshot: snapshots[0]! }];
    for (const step of steps) {
      const previous = life.at(-1)!;
      const options = NEXT[previous.status]!;
      if (options.length === 0) break;
      const status = options[step.choice % options.length]!;
      // Two changes share a second only when the later one ranks higher.
      const gap = step.gap === 0 && RANK[status]! <= RANK[previous.status]! ? 1 : step.gap;
      life.push({ status, spelled: spell(status, step.spelling), at: previous.at + gap, snapshot: snapshots[life.length]! });
    }
    return life;
  });

const notice: fc.Arbitrary<Notice> = fc.record({
  key: fc.constantFrom('trasaction' as const, 'transaction' as const),
  amountAsString: fc.boolean(),
  withTime: fc.boolean(),
  nulls: fc.subarray<OptionalField>(['terminal_number', 'number', 'external_id', 'authorization_code']),
  lowerType: fc.boolean(),
});

const transaction: fc.Arbitrary<Transaction> = fc.record({
  id: fc.uuid(),
  external_id: fc.uuid(),
  type: fc.constantFrom('PAYMENT' as const, 'PAYMENT' as const, 'CANCELLATION' as const),
  amount: fc.integer({ min: 1, max: 100_000 }),
  product: fc.constantFrom(
    { primary: 'CREDITO', secondary: 'A VISTA', quotas: 0 },
    { primary: 'DEBITO', secondary: 'A VISTA', quotas: 0 },
    { primary: 'CREDITO', secondary: 'PARCELADO LOJA', quotas: 3 },
    { primary: 'PIX', secondary: null, quotas: null },
  ),
  brand: fc.constantFrom('MASTERCARD', 'VISA', 'ELO', 'NOVABANDEIRA'),
  mask: fc.constantFrom('************3026', '424242******4242'),
  terminal: fc.constantFrom('238232', '77102648'),
  nsu: fc.constantFrom('044976', '672836'),
  auth: fc.constantFrom('123562', '008619'),
  pendingAt: fc.integer({ min: 0, max: 3_000 }),
  confirmedAt: fc.option(fc.integer({ min: 0, max: 900 }), { nil: null }),
  pendingNotice: notice,
  confirmedNotice: notice,
});

const life: fc.Arbitrary<Life> = fc
  .record({ changes, transactions: fc.uniqueArray(transaction, { selector: (t) => t.id, maxLength: 3 }) })
  .map(({ changes, transactions }) => ({
    changes,
    // confirmedAt is generated as a delay after pendingAt.
    transactions: transactions.map((t) => ({ ...t, confirmedAt: t.confirmedAt === null ? null : t.pendingAt + t.confirmedAt })),
  }));

// ---------------------------------------------------------------------------------------------
// The bodies, as Cielo writes them (fixtures/cielo/*.json)
// ---------------------------------------------------------------------------------------------

/** A transaction as the status change carries it: the whole transaction, camelCase payment fields. */
function snapshotTransaction(t: Transaction, confirmed: boolean) {
  return {
    id: t.id,
    card: { mask: t.mask, brand: t.brand },
    uuid: t.id,
    amount: t.amount,
    number: t.nsu,
    status: confirmed ? 'CONFIRMED' : 'PENDING',
    created_at: cieloIso(t.pendingAt),
    updated_at: cieloIso(confirmed ? t.confirmedAt! : t.pendingAt),
    description: '',
    external_id: t.external_id,
    payment_fields: {
      pan: '************3332',
      v40Code: 8,
      typeName: `VENDA A ${t.product.primary}`,
      productName: `${t.product.primary} ${t.product.secondary ?? ''}`.trim(),
      requestDate: 1680618831267,
      numberOfQuotas: t.product.quotas,
      primaryProductName: t.product.primary,
      secondaryProductName: t.product.secondary,
      paymentTransactionId: t.id,
    },
    terminal_number: t.terminal,
    transaction_type: t.type,
    authorization_code: confirmed ? t.auth : null,
  };
}

function statusBody(change: StatusChange, transactions: readonly Transaction[]): string {
  const s = change.snapshot;
  const body = {
    id: ORDER,
    items: s.items.map((i) => ({
      id: i.id,
      sku: i.sku,
      name: i.name,
      uuid: i.id,
      details: null,
      order_id: ORDER,
      quantity: i.quantity,
      sku_type: null,
      reference: null,
      created_at: cieloIso(0),
      unit_price: i.unit_price,
      updated_at: cieloIso(0),
      description: i.name,
      unit_of_measure: i.unit_of_measure,
    })),
    notes: s.notes,
    price: s.price === null ? null : s.priceAsString ? String(s.price) : s.price,
    number: s.number,
    status: change.spelled,
    reference: s.reference,
    created_at: cieloIso(0),
    updated_at: cieloIso(change.at),
    ...(s.remaining === null ? {} : { remaining: s.remaining }),
    transactions: transactions
      .filter((t) => t.pendingAt <= change.at)
      .map((t) => snapshotTransaction(t, t.confirmedAt !== null && t.confirmedAt <= change.at)),
  };
  return JSON.stringify(body, null, s.indent);
}

function transactionBody(t: Transaction, confirmed: boolean): string {
  const n = confirmed ? t.confirmedNotice : t.pendingNotice;
  const value = (field: OptionalField, v: string | null) => (n.nulls.includes(field) ? null : v);
  const inner = {
    id: t.id,
    external_id: value('external_id', t.external_id),
    description: '',
    status: confirmed ? 'CONFIRMED' : 'PENDING',
    terminal_number: value('terminal_number', t.terminal),
    authorization_code: value('authorization_code', confirmed ? t.auth : null),
    number: value('number', t.nsu),
    amount: n.amountAsString ? String(t.amount) : t.amount,
    transaction_type: n.lowerType ? t.type.toLowerCase() : t.type,
    payment_fields: {
      primary_product_name: t.product.primary,
      secondary_product_name: t.product.secondary,
      number_of_quotas: t.product.quotas === null ? null : String(t.product.quotas),
    },
    card: { brand: t.brand, mask: t.mask },
    ...(n.withTime ? { updated_at: cieloIso(confirmed ? t.confirmedAt! : t.pendingAt) } : {}),
  };
  return JSON.stringify({ id: t.id, order_id: ORDER, [n.key]: inner });
}

interface Delivery {
  body: string;
  /** When it happened (seconds after BASE), and its place among what happened in that second. */
  at: number;
  seq: number;
}

/** Every notification of the life, in the order things happened. */
function deliveries(l: Life): Delivery[] {
  const all: Delivery[] = [];
  l.changes.forEach((c, i) => all.push({ body: statusBody(c, l.transactions), at: c.at, seq: i }));
  for (const t of l.transactions) {
    all.push({ body: transactionBody(t, false), at: t.pendingAt, seq: 100 });
    if (t.confirmedAt !== null) all.push({ body: transactionBody(t, true), at: t.confirmedAt, seq: 101 });
  }
  return all.sort((a, b) => a.at - b.at || a.seq - b.seq);
}

// ---------------------------------------------------------------------------------------------
// What the life says the state must be
// ---------------------------------------------------------------------------------------------

function expectedItems(s: Snapshot) {
  return s.items.map((i) => ({
    id: i.id,
    sku: i.sku,
    name: i.name,
    description: i.name,
    unit_price: i.unit_price,
    quantity: i.quantity,
    unit_of_measure: i.unit_of_measure,
    details: null,
  }));
}

/** Each field: the CONFIRMED version's value when any source of it had one, else the PENDING version's. */
function expectedTransaction(t: Transaction, l: Life): KeptTransaction {
  const confirmed = t.confirmedAt !== null;
  const snapshots = (version: 'PENDING' | 'CONFIRMED') =>
    l.changes.filter((c) =>
      version === 'CONFIRMED'
        ? confirmed && t.confirmedAt! <= c.at
        : t.pendingAt <= c.at && !(confirmed && t.confirmedAt! <= c.at),
    ).length;
  const confirmedSnapshots = snapshots('CONFIRMED');
  const pendingSnapshots = snapshots('PENDING');
  const pick = (field: OptionalField, value: string) => {
    if (confirmed && (confirmedSnapshots > 0 || !t.confirmedNotice.nulls.includes(field))) return value;
    if (field === 'authorization_code') return null; // a PENDING transaction has none
    if (pendingSnapshots > 0 || !t.pendingNotice.nulls.includes(field)) return value;
    return null;
  };
  const updatedAt =
    confirmed && (confirmedSnapshots > 0 || t.confirmedNotice.withTime)
      ? iso(t.confirmedAt!)
      : pendingSnapshots > 0 || t.pendingNotice.withTime
        ? iso(t.pendingAt)
        : null;
  const status = confirmed ? 'CONFIRMED' : 'PENDING';
  return {
    id: t.id,
    external_id: pick('external_id', t.external_id),
    status,
    terminal_number: pick('terminal_number', t.terminal),
    authorization_code: pick('authorization_code', t.auth),
    number: pick('number', t.nsu),
    amount: t.amount,
    transaction_type: t.type,
    payment_fields: {
      primary_product_name: t.product.primary,
      secondary_product_name: t.product.secondary,
      number_of_quotas: t.product.quotas,
    },
    card: { brand: t.brand, mask: t.mask },
    updated_at: updatedAt,
    verification: {
      // A confirmed payment or cancellation moves money: verified before anything acts on it.
      state: confirmed ? 'PENDING' : 'NOT_NEEDED',
      claim: `${status}|${t.type}|${t.amount}`,
    },
  };
}

/** The parts of the state a delivery order must not change. */
const outcome = (s: CieloOrderState) => ({
  status: s.status,
  previousStatus: s.previousStatus,
  history: s.history,
  items: s.items,
  number: s.number,
  reference: s.reference,
  notes: s.notes,
  price: s.price,
  remaining: s.remaining,
  transactions: s.transactions,
  needsVerification: needsVerification(s),
});

describe('Cielo order state: any delivery order, any number of times', () => {
  it('applying every notification of a life three times, shuffled, ends as applying each once in order (600 lives)', () => {
    const scenario = life.chain((l) => {
      const inOrder = deliveries(l).map((d) => d.body);
      const indexes = [...Array(inOrder.length * 3).keys()];
      return fc.record({
        life: fc.constant(l),
        inOrder: fc.constant(inOrder),
        shuffled: fc
          .shuffledSubarray(indexes, { minLength: indexes.length, maxLength: indexes.length })
          .map((order) => order.map((i) => inOrder[i % inOrder.length]!)),
      });
    });
    fc.assert(
      fc.property(scenario, ({ life: l, inOrder, shuffled }) => {
        expect(shuffled).toHaveLength(inOrder.length * 3);
        const once = applyAll(inOrder);
        const thrice = applyAll(shuffled);
        expect(outcome(thrice)).toEqual(outcome(once));

        // The state is what the life says.
        const last = l.changes.at(-1)!;
        const history = l.changes.map((c) => ({
          status: c.status,
          updatedAt: iso(c.at),
          notificationId: idOf(statusBody(c, l.transactions)),
        }));
        expect(once.history).toEqual(history);
        expect(once.status).toBe(last.status);
        expect(once.previousStatus).toBe(l.changes.at(-2)?.status ?? null);
        // In updated_at order, each status change once.
        for (let i = 1; i < once.history.length; i++)
          expect(once.history[i]!.updatedAt >= once.history[i - 1]!.updatedAt).toBe(true);
        expect(new Set(once.history.map((h) => h.notificationId)).size).toBe(l.changes.length);

        // Each order field is the latest snapshot's that had a value (a later null, or an empty item
        // list, keeps the earlier value).
        const latest = <T>(pick: (snap: Snapshot) => T, said: (value: T) => boolean = (v) => v !== null) =>
          [...l.changes]
            .reverse()
            .map((c) => pick(c.snapshot))
            .find(said);
        expect(once.items).toEqual(
          expectedItems([...l.changes].reverse().find((c) => expectedItems(c.snapshot).length > 0)?.snapshot ?? last.snapshot),
        );
        expect(once.number).toBe(latest((snap) => snap.number) ?? null);
        expect(once.reference).toBe(latest((snap) => snap.reference) ?? null);
        expect(once.notes).toBe(latest((snap) => snap.notes) ?? null);
        expect(once.price).toBe(latest((snap) => snap.price) ?? null);
        expect(once.remaining).toBe(latest((snap) => snap.remaining) ?? null);
        const transactions = [...l.transactions].sort((a, b) => (a.id < b.id ? -1 : 1)).map((t) => expectedTransaction(t, l));
        expect(once.transactions).toEqual(transactions);

        const claimsMoney =
          last.status === 'PAID' || last.status === 'CLOSED' || l.transactions.some((t) => t.confirmedAt !== null);
        expect(needsVerification(once)).toBe(claimsMoney);
        expect(needsVerification(thrice)).toBe(claimsMoney);
      }),
      { numRuns: 600 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Exact small cases
// ---------------------------------------------------------------------------------------------

/** A status change body with the given status, time and notes (the whole order, no items). */
const status = (spelled: string, at: string, notes = `notes at ${at}`) =>
  JSON.stringify({
    id: ORDER,
    status: spelled,
    number: '1078069',
    notes,
    price: 2898,
    updated_at: at,
    items: [],
    transactions: [],
  });

const txBody = (fields: Record<string, unknown>) =>
  JSON.stringify({
    id: 't-1',
    order_id: ORDER,
    trasaction: { id: 't-1', amount: '2500', transaction_type: 'PAYMENT', ...fields },
  });

describe('Cielo order state: exact cases', () => {
  it('a late, older notification never moves the order back (nor replaces the newer snapshot)', () => {
    const entered = status('ENTERED', '2026-03-02T13:00:00Z', 'Mesa 6');
    const paid = status('PAID', '2026-03-02T13:05:00Z', 'Mesa 6 - pago');
    const state = applyAll([paid, entered]);
    expect(state.status).toBe('PAID');
    expect(state.previousStatus).toBe('ENTERED');
    expect(state.history).toEqual([
      { status: 'ENTERED', updatedAt: '2026-03-02T13:00:00.000Z', notificationId: idOf(entered) },
      { status: 'PAID', updatedAt: '2026-03-02T13:05:00.000Z', notificationId: idOf(paid) },
    ]);
    expect(state.notes).toBe('Mesa 6 - pago');
  });

  it('in the same second, the status order settles it: CLOSED after PAID after ENTERED', () => {
    const at = '2026-03-02T13:00:00Z';
    const [entered, paid, closed] = [status('ENTERED', at), status('PAID', at), status('CLOSED', at)];
    const state = applyAll([closed, entered, paid]);
    expect(state.history.map((h) => h.status)).toEqual(['ENTERED', 'PAID', 'CLOSED']);
    expect(state.status).toBe('CLOSED');
    expect(state.previousStatus).toBe('PAID');
  });

  it('RE_ENTERED (underscore) after PAID, later, is the current status with PAID the previous, whatever the delivery order', () => {
    const entered = status('ENTERED', '2026-03-02T13:00:00Z');
    const paid = status('PAID', '2026-03-02T13:01:00Z');
    const reEntered = status('RE_ENTERED', '2026-03-02T13:02:00Z');
    for (const bodies of [
      [entered, paid, reEntered],
      [reEntered, paid, entered],
      [paid, reEntered, entered],
    ]) {
      const state = applyAll(bodies);
      expect(state.status).toBe('RE-ENTERED');
      expect(state.previousStatus).toBe('PAID');
      expect(state.history).toEqual([
        { status: 'ENTERED', updatedAt: '2026-03-02T13:00:00.000Z', notificationId: idOf(entered) },
        { status: 'PAID', updatedAt: '2026-03-02T13:01:00.000Z', notificationId: idOf(paid) },
        { status: 'RE-ENTERED', updatedAt: '2026-03-02T13:02:00.000Z', notificationId: idOf(reEntered) },
      ]);
      // RE-ENTERED withdraws the PAID claim: nothing to verify.
      expect(needsVerification(state)).toBe(false);
    }
  });

  it('a duplicate changes nothing', () => {
    const paid = status('PAID', '2026-03-02T13:01:00Z');
    const tx = txBody({ status: 'CONFIRMED', authorization_code: 'A1', updated_at: '2026-03-02T13:01:00Z' });
    const once = applyAll([paid, tx]);
    expect(apply(once, paid)).toEqual(once);
    expect(apply(once, tx)).toEqual(once);
    expect(applyAll([paid, tx, tx, paid, paid])).toEqual(once);
  });

  it('the legacy STATUS_CHANGED supplies the previous status when no history comes before it', () => {
    const legacy =
      '{"id":"n-1","order_id":"' + ORDER + '","type":"STATUS_CHANGED","status":{"old":"ENTERED","new_status":"PAID"}}';
    const state = applyAll([legacy]);
    expect(state.status).toBe('PAID');
    expect(state.previousStatus).toBe('ENTERED');
    // No updated_at: it is dated when it arrived.
    expect(state.history).toEqual([{ status: 'PAID', updatedAt: RECEIVED_AT, notificationId: idOf(legacy) }]);
    expect(state.observations).toEqual([
      { status: 'PAID', updatedAt: RECEIVED_AT, notificationId: idOf(legacy), previousStatus: 'ENTERED', timed: false },
    ]);
  });

  it('the history says the previous status better than a legacy notification when it knows one', () => {
    const entered = status('ENTERED', '2026-03-02T13:00:00Z');
    const legacy = JSON.stringify({
      id: 'n-2',
      order_id: ORDER,
      type: 'STATUS_CHANGED',
      status: { old: 'DRAFT', new: 'PAID' },
      updated_at: '20260302T13:05:00.000Z',
    });
    for (const bodies of [
      [entered, legacy],
      [legacy, entered],
    ]) {
      const state = applyAll(bodies);
      expect(state.status).toBe('PAID');
      expect(state.previousStatus).toBe('ENTERED');
      expect(state.history.map((h) => [h.status, h.updatedAt])).toEqual([
        ['ENTERED', '2026-03-02T13:00:00.000Z'],
        ['PAID', '2026-03-02T13:05:00.000Z'],
      ]);
    }
  });

  it("a later notification's null does not erase what an earlier one said of a transaction's field", () => {
    const pending = txBody({
      status: 'PENDING',
      external_id: 'ext-1',
      terminal_number: '238232',
      number: '044976',
      authorization_code: null,
      updated_at: '2026-03-02T13:00:00Z',
    });
    const confirmed = txBody({
      status: 'CONFIRMED',
      external_id: null,
      terminal_number: null,
      number: null,
      authorization_code: '123562',
    });
    for (const bodies of [
      [pending, confirmed],
      [confirmed, pending],
    ]) {
      const [t] = applyAll(bodies).transactions;
      expect(t).toEqual({
        id: 't-1',
        external_id: 'ext-1',
        status: 'CONFIRMED',
        terminal_number: '238232',
        authorization_code: '123562',
        number: '044976',
        amount: 2500,
        transaction_type: 'PAYMENT',
        payment_fields: { primary_product_name: null, secondary_product_name: null, number_of_quotas: null },
        card: { brand: null, mask: null },
        // The CONFIRMED notification had no updated_at: the PENDING one's stays.
        updated_at: '2026-03-02T13:00:00.000Z',
        verification: { state: 'PENDING', claim: 'CONFIRMED|PAYMENT|2500' },
      });
    }
  });

  it("a later notification's null card and payment fields do not erase the brand, mask and product an earlier one gave", () => {
    const pending = txBody({
      status: 'PENDING',
      card: { brand: 'VISA', mask: '424242******4242' },
      payment_fields: { primary_product_name: 'CREDITO', secondary_product_name: 'A VISTA', number_of_quotas: '0' },
      updated_at: '2026-03-02T13:00:00Z',
    });
    const confirmed = txBody({ status: 'CONFIRMED', card: null, payment_fields: null, authorization_code: '123562' });
    for (const bodies of [
      [pending, confirmed],
      [confirmed, pending],
    ]) {
      const [t] = applyAll(bodies).transactions;
      expect({ status: t!.status, card: t!.card, payment_fields: t!.payment_fields }).toEqual({
        status: 'CONFIRMED',
        card: { brand: 'VISA', mask: '424242******4242' },
        payment_fields: { primary_product_name: 'CREDITO', secondary_product_name: 'A VISTA', number_of_quotas: 0 },
      });
    }
  });
});

describe('Cielo order state: what a reviewer tried', () => {
  it('transaction ids that name Object properties (__proto__, toString) stay data: no prototype is touched', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const proto = JSON.stringify({ id: 'n', order_id: ORDER, trasaction: { id: '__proto__', status: 'CONFIRMED', amount: 1 } });
    const named = JSON.stringify({ id: 'n', order_id: ORDER, trasaction: { id: 'toString', status: 'CONFIRMED', amount: 100 } });
    const state = applyAll([proto, named]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).status).toBeUndefined();
    expect(state.transactions.map((t) => [t.id, t.amount])).toEqual([
      ['__proto__', 1],
      ['toString', 100],
    ]);
    // Another order's `toString` keeps its own amount.
    expect(applyAll([named]).transactions.map((t) => t.amount)).toEqual([100]);
  });

  it('a later notification with nulls (or no items) keeps the order’s number, notes, price and items', () => {
    const entered = JSON.stringify({
      id: ORDER,
      status: 'ENTERED',
      updated_at: '2026-03-02T13:00:00Z',
      number: '55',
      reference: 'R55',
      notes: 'Mesa 55',
      price: 800,
      remaining: 800,
      items: [{ sku: '1', name: 'Suco', unit_price: 800, quantity: 1, unit_of_measure: 'EACH' }],
    });
    const reentered = JSON.stringify({
      id: ORDER,
      status: 'RE-ENTERED',
      updated_at: '2026-03-02T13:05:00Z',
      number: null,
      reference: null,
      notes: null,
      price: null,
      remaining: 0,
      items: null,
    });
    for (const order of [
      [entered, reentered],
      [reentered, entered],
    ]) {
      const state = applyAll(order);
      expect([state.status, state.number, state.reference, state.notes, state.price, state.remaining]).toEqual([
        'RE-ENTERED',
        '55',
        'R55',
        'Mesa 55',
        800,
        0,
      ]);
      expect(state.items.map((i) => i.sku)).toEqual(['1']);
    }
  });

  it('a legacy STATUS_CHANGED (no updated_at) for an earlier status does not move a dated order back', () => {
    const paid = status('PAID', '2026-03-01T10:00:02Z');
    const lateLegacy = JSON.stringify({
      order_id: ORDER,
      type: 'STATUS_CHANGED',
      status: { old: 'DRAFT', new_status: 'ENTERED' },
    });
    for (const order of [
      [paid, lateLegacy],
      [lateLegacy, paid],
    ]) {
      const state = applyAll(order);
      expect(state.status).toBe('PAID');
      expect(state.history.map((h) => h.status)).toEqual(['PAID']);
    }
    // A later status it does not rank below still counts (RE-ENTERED after PAID).
    const reentered = JSON.stringify({
      order_id: ORDER,
      type: 'STATUS_CHANGED',
      status: { old: 'PAID', new_status: 'RE_ENTERED' },
    });
    expect(applyAll([paid, reentered]).status).toBe('RE-ENTERED');
  });

  it('a CONFIRMED CANCELLATION is a claim too: it flags the NFC-e for cancellation only once the API confirmed it', () => {
    const cancel = txBody({ id: 't-9', status: 'CONFIRMED', transaction_type: 'CANCELLATION', amount: '2500' });
    const state = {
      ...applyAll([cancel]),
      invoice: { paymentId: 'p', via: 'LIO' as const, status: 'AUTHORIZED' as const, key: 'K', error: null },
    };
    expect(state.transactions[0]!.verification.state).toBe('PENDING');
    expect(needsVerification(state)).toBe(true);
    expect(attentionOf(state)).toEqual([]);
    state.transactions[0]!.verification.state = 'CONFIRMED';
    expect(attentionOf(state)).toEqual([
      'NFCE_CANCELLATION: transaction t-9 cancelled the sale whose NFC-e K was authorized; the NFC-e must be cancelled',
    ]);
  });

  it('paid by the POS through Order Mesa and at the LIO too: flagged PAID_TWICE once the LIO payment is confirmed', () => {
    const payment = txBody({ status: 'CONFIRMED' });
    const state = {
      ...applyAll([payment]),
      invoice: { paymentId: 'p', via: 'ORDER_MESA' as const, status: 'AUTHORIZED' as const, key: 'K', error: null },
    };
    expect(attentionOf(state)).toEqual([]);
    state.transactions[0]!.verification.state = 'CONFIRMED';
    expect(attentionOf(state)).toEqual([
      'PAID_TWICE: the POS paid this order through Order Mesa (NFC-e K) and the LIO took payment t-1 too; refund one',
    ]);
  });
});
