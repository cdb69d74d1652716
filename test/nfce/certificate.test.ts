import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { a1FromPem } from '../../functions/nfce/certificate.ts';
import { createTestA1, openA1 } from '../../functions/nfce/pkcs12.ts';

describe('the A1 certificate, read from PEM with Node crypto', () => {
  const first = openA1(createTestA1({ name: 'ALBINO LTDA', cnpj: '82373077000171', password: 'p', validDays: 30 }), 'p');
  const second = openA1(createTestA1({ name: 'OUTRA LTDA', cnpj: '12ABC34501DE35', password: 'q' }), 'q');

  it('gives the key, the DER for xmldsig, the CNPJ after the name and the expiry', () => {
    const read = a1FromPem(first.privateKeyPem, first.certificatePem);
    expect(read.cnpj).toBe('82373077000171');
    expect(read.certificateBase64).toBe(new X509Certificate(first.certificatePem).raw.toString('base64'));
    expect(Math.round((read.notAfter.getTime() - Date.now()) / 86_400_000)).toBe(30);
    expect(read.privateKey.asymmetricKeyType).toBe('rsa');
    expect(a1FromPem(second.privateKeyPem, second.certificatePem).cnpj).toBe('12ABC34501DE35');
  });

  it('refuses a key that is not the certificate’s, and text that is not PEM', () => {
    expect(() => a1FromPem(second.privateKeyPem, first.certificatePem)).toThrow('the private key is not the certificate’s');
    expect(() => a1FromPem('not a key', first.certificatePem)).toThrow();
    expect(() => a1FromPem(first.privateKeyPem, 'not a certificate')).toThrow();
  });
});
