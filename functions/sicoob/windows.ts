/**
 * The sweep's two-day windows (seed 004: "período sempre de intervalo de dois dias"; spec §1.1: at
 * most 2 days), in São Paulo days (UTC−03:00 all year since 2019). A window is
 * `dataInicial`…`dataFinal` = start … start + 1 day, **both inclusive** (two calendar days), and
 * the next starts the day after `dataFinal`: windows tile without gaps or overlaps. Starts fall on
 * even day numbers counted from 1970-01-01, so every run, whenever it starts, cuts the same windows.
 */

export interface SweepWindow {
  /** `yyyy-MM-dd`, inclusive */
  dataInicial: string;
  /** `yyyy-MM-dd`, inclusive: the day after dataInicial */
  dataFinal: string;
}

const DAY_MS = 86_400_000;
const OFFSET_MS = 3 * 3_600_000;

/** The São Paulo calendar day of an instant: `yyyy-MM-dd`. */
export function saoPauloDay(at: Date): string {
  return new Date(at.getTime() - OFFSET_MS).toISOString().slice(0, 10);
}

/** `day` moved `days` calendar days (negative: back). */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The window that holds `day`. */
export function windowOf(day: string): SweepWindow {
  const number = Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY_MS);
  const dataInicial = addDays(day, -(((number % 2) + 2) % 2));
  return { dataInicial, dataFinal: addDays(dataInicial, 1) };
}

/** The window after `window`. */
export function nextWindow(window: SweepWindow): SweepWindow {
  return windowOf(addDays(window.dataFinal, 1));
}

/** When the window closes: the start of the day after `dataFinal`, São Paulo time. */
export function closesAt(window: SweepWindow): Date {
  return new Date(Date.parse(`${addDays(window.dataFinal, 1)}T00:00:00-03:00`));
}

/** Every window from the one holding `fromDay` to the one holding `toDay`, oldest first (none when from is later). */
export function windowsBetween(fromDay: string, toDay: string): SweepWindow[] {
  const out: SweepWindow[] = [];
  const last = windowOf(toDay).dataInicial;
  for (let window = windowOf(fromDay); window.dataInicial <= last; window = nextWindow(window)) out.push(window);
  return out;
}
