import { formatReais } from '../shared/money.ts';
import type { Boleto, ChangeSource, Liquidacao, Pagamento } from './boleto.ts';
import type { LiquiRecord } from './files.ts';

/**
 * What a LIQUI record and a payment notice do to a boleto, as pure functions of the boleto as
 * stored: the new boleto to write (undefined: nothing changes), and what happened. The sweep is the
 * authority (LIQUIDADO); the notice only moves ABERTO → PAGO and never past LIQUIDADO (spec §2.6).
 */

export type LiquidationOutcome =
  | { kind: 'applied'; boleto: Boleto }
  /** The same liquidation again (the window's next report, a resumed file): nothing changes. */
  | { kind: 'alreadyApplied' }
  /** Already LIQUIDADO with another liquidation: kept, and an exception for finance. */
  | { kind: 'conflicting'; detail: string };

/**
 * Applies a liquidation. A paid amount (`valorLiquido`, with or without `valorTarifaMovimento`,
 * as the layout leaves open) that differs from `valor` + mora − desconto − abatimento is applied
 * and flagged (`divergence`).
 */
export function applyLiquidation(boleto: Boleto, record: LiquiRecord, source: ChangeSource, at: string): LiquidationOutcome {
  const liquidacao = liquidacaoOf(boleto, record);
  if (boleto.status === 'LIQUIDADO' && boleto.liquidacao) {
    const same =
      boleto.liquidacao.dataLiquidacao === liquidacao.dataLiquidacao &&
      boleto.liquidacao.valorLiquido === liquidacao.valorLiquido;
    if (same) return { kind: 'alreadyApplied' };
    return {
      kind: 'conflicting',
      detail: `already LIQUIDADO on ${boleto.liquidacao.dataLiquidacao} for R$ ${formatReais(boleto.liquidacao.valorLiquido)}; this record says ${liquidacao.dataLiquidacao}, R$ ${formatReais(liquidacao.valorLiquido)}`,
    };
  }
  return {
    kind: 'applied',
    boleto: {
      ...boleto,
      status: 'LIQUIDADO',
      liquidacao,
      history: [
        ...boleto.history,
        {
          at,
          status: 'LIQUIDADO',
          source,
          note: `liquidado em ${liquidacao.dataLiquidacao}: R$ ${formatReais(liquidacao.valorLiquido)}${liquidacao.divergence ? ' (divergente)' : ''}`,
        },
      ],
      updatedAt: at,
    },
  };
}

function liquidacaoOf(boleto: Boleto, record: LiquiRecord): Liquidacao {
  const expected = boleto.valor + record.valorMora - record.valorDesconto - record.valorAbatimento;
  const paid = [record.valorLiquido, record.valorLiquido + record.valorTarifaMovimento];
  const divergence = paid.includes(expected)
    ? undefined
    : `pago R$ ${formatReais(record.valorLiquido)} (tarifa R$ ${formatReais(record.valorTarifaMovimento)}); esperado R$ ${formatReais(expected)} = valor R$ ${formatReais(boleto.valor)} + mora − desconto − abatimento`;
  return {
    dataLiquidacao: record.dataLiquidacao,
    ...(record.dataPrevisaoCredito ? { dataPrevisaoCredito: record.dataPrevisaoCredito } : {}),
    ...(record.dataMovimento ? { dataMovimento: record.dataMovimento } : {}),
    valorLiquido: record.valorLiquido,
    valorMora: record.valorMora,
    valorDesconto: record.valorDesconto,
    valorAbatimento: record.valorAbatimento,
    valorTarifaMovimento: record.valorTarifaMovimento,
    ...(record.idTipoOpFinanceira ? { canal: record.idTipoOpFinanceira } : {}),
    ...(record.tipoOpFinanceira ? { canalDescricao: record.tipoOpFinanceira } : {}),
    ...(divergence ? { divergence } : {}),
  };
}

/** A payment notice (webhook), amounts in centavos. */
export interface PaymentNotice {
  idWebhook: string;
  numeroIdentificadorBaixa: string;
  numeroCliente: string;
  nossoNumero: string;
  seuNumero?: string;
  valorPagamento: number;
  dataHoraSituacaoBaixa?: string;
  cancelamentoBaixa: boolean;
}

export type NoticeOutcome =
  | { kind: 'paid' | 'reverted' | 'noted'; boleto: Boleto }
  /** The same notice again, or one whose baixa was already cancelled: nothing changes. */
  | { kind: 'unchanged'; why: string };

/**
 * Applies a notice: ABERTO → PAGO; `cancelamentoBaixa` reverts that notice (PAGO → ABERTO), and a
 * cancellation that comes before its notice keeps the notice from being applied later. On a
 * LIQUIDADO boleto a notice is only recorded in the history (the sweep is the authority).
 */
export function applyNotice(boleto: Boleto, notice: PaymentNotice, at: string): NoticeOutcome {
  const id = notice.numeroIdentificadorBaixa;
  const source: ChangeSource = { kind: 'webhook', idWebhook: notice.idWebhook, numeroIdentificadorBaixa: id };
  const cancelled = boleto.baixasCanceladas ?? [];
  if (notice.cancelamentoBaixa) {
    if (cancelled.includes(id)) return { kind: 'unchanged', why: 'this baixa was already cancelled' };
    const reverts = boleto.status === 'PAGO' && boleto.pagamento?.numeroIdentificadorBaixa === id;
    const { pagamento: _reverted, ...rest } = boleto;
    return {
      kind: reverts ? 'reverted' : 'noted',
      boleto: {
        ...(reverts ? rest : boleto),
        status: reverts ? 'ABERTO' : boleto.status,
        baixasCanceladas: [...cancelled, id],
        history: [
          ...boleto.history,
          {
            at,
            status: reverts ? 'ABERTO' : boleto.status,
            source,
            note: reverts
              ? 'baixa operacional cancelada: aberto de novo'
              : `cancelamento de uma baixa ${boleto.status === 'LIQUIDADO' ? 'após a liquidação' : 'ainda não recebida'}`,
          },
        ],
        updatedAt: at,
      },
    };
  }
  if (cancelled.includes(id)) return { kind: 'unchanged', why: 'this baixa was cancelled' };
  if (
    boleto.pagamento?.numeroIdentificadorBaixa === id ||
    boleto.history.some((h) => h.source.kind === 'webhook' && h.source.numeroIdentificadorBaixa === id)
  )
    return { kind: 'unchanged', why: 'this notice was already applied' };
  const pagamento: Pagamento = {
    numeroIdentificadorBaixa: id,
    valorPagamento: notice.valorPagamento,
    ...(notice.dataHoraSituacaoBaixa ? { dataHoraSituacaoBaixa: notice.dataHoraSituacaoBaixa } : {}),
    idWebhook: notice.idWebhook,
  };
  if (boleto.status !== 'ABERTO')
    return {
      kind: 'noted',
      boleto: {
        ...boleto,
        history: [
          ...boleto.history,
          {
            at,
            status: boleto.status,
            source,
            note: `aviso de pagamento com o boleto ${boleto.status}: R$ ${formatReais(notice.valorPagamento)}`,
          },
        ],
        updatedAt: at,
      },
    };
  return {
    kind: 'paid',
    boleto: {
      ...boleto,
      status: 'PAGO',
      pagamento,
      history: [
        ...boleto.history,
        { at, status: 'PAGO', source, note: `baixa operacional: R$ ${formatReais(notice.valorPagamento)}` },
      ],
      updatedAt: at,
    },
  };
}
