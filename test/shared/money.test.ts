import { describe, expect, it } from 'vitest';
import { formatReais, isWholeCentavos, toCentavos } from '../../functions/shared/money.ts';
import { saoPauloIso } from '../../functions/shared/time.ts';

describe('money', () => {
  it('converts reais to centavos without float drift', () => {
    expect(toCentavos(67.1)).toBe(6710);
    expect(toCentavos(0.29)).toBe(29);
    expect(toCentavos(1.005 + 0.005)).toBe(101);
    expect(isWholeCentavos(6.1)).toBe(true);
    expect(isWholeCentavos(10.1234)).toBe(false);
    // What the JSON said, not a tolerance: more decimals are refused however small they are.
    expect(isWholeCentavos(10.0000000001)).toBe(false);
    expect(isWholeCentavos(20.000000000000004)).toBe(false);
    expect(isWholeCentavos(1234 / 100)).toBe(true);
    expect(isWholeCentavos(5e-324)).toBe(true);
  });

  it('formats centavos as reais', () => {
    expect(formatReais(6710)).toBe('67.10');
    expect(formatReais(5)).toBe('0.05');
    expect(formatReais(-250)).toBe('-2.50');
  });
});

describe('saoPauloIso', () => {
  it('writes São Paulo time with an explicit -03:00 offset', () => {
    expect(saoPauloIso(new Date('2024-08-16T18:17:35.000Z'))).toBe('2024-08-16T15:17:35.000-03:00');
    expect(saoPauloIso(new Date('2026-01-01T02:00:00.000Z'))).toBe('2025-12-31T23:00:00.000-03:00');
  });
});
