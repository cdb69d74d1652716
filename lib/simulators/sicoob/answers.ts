/** An answer to send: HTTP status, JSON text (none: no body), and what to do once it is sent. */
export interface Answer {
  status: number;
  body?: string;
  after?: () => void;
}

/** `value` as a JSON answer. */
export function json(status: number, value: unknown): Answer {
  return { status, body: JSON.stringify(value) };
}

/** 204, no body. */
export const NO_CONTENT: Answer = Object.freeze({ status: 204 });
