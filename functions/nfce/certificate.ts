import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * The company's A1 certificate (ICP-Brasil e-CNPJ), as the issuer uses it: read from PEM with
 * Node's own crypto. The PKCS#12 file is opened once, when it is provisioned (pkcs12.ts, with
 * node-forge, which Node's crypto cannot replace there), so no Lambda bundle carries node-forge.
 */
export interface A1Certificate {
  privateKey: KeyObject;
  /** PEM of the key, for TLS client authentication. */
  privateKeyPem: string;
  certificatePem: string;
  /** Base64 DER, as xmldsig's X509Certificate carries it. */
  certificateBase64: string;
  /** The CNPJ the certificate belongs to: ICP-Brasil writes it after the name, `NAME:CNPJ`. */
  cnpj: string | undefined;
  notAfter: Date;
}

/**
 * The certificate from its PEM key and certificate. Throws when either does not parse, or when the
 * key is not the certificate's.
 */
export function a1FromPem(privateKeyPem: string, certificatePem: string): A1Certificate {
  const privateKey = createPrivateKey(privateKeyPem);
  const certificate = new X509Certificate(certificatePem);
  if (!certificate.checkPrivateKey(privateKey)) throw new Error('the private key is not the certificate’s');
  const commonName = /^CN=(.*)$/m.exec(certificate.subject)?.[1] ?? '';
  return {
    privateKey,
    privateKeyPem,
    certificatePem: certificate.toString(),
    certificateBase64: certificate.raw.toString('base64'),
    cnpj: cnpjOf(commonName),
    notAfter: new Date(certificate.validTo),
  };
}

/** `ALBINO LTDA:82373077000171` → `82373077000171` */
export function cnpjOf(commonName: string): string | undefined {
  return /:([0-9A-Z]{12}\d{2})$/.exec(commonName)?.[1];
}
