import { describe, expect, it } from 'vitest';
import { contingencyDeadline, contingencyView, retryDelayMs, type ContingencyInvoice } from '../../functions/nfce/contingency.ts';

/** The contingency record's rules alone: the transmission deadline, the retry delays, the operator's view. */

describe('the transmission deadline: the end of the next business day (spec §4)', () => {
  it.each([
    ['a Monday', '2026-11-30T10:15:00-03:00', 1, '2026-12-01T23:59:59-03:00'],
    ['a Thursday late at night', '2026-12-03T23:59:59-03:00', 1, '2026-12-04T23:59:59-03:00'],
    ['a Friday: the Monday after', '2026-12-04T09:00:00-03:00', 1, '2026-12-07T23:59:59-03:00'],
    ['a Saturday: the Monday', '2026-12-05T12:00:00-03:00', 1, '2026-12-07T23:59:59-03:00'],
    ['a Sunday: the Monday', '2026-12-06T12:00:00-03:00', 1, '2026-12-07T23:59:59-03:00'],
    ['a year’s last day (Thursday)', '2026-12-31T20:00:00-03:00', 1, '2027-01-01T23:59:59-03:00'],
    ['two business days from a Thursday', '2026-12-03T08:00:00-03:00', 2, '2026-12-07T23:59:59-03:00'],
  ])('%s', (_, dhEmi, days, deadline) => {
    expect(contingencyDeadline(dhEmi, days)).toBe(deadline);
  });
});

describe('retrying a transmission SEFAZ did not answer', () => {
  it('waits 1, 2, 4, 8, 16 minutes, then 30 at most', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map((n) => retryDelayMs(n) / 60_000)).toEqual([1, 2, 4, 8, 16, 30, 30]);
  });
});

describe('the operator’s view', () => {
  const entry: ContingencyInvoice = {
    chave: '35261182373077000171650010000000129123456780',
    integrationHubServiceId: 'i-1',
    paymentId: 'p-1',
    signedKey: 'nfce/x/signed.xml',
    nfeProcKey: 'nfce/x/nfeProc.xml',
    contingencyState: 'PENDING',
    dhEmi: '2026-11-30T10:00:00-03:00',
    contingency: {
      cnpj: '82373077000171',
      serie: 1,
      nNF: 12,
      dhCont: '2026-11-30T10:00:00-03:00',
      xJust: 'SEFAZ inacessivel: emissao em contingencia offline',
      deadline: '2026-12-01T23:59:59-03:00',
      attempts: 2,
      nextAttemptAt: '2026-11-30T10:05:00.000-03:00',
      lastError: 'SEFAZ unreachable: connect ECONNREFUSED',
      online: { chave: '35261182373077000171650010000000111876543210', nNF: 11, dhEmi: '2026-11-30T09:59:51-03:00', sent: true },
    },
  };

  it('a pending document: the seconds left to its deadline, its attempts and last error', () => {
    expect(contingencyView(entry, new Date('2026-12-01T23:00:00-03:00'))).toEqual({
      invoiceKey: entry.chave,
      integrationHubServiceId: 'i-1',
      paymentId: 'p-1',
      state: 'PENDING',
      serie: 1,
      nNF: 12,
      dhEmi: '2026-11-30T10:00:00-03:00',
      deadline: '2026-12-01T23:59:59-03:00',
      secondsToDeadline: 3599,
      attempts: 2,
      nextAttemptAt: '2026-11-30T10:05:00.000-03:00',
      lastError: 'SEFAZ unreachable: connect ECONNREFUSED',
      online: entry.contingency.online,
    });
  });

  it('past its deadline: negative seconds', () => {
    expect(contingencyView(entry, new Date('2026-12-02T00:00:09-03:00')).secondsToDeadline).toBe(-10);
  });

  it('an authorized one: its protocol, no deadline countdown and no stale retry details', () => {
    const sent: ContingencyInvoice = {
      ...entry,
      contingencyState: 'SENT',
      nProt: '13526000000000123',
      contingency: {
        ...entry.contingency,
        authorizedAt: '2026-11-30T11:00:00-03:00',
        online: { ...entry.contingency.online, settlement: 'GAP', settledAt: '2026-11-30T11:00:01.000-03:00' },
      },
    };
    const view = contingencyView(sent, new Date('2026-11-30T12:00:00-03:00'));
    expect(view).toMatchObject({ state: 'SENT', nProt: '13526000000000123', authorizedAt: '2026-11-30T11:00:00-03:00' });
    expect(view.secondsToDeadline).toBeUndefined();
    expect(view.nextAttemptAt).toBeUndefined();
    expect(view.lastError).toBeUndefined();
    expect(view.online.settlement).toBe('GAP');
  });
});
