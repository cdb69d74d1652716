import type { NFeDocument } from './document.ts';
import { statuses, type Status } from './messages.ts';

/**
 * The NFC-e's emission type and times against the receipt (MOC 7.0 §4.2.1, group B: rules B09-10,
 * B09-40, B22-30, B22-34, B28-10, B28-20, B28-30; read in a text conversion of the MOC's rule table
 * published in a public repository). The simulator serves normal emission (tpEmis 1) and offline
 * contingency (tpEmis 9, spec nfce-2026.md §4), as SEFAZ-SP does on these URLs.
 */

/** B09-10 / B09-40: "tolerância de até 5 minutos" for the clocks of the emitter and SEFAZ. */
const TOLERANCE_MS = 5 * 60_000;

/**
 * One NFC-e's emission checks, first failure answers, `receivedAt` being the lot's dhRecbto:
 *
 * - 570 tpEmis 3, 6 or 7 (SCAN/SVC, B22-30) and 714 tpEmis 2, 4 or 5 (B22-34; EPEC "a critério
 *   da UF": this simulator has no EPEC service, so no NFC-e of tpEmis 4 has one). First, because
 *   the type decides which of the rules below apply;
 * - 703 dhEmi more than 5 minutes after the receipt, whatever the type (B09-10 names none: a
 *   contingency NFC-e is sent late, never early);
 * - tpEmis 1: 704 dhEmi more than 5 minutes before the receipt (B09-40: exactly 5 minutes is
 *   accepted), 556 dhCont or xJust present (B28-10);
 * - tpEmis 9, accepted however late (B09-40's exception 2; SP's 24 h transmission deadline is the
 *   emitter's obligation, not checked here): 557 without dhCont or xJust (B28-20), 558 dhCont after
 *   dhEmi. MOC 7.0's 558 (B28-30) compares dhCont with the receipt (5 minutes of tolerance), which
 *   703 and dhCont ≤ dhEmi already imply.
 *
 * Not simulated: 150 for a contingency NFC-e transmitted after 24 h and 569 for a dhCont more than
 * 30 days old (both optional for the UF).
 */
export function checkEmission({ ide }: NFeDocument, receivedAt: Date): Status | undefined {
  if (ide.tpEmis === '3' || ide.tpEmis === '6' || ide.tpEmis === '7') return statuses.emissionTypeSvc;
  // What remains besides 1 and 9: 2, 4 and 5.
  if (ide.tpEmis !== '1' && ide.tpEmis !== '9') return statuses.emissionTypeInvalid;

  // dhEmi carries its offset: compare instants, not local times.
  const lag = receivedAt.getTime() - Date.parse(ide.dhEmi);
  if (lag < -TOLERANCE_MS) return statuses.emittedAfterReceipt;
  if (ide.tpEmis === '1') {
    if (lag > TOLERANCE_MS) return statuses.emittedLate;
    return ide.dhCont !== undefined || ide.xJust !== undefined ? statuses.contingencyOnNormal : undefined;
  }
  if (ide.dhCont === undefined || ide.xJust === undefined) return statuses.contingencyMissing;
  return Date.parse(ide.dhCont) > Date.parse(ide.dhEmi) ? statuses.contingencyAfterEmission : undefined;
}
