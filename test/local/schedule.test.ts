import { afterEach, describe, expect, it, vi } from 'vitest';
import { startScheduler, type ScheduledFunction } from '../../lib/local/scheduler.ts';
import type { FunctionSpec } from '../../lib/manifest.ts';
import { functions } from '../../lib/manifest.ts';
import { nextFire, parseSchedule, readSchedules, ScheduleExpressionError, shortestInterval } from '../../lib/schedule.ts';

/** A Friday, mid-morning (UTC), mid-minute. */
const FROM = new Date('2026-01-30T10:07:30.000Z');

/** The next fires, each after the one before, from FROM (rates count their periods from FROM). */
function fires(expression: string, count = 3): string[] {
  const schedule = parseSchedule(expression);
  const out: string[] = [];
  let at: Date | undefined = FROM;
  for (let i = 0; i < count; i++) {
    at = at && nextFire(schedule, at, FROM);
    out.push(at ? at.toISOString() : 'none');
  }
  return out;
}

describe('next fire times', () => {
  it.each([
    // The examples of EventBridge's user guide.
    ['cron(0 10 * * ? *)', ['2026-01-31T10:00:00.000Z', '2026-02-01T10:00:00.000Z', '2026-02-02T10:00:00.000Z']],
    ['cron(15 12 * * ? *)', ['2026-01-30T12:15:00.000Z', '2026-01-31T12:15:00.000Z', '2026-02-01T12:15:00.000Z']],
    ['cron(0 18 ? * MON-FRI *)', ['2026-01-30T18:00:00.000Z', '2026-02-02T18:00:00.000Z', '2026-02-03T18:00:00.000Z']],
    ['cron(0 8 1 * ? *)', ['2026-02-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z', '2026-04-01T08:00:00.000Z']],
    ['cron(0/15 * * * ? *)', ['2026-01-30T10:15:00.000Z', '2026-01-30T10:30:00.000Z', '2026-01-30T10:45:00.000Z']],
    ['cron(0/10 * ? * MON-FRI *)', ['2026-01-30T10:10:00.000Z', '2026-01-30T10:20:00.000Z', '2026-01-30T10:30:00.000Z']],
    ['cron(0/5 8-17 ? * MON-FRI *)', ['2026-01-30T10:10:00.000Z', '2026-01-30T10:15:00.000Z', '2026-01-30T10:20:00.000Z']],
    // Every minute: the next whole minute, never the current one.
    ['cron(* * * * ? *)', ['2026-01-30T10:08:00.000Z', '2026-01-30T10:09:00.000Z', '2026-01-30T10:10:00.000Z']],
    // L: the month's last day; LW: its last weekday (Jan 31 is a Saturday, and 09:00 on the 30th is past).
    ['cron(0 9 L * ? *)', ['2026-01-31T09:00:00.000Z', '2026-02-28T09:00:00.000Z', '2026-03-31T09:00:00.000Z']],
    ['cron(0 9 LW * ? *)', ['2026-02-27T09:00:00.000Z', '2026-03-31T09:00:00.000Z', '2026-04-30T09:00:00.000Z']],
    // W: the weekday nearest the day (Feb 15 and Mar 15 are Sundays), never in another month (Feb 1 and Mar 1 are Sundays).
    ['cron(0 9 15W * ? *)', ['2026-02-16T09:00:00.000Z', '2026-03-16T09:00:00.000Z', '2026-04-15T09:00:00.000Z']],
    ['cron(0 9 1W * ? *)', ['2026-02-02T09:00:00.000Z', '2026-03-02T09:00:00.000Z', '2026-04-01T09:00:00.000Z']],
    // 6L: the month's last Friday (today is one); L alone: Saturday, the week's last day.
    ['cron(0 18 ? * 6L *)', ['2026-01-30T18:00:00.000Z', '2026-02-27T18:00:00.000Z', '2026-03-27T18:00:00.000Z']],
    ['cron(30 12 ? * L *)', ['2026-01-31T12:30:00.000Z', '2026-02-07T12:30:00.000Z', '2026-02-14T12:30:00.000Z']],
    // #: the second Tuesday; a fifth Monday only in the months that have one.
    ['cron(0 8 ? * 3#2 *)', ['2026-02-10T08:00:00.000Z', '2026-03-10T08:00:00.000Z', '2026-04-14T08:00:00.000Z']],
    ['cron(0 9 ? * MON#5 *)', ['2026-03-30T09:00:00.000Z', '2026-06-29T09:00:00.000Z', '2026-08-31T09:00:00.000Z']],
    // 1 and 7: Sunday and Saturday.
    ['cron(0 22 ? * 1,7 *)', ['2026-01-31T22:00:00.000Z', '2026-02-01T22:00:00.000Z', '2026-02-07T22:00:00.000Z']],
    ['cron(5-30/10 */6 ? * SAT *)', ['2026-01-31T00:05:00.000Z', '2026-01-31T00:15:00.000Z', '2026-01-31T00:25:00.000Z']],
    ['cron(0 0 1 JAN,JUL ? 2027-2028)', ['2027-01-01T00:00:00.000Z', '2027-07-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z']],
    ['cron(0 12 29 FEB ? *)', ['2028-02-29T12:00:00.000Z', '2032-02-29T12:00:00.000Z', '2036-02-29T12:00:00.000Z']],
    // Valid, but with a last fire, or none at all.
    ['cron(59 23 31 DEC ? 2026)', ['2026-12-31T23:59:00.000Z', 'none', 'none']],
    ['cron(0 0 31 2 ? *)', ['none', 'none', 'none']],
    // Rates: every period from the rule's start (here FROM).
    ['rate(1 minute)', ['2026-01-30T10:08:30.000Z', '2026-01-30T10:09:30.000Z', '2026-01-30T10:10:30.000Z']],
    ['rate(5 minutes)', ['2026-01-30T10:12:30.000Z', '2026-01-30T10:17:30.000Z', '2026-01-30T10:22:30.000Z']],
    ['rate(1 hour)', ['2026-01-30T11:07:30.000Z', '2026-01-30T12:07:30.000Z', '2026-01-30T13:07:30.000Z']],
    ['rate(2 days)', ['2026-02-01T10:07:30.000Z', '2026-02-03T10:07:30.000Z', '2026-02-05T10:07:30.000Z']],
  ])('%s', (expression, expected) => {
    expect(fires(expression)).toEqual(expected);
  });

  it('counts a rate from its start, whatever instant it is asked after', () => {
    const rate = parseSchedule('rate(5 minutes)');
    const start = new Date('2026-01-30T10:00:00.000Z');
    expect(nextFire(rate, new Date('2026-01-30T10:00:00.000Z'), start)?.toISOString()).toBe('2026-01-30T10:05:00.000Z');
    expect(nextFire(rate, new Date('2026-01-30T10:04:59.999Z'), start)?.toISOString()).toBe('2026-01-30T10:05:00.000Z');
    expect(nextFire(rate, new Date('2026-01-30T10:05:00.000Z'), start)?.toISOString()).toBe('2026-01-30T10:10:00.000Z');
    expect(nextFire(rate, new Date('2026-01-30T13:21:00.000Z'), start)?.toISOString()).toBe('2026-01-30T13:25:00.000Z');
  });

  it('reads the shortest gap between fires', () => {
    expect(shortestInterval(parseSchedule('rate(1 minute)'))).toBe(60_000);
    expect(shortestInterval(parseSchedule('rate(2 days)'))).toBe(2 * 86_400_000);
    expect(shortestInterval(parseSchedule('cron(0/15 * * * ? *)'))).toBe(15 * 60_000);
    expect(shortestInterval(parseSchedule('cron(0 9,17 ? * MON-FRI *)'))).toBe(8 * 3_600_000);
    expect(shortestInterval(parseSchedule('cron(0 9 L * ? *)'))).toBe(28 * 86_400_000);
    expect(shortestInterval(parseSchedule('cron(59 23 31 DEC ? 2026)'))).toBeUndefined();
  });
});

describe('what EventBridge refuses', () => {
  const invalid = (expression: string, reason: string) => [expression, `invalid schedule expression "${expression}": ${reason}`];
  it.each([
    invalid('every minute', 'expected rate(value unit) or cron(minutes hours day-of-month month day-of-week year)'),
    invalid('rate(1 minutes)', 'a value of 1 takes the singular unit: rate(1 minute)'),
    invalid('rate(1 days)', 'a value of 1 takes the singular unit: rate(1 day)'),
    invalid('rate(5 minute)', 'a value above 1 takes the plural unit: rate(5 minutes)'),
    invalid('rate(0 minutes)', 'the rate value must be a whole number of at least 1, got "0"'),
    invalid('rate(-5 minutes)', 'the rate value must be a whole number of at least 1, got "-5"'),
    invalid('rate(1.5 hours)', 'the rate value must be a whole number of at least 1, got "1.5"'),
    invalid('rate(30 seconds)', 'the rate unit must be minute(s), hour(s) or day(s), got "seconds"'),
    invalid('rate(2 weeks)', 'the rate unit must be minute(s), hour(s) or day(s), got "weeks"'),
    invalid('rate(5)', 'a rate is a value and a unit separated by one space, e.g. rate(5 minutes)'),
    invalid('rate(5  minutes)', 'a rate is a value and a unit separated by one space, e.g. rate(5 minutes)'),
    invalid('cron(0 12 * * ?)', 'cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 5'),
    invalid('cron(0 0 12 * * ? *)', 'cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 7'),
    invalid('cron(0 12  * * ? *)', 'the cron fields must be separated by single spaces'),
    invalid('cron(0 12 ? * ? *)', 'exactly one of day-of-month and day-of-week must be ? (got "?" and "?")'),
    invalid('cron(0 12 * * * *)', 'exactly one of day-of-month and day-of-week must be ? (got "*" and "*")'),
    invalid('cron(0 12 1 * MON *)', 'exactly one of day-of-month and day-of-week must be ? (got "1" and "MON")'),
    invalid('cron(60 12 * * ? *)', 'minutes: 60 is out of range (0-59)'),
    invalid('cron(0 24 * * ? *)', 'hours: 24 is out of range (0-23)'),
    invalid('cron(0 12 0 * ? *)', 'day-of-month: 0 is out of range (1-31)'),
    invalid('cron(0 12 32 * ? *)', 'day-of-month: 32 is out of range (1-31)'),
    invalid('cron(0 12 * 13 ? *)', 'month: 13 is out of range (1-12)'),
    invalid('cron(0 12 ? * 0 *)', 'day-of-week: 0 is out of range (1-7)'),
    invalid('cron(0 12 ? * 8 *)', 'day-of-week: 8 is out of range (1-7)'),
    invalid('cron(0 12 * * ? 1969)', 'year: 1969 is out of range (1970-2199)'),
    invalid('cron(0 12 * * ? 2200)', 'year: 2200 is out of range (1970-2199)'),
    invalid('cron(0 12 * FOO ? *)', 'month: "FOO" is not a value from 1 to 12 or JAN-DEC'),
    invalid('cron(0 12 ? * mon *)', 'day-of-week: "mon" is not a value from 1 to 7 or SUN-SAT'),
    invalid('cron(0 12 ? * FRI-MON *)', 'day-of-week: the range "FRI-MON" runs backwards'),
    invalid('cron(30-10 12 * * ? *)', 'minutes: the range "30-10" runs backwards'),
    invalid('cron(5x 12 * * ? *)', 'minutes: "5x" is not a value from 0 to 59'),
    invalid('cron(1-2-3 12 * * ? *)', 'minutes: "1-2-3" is not a value, a range (a-b) or an increment (a/n)'),
    invalid('cron(0/0 * * * ? *)', 'minutes: the increment in "0/0" must be a whole number from 1 to 59'),
    invalid('cron(0/60 * * * ? *)', 'minutes: the increment in "0/60" must be a whole number from 1 to 59'),
    invalid('cron(*,5 12 * * ? *)', 'minutes: * stands alone, got "*,5"'),
    invalid('cron(0 ? * * ? *)', 'hours: ? is only allowed in day-of-month or day-of-week'),
    invalid('cron(0 12 ? * */2 *)', 'day-of-week: / is not allowed here, got "*/2"'),
    invalid(
      'cron(0 12 L,15 * ? *)',
      'day-of-month: L and W stand alone in the field ("L", "LW" or a day such as "15W"), got "L,15"',
    ),
    invalid(
      'cron(0 12 1-15W * ? *)',
      'day-of-month: L and W stand alone in the field ("L", "LW" or a day such as "15W"), got "1-15W"',
    ),
    invalid(
      'cron(0 12 L-3 * ? *)',
      'day-of-month: L and W stand alone in the field ("L", "LW" or a day such as "15W"), got "L-3"',
    ),
    invalid('cron(0 12 32W * ? *)', 'day-of-month: 32 is out of range (1-31)'),
    invalid(
      'cron(0 12 ? * 3#1,6#3 *)',
      'day-of-week: L and # stand alone in the field (such as "L", "6L" or "3#2"), got "3#1,6#3"',
    ),
    invalid('cron(0 12 ? * 2#6 *)', 'day-of-week: # takes an occurrence from 1 to 5, got "2#6"'),
    invalid('cron(0 12 ? * 8L *)', 'day-of-week: 8 is out of range (1-7)'),
    invalid('cron(0 12 ? * 8#1 *)', 'day-of-week: 8 is out of range (1-7)'),
    invalid(`cron(${'0,'.repeat(125)}0 12 * * ? *)`, 'longer than 256 characters'),
  ])('%s', (expression, message) => {
    let refused: unknown;
    try {
      parseSchedule(expression!);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ScheduleExpressionError);
    expect((refused as Error).message).toBe(message);
  });

  it('accepts the forms its user guide shows', () => {
    for (const expression of [
      'rate(1 minute)',
      'rate(5 minutes)',
      'rate(1 hour)',
      'rate(1 day)',
      'rate(2 days)',
      'cron(0 10 * * ? *)',
      'cron(0 18 ? * MON-FRI *)',
      'cron(0/5 8-17 ? * MON-FRI *)',
      'cron(9 * 7,9,11 5 ? 2020,2022,2024-2099)',
      'cron(1/10 * * JAN,FEB,MAR ? *)',
      'cron(0 12 ? * 3#2 *)',
      'cron(0 12 3W * ? *)',
      'cron(0 12 L * ? *)',
      'cron(0 12 ? * 6L *)',
    ]) {
      expect(() => parseSchedule(expression)).not.toThrow();
    }
  });

  it("names the function whose trigger holds a refused expression, and reads the manifest's", () => {
    const spec = (expression: string): Pick<FunctionSpec, 'trigger'> => ({
      trigger: { kind: 'schedule', expression, description: 'test' },
    });
    expect(() => readSchedules({ fine: spec('rate(1 minute)'), sweep: spec('rate(0 minutes)') })).toThrow(
      'sweep: invalid schedule expression "rate(0 minutes)": the rate value must be a whole number of at least 1, got "0"',
    );
    expect(readSchedules(functions)).toEqual({
      paymentRequeue: { kind: 'rate', expression: 'rate(1 minute)', value: 1, unit: 'minute', periodMs: 60_000 },
      nfceContingencySender: { kind: 'rate', expression: 'rate(5 minutes)', value: 5, unit: 'minute', periodMs: 300_000 },
      nfceInutilizacao: expect.objectContaining({ kind: 'cron', expression: 'cron(0 6 * * ? *)', minutes: [0], hours: [6] }),
      cieloVerifySweep: { kind: 'rate', expression: 'rate(5 minutes)', value: 5, unit: 'minute', periodMs: 300_000 },
      caratReconciler: { kind: 'rate', expression: 'rate(2 minutes)', value: 2, unit: 'minute', periodMs: 120_000 },
      sicoobSweep: { kind: 'rate', expression: 'rate(10 minutes)', value: 10, unit: 'minute', periodMs: 600_000 },
      boletoPitrExport: expect.objectContaining({ kind: 'cron', expression: 'cron(0 4 * * ? *)', minutes: [0], hours: [4] }),
    });
  });
});

describe('the local scheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires each function at its expression’s instants, with the scheduled time in the event', async () => {
    vi.useFakeTimers({ now: FROM });
    const fired: string[] = [];
    const scheduled = (name: string, expression: string): ScheduledFunction => ({
      name,
      schedule: parseSchedule(expression),
      spec: {
        entry: 'unused',
        description: 'test',
        trigger: { kind: 'schedule', expression, description: 'test' },
        timeoutSeconds: 5,
        memoryMb: 128,
      },
      handler: async (event) => {
        fired.push(`${name} ${(event as { time: string }).time}`);
        return undefined;
      },
    });
    const scheduler = startScheduler(
      [scheduled('everyFive', 'rate(5 minutes)'), scheduled('quarterHours', 'cron(0/15 * * * ? *)')],
      true,
      (name, error) => fired.push(`${name} failed: ${String(error)}`),
    );
    await vi.advanceTimersByTimeAsync(24 * 60_000); // to 10:31:30
    expect(fired).toEqual([
      'everyFive 2026-01-30T10:12:30Z',
      'quarterHours 2026-01-30T10:15:00Z',
      'everyFive 2026-01-30T10:17:30Z',
      'everyFive 2026-01-30T10:22:30Z',
      'everyFive 2026-01-30T10:27:30Z',
      'quarterHours 2026-01-30T10:30:00Z',
    ]);
    scheduler.stop();
    fired.length = 0;
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(fired).toEqual([]);

    // More than setTimeout's 24.8 days away: reached in several waits, and fired once.
    const yearly = startScheduler([scheduled('newYear', 'cron(0 0 1 JAN ? *)')], true, () => undefined);
    await vi.advanceTimersByTimeAsync(Date.parse('2027-01-01T00:00:30Z') - Date.now());
    expect(fired).toEqual(['newYear 2027-01-01T00:00:00Z']);
    yearly.stop();
  });
});
