import { createHash } from 'node:crypto';
import { formatReais } from '../shared/money.ts';

/**
 * QR code version 2, online emission: `<url>?p=<chave>|2|<tpAmb>|<cIdToken>|<hash>` with cIdToken
 * without leading zeros and hash = SHA-1 (upper-case hex) of everything after `p=` plus the CSC.
 */
export function qrCodeV2(url: string, chave: string, tpAmb: 1 | 2, cscId: string, csc: string): string {
  const payload = `${chave}|2|${tpAmb}|${String(Number(cscId))}`;
  const hash = createHash('sha1')
    .update(payload + csc, 'utf8')
    .digest('hex')
    .toUpperCase();
  return `${url}?p=${payload}|${hash}`;
}

/**
 * QR code version 2, offline contingency (tpEmis 9), printed before SEFAZ has seen the document:
 * `<url>?p=<chave>|2|<tpAmb>|<day of dhEmi>|<vNF>|<digest hex>|<cIdToken>|<hash>`, where the day is
 * dhEmi's own (two digits, in the document's offset), vNF is written as in `ICMSTot/vNF` (reais, 2
 * decimals), the digest hex is the DigestValue's base64 text taken byte by byte as lower-case hex
 * (56 characters), cIdToken has no leading zeros and hash = SHA-1 (upper-case hex) of everything
 * after `p=` plus the CSC (the QR code manual's offline form as maintained libraries build it; the
 * result matches PL_010e's "QRCODE V2 OFFLINE" pattern, which wants 56 hex digits there).
 */
export function qrCodeV2Offline(
  url: string,
  fields: { chave: string; tpAmb: 1 | 2; dhEmi: string; vNF: number; digestValue: string },
  cscId: string,
  csc: string,
): string {
  const day = /^\d{4}-\d{2}-(\d{2})T/.exec(fields.dhEmi)?.[1];
  if (!day) throw new Error(`dhEmi ${JSON.stringify(fields.dhEmi)} is not a date-time`);
  if (!/^[A-Za-z0-9+/]{27}=$/.test(fields.digestValue))
    throw new Error(`DigestValue ${JSON.stringify(fields.digestValue)} is not the base64 of a SHA-1`);
  const digestHex = Buffer.from(fields.digestValue, 'utf8').toString('hex');
  const payload = `${fields.chave}|2|${fields.tpAmb}|${day}|${formatReais(fields.vNF)}|${digestHex}|${String(Number(cscId))}`;
  const hash = createHash('sha1')
    .update(payload + csc, 'utf8')
    .digest('hex')
    .toUpperCase();
  return `${url}?p=${payload}|${hash}`;
}
