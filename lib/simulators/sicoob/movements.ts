import * as z from 'zod';
import { json, NO_CONTENT, type Answer } from './answers.ts';
import { ownNumeroCliente, type Client } from './auth.ts';
import { addDays, DAY_MS, fileTimestamp, saoPauloDay, saoPauloWallClock } from './dates.ts';
import { invalid, SICOOB_CODES, SicoobError } from './errors.ts';
import type { Ledger, Liquidation } from './ledger.ts';
import { COOPERATIVA } from './numbers.ts';
import { entryBytes, type FileLayout } from './records.ts';
import { day, integerParam, jsonObject, parseFields } from './requests.ts';
import type { SicoobFileOptions, SicoobMovementRequest } from './types.ts';
import { zipArchive } from './zip.ts';

/** Sicoob keeps a report's files for 30 days (spec §1.1); older codigoSolicitacao are refused. */
const KEPT_DAYS = 30;
const LIQUIDACAO = 5;
/** The first codigoSolicitacao and idArquivo handed out (the spec's example values). */
const FIRST_CODIGO = 132;
const FIRST_ID_ARQUIVO = 30025254;

const requestBody = z.object({
  numeroCliente: z.number().int().positive(),
  tipoMovimento: z.number().int().min(1).max(7),
  dataInicial: day,
  dataFinal: day,
});

interface Report {
  request: SicoobMovementRequest;
  requestedAt: number;
  /** The movements, frozen at request time. */
  records: Liquidation[];
  idArquivos: number[];
  pollsLeft: number;
  layout: FileLayout;
}

/**
 * The movement report flow (spec §1.1–1.4): a request freezes the client's movements of the window
 * (a snapshot: later liquidations go to the next request), a poll says "not ready" a few times and
 * then lists the files, and each file downloads as a base64 ZIP.
 */
export class MovementReports {
  private readonly reports = new Map<number, Report>();
  private nextCodigo = FIRST_CODIGO;
  private nextIdArquivo = FIRST_ID_ARQUIVO;
  private layout: FileLayout = { entriesPerFile: 1, format: 'json', dialect: 'long', unpaddedDates: false };
  private notReady: '204' | '5004' = '204';
  private totalAsString = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly now: () => number,
    private readonly recordsPerFile: number,
    private pollsBeforeReady: number,
  ) {}

  fileOptions(o: SicoobFileOptions): void {
    const entries = o.entriesPerFile ?? this.layout.entriesPerFile;
    if (!Number.isSafeInteger(entries) || entries < 1) throw new Error(`entriesPerFile must be an integer ≥ 1, not ${entries}`);
    this.layout = {
      entriesPerFile: entries,
      format: o.format ?? this.layout.format,
      dialect: o.dialect ?? this.layout.dialect,
      unpaddedDates: o.unpaddedDates ?? this.layout.unpaddedDates,
    };
    this.notReady = o.notReady ?? this.notReady;
    this.totalAsString = o.totalAsString ?? this.totalAsString;
  }

  notReadyPolls(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`notReadyPolls must be an integer ≥ 0, not ${n}`);
    this.pollsBeforeReady = n;
  }

  requests(): SicoobMovementRequest[] {
    return [...this.reports.values()].map(({ request }) => ({ ...request }));
  }

  /**
   * POST /boletos/movimentacoes. The window is `dataInicial` … `dataFinal`, both inclusive, at most
   * 2 days (dataFinal = dataInicial or the day after; the inclusive end is Unknown, this is the
   * simulator's choice, as the seed's "intervalo de dois dias"), its start within 365 days before
   * today (São Paulo). A window reaching past today is accepted. Only tipoMovimento 5 has movements.
   */
  request(client: Client, raw: string): Answer {
    const body = parseFields(requestBody, jsonObject(raw));
    ownNumeroCliente(client, body.numeroCliente);
    const { dataInicial, dataFinal } = body;
    if (dataFinal < dataInicial) throw invalid('A dataFinal deve ser igual ou posterior à dataInicial.');
    if (dataFinal > addDays(dataInicial, 1)) throw invalid('O período de consulta deve ser de no máximo 2 dias.');
    const now = this.now();
    if (dataInicial < addDays(saoPauloDay(now), -365))
      throw invalid('A dataInicial deve estar dentro de um ano até a data da solicitação.');
    const records = body.tipoMovimento === LIQUIDACAO ? this.ledger.liquidations(body.numeroCliente, dataInicial, dataFinal) : [];
    const files = Math.ceil(records.length / this.recordsPerFile);
    const codigoSolicitacao = this.nextCodigo++;
    this.reports.set(codigoSolicitacao, {
      request: { codigoSolicitacao, ...body, at: new Date(now).toISOString() },
      requestedAt: now,
      records,
      idArquivos: Array.from({ length: files }, () => this.nextIdArquivo++),
      pollsLeft: this.pollsBeforeReady,
      layout: { ...this.layout },
    });
    return json(200, { resultado: { mensagem: 'Solicitação recebida com sucesso.', codigoSolicitacao } });
  }

  /** GET /boletos/movimentacoes: "not ready" for the report's first polls, then its files — or 5002 when it has no record. */
  query(client: Client, params: URLSearchParams): Answer {
    const report = this.report(client, params);
    if (report.pollsLeft > 0) {
      report.pollsLeft--;
      return this.notReady === '204' ? NO_CONTENT : processing();
    }
    const total = report.records.length;
    if (total === 0) throw new SicoobError(400, SICOOB_CODES.NO_RECORDS, 'NENHUM REGISTRO ENCONTRADO PARA A SOLICITACAO');
    return json(200, {
      resultado: {
        quantidadeTotalRegistros: this.totalAsString ? String(total).replace(/\B(?=(\d{3})+$)/g, '.') : total,
        quantidadeRegistrosArquivo: this.recordsPerFile,
        quantidadeArquivo: report.idArquivos.length,
        idArquivos: report.idArquivos,
      },
    });
  }

  /** GET /boletos/movimentacoes/download: one file of a ready report, as `{"resultado":{"arquivo","nomeArquivo"}}`. */
  async download(client: Client, params: URLSearchParams): Promise<Answer> {
    const report = this.report(client, params);
    const idArquivo = integerParam(params, 'idArquivo');
    const fileIndex = report.idArquivos.indexOf(idArquivo);
    if (fileIndex < 0)
      throw invalid(`Arquivo ${idArquivo} não encontrado para a solicitação ${report.request.codigoSolicitacao}.`);
    if (report.pollsLeft > 0) return processing();
    const { codigoSolicitacao, numeroCliente, dataInicial, dataFinal } = report.request;
    const records = report.records.slice(fileIndex * this.recordsPerFile, (fileIndex + 1) * this.recordsPerFile);
    const layout = report.layout;
    const context = {
      codigoSolicitacao,
      requestedAt: report.requestedAt,
      dataInicial,
      dataFinal,
      fileIndex,
      unpaddedDates: layout.unpaddedDates,
    };
    const name = `LIQUI_${COOPERATIVA}_${numeroCliente}_${fileTimestamp(report.requestedAt)}_${codigoSolicitacao}_${fileIndex}`;
    const extension = layout.format === 'txt' ? 'txt' : 'json';
    const entries = entryBytes(records, layout, context).map((data, entry) => ({
      name: `${name}${layout.entriesPerFile > 1 ? `_${entry}` : ''}.${extension}`,
      data,
    }));
    const zip = await zipArchive(entries, saoPauloWallClock(report.requestedAt));
    // Written by hand: the base64 of a 500,000-record file is tens of MB.
    return { status: 200, body: `{"resultado":{"arquivo":"${zip.toString('base64')}","nomeArquivo":"${name}.zip"}}` };
  }

  /** The client's report named by the query (numeroCliente and codigoSolicitacao required), still kept. */
  private report(client: Client, params: URLSearchParams): Report {
    const numeroCliente = integerParam(params, 'numeroCliente');
    const codigoSolicitacao = integerParam(params, 'codigoSolicitacao');
    ownNumeroCliente(client, numeroCliente);
    const report = this.reports.get(codigoSolicitacao);
    if (!report || report.request.numeroCliente !== numeroCliente)
      throw invalid(`Solicitação ${codigoSolicitacao} não encontrada.`);
    if (this.now() - report.requestedAt > KEPT_DAYS * DAY_MS)
      throw invalid(`Solicitação ${codigoSolicitacao} expirada: os arquivos ficam disponíveis por ${KEPT_DAYS} dias.`);
    return report;
  }
}

/** "Still processing", as a public client recorded it (its key order kept): HTTP 400, code 5004. */
function processing(): Answer {
  return json(400, { mensagens: [{ mensagem: 'Solicitação ainda em processamento.', codigo: SICOOB_CODES.PROCESSING }] });
}
