import { existsSync } from 'node:fs';
import { SignedXml } from 'xml-crypto';
import { describe, expect, it } from 'vitest';
import {
  inutilizacaoRequest,
  InvalidInutilizacao,
  numberRanges,
  parseInutilizacaoAnswer,
  procInutNFe,
  type InutilizacaoInput,
} from '../../functions/nfce/inutilizacao.ts';
import { SefazUnavailable } from '../../functions/nfce/sefaz.ts';
import { signNfce } from '../../functions/nfce/xml.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import {
  documentFor,
  orderItems,
  SCHEMAS,
  testCertificate,
  xmlsecMissing,
  xmlsecVerifies,
  signatureOf,
} from '../support/nfce.ts';

const NS = 'http://www.portalfiscal.inf.br/nfe';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const JUST = 'Numeracao pulada por falha no PDV';
/** The Id of {@link request}: ID, cUF 35, ano 26, the CNPJ, mod 65, serie 001, 000001001, 000001003. */
const ID = 'ID35268237307700017165001000001001000001003';

const request = (overrides: Partial<InutilizacaoInput> = {}): InutilizacaoInput => ({
  cnpj: '82373077000171',
  uf: 'SP',
  tpAmb: 2,
  ano: '26',
  serie: 1,
  nNFIni: 1001,
  nNFFin: 1003,
  xJust: JUST,
  ...overrides,
});
const signer = () => testCertificate();

describe('inutilizacaoRequest', () => {
  it('builds infInut exactly as the XSD orders it, signed after it', () => {
    const signed = inutilizacaoRequest(request(), signer());
    expect(signed.id).toBe(ID);
    expect(signed.id).toHaveLength(43);
    expect(signed.xml).toMatch(
      new RegExp(
        `^<inutNFe versao="4.00" xmlns="${NS}"><infInut Id="${ID}">` +
          '<tpAmb>2</tpAmb><xServ>INUTILIZAR</xServ><cUF>35</cUF><ano>26</ano><CNPJ>82373077000171</CNPJ>' +
          '<mod>65</mod><serie>1</serie><nNFIni>1001</nNFIni><nNFFin>1003</nNFFin>' +
          `<xJust>${JUST}</xJust></infInut><Signature xmlns="${DSIG}">.*</Signature></inutNFe>$`,
      ),
    );
    expect(signed.xml).toContain(`<Reference URI="#${ID}">`);
    expect(signed.xml).not.toContain('<?xml');
  });

  it('pads serie and the numbers in the Id only; takes the state, the environment and an alphanumeric CNPJ', () => {
    const signed = inutilizacaoRequest(
      request({ cnpj: '12ABC34501DE35', uf: 'RJ', tpAmb: 1, ano: '27', serie: 0, nNFIni: 7, nNFFin: 999_999_999 }),
      signer(),
    );
    expect(signed.id).toBe('ID332712ABC34501DE3565000000000007999999999');
    expect(signed.id).toMatch(/^ID[0-9]{4}[0-9A-Z]{12}[0-9]{25}$/);
    expect(signed.xml).toContain(
      '<tpAmb>1</tpAmb><xServ>INUTILIZAR</xServ><cUF>33</cUF><ano>27</ano><CNPJ>12ABC34501DE35</CNPJ>' +
        '<mod>65</mod><serie>0</serie><nNFIni>7</nNFIni><nNFFin>999999999</nNFFin>',
    );
  });

  it('a single number is a range of one', () => {
    expect(inutilizacaoRequest(request({ nNFIni: 5, nNFFin: 5 }), signer()).id).toBe(
      'ID35268237307700017165001000000005000000005',
    );
  });

  it('refuses each invalid field, naming it', () => {
    const r = (o: Partial<InutilizacaoInput>) => () => inutilizacaoRequest(request(o), signer());
    expect(r({ cnpj: '8237307700017' })).toThrow(/^inutilização: cnpj: must be a CNPJ/);
    expect(r({ cnpj: '82.373.077/0001-71' })).toThrow(/cnpj/);
    expect(r({ uf: 'XX' as InutilizacaoInput['uf'] })).toThrow(/uf/);
    expect(r({ tpAmb: 3 as 1 })).toThrow(/tpAmb/);
    expect(r({ ano: '2026' })).toThrow(/ano: must be the year in two digits/);
    expect(r({ ano: '6' })).toThrow(/ano/);
    expect(r({ serie: -1 })).toThrow(/serie/);
    expect(r({ serie: 1000 })).toThrow(/serie/);
    expect(r({ serie: 1.5 })).toThrow(/serie/);
    expect(r({ nNFIni: 0, nNFFin: 3 })).toThrow(/nNFIni/);
    expect(r({ nNFFin: 1_000_000_000 })).toThrow(/nNFFin/);
    expect(r({ nNFIni: 10, nNFFin: 9 })).toThrow(/nNFFin: must not be below nNFIni/);
    for (const bad of [r({ cnpj: '' }), r({ nNFIni: 10, nNFFin: 9 })]) expect(bad).toThrow(InvalidInutilizacao);
  });

  it('xJust: written as schema text, then 15–255 characters', () => {
    const withJust = (xJust: string) => () => inutilizacaoRequest(request({ xJust }), signer());
    expect(withJust('x'.repeat(14))).toThrow(/xJust must be 15–255 characters after trimming \(TJust\), got 14/);
    // Only after mapping: the spaces, the tab and the emoji go, leaving 14.
    expect(withJust(`  ${'x'.repeat(7)}\t\t🙂${'x'.repeat(6)}  `)).toThrow(/got 14/);
    expect(withJust('x'.repeat(15))().xml).toContain(`<xJust>${'x'.repeat(15)}</xJust>`);
    expect(withJust(`\n ${'x'.repeat(15)} `)().xml).toContain(`<xJust>${'x'.repeat(15)}</xJust>`);
    expect(withJust('x'.repeat(255))().xml).toContain(`<xJust>${'x'.repeat(255)}</xJust>`);
    expect(withJust('x'.repeat(256))).toThrow(/got 256/);
    expect(withJust('Falha “grave” no PDV & <caixa>')().xml).toContain('<xJust>Falha "grave" no PDV &amp; &lt;caixa&gt;</xJust>');
  });
});

describe('numberRanges', () => {
  it('merges consecutive numbers into ranges, sorted and de-duplicated', () => {
    expect(numberRanges([1, 2, 3, 7])).toEqual([
      { from: 1, to: 3 },
      { from: 7, to: 7 },
    ]);
    expect(numberRanges([])).toEqual([]);
    expect(numberRanges([5])).toEqual([{ from: 5, to: 5 }]);
    expect(numberRanges([9, 3, 8, 3, 4, 10, 1])).toEqual([
      { from: 1, to: 1 },
      { from: 3, to: 4 },
      { from: 8, to: 10 },
    ]);
    expect(numberRanges([2, 4, 6])).toEqual([
      { from: 2, to: 2 },
      { from: 4, to: 4 },
      { from: 6, to: 6 },
    ]);
    // Numerically, not as text: 10 after 9.
    expect(numberRanges([10, 9, 100])).toEqual([
      { from: 9, to: 10 },
      { from: 100, to: 100 },
    ]);
  });

  it('leaves its argument alone and refuses what is not an integer', () => {
    const numbers = [3, 1, 2];
    numberRanges(numbers);
    expect(numbers).toEqual([3, 1, 2]);
    expect(() => numberRanges([1, 1.5])).toThrow(RangeError);
    expect(() => numberRanges([Number.NaN])).toThrow(RangeError);
  });
});

/** SEFAZ's answer (hand-written after retInutNFe_v4.00.xsd), in its SOAP envelope when `soap`. */
const retInutNFe = (cStat: string, xMotivo: string, homologated = false) =>
  `<retInutNFe xmlns="${NS}" versao="4.00"><infInut><tpAmb>2</tpAmb><verAplic>SP_NFCE_PL_010_V400</verAplic>` +
  `<cStat>${cStat}</cStat><xMotivo>${xMotivo}</xMotivo><cUF>35</cUF>` +
  (homologated
    ? '<ano>26</ano><CNPJ>82373077000171</CNPJ><mod>65</mod><serie>1</serie><nNFIni>1001</nNFIni><nNFFin>1003</nNFFin>'
    : '') +
  `<dhRecbto>2026-11-22T12:40:01-03:00</dhRecbto>${homologated ? '<nProt>135260000012345</nProt>' : ''}</infInut></retInutNFe>`;
const soap = (message: string) =>
  '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>' +
  `<nfeResultMsg xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/NFeInutilizacao4">${message}</nfeResultMsg>` +
  '</soap:Body></soap:Envelope>';

const homologatedAnswer = retInutNFe('102', 'Inutilização de número homologado', true);
const usedAnswer = retInutNFe('241', 'Rejeição: Um número da faixa já foi utilizado');

describe('parseInutilizacaoAnswer (retInutNFe)', () => {
  it('102: homologated, with its protocol and the retInutNFe standing alone', () => {
    expect(parseInutilizacaoAnswer(soap(homologatedAnswer))).toEqual({
      cStat: '102',
      xMotivo: 'Inutilização de número homologado',
      homologated: true,
      nProt: '135260000012345',
      dhRecbto: '2026-11-22T12:40:01-03:00',
      xml: expect.stringMatching(new RegExp(`^<retInutNFe xmlns="${NS}" versao="4.00"><infInut>.*</retInutNFe>$`)),
    });
  });

  it('241: a rejection, no protocol', () => {
    expect(parseInutilizacaoAnswer(soap(usedAnswer))).toEqual({
      cStat: '241',
      xMotivo: 'Rejeição: Um número da faixa já foi utilizado',
      homologated: false,
      dhRecbto: '2026-11-22T12:40:01-03:00',
      xml: expect.stringContaining('<cStat>241</cStat>'),
    });
  });

  it('a bare retInutNFe reads the same', () => {
    expect(parseInutilizacaoAnswer(homologatedAnswer)).toMatchObject({ cStat: '102', homologated: true });
  });

  it('anything else is SefazUnavailable (the outcome is unknown)', () => {
    for (const garbage of [
      '<html>502 Bad Gateway</html>',
      'not xml at all <',
      '',
      soap('<retEnviNFe xmlns="http://www.portalfiscal.inf.br/nfe"><cStat>102</cStat></retEnviNFe>'),
      usedAnswer.replace(/<cStat>241<\/cStat>/, ''),
      usedAnswer.replace(/<xMotivo>[^<]*<\/xMotivo>/, ''),
      usedAnswer.replace(/<dhRecbto>[^<]*<\/dhRecbto>/, ''),
      usedAnswer.replace('<cStat>241', '<cStat>24'),
      homologatedAnswer.replace(/<nProt>[^<]*<\/nProt>/, ''),
      homologatedAnswer.replace('<nProt>135260000012345', '<nProt>1352600000123'),
      // Another namespace is not SEFAZ's retInutNFe.
      usedAnswer.replace(`xmlns="${NS}"`, 'xmlns="urn:other"'),
    ]) {
      expect(() => parseInutilizacaoAnswer(garbage), garbage).toThrow(SefazUnavailable);
    }
  });
});

describe('signature', () => {
  it('verifies with xml-crypto’s own verifier; a tampered request does not', () => {
    const { xml } = inutilizacaoRequest(request(), signer());
    const verify = (text: string) => {
      const verifier = new SignedXml({ publicCert: testCertificate().certificatePem, getCertFromKeyInfo: () => null });
      verifier.loadSignature(signatureOf(text));
      return verifier.checkSignature(text);
    };
    expect(verify(xml)).toBe(true);
    expect(verify(xml.replace('<nNFFin>1003<', '<nNFFin>1004<'))).toBe(false);
  });

  it('follows the NFe’s profile: the same Signature skeleton as signNfce', () => {
    const skeleton = (xml: string) =>
      /<Signature .*<\/Signature>/
        .exec(xml)![0]
        .replace(/<(DigestValue|SignatureValue|X509Certificate)>[^<]*</g, '<$1>…<')
        .replace(/URI="#[^"]*"/, 'URI="#…"');
    const nfe = signNfce(documentFor(orderItems(1)), testCertificate()).nfeXml;
    const { xml } = inutilizacaoRequest(request(), signer());
    expect(skeleton(xml)).toBe(skeleton(nfe));
    expect(xml).toContain(`<X509Certificate>${testCertificate().certificateBase64}</X509Certificate>`);
  });

  const noXmlsec = xmlsecMissing();
  if (noXmlsec) console.warn(`skipping the xmlsec1 checks of the inutilização: ${noXmlsec}`);
  it.skipIf(Boolean(noXmlsec))('verifies with xmlsec1; a tampered request does not', () => {
    const pem = testCertificate().certificatePem;
    const { xml } = inutilizacaoRequest(request(), signer());
    expect(xmlsecVerifies(xml, pem, 'infInut')).toBe(true);
    expect(xmlsecVerifies(xml.replace('<nNFIni>1001<', '<nNFIni>1000<'), pem, 'infInut')).toBe(false);
    expect(xmlsecVerifies(xml.replace(JUST, JUST.toUpperCase()), pem, 'infInut')).toBe(false);
  });
});

const noSchemas = existsSync(SCHEMAS) ? undefined : `${SCHEMAS} is absent`;
if (noSchemas) console.warn(`skipping the inutilização XSD checks: ${noSchemas}`);

describe.skipIf(Boolean(noSchemas))('against the PL_010e v1.01 XSDs (libxml2-wasm)', () => {
  const failures = (schema: string, xml: string) => schemaValidator(SCHEMAS, schema).failures(xml);

  it('the request validates against inutNFe_v4.00.xsd, numeric and alphanumeric CNPJ alike', () => {
    expect(failures('inutNFe_v4.00.xsd', inutilizacaoRequest(request(), signer()).xml)).toEqual([]);
    const alpha = request({ cnpj: '12ABC34501DE35', serie: 0, nNFIni: 1, nNFFin: 999_999_999, xJust: 'x'.repeat(255) });
    expect(failures('inutNFe_v4.00.xsd', inutilizacaoRequest(alpha, signer()).xml)).toEqual([]);
  });

  it('the hand-written answers follow retInutNFe_v4.00.xsd', () => {
    expect(failures('retInutNFe_v4.00.xsd', homologatedAnswer)).toEqual([]);
    expect(failures('retInutNFe_v4.00.xsd', usedAnswer)).toEqual([]);
  });

  it('procInutNFe: the request and the parsed answer validate against procInutNFe_v4.00.xsd (root ProcInutNFe)', () => {
    const { xml } = inutilizacaoRequest(request(), signer());
    const proc = procInutNFe(xml, parseInutilizacaoAnswer(soap(homologatedAnswer)).xml);
    expect(proc).toMatch(
      new RegExp(
        `^<\\?xml version="1.0" encoding="UTF-8"\\?><ProcInutNFe versao="4.00" xmlns="${NS}"><inutNFe .*</retInutNFe></ProcInutNFe>$`,
      ),
    );
    expect(failures('procInutNFe_v4.00.xsd', proc)).toEqual([]);
  });

  it('catches a broken request (the check can fail)', () => {
    const { xml } = inutilizacaoRequest(request(), signer());
    expect(failures('inutNFe_v4.00.xsd', xml.replace('<serie>1<', '<serie>001<')).join('\n')).toMatch(/serie/);
    expect(failures('inutNFe_v4.00.xsd', xml.replace('INUTILIZAR', 'INUTILIZA')).join('\n')).toMatch(/xServ/);
  });
});
