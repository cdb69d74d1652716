/**
 * The `codigo` of each error the simulator answers (body `{"mensagens":[{"codigo","mensagem"}]}`,
 * spec §0). Sicoob documents none of them but "5004" (still processing, seen in a public client);
 * every other code is a simulator choice:
 * - "400"  INVALID: a field missing or invalid, a window refused, an unknown codigoSolicitacao,
 *          idArquivo or idWebhook (HTTP 400).
 * - "401"  UNAUTHORIZED: no `Authorization: Bearer`, or a token unknown or expired (HTTP 401).
 * - "403"  FORBIDDEN: the `client_id` header is not the token's client, or the numeroCliente is not
 *          the client's (HTTP 403).
 * - "404"  NOT_FOUND: unknown route (HTTP 404); "405" METHOD_NOT_ALLOWED (HTTP 405);
 *          "413" TOO_LARGE: a body over 1 MiB (HTTP 413).
 * - "500"  and any injected 'http' fault's status: the default body of that fault.
 * - "5002" NO_RECORDS: the report is ready and holds no record — HTTP 400 with "NENHUM REGISTRO
 *          ENCONTRADO PARA A SOLICITACAO" (the spec only reports the words, unverified).
 * - "5004" PROCESSING: "Solicitação ainda em processamento." — HTTP 400 when a poll is answered that
 *          way (fileOptions notReady '5004'; the real status is Unknown), and always on a download
 *          of a report not yet ready.
 */
export const SICOOB_CODES = Object.freeze({
  INVALID: '400',
  UNAUTHORIZED: '401',
  FORBIDDEN: '403',
  NOT_FOUND: '404',
  METHOD_NOT_ALLOWED: '405',
  TOO_LARGE: '413',
  NO_RECORDS: '5002',
  PROCESSING: '5004',
});

/** A cobrança API error: answered HTTP `httpStatus` with `{"mensagens":[{"codigo","mensagem"}]}`. */
export class SicoobError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly codigo: string,
    message: string,
  ) {
    super(message);
  }
}

/** An error of the token endpoint, answered in OAuth's form `{"error":"invalid_client"}`. */
export class OAuthError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type',
  ) {
    super(error);
  }
}

/** The error body of every cobrança endpoint (spec §0), as JSON text. */
export function mensagens(codigo: string, mensagem: string): string {
  return JSON.stringify({ mensagens: [{ codigo, mensagem }] });
}

/** A 400 INVALID error with `mensagem`. */
export function invalid(mensagem: string): SicoobError {
  return new SicoobError(400, SICOOB_CODES.INVALID, mensagem);
}
