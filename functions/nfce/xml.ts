import { createHash, sign, type KeyObject } from 'node:crypto';
import { DOMImplementation, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
// The canonicalization alone: the package's index brings SignedXml and its algorithms, which the
// signature here (Node crypto over the canonical bytes) does not use.
import { C14nCanonicalization } from 'xml-crypto/lib/c14n-canonicalization.js';
import { formatReais } from '../shared/money.ts';
import type { Det, NfceDocument, PisCofinsLine } from './document.ts';
import type { IbsCbsLine, IbsCbsPart, IbsCbsTotals } from './ibs-cbs.ts';
import { qrCodeV2, qrCodeV2Offline } from './qrcode.ts';

/**
 * NFC-e 4.00 XML: the document is built once as a DOM (the serializer escapes text), its infNFe
 * canonicalized by xml-crypto straight from that DOM and signed with a KeyObject kept by the
 * caller. `SignedXml.computeSignature` would serialize, re-parse and search by XPath; the
 * benchmark (`npm run bench`) shows what that costs. xmlsec1 and xml-crypto's own verifier check
 * the result in the tests.
 */

export const NFE_NS = 'http://www.portalfiscal.inf.br/nfe';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
const c14n = new C14nCanonicalization();
const serializer = new XMLSerializer();
const dom = new DOMImplementation();

export interface Signer {
  privateKey: KeyObject;
  /** Base64 DER of the certificate, for KeyInfo. */
  certificateBase64: string;
}

export interface SignedNfce {
  chave: string;
  /** The signed `<NFe>` element, compact, no XML declaration. */
  nfeXml: string;
  qrCode: string;
  urlChave: string;
  /** Base64 SHA-1 of the canonical infNFe: SEFAZ echoes it as the protocol's digVal. */
  digestValue: string;
}

const reais = (centavos: number) => formatReais(centavos);
/** `n` ten-thousandths → `1.0000` */
const dec4 = (n: number) => `${Math.floor(n / 10_000)}.${String(n % 10_000).padStart(4, '0')}`;
/** Centavos → reais with 4 decimals (vUnCom). */
const unit4 = (centavos: number) => `${reais(centavos)}00`;
const rate4 = (percent: number) => percent.toFixed(4);

class Builder {
  constructor(readonly doc: Document) {}

  el(parent: Element, name: string, text?: string | number, ns = NFE_NS): Element {
    const child = this.doc.createElementNS(ns, name);
    if (text !== undefined) child.appendChild(this.doc.createTextNode(String(text)));
    parent.appendChild(child);
    return child;
  }

  group(parent: Element, name: string, fields: Record<string, string | number | undefined>): Element {
    const child = this.el(parent, name);
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) this.el(child, key, value);
    return child;
  }
}

export function signNfce(document: NfceDocument, signer: Signer): SignedNfce {
  const doc = dom.createDocument(NFE_NS, 'NFe', null);
  const nfe = doc.documentElement!;
  const b = new Builder(doc);
  const infNFe = b.el(nfe, 'infNFe');
  infNFe.setAttribute('versao', '4.00');
  infNFe.setAttribute('Id', `NFe${document.chave}`);
  renderInfNFe(b, infNFe, document);

  // Taken before the QR code is written: the offline QR code (tpEmis 9) carries it.
  const digestValue = digestOf(infNFe);

  const { emitter, chave, tpAmb } = document;
  const qrCode = document.contingency
    ? qrCodeV2Offline(
        emitter.urls.qrCode,
        { chave, tpAmb, dhEmi: document.numbering.dhEmi, vNF: document.totals.vNF, digestValue },
        emitter.csc.id,
        emitter.csc.token,
      )
    : qrCodeV2(emitter.urls.qrCode, chave, tpAmb, emitter.csc.id, emitter.csc.token);
  const supl = b.el(nfe, 'infNFeSupl');
  b.el(supl, 'qrCode').appendChild(doc.createCDATASection(qrCode));
  b.el(supl, 'urlChave', emitter.urls.urlChave);

  appendSignature(nfe, `NFe${chave}`, digestValue, signer);
  return { chave, nfeXml: serializer.serializeToString(nfe), qrCode, urlChave: emitter.urls.urlChave, digestValue };
}

/**
 * The DigestValue of the NF-e xmldsig profile for `target` (the element the Signature refers to):
 * base64 SHA-1 of its inclusive C14N 1.0, taken straight from the DOM. The enveloped-signature
 * transform removes nothing from it, the Signature being its sibling.
 */
export function digestOf(target: Element): string {
  return createHash('sha1').update(c14n.process(target, {}).toString(), 'utf8').digest('base64');
}

/**
 * Appends to `parent` the Signature of the NF-e profile (MOC 4.00 / leiauteEvento: enveloped,
 * C14N 1.0, RSA-SHA1, SHA-1 digest, the certificate in X509Data) referring to `#<id>`, whose
 * digest is `digestValue` (see {@link digestOf}). The NFe (over infNFe) and each event (over
 * infEvento) are signed this way.
 */
export function appendSignature(parent: Element, id: string, digestValue: string, signer: Signer): void {
  const b = new Builder(parent.ownerDocument!);
  const signature = b.el(parent, 'Signature', undefined, DSIG_NS);
  const signedInfo = b.el(signature, 'SignedInfo', undefined, DSIG_NS);
  b.el(signedInfo, 'CanonicalizationMethod', undefined, DSIG_NS).setAttribute('Algorithm', C14N);
  b.el(signedInfo, 'SignatureMethod', undefined, DSIG_NS).setAttribute('Algorithm', `${DSIG_NS}rsa-sha1`);
  const reference = b.el(signedInfo, 'Reference', undefined, DSIG_NS);
  reference.setAttribute('URI', `#${id}`);
  const transforms = b.el(reference, 'Transforms', undefined, DSIG_NS);
  b.el(transforms, 'Transform', undefined, DSIG_NS).setAttribute('Algorithm', `${DSIG_NS}enveloped-signature`);
  b.el(transforms, 'Transform', undefined, DSIG_NS).setAttribute('Algorithm', C14N);
  b.el(reference, 'DigestMethod', undefined, DSIG_NS).setAttribute('Algorithm', `${DSIG_NS}sha1`);
  b.el(reference, 'DigestValue', digestValue, DSIG_NS);
  const canonicalSignedInfo = c14n.process(signedInfo, {}).toString();
  b.el(
    signature,
    'SignatureValue',
    sign('sha1', Buffer.from(canonicalSignedInfo, 'utf8'), signer.privateKey).toString('base64'),
    DSIG_NS,
  );
  const x509Data = b.el(b.el(signature, 'KeyInfo', undefined, DSIG_NS), 'X509Data', undefined, DSIG_NS);
  b.el(x509Data, 'X509Certificate', signer.certificateBase64, DSIG_NS);
}

function renderInfNFe(b: Builder, infNFe: Element, d: NfceDocument): void {
  const { emitter: e, numbering: n } = d;
  b.group(infNFe, 'ide', {
    cUF: d.cUF,
    cNF: n.cNF,
    natOp: 'VENDA',
    mod: '65',
    serie: e.serie,
    nNF: n.nNF,
    dhEmi: n.dhEmi,
    tpNF: 1,
    idDest: 1,
    cMunFG: e.address.cityCode,
    tpImp: 4,
    tpEmis: d.contingency ? 9 : 1,
    cDV: d.chave.slice(-1),
    tpAmb: d.tpAmb,
    finNFe: 1,
    indFinal: 1,
    indPres: 1,
    procEmi: 0,
    verProc: d.verProc,
    // Offline contingency only, in the schema's optional sequence right after verProc.
    dhCont: d.contingency?.dhCont,
    xJust: d.contingency?.xJust,
  });

  const emit = b.el(infNFe, 'emit');
  b.el(emit, 'CNPJ', e.cnpj);
  b.el(emit, 'xNome', e.name);
  if (e.tradeName) b.el(emit, 'xFant', e.tradeName);
  b.group(emit, 'enderEmit', {
    xLgr: e.address.street,
    nro: e.address.number,
    xCpl: e.address.complement,
    xBairro: e.address.district,
    cMun: e.address.cityCode,
    xMun: e.address.city,
    UF: e.address.uf,
    CEP: e.address.cep,
    cPais: 1058,
    xPais: 'BRASIL',
    fone: e.address.phone,
  });
  b.el(emit, 'IE', e.ie);
  if (e.im) {
    b.el(emit, 'IM', e.im);
    if (e.cnae) b.el(emit, 'CNAE', e.cnae);
  }
  b.el(emit, 'CRT', e.crt);

  if (d.dest) {
    const dest = b.el(infNFe, 'dest');
    b.el(dest, d.dest.kind, d.dest.number);
    b.el(dest, 'indIEDest', 9);
  }

  for (const item of d.det) renderDet(b, infNFe, item);

  const t = d.totals;
  const zero = reais(0);
  const total = b.el(infNFe, 'total');
  b.group(total, 'ICMSTot', {
    vBC: reais(t.vBC),
    vICMS: reais(t.vICMS),
    vICMSDeson: zero,
    vFCP: zero,
    vBCST: zero,
    vST: zero,
    vFCPST: zero,
    vFCPSTRet: zero,
    vProd: reais(t.vProd),
    vFrete: zero,
    vSeg: zero,
    vDesc: reais(t.vDesc),
    vII: zero,
    vIPI: zero,
    vIPIDevol: zero,
    vPIS: reais(t.vPIS),
    vCOFINS: reais(t.vCOFINS),
    vOutro: zero,
    vNF: reais(t.vNF),
    vTotTrib: reais(t.vTotTrib),
  });
  if (t.ibsCbs) renderIbsCbsTot(b, total, t.ibsCbs);
  if (t.vNFTot !== undefined) b.el(total, 'vNFTot', reais(t.vNFTot));
  b.group(infNFe, 'transp', { modFrete: 9 });

  const pag = b.el(infNFe, 'pag');
  for (const p of d.pag) {
    const detPag = b.group(pag, 'detPag', { indPag: 0, tPag: p.tPag, xPag: p.xPag, vPag: reais(p.vPag) });
    if (p.card)
      b.group(detPag, 'card', { tpIntegra: p.card.tpIntegra, CNPJ: p.card.CNPJ, tBand: p.card.tBand, cAut: p.card.cAut });
  }
  b.el(pag, 'vTroco', reais(d.vTroco));

  b.group(infNFe, 'infAdic', { infCpl: d.infCpl });
  if (e.technicalContact) {
    const c = e.technicalContact;
    b.group(infNFe, 'infRespTec', { CNPJ: c.cnpj, xContato: c.name, email: c.email, fone: c.phone });
  }
}

function renderDet(b: Builder, infNFe: Element, item: Det): void {
  const det = b.el(infNFe, 'det');
  det.setAttribute('nItem', String(item.nItem));
  b.group(det, 'prod', {
    cProd: item.cProd,
    cEAN: 'SEM GTIN',
    xProd: item.xProd,
    NCM: item.ncm,
    // In the XSD's optional sequence CEST, indEscala, CNPJFab, after NCM / NVE and before cBenef.
    CEST: item.cest,
    cBenef: item.cBenef,
    CFOP: item.cfop,
    uCom: item.unit,
    qCom: dec4(item.quantity),
    vUnCom: unit4(item.unitPrice),
    vProd: reais(item.vProd),
    cEANTrib: 'SEM GTIN',
    uTrib: item.unit,
    qTrib: dec4(item.quantity),
    vUnTrib: unit4(item.unitPrice),
    vDesc: item.vDesc > 0 ? reais(item.vDesc) : undefined,
    indTot: 1,
  });
  const imposto = b.el(det, 'imposto');
  b.el(imposto, 'vTotTrib', reais(item.vTotTrib));
  const icms = b.el(imposto, 'ICMS');
  const i = item.icms;
  switch (i.group) {
    case 'ICMS00':
      b.group(icms, i.group, {
        orig: item.origin,
        CST: i.cst,
        modBC: 3,
        vBC: reais(i.vBC),
        pICMS: rate4(i.pICMS),
        vICMS: reais(i.vICMS),
      });
      break;
    case 'ICMS20':
      b.group(icms, i.group, {
        orig: item.origin,
        CST: i.cst,
        modBC: 3,
        pRedBC: rate4(i.pRedBC),
        vBC: reais(i.vBC),
        pICMS: rate4(i.pICMS),
        vICMS: reais(i.vICMS),
      });
      break;
    case 'ICMS40':
    case 'ICMS60':
      b.group(icms, i.group, { orig: item.origin, CST: i.cst });
      break;
    case 'ICMSSN102':
    case 'ICMSSN500':
      b.group(icms, i.group, { orig: item.origin, CSOSN: i.csosn });
      break;
  }
  renderPisCofins(b, imposto, 'PIS', item.pis);
  renderPisCofins(b, imposto, 'COFINS', item.cofins);
  // Last in imposto: after COFINS (COFINSST, ICMSUFDest and IS do not apply to a restaurant's sale).
  if (item.ibsCbs) renderIbsCbs(b, imposto, item.ibsCbs);
  // After imposto (infAdProd and obsItem, which come between, are not emitted).
  if (item.vItem !== undefined) b.el(det, 'vItem', reais(item.vItem));
}

/**
 * `imposto/IBSCBS` (`TTribNFe`, DFeTiposBasicos_v1.00.xsd of PL_010e): CST, cClassTrib, then for a
 * taxed item `gIBSCBS` (`TCIBS_NFe`): vBC, gIBSUF {pIBSUF, gRed?, vIBSUF}, gIBSMun {pIBSMun, gRed?,
 * vIBSMun}, vIBS, gCBS {pCBS, gRed?, vCBS}. Rates with 4 decimals, values with 2.
 */
function renderIbsCbs(b: Builder, imposto: Element, line: IbsCbsLine): void {
  const group = b.el(imposto, 'IBSCBS');
  b.el(group, 'CST', line.cst);
  b.el(group, 'cClassTrib', line.cClassTrib);
  if (!line.taxed) return;
  const g = b.el(group, 'gIBSCBS');
  b.el(g, 'vBC', reais(line.vBC));
  const part = (parent: Element, name: string, tax: string, p: IbsCbsPart) => {
    const el = b.el(parent, name);
    b.el(el, `p${tax}`, rate4(p.rate));
    if (p.reduction) b.group(el, 'gRed', { pRedAliq: rate4(p.reduction.pRedAliq), pAliqEfet: rate4(p.reduction.pAliqEfet) });
    b.el(el, `v${tax}`, reais(p.value));
  };
  part(g, 'gIBSUF', 'IBSUF', line.ibsUF);
  part(g, 'gIBSMun', 'IBSMun', line.ibsMun);
  b.el(g, 'vIBS', reais(line.vIBS));
  part(g, 'gCBS', 'CBS', line.cbs);
}

/**
 * `total/IBSCBSTot` (`TIBSCBSMonoTot`): vBCIBSCBS, gIBS {gIBSUF {vDif, vDevTrib, vIBSUF}, gIBSMun
 * {…, vIBSMun}, vIBS, vCredPres, vCredPresCondSus}, gCBS {vDif, vDevTrib, vCBS, vCredPres,
 * vCredPresCondSus}. No deferral, devolution or presumed credit in a restaurant's sale: zeros.
 */
function renderIbsCbsTot(b: Builder, total: Element, t: IbsCbsTotals): void {
  const zero = reais(0);
  const tot = b.el(total, 'IBSCBSTot');
  b.el(tot, 'vBCIBSCBS', reais(t.vBCIBSCBS));
  const gIBS = b.el(tot, 'gIBS');
  b.group(gIBS, 'gIBSUF', { vDif: zero, vDevTrib: zero, vIBSUF: reais(t.vIBSUF) });
  b.group(gIBS, 'gIBSMun', { vDif: zero, vDevTrib: zero, vIBSMun: reais(t.vIBSMun) });
  b.el(gIBS, 'vIBS', reais(t.vIBS));
  b.el(gIBS, 'vCredPres', zero);
  b.el(gIBS, 'vCredPresCondSus', zero);
  b.group(tot, 'gCBS', { vDif: zero, vDevTrib: zero, vCBS: reais(t.vCBS), vCredPres: zero, vCredPresCondSus: zero });
}

function renderPisCofins(b: Builder, imposto: Element, tax: 'PIS' | 'COFINS', line: PisCofinsLine): void {
  const group = b.el(imposto, tax);
  if (line.kind === 'NT') {
    b.group(group, `${tax}NT`, { CST: line.cst });
    return;
  }
  b.group(group, `${tax}${line.kind}`, {
    CST: line.cst,
    vBC: reais(line.vBC),
    [`p${tax}`]: rate4(line.rate),
    [`v${tax}`]: reais(line.value),
  });
}

/** The lot SEFAZ's NFeAutorizacao4 takes in synchronous mode: exactly one NFC-e. */
export function enviNFe(idLote: string, nfeXml: string): string {
  return `<enviNFe xmlns="${NFE_NS}" versao="4.00"><idLote>${idLote}</idLote><indSinc>1</indSinc>${nfeXml}</enviNFe>`;
}

/** The stored document: the signed NFe and SEFAZ's protocol, as in the seed's `orderXML`. */
export function nfeProc(nfeXml: string, protNFeXml: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><nfeProc versao="4.00" xmlns="${NFE_NS}">${nfeXml}${protNFeXml}</nfeProc>`;
}
