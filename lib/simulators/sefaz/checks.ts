import { checkDigit, composeKey } from './access-key.ts';
import type { NFeDocument } from './document.ts';
import { statuses, type Status } from './messages.ts';
import { checkQrCode, type QrCodeContext } from './qrcode.ts';
import type { Registry } from './registry.ts';
import { checkSignature } from './signature.ts';
import { checkTotals } from './totals.ts';

export interface CheckContext extends QrCodeContext {
  tpAmb: string;
  cUF: string;
  now: Date;
  registry: Registry;
}

/**
 * One NFC-e's checks, first failure answers: environment and authorizer, access key, signature
 * and certificate, QR code, totals, and last the duplicates, which need the registry.
 */
export function checkDocument(document: NFeDocument, context: CheckContext): Status | undefined {
  const { ide } = document;
  if (ide.tpAmb !== context.tpAmb) return statuses.wrongEnvironment;
  if (ide.cUF !== context.cUF) return statuses.wrongUf;
  if (ide.mod !== '65') return statuses.notNfce;

  // The Id must be the concatenation of the fields (502), and its check digit right (236).
  if (composeKey({ ...ide, cnpj: document.cnpj }) !== document.chNFe) return statuses.keyMismatch;
  if (checkDigit(document.chNFe.slice(0, 43)) !== ide.cDV) return statuses.keyCheckDigit;

  return (
    checkSignature(document, context.now) ??
    checkQrCode(document, context) ??
    checkTotals(document) ??
    context.registry.duplicateOf(document)
  );
}
