import { X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { cnpjOf } from '../../../functions/nfce/certificate.ts';
import type { NFeDocument } from './document.ts';
import { statuses, type Status } from './messages.ts';
import { DSIG_NS, childElements, serialize } from './xml.ts';

const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** A SHA-1 digest in base64: what protNFe/digVal echoes. */
const DIGEST_VALUE = /^[A-Za-z0-9+/]{27}=$/;

const ds = (parent: Element | undefined, localName: string): Element[] =>
  parent ? childElements(parent, DSIG_NS, localName) : [];
const one = (parent: Element | undefined, localName: string): Element | undefined => {
  const found = ds(parent, localName);
  return found.length === 1 ? found[0] : undefined;
};

/** NFe/Signature/SignedInfo/Reference/DigestValue (or evento's), when the document carries a well-formed one. */
export function digestValueOf(nfe: Element): string | undefined {
  const reference = one(one(one(nfe, 'Signature'), 'SignedInfo'), 'Reference');
  const value = one(reference, 'DigestValue')?.textContent?.trim();
  return value && DIGEST_VALUE.test(value) ? value : undefined;
}

/**
 * The signature checks, in SEFAZ's order of concern: the fixed xmldsig profile (298), a readable
 * certificate (290), the signature itself (297), then the certificate's validity (291) and CNPJ
 * (292, 213). SEFAZ compares only the CNPJ base (8 digits): a head office's certificate may sign
 * its branches' documents. The self-signed test certificates are accepted: no chain is checked.
 */
export function checkSignature(document: NFeDocument, now: Date): Status | undefined {
  return checkSignedElement(document.nfe, `NFe${document.chNFe}`, document.cnpj, now);
}

/**
 * The same checks for any element signed with the NFe's profile: `root` holds the signed element
 * (Id `referenceId`) and then the Signature, e.g. an event's `evento` with `infEvento Id="ID…"`;
 * `cnpj` is whose certificate base it must be (the emitter, the event's author).
 */
export function checkSignedElement(root: Element, referenceId: string, cnpj: string, now: Date): Status | undefined {
  const signature = profiledSignature(root, referenceId);
  if (!signature) return statuses.signatureProfile;

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(signature.certificateBase64, 'base64'));
  } catch {
    return statuses.certificateInvalid;
  }

  if (!verifies(root, signature.element, certificate.toString())) return statuses.signatureMismatch;

  if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) return statuses.certificateExpired;
  const commonName = certificate.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .pop();
  const certificateCnpj = cnpjOf(commonName?.slice(3) ?? '');
  if (!certificateCnpj) return statuses.certificateWithoutCnpj;
  if (certificateCnpj.slice(0, 8) !== cnpj.slice(0, 8)) return statuses.certificateCnpj;
  return undefined;
}

/** The Signature when it follows the profile the schema fixes, else undefined. */
function profiledSignature(root: Element, referenceId: string): { element: Element; certificateBase64: string } | undefined {
  const element = one(root, 'Signature');
  const signedInfo = one(element, 'SignedInfo');
  const reference = one(signedInfo, 'Reference');
  const algorithm = (parent: Element | undefined, name: string) => one(parent, name)?.getAttribute('Algorithm');
  const transforms = ds(one(reference, 'Transforms'), 'Transform').map((t) => t.getAttribute('Algorithm'));
  const certificate = ds(one(one(element, 'KeyInfo'), 'X509Data'), 'X509Certificate');
  const profiled =
    algorithm(signedInfo, 'CanonicalizationMethod') === C14N &&
    algorithm(signedInfo, 'SignatureMethod') === RSA_SHA1 &&
    ds(signedInfo, 'Reference').length === 1 &&
    reference?.getAttribute('URI') === `#${referenceId}` &&
    transforms.join(' ') === `${ENVELOPED} ${C14N}` &&
    algorithm(reference, 'DigestMethod') === SHA1 &&
    digestValueOf(root) !== undefined &&
    certificate.length === 1;
  if (!element || !profiled) return undefined;
  return { element, certificateBase64: (certificate[0]!.textContent ?? '').replace(/\s+/g, '') };
}

/**
 * xml-crypto over the NFe (or evento) serialized on its own, as it was signed: inclusive C14N of infNFe would
 * otherwise pick up the SOAP envelope's namespace declarations. The key is the KeyInfo certificate
 * only (never one named inside the document); xml-crypto refuses duplicate Ids (wrapping attacks).
 */
function verifies(nfe: Element, signature: Element, certificatePem: string): boolean {
  const verifier = new SignedXml({ publicCert: certificatePem, getCertFromKeyInfo: () => null });
  try {
    verifier.loadSignature(serialize(signature));
    return verifier.checkSignature(serialize(nfe));
  } catch {
    return false;
  }
}
