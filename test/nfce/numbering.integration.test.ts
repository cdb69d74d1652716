import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoNumbering } from '../../functions/nfce/numbering.ts';
import { localName, tables } from '../../lib/manifest.ts';
import { startEmulators, type Emulators } from '../../lib/local/emulators.ts';
import { localClients, provision } from '../../lib/local/provision.ts';

let emulators: Emulators;
let db: DynamoDBDocumentClient;
let numbering: DynamoNumbering;
const table = localName.table('numbering');
const fresh = (nNF: number) => ({ cNF: String(10_000_000 + nNF), dhEmi: '2026-11-22T12:00:00-03:00' });

beforeAll(async () => {
  emulators = await startEmulators();
  const clients = localClients(emulators);
  await provision(clients, { tables: { numbering: tables.numbering }, queues: {}, buckets: {} });
  db = DynamoDBDocumentClient.from(clients.dynamodb);
  numbering = new DynamoNumbering(db, table);
});
afterAll(() => emulators?.close());

describe('nNF per CNPJ and série', () => {
  it('numbers payments in sequence, per series, and a payment keeps its number on every retry', async () => {
    expect(await numbering.reserve('p-1', '82373077000171', 1, false, fresh)).toEqual({ nNF: 1, ...fresh(1) });
    expect(await numbering.reserve('p-2', '82373077000171', 1, false, fresh)).toEqual({ nNF: 2, ...fresh(2) });
    expect(await numbering.reserve('p-3', '82373077000171', 2, false, fresh)).toEqual({ nNF: 1, ...fresh(1) });
    const retry = await numbering.reserve('p-1', '82373077000171', 1, false, () => ({
      cNF: '99999999',
      dhEmi: '2030-01-01T00:00:00-03:00',
    }));
    expect(retry).toEqual({ nNF: 1, ...fresh(1) });
  });

  it('a first attempt reads nothing before taking a number; two first attempts racing still end with one number and one gap', async () => {
    const [a, b] = await Promise.all([
      numbering.reserve('first', '44555666000173', 1, true, fresh),
      numbering.reserve('first', '44555666000173', 1, true, fresh),
    ]);
    expect(a).toEqual(b);
    const { Items = [] } = await db.send(new ScanCommand({ TableName: table }));
    // Neither read first, so both took a number: the loser's is a gap, under the same payment.
    expect(Items.find((i) => i.pk === 'NNF#44555666000173#1')!.lastNNF).toBe(2);
    expect(
      Items.filter((i) => String(i.pk).startsWith('GAP#NNF#44555666000173#1#')).map((g) => [g.nNF, g.paymentId, g.reason]),
    ).toEqual([[a.nNF === 1 ? 2 : 1, 'first', 'race']]);
  });

  it('fifty payments at once get fifty different numbers', async () => {
    const numbers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => numbering.reserve(`c-${i}`, '11222333000181', 1, false, fresh)),
    );
    expect(numbers.map((n) => n.nNF).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('two deliveries of one job racing: one number for the payment, the other recorded as a gap', async () => {
    const [a, b] = await Promise.all([
      numbering.reserve('race', '33444555000172', 1, false, fresh),
      numbering.reserve('race', '33444555000172', 1, false, fresh),
    ]);
    expect(a).toEqual(b);
    const { Items = [] } = await db.send(new ScanCommand({ TableName: table }));
    const gaps = Items.filter((i) => String(i.pk).startsWith('GAP#NNF#33444555000172#1#'));
    // Both read "no reservation" before either wrote one only if they interleaved; then exactly one gap.
    const counter = Items.find((i) => i.pk === 'NNF#33444555000172#1')!.lastNNF as number;
    expect(gaps.map((g) => g.nNF)).toEqual(counter === 2 ? [a.nNF === 1 ? 2 : 1] : []);
    expect(gaps.every((g) => g.paymentId === 'race')).toBe(true);
  });
});

describe('sends and withdrawals', () => {
  const at = '2026-11-29T12:00:00-03:00';

  it('a number whose sends never connected is withdrawn: a gap, and a retry takes a new number', async () => {
    const { nNF } = await numbering.reserve('w-1', '11222333000181', 7, false, fresh);
    await numbering.beginSend('w-1', 'a1', at);
    await numbering.notSent('w-1', 'a1');
    expect(await numbering.withdraw('w-1', 'never sent')).toBe(true);
    expect(await numbering.reserved('w-1')).toBeUndefined();
    const { Items = [] } = await db.send(new ScanCommand({ TableName: table }));
    expect(Items.find((i) => i.pk === `GAP#NNF#11222333000181#7#${nNF}`)).toMatchObject({
      reason: 'never sent',
      paymentId: 'w-1',
    });
    expect((await numbering.reserve('w-1', '11222333000181', 7, false, fresh)).nNF).toBe(nNF + 1);
    await expect(numbering.beginSend('w-gone', 'a', at)).rejects.toThrow('the number of payment w-gone was withdrawn');
  });

  it('a send in flight, or one that crashed in flight, keeps the number: it may be authorized', async () => {
    await numbering.reserve('w-2', '11222333000181', 7, false, fresh);
    await numbering.beginSend('w-2', 'a1', at);
    expect(await numbering.withdraw('w-2', 'never sent')).toBe(false);
    // The next attempt finds a1's mark (it died mid-call) and keeps it as sentAt, even if its own
    // connection is then refused.
    await numbering.beginSend('w-2', 'a2', at);
    await numbering.notSent('w-2', 'a2');
    expect(await numbering.reserved('w-2')).toMatchObject({ sentAt: at });
    expect(await numbering.withdraw('w-2', 'never sent')).toBe(false);
  });
});

describe('offline contingency and renumbering', () => {
  const contingent = (nNF: number) => ({
    cNF: String(20_000_000 + nNF),
    dhEmi: '2026-11-22T12:00:09-03:00',
    dhCont: '2026-11-22T12:00:09-03:00',
    xJust: 'SEFAZ inacessivel: emissao em contingencia offline',
  });
  const gaps = async (prefix: string) =>
    ((await db.send(new ScanCommand({ TableName: table }))).Items ?? [])
      .filter((i) => String(i.pk).startsWith(prefix))
      .map((g) => ({ nNF: g.nNF, reason: g.reason, chaves: g.chaves ? [...(g.chaves as Set<string>)].sort() : undefined }))
      .sort((a, b) => a.nNF - b.nNF);

  it('gives a payment one contingency number, next in its series, kept by every retry and by a racing delivery', async () => {
    const online = await numbering.reserve('k-1', '22333444000181', 1, true, fresh);
    const [first, racing] = await Promise.all([
      numbering.reserveContingency('k-1', '22333444000181', 1, contingent),
      numbering.reserveContingency('k-1', '22333444000181', 1, contingent),
    ]);
    expect(first).toEqual(racing);
    expect([online.nNF + 1, online.nNF + 2]).toContain(first.nNF);
    expect(await numbering.reserveContingency('k-1', '22333444000181', 1, contingent)).toEqual(first);
    expect(await numbering.reserve('k-1', '22333444000181', 1, false, fresh)).toEqual({ ...online, contingency: first });
    // The loser of the race, if there was one, is a gap; the online number never is (the sender settles it).
    const lost = await gaps('GAP#NNF#22333444000181#1#');
    expect(lost.every((g) => g.reason === 'race' && g.nNF !== online.nNF && g.nNF !== first.nNF)).toBe(true);
    expect(await numbering.withdraw('k-1', 'never sent')).toBe(false);
  });

  it('refuses contingency to a payment without a number', async () => {
    await expect(numbering.reserveContingency('k-none', '22333444000181', 1, contingent)).rejects.toThrow(
      'payment k-none holds no number; it cannot go to contingency',
    );
  });

  it('renumbers: the old number a gap with its key, then a fresh number; a stale or contingency payment is left alone', async () => {
    const old = await numbering.reserve('r-1', '33444555000181', 2, true, fresh);
    const chave = '35261133444555000181650020000000011100000011';
    await numbering.renumber('r-1', old.nNF + 99, chave, 'late: not at SEFAZ');
    expect(await numbering.reserve('r-1', '33444555000181', 2, false, fresh)).toEqual(old);
    await numbering.renumber('r-1', old.nNF, chave, 'late: not at SEFAZ');
    await numbering.renumber('r-1', old.nNF, chave, 'late: not at SEFAZ'); // a retry after a crash
    const renewed = await numbering.reserve('r-1', '33444555000181', 2, false, fresh);
    expect(renewed.nNF).toBe(old.nNF + 1);
    expect(await gaps('GAP#NNF#33444555000181#2#')).toEqual([{ nNF: old.nNF, reason: 'late: not at SEFAZ', chaves: [chave] }]);

    await numbering.reserveContingency('r-1', '33444555000181', 2, contingent);
    await numbering.renumber('r-1', renewed.nNF, chave, 'late: not at SEFAZ');
    expect((await numbering.reserved('r-1'))?.nNF).toBe(renewed.nNF);
  });

  it('a gap keeps every key built for its number', async () => {
    await numbering.recordGap('44555666000181', 3, 7, 'g-1', '704', 'A'.repeat(44));
    await numbering.recordGap('44555666000181', 3, 7, 'g-1', 'online attempt replaced by contingency', 'B'.repeat(44));
    const [gap] = await gaps('GAP#NNF#44555666000181#3#');
    expect(gap).toEqual({ nNF: 7, reason: 'online attempt replaced by contingency', chaves: ['A'.repeat(44), 'B'.repeat(44)] });
  });
});
