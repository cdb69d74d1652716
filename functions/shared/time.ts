/**
 * Brazil's official time has had no daylight saving since 2019: São Paulo is UTC−03:00 all year,
 * so timestamps are written with an explicit `-03:00` offset (as SEFAZ and the seeds do).
 */
const OFFSET_MS = 3 * 60 * 60 * 1000;

/** `2026-11-22T11:48:20.123-03:00` */
export function saoPauloIso(date: Date): string {
  return `${new Date(date.getTime() - OFFSET_MS).toISOString().slice(0, 23)}-03:00`;
}
