import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { A1Certificate } from '../../functions/nfce/certificate.ts';
import { addIbsCbs, type IbsCbsOptions } from '../support/ibscbs.ts';

/**
 * Test-only: valid signed NFC-e documents for the SEFAZ simulator, made from the seed's infNFe
 * (an NFC-e SP authorized) with this test's emitter, number and certificate. The key, check digit
 * and QR hash are computed here independently of the simulator's own code.
 */

export const NFE_NS = 'http://www.portalfiscal.inf.br/nfe';
const SEED = resolve(import.meta.dirname, '../../fixtures/nfce/seed-nfeproc.xml');
export const HOMOLOGATION_QRCODE = 'https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode';

export interface NfceOptions {
  /** The certificate that signs. */
  a1: A1Certificate;
  /** emit/CNPJ (also the key's CNPJ). */
  cnpj: string;
  csc: { id: string; token: string };
  nNF: number;
  serie?: number;
  cNF?: string;
  tpAmb?: '1' | '2';
  /** 9: offline contingency. */
  tpEmis?: '1' | '9';
  /** ide/dhEmi (and the key's AAMM); now in Brasília time by default. */
  dhEmi?: string;
  /** emit/CRT; the seed's 3 by default. */
  crt?: '1' | '2' | '3' | '4';
  /**
   * IBS/CBS groups (test/support/ibscbs.ts) added before `edit`, 2026 rates by default: the seed is
   * a CRT 3 emitter's, which must carry them from 2026-08-03. false: none.
   */
  ibsCbs?: IbsCbsOptions | false;
  /** Changes to infNFe before the key is composed (fields, totals…). */
  edit?: (infNFe: Element) => void;
  /** Changes to infNFe after the key and cDV are set, before signing (to break the key). */
  afterKey?: (infNFe: Element) => void;
  /** The qrCode text for a key, instead of a correct one. */
  qrCode?: (chNFe: string) => string;
}

export interface SignedNfce {
  /** `<NFe xmlns="…">` with infNFe, infNFeSupl and Signature, compact. */
  xml: string;
  chNFe: string;
  digestValue: string;
}

export function brasiliaNow(): string {
  return `${new Date(Date.now() - 3 * 3_600_000).toISOString().slice(0, 19)}-03:00`;
}

/** Modulo 11, weights 2..9 from the right, each character as ASCII − 48 (spec: the seed's key has cDV 3). */
export function mod11(digits: string): string {
  const sum = [...digits].reverse().reduce((total, digit, i) => total + (digit.charCodeAt(0) - 48) * (2 + (i % 8)), 0);
  return String(sum % 11 < 2 ? 0 : 11 - (sum % 11));
}

export function qrCodeFor(chNFe: string, tpAmb: string, csc: { id: string; token: string }, url = HOMOLOGATION_QRCODE): string {
  const p = `${chNFe}|2|${tpAmb}|${Number(csc.id)}`;
  return `${url}?p=${p}|${createHash('sha1')
    .update(p + csc.token)
    .digest('hex')
    .toUpperCase()}`;
}

/** The offline (tpEmis 9) QR code, which carries the day of dhEmi, vNF and the DigestValue in hex. */
export function offlineQrCodeFor(document: SignedNfce, vNF: string, csc: { id: string; token: string }): string {
  const day = /<dhEmi>\d{4}-\d{2}-(\d{2})/.exec(document.xml)![1];
  const p = `${document.chNFe}|2|2|${day}|${vNF}|${Buffer.from(document.digestValue).toString('hex')}|${Number(csc.id)}`;
  return `${HOMOLOGATION_QRCODE}?p=${p}|${createHash('sha1')
    .update(p + csc.token)
    .digest('hex')
    .toUpperCase()}`;
}

/** infNFeSupl is outside the signature: its QR code can be replaced after signing. */
export const withQrCode = (document: SignedNfce, qrCode: string): string =>
  document.xml.replace(/<qrCode>.*<\/qrCode>/, `<qrCode><![CDATA[${qrCode}]]></qrCode>`);

export function setText(parent: Element, path: string, value: string): void {
  const target = path.split('/').reduce((element, name) => element.getElementsByTagNameNS(NFE_NS, name)[0]!, parent);
  target.textContent = value;
}

export function removeElement(parent: Element, path: string): void {
  const target = path.split('/').reduce((element, name) => element.getElementsByTagNameNS(NFE_NS, name)[0]!, parent);
  target.parentNode!.removeChild(target);
}

export function signedNfce(options: NfceOptions): SignedNfce {
  const seed = new DOMParser().parseFromString(readFileSync(SEED, 'utf8'), 'text/xml');
  const infNFe = seed.getElementsByTagNameNS(NFE_NS, 'infNFe')[0]!;
  const tpAmb = options.tpAmb ?? '2';
  const dhEmi = options.dhEmi ?? brasiliaNow();
  const fields = {
    cUF: '35',
    cNF: options.cNF ?? String(10_000_000 + ((options.nNF * 7919) % 89_999_999)),
    mod: '65',
    serie: String(options.serie ?? 1),
    nNF: String(options.nNF),
    tpEmis: options.tpEmis ?? '1',
  };
  for (const [name, value] of Object.entries(fields)) setText(infNFe, `ide/${name}`, value);
  setText(infNFe, 'ide/dhEmi', dhEmi);
  setText(infNFe, 'ide/tpAmb', tpAmb);
  setText(infNFe, 'emit/CNPJ', options.cnpj);
  if (options.crt) setText(infNFe, 'emit/CRT', options.crt);
  if (options.ibsCbs !== false) addIbsCbs(infNFe, options.ibsCbs || {});
  options.edit?.(infNFe);

  const first43 = [
    fields.cUF,
    dhEmi.slice(2, 4) + dhEmi.slice(5, 7),
    options.cnpj,
    fields.mod,
    fields.serie.padStart(3, '0'),
    fields.nNF.padStart(9, '0'),
    fields.tpEmis,
    fields.cNF,
  ].join('');
  const chNFe = first43 + mod11(first43);
  setText(infNFe, 'ide/cDV', chNFe.slice(43));
  infNFe.setAttribute('Id', `NFe${chNFe}`);
  options.afterKey?.(infNFe);

  const qrCode = options.qrCode?.(chNFe) ?? qrCodeFor(chNFe, tpAmb, options.csc);
  const unsigned =
    `<NFe xmlns="${NFE_NS}">${new XMLSerializer().serializeToString(infNFe).replace(` xmlns="${NFE_NS}"`, '')}` +
    `<infNFeSupl><qrCode><![CDATA[${qrCode}]]></qrCode><urlChave>https://www.homologacao.nfce.fazenda.sp.gov.br/consulta</urlChave></infNFeSupl></NFe>`;

  // The NFe signature profile: enveloped, C14N, RSA-SHA1/SHA-1, X509Certificate, no prefix.
  const signer = new SignedXml({
    privateKey: options.a1.privateKeyPem,
    publicCert: options.a1.certificatePem,
    signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    canonicalizationAlgorithm: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  });
  signer.addReference({
    xpath: "//*[local-name(.)='infNFe']",
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'],
    digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1',
  });
  signer.computeSignature(unsigned, { location: { reference: "//*[local-name(.)='NFe']", action: 'append' } });
  const xml = signer.getSignedXml();
  return { xml, chNFe, digestValue: /<DigestValue>([^<]+)<\/DigestValue>/.exec(xml)![1]! };
}

export const SOAP_ACTION = 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeAutorizacao4/nfeAutorizacaoLote';

export function authorizationEnvelope(nfes: string, options: { indSinc?: string; idLote?: string } = {}): string {
  return (
    '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>' +
    '<nfeDadosMsg xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/NFeAutorizacao4">' +
    `<enviNFe xmlns="${NFE_NS}" versao="4.00"><idLote>${options.idLote ?? '1'}</idLote><indSinc>${options.indSinc ?? '1'}</indSinc>${nfes}</enviNFe>` +
    '</nfeDadosMsg></soap:Body></soap:Envelope>'
  );
}

export function statusEnvelope(tpAmb = '2', cUF = '35'): string {
  return (
    '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>' +
    '<nfeDadosMsg xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/NFeStatusServico4">' +
    `<consStatServ xmlns="${NFE_NS}" versao="4.00"><tpAmb>${tpAmb}</tpAmb><cUF>${cUF}</cUF><xServ>STATUS</xServ></consStatServ>` +
    '</nfeDadosMsg></soap:Body></soap:Envelope>'
  );
}

export const CONSULTATION_ACTION = 'http://www.portalfiscal.inf.br/nfe/wsdl/NFeConsultaProtocolo4/nfeConsultaNF';

/** consSitNFe for a key; `content` replaces the whole consSitNFe content (to break the message). */
export function consultationEnvelope(chNFe: string, options: { tpAmb?: string; content?: string } = {}): string {
  const content = options.content ?? `<tpAmb>${options.tpAmb ?? '2'}</tpAmb><xServ>CONSULTAR</xServ><chNFe>${chNFe}</chNFe>`;
  return (
    '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>' +
    '<nfeDadosMsg xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/NFeConsultaProtocolo4">' +
    `<consSitNFe xmlns="${NFE_NS}" versao="4.00">${content}</consSitNFe>` +
    '</nfeDadosMsg></soap:Body></soap:Envelope>'
  );
}
