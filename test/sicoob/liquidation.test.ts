import { describe, expect, it } from 'vitest';
import type { Boleto } from '../../functions/sicoob/boleto.ts';
import type { LiquiRecord } from '../../functions/sicoob/files.ts';
import { applyLiquidation, applyNotice, type PaymentNotice } from '../../functions/sicoob/liquidation.ts';

const AT = '2026-11-30T10:00:00.000-03:00';
const boleto: Boleto = {
  numeroCliente: '707090',
  nossoNumero: '3516',
  seuNumero: 'NF-1',
  valor: 10000,
  dataVencimento: '2026-11-30',
  pagador: { nome: 'Maria', cpfCnpj: '52998224725' },
  status: 'ABERTO',
  history: [],
  createdAt: AT,
  updatedAt: AT,
  version: 3,
};
const record = (over: Partial<LiquiRecord> = {}): LiquiRecord => ({
  numeroCliente: '707090',
  numeroTitulo: '35161',
  valorTitulo: 10000,
  dataLiquidacao: '2026-11-29',
  valorLiquido: 10000,
  valorMora: 0,
  valorDesconto: 0,
  valorAbatimento: 0,
  valorTarifaMovimento: 150,
  ...over,
});
const source = { kind: 'sweep' as const, codigoSolicitacao: '132', idArquivo: '30025254', record: 7 };
const notice = (over: Partial<PaymentNotice> = {}): PaymentNotice => ({
  idWebhook: '214',
  numeroIdentificadorBaixa: '2026113000000000001',
  numeroCliente: '707090',
  nossoNumero: '35161',
  valorPagamento: 10000,
  cancelamentoBaixa: false,
  ...over,
});

describe('a liquidation', () => {
  it('settles the boleto with the record’s amounts; paid = valor + mora − desconto − abatimento, fee in or out, is no divergence', () => {
    for (const valorLiquido of [10000 + 250 - 100, 10000 + 250 - 100 - 150]) {
      const applied = applyLiquidation(boleto, record({ valorLiquido, valorMora: 250, valorDesconto: 100 }), source, AT);
      expect(applied.kind).toBe('applied');
      if (applied.kind !== 'applied') return;
      expect(applied.boleto.status).toBe('LIQUIDADO');
      expect(applied.boleto.liquidacao).toMatchObject({
        valorLiquido,
        valorMora: 250,
        valorDesconto: 100,
        valorTarifaMovimento: 150,
      });
      expect(applied.boleto.liquidacao!.divergence).toBeUndefined();
      expect(applied.boleto.history).toEqual([
        { at: AT, status: 'LIQUIDADO', source, note: expect.stringMatching(/^liquidado em 2026-11-29: R\$ /) },
      ]);
    }
  });

  it('flags a paid amount that does not add up, and applies it', () => {
    const applied = applyLiquidation(boleto, record({ valorLiquido: 9000 }), source, AT);
    expect(applied.kind === 'applied' && applied.boleto.liquidacao!.divergence).toBe(
      'pago R$ 90.00 (tarifa R$ 1.50); esperado R$ 100.00 = valor R$ 100.00 + mora − desconto − abatimento',
    );
  });

  it('the same record again changes nothing; another liquidation of a settled boleto is a conflict', () => {
    const settled = applyLiquidation(boleto, record(), source, AT);
    if (settled.kind !== 'applied') throw new Error('not applied');
    expect(applyLiquidation(settled.boleto, record(), { ...source, record: 9 }, AT)).toEqual({ kind: 'alreadyApplied' });
    expect(applyLiquidation(settled.boleto, record({ dataLiquidacao: '2026-11-30' }), source, AT)).toEqual({
      kind: 'conflicting',
      detail: 'already LIQUIDADO on 2026-11-29 for R$ 100.00; this record says 2026-11-30, R$ 100.00',
    });
  });
});

describe('a payment notice', () => {
  it('ABERTO → PAGO; the same notice again changes nothing; its cancellation reverts it', () => {
    const paid = applyNotice(boleto, notice(), AT);
    expect(paid.kind).toBe('paid');
    if (paid.kind === 'unchanged') return;
    expect(paid.boleto).toMatchObject({
      status: 'PAGO',
      pagamento: { numeroIdentificadorBaixa: '2026113000000000001', idWebhook: '214' },
    });
    expect(applyNotice(paid.boleto, notice(), AT)).toEqual({ kind: 'unchanged', why: 'this notice was already applied' });
    const reverted = applyNotice(paid.boleto, notice({ cancelamentoBaixa: true }), AT);
    expect(reverted.kind).toBe('reverted');
    if (reverted.kind === 'unchanged') return;
    expect(reverted.boleto.status).toBe('ABERTO');
    expect(reverted.boleto.pagamento).toBeUndefined();
    expect(applyNotice(reverted.boleto, notice(), AT)).toEqual({ kind: 'unchanged', why: 'this baixa was cancelled' });
  });

  it('a cancellation that comes before its notice keeps the notice from being applied', () => {
    const early = applyNotice(boleto, notice({ cancelamentoBaixa: true }), AT);
    expect(early.kind).toBe('noted');
    if (early.kind === 'unchanged') return;
    expect(early.boleto.status).toBe('ABERTO');
    expect(applyNotice(early.boleto, notice(), AT)).toEqual({ kind: 'unchanged', why: 'this baixa was cancelled' });
  });

  it('never moves a LIQUIDADO boleto: only noted in its history', () => {
    const settled = applyLiquidation(boleto, record(), source, AT);
    if (settled.kind !== 'applied') throw new Error('not applied');
    for (const n of [notice(), notice({ cancelamentoBaixa: true })]) {
      const outcome = applyNotice(settled.boleto, n, AT);
      expect(outcome.kind).toBe('noted');
      if (outcome.kind !== 'unchanged') expect(outcome.boleto.status).toBe('LIQUIDADO');
    }
  });
});
