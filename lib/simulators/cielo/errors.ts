/** The `code` of the simulator's error bodies, one per situation it answers with an error. */
export type CieloErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_PARAMETER'
  | 'INVALID_OPERATION'
  | 'INVALID_STATUS'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'REQUIRED_FIELD_MISSING'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL_SERVER_ERROR'
  | 'SERVICE_UNAVAILABLE';

/** The error body of every non-2xx answer: `{"code": "...", "detail": "..."}`. */
export interface CieloErrorBody {
  code: CieloErrorCode;
  detail: string;
}

/** An API error: thrown by the order book, answered by the server as `httpStatus` + CieloErrorBody. */
export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: CieloErrorCode,
    detail: string,
  ) {
    super(detail);
  }

  body(): CieloErrorBody {
    return { code: this.code, detail: this.message };
  }
}
