/**
 * Dates as Sicoob writes them. São Paulo is UTC−03:00 all year (no daylight saving since 2019): its
 * calendar days ("today", the movement files' `-03:00` offsets) come from the clock shifted 3 hours.
 */

export const DAY_MS = 86_400_000;
const SAO_PAULO_OFFSET_MS = -3 * 3_600_000;

/** The São Paulo calendar day of an instant (epoch ms): `yyyy-MM-dd`. */
export function saoPauloDay(ms: number): string {
  return new Date(ms + SAO_PAULO_OFFSET_MS).toISOString().slice(0, 10);
}

/** `day` (`yyyy-MM-dd`) moved `days` calendar days (negative: back). */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whether `text` is a real calendar day written `yyyy-MM-dd`. */
export function isDay(text: unknown): text is string {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(text);
}

/** `yyyy-MM-dd` + `THH:mm:ss` → the movement files' `yyyy-MM-ddTHH:mm:ss-03:00`, day and month unpadded when asked (`2026-11-7T…`). */
function fileDateTime(day: string, time: string, unpadded: boolean): string {
  const date = unpadded ? day.replace(/-0(\d)/g, '-$1') : day;
  return `${date}T${time}-03:00`;
}

/** A movement-file date: the day at midnight, São Paulo time. */
export function fileDate(day: string, unpadded: boolean): string {
  return fileDateTime(day, '00:00:00', unpadded);
}

/** An instant (epoch ms) as a movement-file date-time, São Paulo time. */
export function fileInstant(ms: number, unpadded: boolean): string {
  const local = new Date(ms + SAO_PAULO_OFFSET_MS).toISOString();
  return fileDateTime(local.slice(0, 10), local.slice(11, 19), unpadded);
}

/** The 21-digit timestamp of file names (`20190426092201` + 7 fraction digits), São Paulo time. */
export function fileTimestamp(ms: number): string {
  const local = new Date(ms + SAO_PAULO_OFFSET_MS).toISOString();
  return `${local.slice(0, 23).replace(/\D/g, '')}0000`;
}

/** An instant's São Paulo wall-clock fields, for the ZIP entries' MS-DOS date and time. */
export function saoPauloWallClock(ms: number): Date {
  return new Date(ms + SAO_PAULO_OFFSET_MS);
}
