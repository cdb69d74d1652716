import { createHash } from 'node:crypto';

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
