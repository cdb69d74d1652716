/**
 * The simulator's time source, in epoch milliseconds: 'real' follows Date.now(); 'manual' stands
 * still until moved (control.advance), so that timestamps and the notifier's retries are exact.
 */
export type Clock = RealClock | ManualClock;

export interface RealClock {
  readonly mode: 'real';
  now(): number;
}

export interface ManualClock {
  readonly mode: 'manual';
  now(): number;
  /** Moves forward to `ms` (epoch milliseconds); an earlier `ms` leaves it where it is. */
  moveTo(ms: number): void;
}

/** A clock of the given mode; `start` is where a manual clock begins. */
export function createClock(mode: 'real' | 'manual', start: Date): Clock {
  if (mode === 'real') return { mode, now: () => Date.now() };
  let current = start.getTime();
  return {
    mode,
    now: () => current,
    moveTo: (ms) => void (current = Math.max(current, ms)),
  };
}

/** Cielo's timestamp format: `YYYY-MM-DDThh:mm:ssZ` (UTC, whole seconds) for epoch milliseconds. */
export function cieloTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
