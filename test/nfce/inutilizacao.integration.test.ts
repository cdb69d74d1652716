import { existsSync } from 'node:fs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { DynamoNumbering } from '../../functions/nfce/numbering.ts';
import { envName } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { provisionDemoFiscal, SCHEMAS, storedCertificatePem, xmlsecMissing, xmlsecVerifies } from '../support/nfce.ts';
import { schemasMissing, xsdFailures } from '../support/xsd.ts';
import { issueToken, post, pollUntilFinished, SEED_INTEGRATION, send, startTestRuntime } from '../support/runtime.ts';

/**
 * The inutilização job through the local stack, against the SEFAZ simulator: gaps recorded by the
 * real flows (a rejection, an online attempt replaced by contingency, numbers withdrawn unsent)
 * are declared in merged ranges; a gap whose key exists at SEFAZ is never declared, and SEFAZ's own
 * refusal of a used number (241) is the last guard.
 */

const CNPJ = '82373077000171';
let stack: LocalRuntime;
let token: string;
let admin: string;
let numbering: DynamoNumbering;
let table = 0;

beforeAll(async () => {
  stack = await startTestRuntime({
    ...(existsSync(SCHEMAS) ? { schemasDir: SCHEMAS } : {}),
    env: {
      RETRY_BASE_SECONDS: '0.1',
      SEFAZ_TIMEOUT_SECONDS: '1',
      CONTINGENCY_ONLINE_FINAL_AFTER_SECONDS: '1',
      // Every payment asks SEFAZ, even right after it was seen away.
      CONTINGENCY_AWAY_SECONDS: '0',
    },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
  admin = await new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!).issueAdminToken('ops');
  await provisionDemoFiscal(stack, SEED_INTEGRATION);
  numbering = new DynamoNumbering(stack.documents, stack.env[envName.table('numbering')]!);
});
afterAll(() => stack?.close());
beforeEach(async () => {
  await stack.sefaz.control.reset();
});

async function pay(): Promise<{ body: any; paymentId: string }> {
  const orderKey = `I${++table}`;
  expect((await send(stack, 'PUT', `/orders/TABLE/${orderKey}`, fixture('order-mesa/order-table-2.json'), token)).status).toBe(
    201,
  );
  const payment = { ...seedPayment(), orderKey };
  const accepted = await post(stack, '/order/payment', payment, token);
  const done = await pollUntilFinished(stack, payment, token, 10_000);
  return { body: done.body, paymentId: accepted.body.paymentId };
}
const gap = async (nNF: number) =>
  (
    await stack.documents.send(
      new GetCommand({ TableName: stack.env[envName.table('numbering')], Key: { pk: `GAP#NNF#${CNPJ}#1#${nNF}` } }),
    )
  ).Item;
const job = () => stack.runSchedule('nfceInutilizacao') as Promise<Record<string, number>>;
const listing = async () => (await send(stack, 'GET', '/admin/nfce/numbering', undefined, admin)).body;
const fresh = () => ({ cNF: '31415926', dhEmi: `${new Date(Date.now() - 3 * 3600_000).toISOString().slice(0, 19)}-03:00` });

const noSchemas = schemasMissing();
const noXmlsec = xmlsecMissing();
if (noSchemas) console.warn(`skipping the ProcInutNFe XSD check: ${noSchemas}`);
if (noXmlsec) console.warn(`skipping the inutNFe xmlsec1 check: ${noXmlsec}`);

describe('declaring skipped numbers unused', () => {
  it('declares the gaps of a rejection, a replaced online attempt and withdrawn numbers, in merged ranges; once', async () => {
    // 1. SEFAZ rejects an NFC-e: its number is a gap, with its key.
    stack.sefaz.control.rejectNext('778', 'Rejeição: Informado NCM inexistente');
    const rejected = await pay();
    expect(rejected.body.error.code).toBe('778');
    // 2. SEFAZ away: the sale goes to contingency; once back, the online attempt is unknown → a gap.
    await stack.sefaz.control.down('refuse');
    const contingency = await pay();
    expect(contingency.body.invoiceDetails.contingency).toBe(true);
    await stack.sefaz.control.up();
    await stack.runSchedule('nfceContingencySender');
    // 3. Three numbers taken and withdrawn unsent, one after the other: one range.
    const withdrawn: number[] = [];
    for (const id of ['w-1', 'w-2', 'w-3']) {
      withdrawn.push((await numbering.reserve(id, CNPJ, 1, true, fresh)).nNF);
      expect(await numbering.withdraw(id, 'never sent')).toBe(true);
    }
    const rejectedNNF = (await gapOf(rejected.paymentId)).nNF;
    const onlineNNF = (await gapOf(contingency.paymentId, 'online attempt replaced by contingency')).nNF;
    const before = await listing();
    const series = before.series.find((s: { cnpj: string; serie: number }) => s.cnpj === CNPJ && s.serie === 1);
    expect(series.lastNNF).toBe(withdrawn[2]);
    expect(series.gaps.pending.map((g: { nNF: number }) => g.nNF)).toEqual(
      [rejectedNNF, onlineNNF, ...withdrawn].sort((a, b) => a - b),
    );
    expect(series.gaps.pending[0].deadline).toMatch(/^\d{4}-\d{2}-10T23:59:59-03:00$/);

    expect(await job()).toEqual({ declared: 5, used: 0, refused: 0, waiting: 0 });
    const ranges = stack.sefaz.control.inutilized().map(({ from, to }) => [from, to]);
    expect(ranges).toContainEqual([withdrawn[0], withdrawn[2]]);
    expect(ranges.flat().length).toBeLessThan(10); // merged, not one call per number
    const declared = (await gap(withdrawn[1]!))!;
    expect(declared).toMatchObject({ listing: 'GAP#DECLARED', nProt: expect.stringMatching(/^\d{15}$/) });
    const proc = await (
      await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.env[envName.bucket('fiscal')], Key: declared.procKey }))
    ).Body!.transformToString();
    expect(proc).toContain(`<nNFIni>${withdrawn[0]}</nNFIni><nNFFin>${withdrawn[2]}</nNFFin>`);
    if (!noSchemas) expect(xsdFailures('procInutNFe_v4.00.xsd', { proc })).toEqual([]);
    if (!noXmlsec) {
      const pem = storedCertificatePem(stack, SEED_INTEGRATION);
      const inutNFe = /<inutNFe [\s\S]*<\/inutNFe>/.exec(proc)![0];
      expect(xmlsecVerifies(inutNFe, pem, 'infInut')).toBe(true);
    }

    // Again: nothing pending, nothing sent.
    const calls = stack.sefaz.control.calls().inutilization;
    expect(await job()).toEqual({ declared: 0, used: 0, refused: 0, waiting: 0 });
    expect(stack.sefaz.control.calls().inutilization).toBe(calls);
    const after = (await listing()).series.find((s: { cnpj: string; serie: number }) => s.cnpj === CNPJ && s.serie === 1);
    expect(after.gaps.pending).toEqual([]);
    expect(after.gaps.declared.map((g: { nNF: number }) => g.nNF)).toEqual(expect.arrayContaining(withdrawn));
  });

  it('never declares a number that exists at SEFAZ: found by its key (USED), or refused by SEFAZ itself (241)', async () => {
    const authorized = await pay();
    const chave: string = authorized.body.invoiceDetails.invoiceKey;
    const nNF = Number(chave.slice(25, 34));
    // A gap recorded for it with its key (what a wrong settlement would write)…
    await numbering.recordGap(CNPJ, 1, nNF, authorized.paymentId, 'test', chave);
    const other = await pay();
    const otherNNF = Number(other.body.invoiceDetails.invoiceKey.slice(25, 34));
    // …and one without any key: only SEFAZ can tell.
    await numbering.recordGap(CNPJ, 1, otherNNF, other.paymentId, 'test');

    expect(await job()).toEqual({ declared: 0, used: 2, refused: 0, waiting: 0 });
    expect(await gap(nNF)).toMatchObject({ listing: 'GAP#USED', usedBy: chave });
    expect(await gap(otherNNF)).toMatchObject({ listing: 'GAP#USED', usedBy: expect.stringMatching(/^SEFAZ 241 /) });
    expect(stack.sefaz.control.inutilized()).toEqual([]);
  });

  it('SEFAZ away: the gaps wait for the next run', async () => {
    const { nNF } = await numbering.reserve('w-away', CNPJ, 1, true, fresh);
    await numbering.withdraw('w-away', 'never sent');
    await stack.sefaz.control.down('refuse');
    expect(await job()).toMatchObject({ declared: 0, waiting: 1 });
    expect(await gap(nNF)).toMatchObject({ listing: 'GAP#PENDING' });
    await stack.sefaz.control.up();
    // Paused (108) is "not now", never a refusal.
    stack.sefaz.control.setServiceStatus('paused');
    expect(await job()).toMatchObject({ declared: 0, refused: 0, waiting: 1 });
    expect(await gap(nNF)).toMatchObject({ listing: 'GAP#PENDING' });
    stack.sefaz.control.setServiceStatus('running');
    expect(await job()).toMatchObject({ declared: 1 });
  });
});

/** The gap recorded for a payment (by its reason, when it has several). */
async function gapOf(paymentId: string, reason?: string) {
  const { gaps } = await numbering.gaps('PENDING', 100);
  const found = gaps.find((g) => g.paymentId === paymentId && (reason === undefined || g.reason === reason));
  expect(found, `a pending gap of ${paymentId}`).toBeDefined();
  return found!;
}
