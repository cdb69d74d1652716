import forge from 'node-forge';
import { a1FromPem, type A1Certificate } from './certificate.ts';

/**
 * PKCS#12 (the A1 file as ICP-Brasil issues it) — provisioning and tests only: node-forge unpacks
 * it to PEM, which the secret then holds, so the Lambdas read the certificate with Node's crypto.
 */
export function openA1(pfx: Buffer, password: string): A1Certificate {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(pfx.toString('binary')), password);
  const bag = (type: string | undefined) => (type ? p12.getBags({ bagType: type })[type]?.[0] : undefined);
  const keyBag = bag(forge.pki.oids.pkcs8ShroudedKeyBag) ?? bag(forge.pki.oids.keyBag);
  const certificate = bag(forge.pki.oids.certBag)?.cert;
  if (!keyBag?.key || !certificate) throw new Error('the PKCS#12 file has no private key or no certificate');
  return a1FromPem(forge.pki.privateKeyToPem(keyBag.key), forge.pki.certificateToPem(certificate));
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
