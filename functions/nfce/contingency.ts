import * as z from 'zod';
import { ACCESS_KEY_PATTERN } from './key.ts';
import { cStatSchema, nProtSchema } from './sefaz.ts';

/**
 * Offline contingency (tpEmis 9, spec nfce-2026.md §4): what is kept of each contingency NFC-e
 * until SEFAZ has authorized it and the sale's online attempt is settled. The record is the
 * invoice index's item (`INVOICE#<chave>`, invoices table) with a `contingency` map and two
 * top-level attributes for the `contingency` index: `contingencyState` and `contingencyOrder`
 * (dhEmi, then nNF).
 *
 * States: PENDING (not yet authorized; the sender transmits it, oldest first) → SETTLING
 * (authorized; the online attempt of the same sale still to be settled) → SENT (authorized and
 * settled). REJECTED: SEFAZ refused it; an operator must act (GET /admin/nfce/contingency).
 */
export const CONTINGENCY_STATES = ['PENDING', 'SETTLING', 'SENT', 'REJECTED'] as const;
export type ContingencyState = (typeof CONTINGENCY_STATES)[number];

const chave = z.string().regex(ACCESS_KEY_PATTERN);
const status = z.object({ cStat: cStatSchema, xMotivo: z.string() });

/**
 * How the online attempt ended: SUBSTITUTED (it had been authorized; cancelled by substitution,
 * event 110112, `eventKey` its procEventoNFe in S3 — also when an earlier run's answer was lost),
 * CANCELLED (SEFAZ holds it cancelled by something else), GAP (unknown to SEFAZ: its number is
 * recorded for inutilização with its key), AUTHORIZED (SEFAZ refused the contingency NFC-e and
 * holds the online one: that one is the sale's, nothing is cancelled).
 */
export const ONLINE_SETTLEMENTS = ['SUBSTITUTED', 'CANCELLED', 'GAP', 'AUTHORIZED'] as const;

/** The online attempt a contingency NFC-e stands in for: the key built for the online number. */
export const onlineAttemptSchema = z.object({
  chave,
  nNF: z.number().int().positive(),
  /** The online document's dhEmi (`-03:00`). */
  dhEmi: z.string(),
  /** Whether it may have reached SEFAZ (a send was started and not known to have failed to connect). */
  sent: z.boolean(),
  settlement: z.enum(ONLINE_SETTLEMENTS).optional(),
  settledAt: z.string().optional(),
  /** S3 key of the 110112 procEventoNFe. */
  eventKey: z.string().optional(),
  /** Why it could not be settled yet (an event rejection, the 168 h passed): for an operator. */
  problem: z.string().optional(),
});
export type OnlineAttempt = z.infer<typeof onlineAttemptSchema>;

export const contingencyDetailSchema = z.object({
  cnpj: z.string(),
  serie: z.number().int(),
  nNF: z.number().int().positive(),
  dhCont: z.string(),
  xJust: z.string(),
  /** When it must have been transmitted (`-03:00`): see {@link contingencyDeadline}. */
  deadline: z.string(),
  /** The DANFE text stored for the POS (rewritten once authorized), and its width. */
  receiptKey: z.string().optional(),
  receiptColumns: z.union([z.literal(32), z.literal(48)]).optional(),
  /** Transmissions tried that SEFAZ did not answer; the next is not before `nextAttemptAt` (`-03:00`). */
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: z.string().optional(),
  lastError: z.string().optional(),
  /** SEFAZ's refusal (REJECTED). */
  rejection: status.optional(),
  /** SEFAZ's dhRecbto of the authorization. */
  authorizedAt: z.string().optional(),
  online: onlineAttemptSchema,
});
export type ContingencyDetail = z.infer<typeof contingencyDetailSchema>;

/** A contingency NFC-e as the invoice index keeps it. */
export const contingencyInvoiceSchema = z.object({
  chave,
  integrationHubServiceId: z.string(),
  paymentId: z.string(),
  signedKey: z.string(),
  /** Where the nfeProc is (or will be, once authorized). */
  nfeProcKey: z.string(),
  /** Present once authorized. */
  nProt: nProtSchema.optional(),
  contingencyState: z.enum(CONTINGENCY_STATES),
  /** The contingency NFC-e's dhEmi (`-03:00`): the index's sort key, so oldest first. */
  dhEmi: z.string(),
  contingency: contingencyDetailSchema,
});
export type ContingencyInvoice = z.infer<typeof contingencyInvoiceSchema>;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The transmission deadline of a contingency NFC-e issued at `dhEmi` (`-03:00`): the end
 * (23:59:59 `-03:00`) of the `businessDays`-th business day after its day (spec §4: "by the end
 * of the next business day"; 1 by default). Saturdays and Sundays are skipped; holidays are not
 * known here, which only makes the deadline earlier than the law's, never later.
 */
export function contingencyDeadline(dhEmi: string, businessDays = 1): string {
  const day = new Date(`${dhEmi.slice(0, 10)}T00:00:00Z`);
  for (let left = businessDays; left > 0;) {
    day.setTime(day.getTime() + DAY_MS);
    const weekday = day.getUTCDay();
    if (weekday !== 0 && weekday !== 6) left--;
  }
  return `${day.toISOString().slice(0, 10)}T23:59:59-03:00`;
}

/**
 * SEFAZ refuses a normal-emission NFC-e received more than 5 minutes after its dhEmi (704), so
 * once this long has passed since the online attempt's dhEmi an answer SEFAZ never gave cannot
 * come any more: "unknown to SEFAZ" is final. The extra minute covers clock differences.
 */
export const ONLINE_FINAL_AFTER_MS = 6 * 60_000;

/** When a transmission SEFAZ did not answer is tried again: 1, 2, 4 … minutes, at most 30. */
export function retryDelayMs(attempts: number): number {
  return Math.min(30, 2 ** Math.max(0, attempts - 1)) * 60_000;
}

/** A contingency NFC-e as the operator's listing shows it (GET /admin/nfce/contingency). */
export interface ContingencyView {
  invoiceKey: string;
  integrationHubServiceId: string;
  paymentId: string;
  state: ContingencyState;
  serie: number;
  nNF: number;
  dhEmi: string;
  /** When it must be transmitted by (`-03:00`), and the seconds left (negative: passed) while not authorized. */
  deadline: string;
  secondsToDeadline?: number;
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  rejection?: { cStat: string; xMotivo: string };
  nProt?: string;
  authorizedAt?: string;
  online: OnlineAttempt;
}

/** The listing's view of one record at `now`. */
export function contingencyView(entry: ContingencyInvoice, now: Date): ContingencyView {
  const { contingency: c } = entry;
  const authorized = entry.contingencyState === 'SETTLING' || entry.contingencyState === 'SENT';
  return {
    invoiceKey: entry.chave,
    integrationHubServiceId: entry.integrationHubServiceId,
    paymentId: entry.paymentId,
    state: entry.contingencyState,
    serie: c.serie,
    nNF: c.nNF,
    dhEmi: entry.dhEmi,
    deadline: c.deadline,
    ...(authorized ? {} : { secondsToDeadline: Math.floor((Date.parse(c.deadline) - now.getTime()) / 1000) }),
    attempts: c.attempts,
    ...(c.nextAttemptAt && !authorized ? { nextAttemptAt: c.nextAttemptAt } : {}),
    ...(c.lastError && !authorized ? { lastError: c.lastError } : {}),
    ...(c.rejection ? { rejection: c.rejection } : {}),
    ...(entry.nProt ? { nProt: entry.nProt } : {}),
    ...(c.authorizedAt ? { authorizedAt: c.authorizedAt } : {}),
    online: c.online,
  };
}
