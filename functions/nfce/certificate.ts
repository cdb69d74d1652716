import { createPrivateKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/**
 * The company's A1 certificate (ICP-Brasil e-CNPJ, PKCS#12). Node's crypto cannot open PKCS#12,
 * so node-forge unpacks it once; signing then uses a native KeyObject.
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

export function openA1(pfx: Buffer, password: string): A1Certificate {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(pfx.toString('binary')), password);
  const bag = (type: string | undefined) => (type ? p12.getBags({ bagType: type })[type]?.[0] : undefined);
  const keyBag = bag(forge.pki.oids.pkcs8ShroudedKeyBag) ?? bag(forge.pki.oids.keyBag);
  const certificate = bag(forge.pki.oids.certBag)?.cert;
  if (!keyBag?.key || !certificate) throw new Error('the PKCS#12 file has no private key or no certificate');
  const privateKeyPem = forge.pki.privateKeyToPem(keyBag.key);
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes();
  return {
    privateKey: createPrivateKey(privateKeyPem),
    privateKeyPem,
    certificatePem: forge.pki.certificateToPem(certificate),
    certificateBase64: forge.util.encode64(der),
    cnpj: cnpjOf(String(certificate.subject.getField('CN')?.value ?? '')),
    notAfter: certificate.validity.notAfter,
  };
}

/** `ALBINO LTDA:82373077000171` → `82373077000171` */
export function cnpjOf(commonName: string): string | undefined {
  return /:([0-9A-Z]{12}\d{2})$/.exec(commonName)?.[1];
}

/**
 * A self-signed stand-in for an e-CNPJ A1, for the local stack and tests: RSA 2048, SHA-256,
 * `CN=<name>:<cnpj>` like ICP-Brasil certificates. Never for production.
 */
export function createTestA1(options: { name: string; cnpj: string; password: string; validDays?: number }): Buffer {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = keys.publicKey;
  certificate.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  certificate.validity.notBefore = new Date(Date.now() - 86_400_000);
  certificate.validity.notAfter = new Date(Date.now() + (options.validDays ?? 365) * 86_400_000);
  const subject = [
    { name: 'countryName', value: 'BR' },
    { name: 'organizationName', value: 'ICP-Brasil (teste local)' },
    { name: 'commonName', value: `${options.name}:${options.cnpj}` },
  ];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, keyEncipherment: true },
    { name: 'extKeyUsage', clientAuth: true, emailProtection: true },
  ]);
  certificate.sign(keys.privateKey, forge.md.sha256.create());
  const p12 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, [certificate], options.password, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');
}
