/**
 * A boleto the platform issued through Sicoob, as the backend keeps it (issue 9; spec
 * ../shared/specs/sicoob-cobranca-v3.md): ABERTO → PAGO (Sicoob's payment notice, the "baixa
 * operacional") → LIQUIDADO (the movement report's LIQUI record: the money side), or BAIXADO;
 * every change with its source. Money in integer centavos; dates `yyyy-MM-dd` (São Paulo days).
 * Plain data and rules; no AWS.
 */

export type BoletoStatus = 'ABERTO' | 'PAGO' | 'LIQUIDADO' | 'BAIXADO';

/** Where a change came from: an import, Sicoob's webhook, or the sweep's file and record. */
export type ChangeSource =
  | { kind: 'import'; by: string }
  | { kind: 'webhook'; idWebhook: string; numeroIdentificadorBaixa: string }
  | { kind: 'sweep'; codigoSolicitacao: string; idArquivo: string; record: number };

export interface HistoryEntry {
  /** `-03:00` */
  at: string;
  status: BoletoStatus;
  source: ChangeSource;
  /** What happened, in a few words (never the payer's name or document). */
  note: string;
}

/** The liquidation, as the LIQUI record says it; amounts in centavos. */
export interface Liquidacao {
  dataLiquidacao: string;
  dataPrevisaoCredito?: string;
  dataMovimento?: string;
  valorLiquido: number;
  valorMora: number;
  valorDesconto: number;
  valorAbatimento: number;
  valorTarifaMovimento: number;
  /** `idTipoOpFinanceira` (212 Pix, 2/51 caixa…) and its description as Sicoob writes it. */
  canal?: string;
  canalDescricao?: string;
  /** Paid differently from `valor` beyond mora, discount and abatement: applied, and flagged for finance. */
  divergence?: string;
}

/** The payment notice (webhook, tipoMovimento 7); amounts in centavos. */
export interface Pagamento {
  numeroIdentificadorBaixa: string;
  valorPagamento: number;
  /** ISO UTC, as Sicoob sends it. */
  dataHoraSituacaoBaixa?: string;
  idWebhook: string;
}

export interface Boleto {
  /** Sicoob's contract of the beneficiary (707090 in seed 004), digits. */
  numeroCliente: string;
  /** Digits without leading zeros (as imported: with or without the check digit). */
  nossoNumero: string;
  seuNumero: string;
  /** centavos */
  valor: number;
  dataVencimento: string;
  /** The payer: personal data, never logged. */
  pagador: { nome: string; cpfCnpj: string };
  status: BoletoStatus;
  pagamento?: Pagamento;
  /** Notices reverted by `cancelamentoBaixa` (numeroIdentificadorBaixa), so a late repeat is not applied again. */
  baixasCanceladas?: string[];
  liquidacao?: Liquidacao;
  history: HistoryEntry[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** `"0000002443"` → `"2443"` (Sicoob pads to 8 or 10 digits; we compare without leading zeros). */
export function normalizeNumero(value: string | number): string {
  return String(value)
    .trim()
    .replace(/^0+(?=\d)/, '');
}

/**
 * The nosso números a record's number may be stored under: as it is, then without its last digit
 * (Sicoob's `numeroTitulo` and the notice's `nossoNumero` carry the check digit; an import may not).
 */
export function nossoNumeroCandidates(value: string | number): string[] {
  const full = normalizeNumero(value);
  return full.length > 1 ? [full, normalizeNumero(full.slice(0, -1))] : [full];
}
