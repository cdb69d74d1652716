import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntegrationStore } from '../../functions/auth/integrations.ts';
import { cobrancaApi } from '../../functions/sicoob/api.ts';
import { SICOOB_PARTNER } from '../../functions/sicoob/partner.ts';
import { createTestA1, openA1 } from '../../functions/nfce/pkcs12.ts';
import type { Boleto } from '../../functions/sicoob/boleto.ts';
import { DynamoBoletos } from '../../functions/sicoob/store.ts';
import type { AccountSweep } from '../../functions/sicoob/sweep.ts';
import { addDays, saoPauloDay, windowOf } from '../../functions/sicoob/windows.ts';
import { envName, functions } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { provisionSicoob } from '../../lib/local/sicoob.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * The liquidation sweep against the whole local stack and the Sicoob simulator: windows requested,
 * polled and applied over several runs, boletos marked LIQUIDADO with the record's amounts, the
 * unmatched kept as exceptions, a second run changing nothing.
 */
const CLIENTE = 707090;
let stack: LocalRuntime;
let store: DynamoBoletos;
let webhookUrl: string;
const today = saoPauloDay(new Date());

beforeAll(async () => {
  stack = await startTestRuntime({
    // Only the sweep is under test here (the admin routes have their own tests).
    functions: Object.fromEntries(Object.entries(functions).filter(([name]) => !name.startsWith('boleto'))),
    env: { SICOOB_RETRY_BASE_MS: '10', SICOOB_TIMEOUT_SECONDS: '5' },
  });
  store = new DynamoBoletos(stack.documents, stack.env[envName.table('boletos')]!);
  const a1 = openA1(createTestA1({ name: 'PLATAFORMA LTDA', cnpj: '82373077000171', password: 'x' }), 'x');
  await provisionSicoob(stack.documents, stack.env, {
    numeroCliente: String(CLIENTE),
    clientId: 'client-sweep',
    privateKeyPem: a1.privateKeyPem,
    certificatePem: a1.certificatePem,
  });
  stack.sicoob.control.addClient('client-sweep', CLIENTE);
  const integrations = new IntegrationStore(stack.documents, stack.env[envName.table('integrations')]!);
  const secret = await integrations.issuePartnerSecret(
    await integrations.ensure('efdd6093-5539-4ac4-ad84-7423a8078dde', 'test'),
    SICOOB_PARTNER,
  );
  webhookUrl = `${stack.baseUrl}/sicoob/webhook/${secret}`;
});
afterAll(() => stack?.close());
beforeEach(() => stack.sicoob.control.clearFaults());

const sweep = async () => ((await stack.runSchedule('sicoobSweep')) as { accounts: AccountSweep[] }).accounts[0]!;

/** A boleto of ours and the same one at Sicoob (nosso número with its check digit there). */
async function boleto(nossoNumero: string, valor: number, seuNumero = `S-${nossoNumero}`): Promise<void> {
  const at = '2026-11-01T10:00:00.000-03:00';
  const ours: Boleto = {
    numeroCliente: String(CLIENTE),
    nossoNumero,
    seuNumero,
    valor,
    dataVencimento: addDays(today, 5),
    pagador: { nome: 'Maria da Silva', cpfCnpj: '52998224725' },
    status: 'ABERTO',
    history: [],
    createdAt: at,
    updatedAt: at,
    version: 0,
  };
  expect(await store.save(ours)).toBe(true);
  stack.sicoob.control.seedBoleto({ numeroCliente: CLIENTE, nossoNumero, seuNumero, valor, dataVencimento: ours.dataVencimento });
}

describe('the sweep', () => {
  it('requests every window since the horizon, waits for the report, applies it, and changes nothing the second time', async () => {
    await boleto('12345', 8500);
    await boleto('22223', 10000);
    await boleto('33336', 5000);
    stack.sicoob.control.liquidate(CLIENTE, '12345', { dataLiquidacao: today, valorMora: 150 });
    stack.sicoob.control.liquidate(CLIENTE, '22223', { dataLiquidacao: today, valorPago: 9000 });
    stack.sicoob.control.addLiquidation({
      numeroCliente: CLIENTE,
      numeroTitulo: '99991',
      valorTitulo: 1234,
      dataLiquidacao: today,
    });

    const first = await sweep();
    expect(first.problems).toEqual([]);
    const windows = first.windows.map((w) => w.dataInicial);
    expect(windows[0]).toBe(windowOf(addDays(today, -10)).dataInicial);
    expect(windows.at(-1)).toBe(windowOf(today).dataInicial);
    expect(first.windows.every((w) => w.step === 'requested')).toBe(true);
    expect(first.records.applied).toBe(0);

    const second = await sweep();
    expect(second.problems).toEqual([]);
    expect(second.records).toMatchObject({ applied: 2, unmatched: 1 });
    const paid = (await store.get(String(CLIENTE), '12345'))!;
    expect(paid).toMatchObject({
      status: 'LIQUIDADO',
      liquidacao: { dataLiquidacao: today, valorMora: 150, valorDesconto: 0, valorAbatimento: 0, canal: '212' },
    });
    expect(paid.liquidacao!.divergence).toBeUndefined();
    expect(paid.history.at(-1)).toMatchObject({ status: 'LIQUIDADO', source: { kind: 'sweep' } });
    const short = (await store.get(String(CLIENTE), '22223'))!;
    expect(short.status).toBe('LIQUIDADO');
    expect(short.liquidacao!.divergence).toMatch(/^pago R\$ /);
    expect((await store.get(String(CLIENTE), '33336'))!.status).toBe('ABERTO');
    const { items } = await store.exceptions({ limit: 10 });
    expect(items).toEqual([
      expect.objectContaining({ kind: 'unmatched-liquidation', nossoNumero: '99991', valor: 1234, data: today }),
    ]);

    // The window holding today is swept again (a new report); nothing changes.
    await sweep();
    const again = await sweep();
    expect(again.records.applied).toBe(0);
    expect((await store.get(String(CLIENTE), '12345'))!.version).toBe(paid.version);
    expect((await store.exceptions({ limit: 10 })).items).toHaveLength(1);
  });
});

describe('the payment webhook', () => {
  it('validates, marks PAGO, ignores a repeat, reverts on cancelamentoBaixa, keeps the unknown as an exception; the sweep then liquidates', async () => {
    const api = cobrancaApi(
      { numeroCliente: String(CLIENTE), clientId: 'client-sweep' },
      { apiUrl: stack.partnerUrls.sicoob, authUrl: stack.partnerUrls.sicoobAuth, timeoutMs: 5000, retryBaseMs: 10 },
    );
    const idWebhook = await api.registerWebhook(webhookUrl, 'financeiro@example.com');
    await expect
      .poll(async () => (await api.webhooks()).find((w) => w.idWebhook === idWebhook)?.codigoSituacao, { timeout: 5000 })
      .toBe(2);
    // The validation is answered, and is no exception.
    expect((await store.exceptions({ limit: 10 })).items.filter((e) => e.kind === 'unmatched-notice')).toEqual([]);

    await boleto('44442', 7000);
    expect(await stack.sicoob.control.notify(CLIENTE, '44442', { numeroIdentificadorBaixa: '2026113000000000001' })).toEqual([
      { url: webhookUrl, status: 200 },
    ]);
    const paid = (await store.get(String(CLIENTE), '44442'))!;
    expect(paid).toMatchObject({
      status: 'PAGO',
      pagamento: { numeroIdentificadorBaixa: '2026113000000000001', valorPagamento: 7000, idWebhook },
    });
    await stack.sicoob.control.notify(CLIENTE, '44442', { numeroIdentificadorBaixa: '2026113000000000001' });
    expect((await store.get(String(CLIENTE), '44442'))!.version).toBe(paid.version);

    await stack.sicoob.control.notify(CLIENTE, '44442', {
      numeroIdentificadorBaixa: '2026113000000000001',
      cancelamentoBaixa: true,
    });
    const reverted = (await store.get(String(CLIENTE), '44442'))!;
    expect(reverted.status).toBe('ABERTO');
    expect(reverted.pagamento).toBeUndefined();
    expect(reverted.baixasCanceladas).toEqual(['2026113000000000001']);

    await stack.sicoob.control.notify(CLIENTE, '44442', { numeroIdentificadorBaixa: '2026113000000000002' });
    expect((await store.get(String(CLIENTE), '44442'))!.status).toBe('PAGO');
    // A boleto Sicoob has and the platform does not.
    stack.sicoob.control.seedBoleto({
      numeroCliente: CLIENTE,
      nossoNumero: '55551',
      seuNumero: 'X-1',
      valor: 100,
      dataVencimento: today,
    });
    await stack.sicoob.control.notify(CLIENTE, '55551', { numeroIdentificadorBaixa: '2026113000000000003' });
    expect((await store.exceptions({ limit: 10 })).items.map((e) => e.kind)).toContain('unmatched-notice');

    stack.sicoob.control.liquidate(CLIENTE, '44442', { dataLiquidacao: today });
    await sweep();
    await sweep();
    const settled = (await store.get(String(CLIENTE), '44442'))!;
    expect(settled.status).toBe('LIQUIDADO');
    expect(settled.history.map((h) => h.status)).toEqual(['PAGO', 'ABERTO', 'PAGO', 'LIQUIDADO']);
    // What no notice can be: answered 200 (Sicoob would retry, then deactivate the webhook), kept as an exception.
    const forged = async (body: unknown) =>
      fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        async (r) => [r.status, ((await r.json()) as { outcome: string }).outcome] as const,
      );
    const dados = { numeroIdentificadorBaixa: '2026113000000000009', nossoNumero: '0000044442', numeroCliente: CLIENTE };
    expect(await forged({ idWebhook: 1, tipoMovimento: 7, dados: { ...dados, valorPagamento: 1e300 } })).toEqual([
      200,
      'unreadable',
    ]);
    expect(await forged({ idWebhook: 1, tipoMovimento: 7, dados: { ...dados, valorPagamento: '99999999999999999999' } })).toEqual(
      [200, 'unreadable'],
    );
    // A notice that also says validacaoWebhook is still a notice.
    expect(
      await forged({ idWebhook: 1, tipoMovimento: 7, validacaoWebhook: true, dados: { ...dados, valorPagamento: 70 } }),
    ).toEqual([200, 'noted']);
    const huge = await fetch(webhookUrl, { method: 'POST', body: 'x'.repeat(300 * 1024) });
    expect(huge.status).toBe(413);
    // A late notice never moves a liquidated boleto back.
    await stack.sicoob.control.notify(CLIENTE, '44442', {
      numeroIdentificadorBaixa: '2026113000000000002',
      cancelamentoBaixa: true,
    });
    expect((await store.get(String(CLIENTE), '44442'))!.status).toBe('LIQUIDADO');
  });
});
