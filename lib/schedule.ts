/**
 * EventBridge schedule expressions — `rate(…)` and `cron(…)` — read, refused as EventBridge refuses
 * them, and evaluated in UTC: the CDK app passes the expression through to the rule, the local
 * scheduler fires at the same instants. No AWS or CDK imports: both runtimes use it.
 *
 * Why not a library: the well-kept cron libraries on npm read other dialects — croner and
 * cron-parser put seconds first and number weekdays from 0, croner refuses `0/15` (the user guide's
 * own example) and reads `?` as `*` — and the one written for EventBridge (aws-cron-parser 1.1.12)
 * accepts what EventBridge refuses (`5x` read as 5, `*` in both day fields, `3#1,6#3` read as
 * `3#1`), crashes on 5 fields and throws on `L` alone in day-of-week. Refusing exactly is the point
 * here, so this reads EventBridge's grammar itself, as its user guide states it, and refuses what
 * the guide does not document (wrap-around ranges like `FRI-MON`, `L-3`, lower-case names, `/` in
 * day-of-week), so nothing the local stack accepts can fail at deploy. Its next fire times were
 * checked against croner's (translated) on 20,000 random expressions.
 *
 * Rates: `rate(1 minute|hour|day)`, `rate(N minutes|hours|days)` for N ≥ 2; they fire every period
 * from when the rule is created (locally: from when the scheduler starts).
 *
 * Cron: `cron(minutes hours day-of-month month day-of-week year)`, in UTC, firing at second 0:
 *
 * | field        | values                 | wildcards       |
 * | ------------ | ---------------------- | --------------- |
 * | minutes      | 0–59                   | , - * /         |
 * | hours        | 0–23                   | , - * /         |
 * | day-of-month | 1–31                   | , - * ? / L W   |
 * | month        | 1–12 or JAN–DEC        | , - * /         |
 * | day-of-week  | 1–7 (SUN–SAT) or names | , - * ? L #     |
 * | year         | 1970–2199              | , - * /         |
 *
 * Exactly one of day-of-month and day-of-week is `?`. Day-of-month `L` is the month's last day,
 * `LW` its last weekday, `15W` the weekday nearest the 15th within the month (a day the month does
 * not have never fires). Day-of-week `L` alone is Saturday (the week's last day), `6L` the month's
 * last Friday, `3#2` its second Tuesday (`#` from 1 to 5). `L`, `W` and `#` stand alone in their
 * field. `a/n` counts from a up to the field's maximum, `*\/n` from its minimum, `a-b/n` within a–b.
 */

import type { FunctionSpec } from './manifest.ts';

/** PutRule's limit on ScheduleExpression. */
export const MAX_EXPRESSION_LENGTH = 256;

export type RateUnit = 'minute' | 'hour' | 'day';

export interface RateSchedule {
  kind: 'rate';
  expression: string;
  value: number;
  unit: RateUnit;
  periodMs: number;
}

export type DayOfMonth =
  | { kind: 'any' }
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'last' }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

export type DayOfWeek =
  | { kind: 'any' }
  /** 1 = Sunday … 7 = Saturday. */
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'lastOfMonth'; day: number }
  | { kind: 'nth'; day: number; nth: number };

export interface CronSchedule {
  kind: 'cron';
  expression: string;
  /** Sorted ascending. */
  minutes: readonly number[];
  hours: readonly number[];
  months: ReadonlySet<number>;
  years: ReadonlySet<number>;
  dayOfMonth: DayOfMonth;
  dayOfWeek: DayOfWeek;
}

export type Schedule = RateSchedule | CronSchedule;

export class ScheduleExpressionError extends Error {
  constructor(
    readonly expression: string,
    readonly reason: string,
    /** The manifest function whose trigger holds the expression, when known. */
    readonly functionName?: string,
  ) {
    super(`${functionName ? `${functionName}: ` : ''}invalid schedule expression ${JSON.stringify(expression)}: ${reason}`);
    this.name = 'ScheduleExpressionError';
  }
}

const MINUTE_MS = 60_000;
const UNIT_MS: Record<RateUnit, number> = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS };
const FIRST_YEAR = 1970;
const LAST_YEAR = 2199;

/** Reads an expression, or throws a ScheduleExpressionError saying what EventBridge would refuse. */
export function parseSchedule(expression: string): Schedule {
  const fail = (reason: string): never => {
    throw new ScheduleExpressionError(expression, reason);
  };
  if (expression.length > MAX_EXPRESSION_LENGTH) fail(`longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const rate = /^rate\((.*)\)$/s.exec(expression);
  if (rate) return parseRate(expression, rate[1]!, fail);
  const cron = /^cron\((.*)\)$/s.exec(expression);
  if (cron) return parseCron(expression, cron[1]!, fail);
  return fail('expected rate(value unit) or cron(minutes hours day-of-month month day-of-week year)');
}

function parseRate(expression: string, body: string, fail: (reason: string) => never): RateSchedule {
  const parts = /^(\S+) (\S+)$/.exec(body);
  if (!parts) return fail('a rate is a value and a unit separated by one space, e.g. rate(5 minutes)');
  const [, valueText, unitText] = parts as unknown as [string, string, string];
  if (!/^\d+$/.test(valueText) || Number(valueText) < 1) {
    return fail(`the rate value must be a whole number of at least 1, got "${valueText}"`);
  }
  const value = Number(valueText);
  if (!Number.isSafeInteger(value * UNIT_MS.day)) return fail(`the rate value ${valueText} is too large`);
  const unit = /^(minute|hour|day)(s?)$/.exec(unitText);
  if (!unit) return fail(`the rate unit must be minute(s), hour(s) or day(s), got "${unitText}"`);
  const singular = unit[1] as RateUnit;
  const plural = unit[2] === 's';
  if (value === 1 && plural) return fail(`a value of 1 takes the singular unit: rate(1 ${singular})`);
  if (value > 1 && !plural) return fail(`a value above 1 takes the plural unit: rate(${value} ${singular}s)`);
  return { kind: 'rate', expression, value, unit: singular, periodMs: value * UNIT_MS[singular] };
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names for min, min + 1, … (months, weekdays). */
  names?: readonly string[];
  /** The largest increment `/n` takes (Quartz's limits, whose grammar EventBridge's follows); absent: no `/`. */
  maxStep?: number;
}

const FIELDS = {
  minutes: { name: 'minutes', min: 0, max: 59, maxStep: 59 },
  hours: { name: 'hours', min: 0, max: 23, maxStep: 23 },
  dayOfMonth: { name: 'day-of-month', min: 1, max: 31, maxStep: 31 },
  month: {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
    maxStep: 12,
  },
  dayOfWeek: { name: 'day-of-week', min: 1, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
  year: { name: 'year', min: FIRST_YEAR, max: LAST_YEAR, maxStep: LAST_YEAR - FIRST_YEAR },
} as const satisfies Record<string, FieldSpec>;

function parseCron(expression: string, body: string, fail: (reason: string) => never): CronSchedule {
  if (!/^\S+( \S+)*$/.test(body)) return fail('the cron fields must be separated by single spaces');
  const fields = body.split(' ');
  if (fields.length !== 6) {
    return fail(`cron takes 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return fail(`exactly one of day-of-month and day-of-week must be ? (got "${dayOfMonth}" and "${dayOfWeek}")`);
  }
  const sorted = (values: Set<number>) => [...values].sort((a, b) => a - b);
  return {
    kind: 'cron',
    expression,
    minutes: sorted(parseField(minutes, FIELDS.minutes, fail)),
    hours: sorted(parseField(hours, FIELDS.hours, fail)),
    dayOfMonth: parseDayOfMonth(dayOfMonth, fail),
    months: parseField(month, FIELDS.month, fail),
    dayOfWeek: parseDayOfWeek(dayOfWeek, fail),
    years: parseField(year, FIELDS.year, fail),
  };
}

function parseDayOfMonth(field: string, fail: (reason: string) => never): DayOfMonth {
  const spec = FIELDS.dayOfMonth;
  if (field === '?') return { kind: 'any' };
  if (field === 'L') return { kind: 'last' };
  if (field === 'LW') return { kind: 'lastWeekday' };
  const weekday = /^(\d+)W$/.exec(field);
  if (weekday) return { kind: 'nearestWeekday', day: value(weekday[1]!, spec, fail) };
  if (/[LW]/.test(field)) {
    return fail(`${spec.name}: L and W stand alone in the field ("L", "LW" or a day such as "15W"), got "${field}"`);
  }
  return { kind: 'days', days: parseField(field, spec, fail) };
}

function parseDayOfWeek(field: string, fail: (reason: string) => never): DayOfWeek {
  const spec = FIELDS.dayOfWeek;
  if (field === '?') return { kind: 'any' };
  // The week's last day: Saturday.
  if (field === 'L') return { kind: 'days', days: new Set([7]) };
  const last = /^([^,#/-]+)L$/.exec(field);
  if (last) return { kind: 'lastOfMonth', day: value(last[1]!, spec, fail) };
  const nth = /^([^,#/-]+)#(\d+)$/.exec(field);
  if (nth) {
    const n = Number(nth[2]);
    if (n < 1 || n > 5) return fail(`${spec.name}: # takes an occurrence from 1 to 5, got "${field}"`);
    return { kind: 'nth', day: value(nth[1]!, spec, fail), nth: n };
  }
  if (/[L#]/.test(field)) {
    return fail(`${spec.name}: L and # stand alone in the field (such as "L", "6L" or "3#2"), got "${field}"`);
  }
  return { kind: 'days', days: parseField(field, spec, fail) };
}

/** `*`, `*\/n`, or a list of values, ranges `a-b`, and increments `a/n` and `a-b/n`. */
function parseField(field: string, spec: FieldSpec, fail: (reason: string) => never): Set<number> {
  if (field === '?') return fail(`${spec.name}: ? is only allowed in day-of-month or day-of-week`);
  const values = new Set<number>();
  const items = field.split(',');
  for (const item of items) {
    const parts = /^(?:(\*)|([^-/]+)(?:-([^-/]+))?)(?:\/(.*))?$/.exec(item);
    if (!parts) {
      return fail(`${spec.name}: "${item}" is not a value, a range (a-b) or an increment (a/n)${allowed(spec)}`);
    }
    const [, star, from, to, step] = parts;
    if (star && items.length > 1) return fail(`${spec.name}: * stands alone, got "${field}"`);
    if (step !== undefined && spec.maxStep === undefined) return fail(`${spec.name}: / is not allowed here, got "${item}"`);
    const start = star ? spec.min : value(from!, spec, fail);
    // `a/n` runs to the field's end; `a-b` and `a-b/n` to b.
    const end = star || (step !== undefined && to === undefined) ? spec.max : to === undefined ? start : value(to, spec, fail);
    if (end < start) return fail(`${spec.name}: the range "${item}" runs backwards`);
    let increment = 1;
    if (step !== undefined) {
      increment = /^\d+$/.test(step) ? Number(step) : NaN;
      if (!(increment >= 1 && increment <= spec.maxStep!)) {
        return fail(`${spec.name}: the increment in "${item}" must be a whole number from 1 to ${spec.maxStep}`);
      }
    }
    for (let v = start; v <= end; v += increment) values.add(v);
  }
  return values;
}

function value(text: string, spec: FieldSpec, fail: (reason: string) => never): number {
  const named = spec.names?.indexOf(text) ?? -1;
  if (named >= 0) return spec.min + named;
  if (!/^\d+$/.test(text)) {
    return fail(`${spec.name}: "${text}" is not a value from ${spec.min} to ${spec.max}${allowed(spec)}`);
  }
  const n = Number(text);
  if (n < spec.min || n > spec.max) return fail(`${spec.name}: ${text} is out of range (${spec.min}-${spec.max})`);
  return n;
}

function allowed(spec: FieldSpec): string {
  return spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : '';
}

/**
 * The first fire strictly after `after`. Rates fire every period from `start` (the rule's creation;
 * the first fire is one period after it); a cron fires at second 0 of each matching UTC minute.
 * Undefined when a cron never fires again (its years are past, or it names a day no month has).
 */
export function nextFire(schedule: Schedule, after: Date, start: Date = after): Date | undefined {
  if (schedule.kind === 'rate') {
    const elapsed = after.getTime() - start.getTime();
    const periods = Math.max(1, Math.floor(elapsed / schedule.periodMs) + 1);
    return new Date(start.getTime() + periods * schedule.periodMs);
  }
  return nextCronFire(schedule, after);
}

function nextCronFire(cron: CronSchedule, after: Date): Date | undefined {
  // The first whole minute after `after`.
  const from = new Date((Math.floor(after.getTime() / MINUTE_MS) + 1) * MINUTE_MS);
  let year = from.getUTCFullYear();
  let month = from.getUTCMonth() + 1;
  let day = from.getUTCDate();
  let sameDay = true; // whether (year, month, day) is still from's own date
  while (year <= LAST_YEAR) {
    if (!cron.years.has(year)) {
      [year, month, day, sameDay] = [year + 1, 1, 1, false];
      continue;
    }
    if (!cron.months.has(month)) {
      [month, day, sameDay] = [month + 1, 1, false];
      if (month > 12) [year, month] = [year + 1, 1];
      continue;
    }
    if (day <= daysInMonth(year, month) && dayMatches(cron, year, month, day)) {
      const time = firstTime(cron, sameDay ? from.getUTCHours() : 0, sameDay ? from.getUTCMinutes() : 0);
      if (time) return new Date(Date.UTC(year, month - 1, day, time.hour, time.minute));
    }
    [day, sameDay] = [day + 1, false];
    if (day > daysInMonth(year, month)) {
      [month, day] = [month + 1, 1];
      if (month > 12) [year, month] = [year + 1, 1];
    }
  }
  return undefined;
}

function firstTime(cron: CronSchedule, hour: number, minute: number): { hour: number; minute: number } | undefined {
  for (const h of cron.hours) {
    if (h < hour) continue;
    const m = cron.minutes.find((m) => h > hour || m >= minute);
    if (m !== undefined) return { hour: h, minute: m };
  }
  return undefined;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 = Sunday … 7 = Saturday, as EventBridge numbers them. */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function dayMatches(cron: CronSchedule, year: number, month: number, day: number): boolean {
  const last = daysInMonth(year, month);
  const dom = cron.dayOfMonth;
  const domMatches =
    dom.kind === 'any' ||
    (dom.kind === 'days' && dom.days.has(day)) ||
    (dom.kind === 'last' && day === last) ||
    (dom.kind === 'lastWeekday' && day === nearestWeekday(year, month, last)) ||
    (dom.kind === 'nearestWeekday' && dom.day <= last && day === nearestWeekday(year, month, dom.day));
  if (!domMatches) return false;
  const dow = cron.dayOfWeek;
  const wd = weekday(year, month, day);
  return (
    dow.kind === 'any' ||
    (dow.kind === 'days' && dow.days.has(wd)) ||
    (dow.kind === 'lastOfMonth' && wd === dow.day && day + 7 > last) ||
    (dow.kind === 'nth' && wd === dow.day && Math.ceil(day / 7) === dow.nth)
  );
}

/** The weekday nearest `day` without leaving the month: Saturday → Friday, Sunday → Monday. */
function nearestWeekday(year: number, month: number, day: number): number {
  const last = daysInMonth(year, month);
  switch (weekday(year, month, day)) {
    case 7: // Saturday: the Friday before, or Monday the 3rd when the 1st is a Saturday
      return day === 1 ? 3 : day - 1;
    case 1: // Sunday: the Monday after, or the Friday before when it is the month's last day
      return day === last ? day - 2 : day + 1;
    default:
      return day;
  }
}

/**
 * The shortest time between two fires, for the target's maximum event age (an event older than
 * that is covered by the next fire). Rates: the period. Crons: the shortest gap among their first
 * 1,000 fires from 1970 (a cron repeats within that for any practical pattern); undefined for a
 * cron that fires at most once.
 */
export function shortestInterval(schedule: Schedule): number | undefined {
  if (schedule.kind === 'rate') return schedule.periodMs;
  let shortest: number | undefined;
  let previous = nextFire(schedule, new Date(Date.UTC(FIRST_YEAR, 0, 1) - MINUTE_MS));
  for (let i = 0; previous && i < 1000; i++) {
    const next = nextFire(schedule, previous);
    if (!next) break;
    const gap = next.getTime() - previous.getTime();
    shortest = shortest === undefined ? gap : Math.min(shortest, gap);
    if (shortest === MINUTE_MS) break;
    previous = next;
  }
  return shortest;
}

/**
 * Every scheduled function's schedule, read once when a runtime loads the manifest; the first
 * expression EventBridge would refuse throws, naming its function.
 */
export function readSchedules(functions: Readonly<Record<string, Pick<FunctionSpec, 'trigger'>>>): Record<string, Schedule> {
  const schedules: Record<string, Schedule> = {};
  for (const [name, { trigger }] of Object.entries(functions)) {
    if (trigger.kind !== 'schedule') continue;
    try {
      schedules[name] = parseSchedule(trigger.expression);
    } catch (error) {
      if (error instanceof ScheduleExpressionError) throw new ScheduleExpressionError(error.expression, error.reason, name);
      throw error;
    }
  }
  return schedules;
}
