/** An endpoint of the simulator: what control.calls() counts and control.failNext() targets ('webhooks' = the six management endpoints). */
export type SicoobEndpoint = 'token' | 'request' | 'query' | 'download' | 'webhooks';

/**
 * A failure injected into one call of an endpoint (control.failNext), taken when the call arrives,
 * before the token, the headers or the body are looked at; the call is never applied:
 * - `http`: answered HTTP `status` with `body` (default `{"mensagens":[{"codigo":"<status>","mensagem":…}]}`).
 * - `timeout`: never answered (the socket stays open until the client gives up or close()).
 * - `body`: answered `body` verbatim (HTTP `status`, default 200; content-type application/json).
 */
export type SicoobFault =
  { kind: 'http'; status: number; body?: string } | { kind: 'timeout' } | { kind: 'body'; status?: number; body: string };

export interface SicoobSimulatorOptions {
  /** 0 or absent: a free port. Always bound to 127.0.0.1. */
  port?: number;
  /** The accepted client_ids, each with its numeroCliente (the beneficiary's contract, 707090 in seed 004). */
  clients?: { clientId: string; numeroCliente: number }[];
  /** The simulator's clock (default: real time): token expiry, "today", every date it writes. */
  now?: () => Date;
  /** `expires_in` of the tokens, in seconds of the clock (default 300). */
  tokenTtlSeconds?: number;
  /** The most records a movement file holds (`quantidadeRegistrosArquivo`, default 500,000). */
  recordsPerFile?: number;
  /** How many polls of a new report are answered "not ready" before it is (default 1). */
  notReadyPolls?: number;
  /** PEM texts: HTTPS that requires a client certificate signed by `clientCa` (mutual TLS); absent: plain HTTP. */
  tls?: { key: string; cert: string; clientCa: string };
  /** Accept http:// and ports other than 443 in webhook URLs (local stacks); default false: 400, as Sicoob does. */
  allowInsecureWebhooks?: boolean;
}

export interface SicoobSimulator {
  /** The API base, e.g. http://127.0.0.1:40123/cobranca-bancaria/v3 (https with `tls`). */
  url: string;
  /** The full token URL, e.g. http://127.0.0.1:40123/auth/realms/cooperado/protocol/openid-connect/token. */
  authUrl: string;
  control: SicoobControl;
  close(): Promise<void>;
}

/** control.seedBoleto: a boleto the cooperado registered. */
export interface SicoobBoletoSeed {
  numeroCliente: number;
  /** Digits WITH the check digit, as Sicoob has it (leading zeros ignored). */
  nossoNumero: string;
  seuNumero: string;
  /** centavos */
  valor: number;
  /** `yyyy-MM-dd` */
  dataVencimento: string;
}

/** control.liquidate: days `yyyy-MM-dd`, amounts in centavos. */
export interface SicoobLiquidation {
  dataLiquidacao: string;
  /** The processing day, `dataMovimentoLiquidacao` (default dataLiquidacao): what a report's window selects on. */
  dataMovimento?: string;
  /** Default: the day after dataLiquidacao. */
  dataPrevisaoCredito?: string;
  /** Default: valor + valorMora − valorDesconto − valorAbatimento. Written as `valorLiquido`. */
  valorPago?: number;
  valorMora?: number;
  valorDesconto?: number;
  valorAbatimento?: number;
  /** Default 150. */
  valorTarifaMovimento?: number;
  /** Default 212 (Pix); one of the spec's ids (2, 51, 57, 58, 68, 74, 75, 212, 213, 215). */
  idTipoOpFinanceira?: number;
}

/** control.addLiquidation: a LIQUI movement of a boleto the simulator does not know; centavos. */
export interface SicoobUnmatchedLiquidation {
  numeroCliente: number;
  /** Digits with the DV. */
  numeroTitulo: string;
  /** Default "". */
  seuNumero?: string;
  valorTitulo: number;
  dataLiquidacao: string;
  /** Default dataLiquidacao. */
  dataMovimento?: string;
  /** Default valorTitulo. */
  valorLiquido?: number;
}

/**
 * control.fileOptions: how the files of reports requested from now on are written, and how polls
 * are answered from now on. Each property left out keeps its current value.
 */
export interface SicoobFileOptions {
  /** ZIP entries per file, the file's records split over them in order (default 1). */
  entriesPerFile?: number;
  /** 'json' (default): a single-line JSON array in a `.json` entry; 'jsonl': one record per line in a `.json` entry; 'txt': a JSON array in a `.txt` entry. */
  format?: 'json' | 'jsonl' | 'txt';
  /** 'long' (default): the spec's documented names; 'short': the example file's abbreviated names; 'mixed': long and short records alternate. */
  dialect?: 'long' | 'short' | 'mixed';
  /** Dates with day and month unpadded (`2026-11-7T00:00:00-03:00`); default false. */
  unpaddedDates?: boolean;
  /** `quantidadeTotalRegistros` as a pt-BR string ("1.500"); default false (a number). */
  totalAsString?: boolean;
  /** "Not ready": '204' (default, no content) or '5004' (HTTP 400 with code 5004). */
  notReady?: '204' | '5004';
}

/** A movement report request the simulator accepted (`at`: ISO UTC on the simulator's clock). */
export interface SicoobMovementRequest {
  codigoSolicitacao: number;
  numeroCliente: number;
  tipoMovimento: number;
  dataInicial: string;
  dataFinal: string;
  at: string;
}

/** A registered webhook: 1 awaiting validation, 2 validated, 3 inactive. */
export interface SicoobWebhookInfo {
  idWebhook: number;
  url: string;
  numeroCliente: number;
  codigoSituacao: 1 | 2 | 3;
  email?: string;
}

/** control.notify's options; valorPagamento in centavos. */
export interface SicoobNoticeOptions {
  /** A reversal of a previous notice (default false). */
  cancelamentoBaixa?: boolean;
  /** 19 digits; default a new one. */
  numeroIdentificadorBaixa?: string;
  /** Default: what the boleto's liquidation paid, else its valor. */
  valorPagamento?: number;
  /** Send, instead of the boleto's, a nosso número no boleto of the client has (one past its highest); the rest is the boleto's. */
  nossoNumeroUnknown?: boolean;
}

export interface SicoobControl {
  /** Accepts one more client_id (an Error if it exists). */
  addClient(clientId: string, numeroCliente: number): void;
  /** A boleto the cooperado registered (nossoNumero digits WITH its check digit, as Sicoob has it; valor in centavos). An Error if seeded already. */
  seedBoleto(b: SicoobBoletoSeed): void;
  /**
   * Liquidates a seeded boleto: a LIQUI movement on dataMovimento (see SicoobLiquidation for the
   * defaults). Throws if not seeded. Returns the record as it will appear in a long-dialect file,
   * money as reais numbers, except `dataInicioMovimento`/`dataFimMovimento` (those are the window
   * of the report that carries it).
   */
  liquidate(numeroCliente: number, nossoNumero: string, l: SicoobLiquidation): Record<string, unknown>;
  /** A LIQUI movement for a boleto the simulator does not know (no seed needed): unmatched records. */
  addLiquidation(record: SicoobUnmatchedLiquidation): void;
  /**
   * `count` synthetic LIQUI movements on `date` (paid in full by Pix) for boletos it also seeds,
   * numbered from `firstNossoNumero` upward (default: after the client's highest seeded number):
   * the 100,000-record bench (≈ 0.1 s per 100,000). Returns the seeded boletos' numbers.
   */
  bulkLiquidations(numeroCliente: number, count: number, date: string, firstNossoNumero?: number): { nossoNumeros: string[] };
  /** How files are written from now on (fixed per report when it is requested) and how polls are answered. */
  fileOptions(o: SicoobFileOptions): void;
  /** How many polls of reports requested from now on are answered "not ready" before they are. */
  notReadyPolls(n: number): void;
  /** The next `times` (default 1) calls of `endpoint` get `fault`. Faults queue per endpoint in order. */
  failNext(endpoint: SicoobEndpoint, fault: SicoobFault, times?: number): void;
  /** Drops every fault not yet taken. */
  clearFaults(): void;
  /** Movement requests accepted, in order. */
  movementRequests(): SicoobMovementRequest[];
  /** Tokens issued. */
  tokensIssued(): number;
  /** Calls per endpoint (faulted and refused ones included; unknown routes and methods not counted). */
  calls(): Record<SicoobEndpoint, number>;
  /** The webhooks registered and not deleted, in id order. */
  webhooks(): SicoobWebhookInfo[];
  /**
   * POSTs a payment notice (§2.3 envelope) for a seeded boleto to every validated webhook (situation
   * 2) of its numeroCliente, each tried up to 3 times until answered 200, 201 or 204; resolves with
   * each webhook's URL and the HTTP status of its last attempt (0 when no answer).
   */
  notify(numeroCliente: number, nossoNumero: string, n?: SicoobNoticeOptions): Promise<{ url: string; status: number }[]>;
}
