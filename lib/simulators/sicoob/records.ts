import { fileDate, fileInstant } from './dates.ts';
import { TIPOS_OP_FINANCEIRA, type Liquidation } from './ledger.ts';
import { BANCO_SICOOB, COOPERATIVA } from './numbers.ts';

/** How many records are turned into bytes at a time. */
const SLICE = 1000;

/** How a report's files are written (control.fileOptions), fixed when the report is requested. */
export interface FileLayout {
  entriesPerFile: number;
  format: 'json' | 'jsonl' | 'txt';
  dialect: 'long' | 'short' | 'mixed';
  unpaddedDates: boolean;
}

/** What every record of one file shares. */
export interface FileContext {
  codigoSolicitacao: number;
  /** When the report was requested (epoch ms). */
  requestedAt: number;
  dataInicial: string;
  dataFinal: string;
  /** 0-based, as in the file name. */
  fileIndex: number;
  unpaddedDates: boolean;
}

/**
 * A writer of one file's LIQUI records as JSON text, the long dialect in the spec's field order
 * (§1.4) or the short one (the example file's names: its ENTR header fields, `numCliente`,
 * `numTitulo`, `descSeuNumero`, `dataMovLiquidacao`…; the LIQUI names the spec calls Unknown stay
 * long). Money is written with 4 decimals (`85.0000`), as the spec's example; `numeroContrato` is
 * the numeroCliente (v2 called that number the contract). What records share is written once and
 * dates are memoized, for the 500,000-record files.
 */
function recordWriter(c: FileContext): (m: Liquidation, short: boolean) => string {
  const dates = new Map<string, string>();
  const date = (day: string) => {
    let text = dates.get(day);
    if (text === undefined) dates.set(day, (text = `"${fileDate(day, c.unpaddedDates)}"`));
    return text;
  };
  const window = `"dataInicioMovimento":${date(c.dataInicial)},"dataFimMovimento":${date(c.dataFinal)}`;
  const shortHead =
    `{"idSolicitacaoProcessamentoMovimento":${c.codigoSolicitacao},"numAgrupamento":${c.fileIndex},"codTipoMovimento":5,` +
    `"siglaMovimento":"LIQUI",${window},"dataHoraSolicitacaoProcessamento":"${fileInstant(c.requestedAt, c.unpaddedDates)}",`;
  const longHead = `{"codigoTipoMovimento":5,"siglaMovimento":"LIQUI",${window},`;
  return (m, short) =>
    (short
      ? `${shortHead}"numCliente":${m.numeroCliente},"numContrato":${m.numeroCliente},"idModalidadeProduto":1,` +
        `"numTitulo":${m.numeroTitulo},"descSeuNumero":${JSON.stringify(m.seuNumero)},`
      : `${longHead}"numeroCliente":${m.numeroCliente},"numeroContrato":${m.numeroCliente},"modalidade":1,` +
        `"numeroTitulo":${m.numeroTitulo},"seuNumero":${JSON.stringify(m.seuNumero)},`) +
    `"dataVencimentoTitulo":${date(m.dataVencimento)},"valorTitulo":${money(m.valorTitulo)},` +
    `"codigoBarras":"${m.codigoBarras}","${short ? 'dataMovLiquidacao' : 'dataMovimentoLiquidacao'}":${date(m.dataMovimento)},` +
    `"dataLiquidacao":${date(m.dataLiquidacao)},"dataPrevisaoCredito":${date(m.dataPrevisaoCredito)},` +
    `"numeroBancoRecebedor":${BANCO_SICOOB},"numeroAgenciaRecebedora":${COOPERATIVA},` +
    `"${short ? 'numContaCorrente' : 'numeroContaCorrente'}":${contaCorrente(m.numeroCliente)},` +
    `"idTipoOpFinanceira":${m.idTipoOpFinanceira},"tipoOpFinanceira":"${TIPOS_OP_FINANCEIRA[m.idTipoOpFinanceira]}",` +
    `"valorAbatimento":${money(m.valorAbatimento)},"valorDesconto":${money(m.valorDesconto)},"valorMora":${money(m.valorMora)},` +
    `"valorLiquido":${money(m.valorLiquido)},"valorTarifaMovimento":${money(m.valorTarifaMovimento)},"tipoCarteiraOpCredito":"COBRANÇA"}`;
}

/** The long-dialect record as a parsed file gives it, without the report's window (control.liquidate's answer). */
export function recordObject(m: Liquidation): Record<string, unknown> {
  const context: FileContext = {
    codigoSolicitacao: 0,
    requestedAt: 0,
    dataInicial: '',
    dataFinal: '',
    fileIndex: 0,
    unpaddedDates: false,
  };
  const record = JSON.parse(recordWriter(context)(m, false)) as Record<string, unknown>;
  delete record.dataInicioMovimento;
  delete record.dataFimMovimento;
  return record;
}

/**
 * The bytes (UTF-8) of each ZIP entry of one file: its records split in order over
 * `layout.entriesPerFile` entries (an entry left without records is an empty array, or empty in
 * 'jsonl'). Encoded SLICE records at a time: one string of tens of MB is slow to build and encode.
 */
export function entryBytes(records: readonly Liquidation[], layout: FileLayout, context: FileContext): Buffer[] {
  const write = recordWriter(context);
  const jsonl = layout.format === 'jsonl';
  const entries: Buffer[] = [];
  for (let entry = 0; entry < layout.entriesPerFile; entry++) {
    const start = Math.floor((entry * records.length) / layout.entriesPerFile);
    const end = Math.floor(((entry + 1) * records.length) / layout.entriesPerFile);
    const chunks: Buffer[] = [];
    for (let from = start; from < end; from += SLICE) {
      const lines: string[] = [];
      for (let i = from; i < Math.min(end, from + SLICE); i++)
        lines.push(write(records[i]!, layout.dialect === 'short' || (layout.dialect === 'mixed' && i % 2 === 1)));
      chunks.push(Buffer.from(jsonl ? `${lines.join('\n')}\n` : `${from === start ? '' : ','}${lines.join(',')}`, 'utf8'));
    }
    entries.push(jsonl ? Buffer.concat(chunks) : Buffer.concat([Buffer.from('['), ...chunks, Buffer.from(']')]));
  }
  return entries;
}

/** Centavos → reais with 4 decimals: 8500 → `85.0000`. */
function money(centavos: number): string {
  return `${Math.floor(centavos / 100)}.${String(centavos % 100).padStart(2, '0')}00`;
}

/** The beneficiary's current account: a number derived from the numeroCliente. */
function contaCorrente(numeroCliente: number): number {
  return 100_000 + (numeroCliente % 900_000);
}
