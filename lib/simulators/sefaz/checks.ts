import { checkDigit, composeKey } from './access-key.ts';
import type { NFeDocument } from './document.ts';
import { checkEmission } from './emission.ts';
import { checkIbsCbsItems, checkIbsCbsTotals } from './ibscbs.ts';
import { statuses, type Status } from './messages.ts';
import { checkQrCode, type QrCodeContext } from './qrcode.ts';
import type { Registry } from './registry.ts';
import type { SefazRules } from './rules.ts';
import { checkSignature } from './signature.ts';
import { checkPayments, checkTotals } from './totals.ts';

export interface CheckContext extends QrCodeContext {
  tpAmb: string;
  cUF: string;
  /** The lot's receipt (dhRecbto), which dhEmi and the certificate's validity are checked against. */
  now: Date;
  registry: Registry;
  rules: SefazRules;
}

/** ICMS-ST: CST 10, 30, 60, 70 and CSOSN 201, 202, 203, 500 always; CST 90 / CSOSN 900 when they carry vICMSST. */
const ST_ALWAYS = new Set(['10', '30', '60', '70', '201', '202', '203', '500']);
const ST_WITH_VICMSST = new Set(['90', '900']);

/**
 * 806 (MOC I05c): an item taxed under ICMS-ST without CEST. As the MOC words the rule, CST 90 and
 * CSOSN 900 need it only "desde que com a TAG vICMSST", and ICMSPart (the shared ICMS of CST 10/90)
 * is an exception.
 */
function checkCest({ items }: NFeDocument): Status | undefined {
  const needsCest = (item: NFeDocument['items'][number]) =>
    item.icmsGroup !== 'ICMSPart' &&
    item.icmsCode !== undefined &&
    (ST_ALWAYS.has(item.icmsCode) || (ST_WITH_VICMSST.has(item.icmsCode) && item.hasVICMSST));
  return items.some((item) => needsCest(item) && item.CEST === undefined) ? statuses.cestMissing : undefined;
}

/** 180 (NT 2026.007): the emitter's CRT against the configured Receita Federal register, when it names the emitter. */
function checkReceitaRegister(document: NFeDocument, rules: SefazRules): Status | undefined {
  const registered = rules.receitaRegister[document.cnpj];
  return registered !== undefined && registered !== document.crt ? statuses.crtDiffersFromReceita : undefined;
}

/**
 * One NFC-e's checks, first failure answers: environment and authorizer, access key, signature
 * and certificate, emission type and times (emission.ts: 570/714, 703/704, 556/557/558), QR code,
 * then the layout's groups in order — items (CEST, IBS/CBS), totals (ICMSTot, IBSCBSTot),
 * payments — then the registers: the Receita's CRT, the duplicates (204/539) and last a number
 * SEFAZ holds inutilized (206).
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
    // After the signature (SEFAZ reads no rule of a document it cannot trust), before the QR code,
    // whose shape tpEmis decides, and before the totals: ide's rules (MOC group B) come first.
    checkEmission(document, context.now) ??
    checkQrCode(document, context) ??
    checkCest(document) ??
    checkIbsCbsItems(document, context.rules) ??
    checkTotals(document) ??
    checkIbsCbsTotals(document) ??
    checkPayments(document) ??
    checkReceitaRegister(document, context.rules) ??
    context.registry.duplicateOf(document) ??
    context.registry.inutilizedOf(document)
  );
}
