import type { Boleto } from './ledger.ts';
import { BANCO_SICOOB, cnpj, codigoBarras, COOPERATIVA, cpf } from './numbers.ts';

/** The payment channel and cancellation reason of every notice: the portal example's values (their meaning is Unknown). */
const CODIGO_CANAL_PAGAMENTO = 3;
const CODIGO_MOTIVO_CANCELAMENTO = 2;

/** What one payment notice says, besides its boleto; valorPagamento in centavos, `at` epoch ms. */
export interface NoticeFacts {
  numeroIdentificadorBaixa: string;
  valorPagamento: number;
  cancelamentoBaixa: boolean;
  at: number;
}

/**
 * The `dados` of a payment notice (spec §2.3, the portal example's fields and order): nossoNumero
 * as the 10-character zero-padded string with its DV, money as reais numbers, the misspelled
 * `baixaRealizadaEmContigencia`, `dataLimitePagamento` null (nullable in the public C# model). The
 * payer (a company) and the bearer (a person) are made up from the boleto's number, with valid
 * CNPJ and CPF; the beneficiary's CNPJ from the numeroCliente.
 */
export function noticeData(boleto: Boleto, facts: NoticeFacts): Record<string, unknown> {
  const barcode = codigoBarras(boleto.numeroCliente, boleto.nossoNumero, boleto.dataVencimento, boleto.valor);
  const seed = Number(boleto.nossoNumero);
  return {
    numeroIdentificadorBaixa: facts.numeroIdentificadorBaixa,
    codigoBarrasBoleto: barcode,
    codigoBarrasBaixa: barcode,
    nossoNumero: boleto.nossoNumero.padStart(10, '0'),
    seuNumero: boleto.seuNumero,
    codigoBancoRecebedor: String(BANCO_SICOOB),
    codigoAgenciaRecebedora: COOPERATIVA,
    numeroCliente: boleto.numeroCliente,
    cpfCnpjBeneficiario: cnpj(boleto.numeroCliente),
    codigoTipoPessoaPagador: 'J',
    nomePagador: `Comércio São João ${boleto.nossoNumero} Ltda`,
    cpfCnpjPagador: cnpj(seed + 10_000_000),
    nomeFantasiaPagador: `Empório São João ${boleto.nossoNumero}`,
    codigoTipoPessoaPortador: 'F',
    nomePortador: 'Maria Conceição Araújo',
    cpfCnpjPortador: cpf(seed),
    valorBoleto: boleto.valor / 100,
    valorPagamento: facts.valorPagamento / 100,
    codigoCanalPagamento: CODIGO_CANAL_PAGAMENTO,
    codigoMotivoCancelamento: CODIGO_MOTIVO_CANCELAMENTO,
    dataEmissao: boleto.dataEmissao,
    dataVencimento: boleto.dataVencimento,
    dataLimitePagamento: null,
    dataHoraSituacaoBaixa: new Date(facts.at).toISOString(),
    baixaRealizadaEmContigencia: false,
    cancelamentoBaixa: facts.cancelamentoBaixa,
  };
}
