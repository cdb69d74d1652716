import { createHash } from 'node:crypto';
import { scaled, type NFeDocument } from './document.ts';
import { statuses, type Status } from './messages.ts';

/** A CSC (Código de Segurança do Contribuinte) as the company registered it with the SEFAZ. */
export interface Csc {
  /** cIdToken, e.g. "000001"; compared as a number, since the QR code drops the leading zeros. */
  id: string;
  token: string;
}

/** The CSC registered for an emitter CNPJ: a map or a lookup. */
export type CscRegistry = Record<string, Csc> | ((cnpj: string) => Csc | undefined);

/** SP's QR code consultation addresses, the only ones its NFC-e service accepts. */
export const SP_QRCODE_URL = {
  '1': 'https://www.nfce.fazenda.sp.gov.br/qrcode',
  '2': 'https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode',
} as const;

export interface QrCodeContext {
  qrCodeUrl: string;
  csc: CscRegistry;
  /** The document's DigestValue, which the offline (tpEmis 9) QR code carries in hex. */
  digestValue: string | undefined;
}

/**
 * QR code version 2 (NT 2015.002 / 2019.001): online `chave|2|tpAmb|cIdToken|hash`, offline
 * `chave|2|tpAmb|dd|vNF|hex(digVal)|cIdToken|hash`; hash = SHA-1 of what precedes it + the CSC.
 */
export function checkQrCode(document: NFeDocument, context: QrCodeContext): Status | undefined {
  const { qrCode } = document;
  if (!qrCode) return statuses.qrMissing;

  const query = qrCode.indexOf('?');
  const address = query < 0 ? qrCode : qrCode.slice(0, query);
  // MOC ZX02: the address is compared without regard to case.
  if (address.toLowerCase() !== context.qrCodeUrl.toLowerCase()) return statuses.qrUrl;
  if (query < 0 || !qrCode.startsWith('p=', query + 1)) return statuses.qrParameterMissing;

  const parameters = qrCode.slice(query + 3).split('|');
  if (parameters[1] === undefined) return statuses.qrParameterMissing;
  if (parameters[1] !== '2') return statuses.qrVersion;
  const offline = document.ide.tpEmis === '9';
  if (parameters.length !== (offline ? 8 : 5) || parameters.includes('')) return statuses.qrParameterMissing;

  const [chave, , tpAmb, ...rest] = parameters;
  if (chave !== document.chNFe || tpAmb !== document.ide.tpAmb) return statuses.qrParameterDiffers;
  if (offline && !offlineParametersMatch(rest, document, context.digestValue)) return statuses.qrParameterDiffers;

  const [cIdToken = '', hash = ''] = rest.slice(-2);
  if (!/^(0|[1-9][0-9]{0,5})$/.test(cIdToken)) return statuses.qrParameterMissing;
  const csc = typeof context.csc === 'function' ? context.csc(document.cnpj) : context.csc[document.cnpj];
  if (!csc || Number(csc.id) !== Number(cIdToken)) return statuses.cscUnknown;

  const expected = createHash('sha1')
    .update(parameters.slice(0, -1).join('|') + csc.token)
    .digest('hex');
  return hash.toLowerCase() === expected ? undefined : statuses.qrHash;
}

/** Offline only: day of dhEmi, vNF and the hex of the DigestValue's base64 text. */
function offlineParametersMatch(parameters: string[], document: NFeDocument, digestValue: string | undefined): boolean {
  const [day, vNF = '', digestHex = ''] = parameters;
  return (
    day === document.ide.dhEmi.slice(8, 10) &&
    /^(0|[1-9][0-9]{0,12})(\.[0-9]{2})?$/.test(vNF) &&
    scaled(vNF, 2) === document.total.vNF &&
    digestValue !== undefined &&
    digestHex.toLowerCase() === Buffer.from(digestValue, 'utf8').toString('hex')
  );
}
