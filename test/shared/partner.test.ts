import { describe, expect, it } from 'vitest';
import { cachedPartnerSecrets } from '../../functions/shared/partner.ts';

describe('cachedPartnerSecrets', () => {
  it('remembers a known secret for the TTL, never an unknown one, and asks again once it expires', async () => {
    const asked: string[] = [];
    const owners: Record<string, string> = { good: 'integration-1' };
    let clock = 1_000;
    const cached = cachedPartnerSecrets(
      {
        async integrationForPartnerSecret(partner, secret) {
          asked.push(`${partner}:${secret}`);
          return owners[secret];
        },
      },
      60_000,
      () => clock,
    );
    expect(await cached.integrationForPartnerSecret('cielo', 'good')).toBe('integration-1');
    expect(await cached.integrationForPartnerSecret('cielo', 'good')).toBe('integration-1');
    expect(await cached.integrationForPartnerSecret('cielo', 'bad')).toBeUndefined();
    expect(await cached.integrationForPartnerSecret('cielo', 'bad')).toBeUndefined();
    // Another partner's secret is its own entry.
    expect(await cached.integrationForPartnerSecret('sicoob', 'good')).toBe('integration-1');
    expect(asked).toEqual(['cielo:good', 'cielo:bad', 'cielo:bad', 'sicoob:good']);

    // Revoked meanwhile: seen once the entry expires.
    delete owners.good;
    clock += 59_999;
    expect(await cached.integrationForPartnerSecret('cielo', 'good')).toBe('integration-1');
    clock += 1;
    expect(await cached.integrationForPartnerSecret('cielo', 'good')).toBeUndefined();
    expect(asked).toEqual(['cielo:good', 'cielo:bad', 'cielo:bad', 'sicoob:good', 'cielo:good']);
  });
});
