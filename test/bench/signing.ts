/** (a) NFC-e build + sign on one core, beside the raw RSA-SHA1 rate of the same key object. */
import { sign } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { buildDocument } from '../../functions/nfce/document.ts';
import { signNfce } from '../../functions/nfce/xml.ts';
import { inputFor, paymentFor, testCertificate } from '../support/nfce.ts';

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
function signingSection(): void {
  const certificate = testCertificate();
  const order = Array.from({ length: 5 }, (_, i) => ({
    sku: ['058', '101', '202'][i % 3]!,
    name: `Item ${i}`,
    quantity: 10_000,
    unitPrice: 990 + i,
    unit: 'UN',
  }));
  const input = inputFor(order, paymentFor(order, { fees: 500 }));
  const rate = (seconds: number, work: () => void) => {
    for (let i = 0; i < 50; i++) work(); // warm-up
    let count = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      work();
      count++;
    }
    return count / ((performance.now() - started) / 1000);
  };
  const signedInfo = Buffer.from(signNfce(buildDocument(input), certificate).nfeXml.match(/<SignedInfo>.*<\/SignedInfo>/)![0]);
  const raw = rate(3, () => sign('sha1', signedInfo, certificate.privateKey));
  const ours = rate(3, () => signNfce(buildDocument(input), certificate));
  // The usual way: serialize, let SignedXml re-parse the string and find infNFe by XPath, key from PEM.
  const unsigned = signNfce(buildDocument(input), certificate).nfeXml.replace(/<infNFeSupl>.*$/, '</NFe>');
  const usual = rate(3, () => {
    const sig = new SignedXml({
      privateKey: certificate.privateKeyPem,
      canonicalizationAlgorithm: C14N,
      signatureAlgorithm: `${DSIG}rsa-sha1`,
    });
    sig.addReference({
      xpath: "//*[local-name(.)='infNFe']",
      transforms: [`${DSIG}enveloped-signature`, C14N],
      digestAlgorithm: `${DSIG}sha1`,
    });
    sig.computeSignature(buildXmlString(input, unsigned), {
      location: { reference: "//*[local-name(.)='infNFe']", action: 'after' },
    });
    sig.getSignedXml();
  });
  console.log(`\nNFC-e build + sign, one core (${order.length + 1} items, RSA 2048)`);
  console.log(`  raw RSA-SHA1 sign, same KeyObject       ${raw.toFixed(0).padStart(6)}/s`);
  console.log(
    `  build + sign (DOM once, xml-crypto C14N) ${ours.toFixed(0).padStart(6)}/s   ${((ours / raw) * 100).toFixed(1)} % of raw (target ≥ 20 %)`,
  );
  console.log(
    `  xml-crypto SignedXml the usual way       ${usual.toFixed(0).padStart(6)}/s   ${((usual / raw) * 100).toFixed(1)} % of raw`,
  );
}

/** The usual way starts from the document as a string; building it is part of its cost too. */
function buildXmlString(input: Parameters<typeof buildDocument>[0], template: string): string {
  buildDocument(input);
  return template;
}

signingSection();
