import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, closesAt, nextWindow, saoPauloDay, windowOf, windowsBetween } from '../../functions/sicoob/windows.ts';

describe('the sweep’s two-day windows', () => {
  it('are two São Paulo days, both inclusive, starting on even day numbers', () => {
    // 2026-11-29 is day 20,421 since 1970-01-01… counted from 0: 20,420, even — a window starts there.
    expect(windowOf('2026-11-29')).toEqual({ dataInicial: '2026-11-29', dataFinal: '2026-11-30' });
    expect(windowOf('2026-11-30')).toEqual({ dataInicial: '2026-11-29', dataFinal: '2026-11-30' });
    expect(nextWindow(windowOf('2026-11-29'))).toEqual({ dataInicial: '2026-12-01', dataFinal: '2026-12-02' });
    // Across a year: the window holding the first day, to the one holding the last.
    expect(windowsBetween('2026-12-30', '2027-01-03')).toEqual([
      { dataInicial: '2026-12-29', dataFinal: '2026-12-30' },
      { dataInicial: '2026-12-31', dataFinal: '2027-01-01' },
      { dataInicial: '2027-01-02', dataFinal: '2027-01-03' },
    ]);
    expect(windowsBetween('2026-12-05', '2026-12-01')).toEqual([]);
  });

  it('close at the start of the day after dataFinal, São Paulo time (03:00 UTC)', () => {
    expect(closesAt({ dataInicial: '2026-11-29', dataFinal: '2026-11-30' }).toISOString()).toBe('2026-12-01T03:00:00.000Z');
    // 23:59 in São Paulo is still the same day; 00:00 is the next.
    expect(saoPauloDay(new Date('2026-11-30T02:59:59.999Z'))).toBe('2026-11-29');
    expect(saoPauloDay(new Date('2026-11-30T03:00:00.000Z'))).toBe('2026-11-30');
  });

  it('tile every day exactly once, whatever the range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 120 }), (start, length) => {
        const from = addDays('1990-01-01', start);
        const to = addDays(from, length);
        const windows = windowsBetween(from, to);
        const days = windows.flatMap((w) => [w.dataInicial, w.dataFinal]);
        expect(new Set(days).size).toBe(days.length);
        for (let d = 0; d <= length; d++) expect(days).toContain(addDays(from, d));
        // No window beyond the ones holding from and to.
        expect(days.length).toBeLessThanOrEqual(length + 3);
        for (const [i, w] of windows.entries()) {
          expect(w.dataFinal).toBe(addDays(w.dataInicial, 1));
          if (i > 0) expect(w.dataInicial).toBe(addDays(windows[i - 1]!.dataFinal, 1));
        }
      }),
    );
  });
});
