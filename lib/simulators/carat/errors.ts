/**
 * The `esitef.code` of each error the simulator answers, with its HTTP status. Carat's public table
 * only gives "0" (OK) and "1" (null NIT field); every other code is a simulator choice:
 * - "1"   NIT_MISSING: the `nit` query parameter is absent or empty (HTTP 400).
 * - "2"   INVALID_REQUEST: body not JSON, no root key (a PUT naming neither or both of do/confirm), a field
 *         of the wrong type, or recharge_type not "normal" (HTTP 400).
 * - "3"   MERCHANT_UNAUTHORIZED: unknown merchant_key, or not the transaction's merchant (HTTP 401).
 * - "4"   NIT_NOT_FOUND: no transaction with this NIT (HTTP 404).
 * - "5"   DENIED: the carrier denied the recharge (HTTP 400; the default of a 'deny' fault).
 * - "6"   INVALID_STATUS: the transaction's status does not allow the call (HTTP 200 on dealers and
 *         branches, 400 on do and confirm); the answer carries the status.
 * - "10"  DEALER_INVALID, "11" DDD_INVALID, "12" PHONE_INVALID, "13" AMOUNT_INVALID (amount or
 *         amount_key), "14" PAYMENT_INVALID: a do or branches parameter refused (HTTP 400).
 * - "20"  NOT_FOUND (HTTP 404), "21" METHOD_NOT_ALLOWED (HTTP 405), "22" BODY_TOO_LARGE (HTTP 413).
 * - "99"  UNAVAILABLE: the default body of an injected 'http' fault, or the simulator's own failure (HTTP 500).
 * - "131" AUTHENTICITY_FAILED: the store did not answer the authenticity POST with HTTP 200 in time
 *         (begin answers HTTP 200 with it; the transaction is INV).
 */
export const ESITEF_CODES = Object.freeze({
  NIT_MISSING: '1',
  INVALID_REQUEST: '2',
  MERCHANT_UNAUTHORIZED: '3',
  NIT_NOT_FOUND: '4',
  DENIED: '5',
  INVALID_STATUS: '6',
  DEALER_INVALID: '10',
  DDD_INVALID: '11',
  PHONE_INVALID: '12',
  AMOUNT_INVALID: '13',
  PAYMENT_INVALID: '14',
  NOT_FOUND: '20',
  METHOD_NOT_ALLOWED: '21',
  BODY_TOO_LARGE: '22',
  UNAVAILABLE: '99',
  AUTHENTICITY_FAILED: '131',
});

/** An e-SiTef error: thrown by the steps, answered as HTTP `httpStatus` with {status?, esitef {code, message}}. */
export class EsitefError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    /** The transaction's status, when one is concerned. */
    readonly status?: string,
  ) {
    super(message);
  }
}
