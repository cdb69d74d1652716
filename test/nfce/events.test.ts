import { existsSync } from 'node:fs';
import { SignedXml } from 'xml-crypto';
import { describe, expect, it } from 'vitest';
import {
  cancellationEvent,
  envEvento,
  InvalidEvent,
  parseEventAnswer,
  procEventoNFe,
  substitutionEvent,
  type CancellationInput,
  type SubstitutionInput,
} from '../../functions/nfce/events.ts';
import { accessKey } from '../../functions/nfce/key.ts';
import { SefazUnavailable } from '../../functions/nfce/sefaz.ts';
import { signNfce } from '../../functions/nfce/xml.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import {
  documentFor,
  EVENT_SCHEMAS,
  orderItems,
  testCertificate,
  xmlsecMissing,
  xmlsecVerifies,
  signatureOf,
} from '../support/nfce.ts';

const NS = 'http://www.portalfiscal.inf.br/nfe';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

const key = (fields: { cnpj?: string; nNF?: number; tpEmis?: number } = {}) =>
  accessKey({
    cUF: '35',
    yearMonth: '2611',
    cnpj: fields.cnpj ?? '82373077000171',
    model: '65',
    serie: 1,
    nNF: fields.nNF ?? 1001,
    tpEmis: fields.tpEmis ?? 1,
    cNF: '27182818',
  });
const chave = key();
const contingencyKey = key({ nNF: 1002, tpEmis: 9 });
const JUST = 'Venda cancelada a pedido do cliente';

const cancellation = (overrides: Partial<CancellationInput> = {}): CancellationInput => ({
  chave,
  nProt: '13526000012345678',
  xJust: JUST,
  cnpj: '82373077000171',
  tpAmb: 2,
  dhEvento: new Date('2026-11-22T15:40:00.789Z'),
  ...overrides,
});
const substitution = (overrides: Partial<SubstitutionInput> = {}): SubstitutionInput => ({
  ...cancellation(),
  chNFeRef: contingencyKey,
  verAplic: 'checkout-test 1.0',
  ...overrides,
});

const signer = () => testCertificate();

describe('the event, as built', () => {
  it('cancellation 110111: Id, infEvento and detEvento exactly as the XSD orders them', () => {
    const event = cancellationEvent(cancellation(), signer());
    expect(event.id).toBe(`ID110111${chave}01`);
    expect(event.id).toHaveLength(54);
    expect(event.xml).toMatch(
      new RegExp(
        `^<evento versao="1.00" xmlns="${NS}"><infEvento Id="ID110111${chave}01">` +
          `<cOrgao>35</cOrgao><tpAmb>2</tpAmb><CNPJ>82373077000171</CNPJ><chNFe>${chave}</chNFe>` +
          '<dhEvento>2026-11-22T12:40:00-03:00</dhEvento><tpEvento>110111</tpEvento><nSeqEvento>1</nSeqEvento>' +
          '<verEvento>1.00</verEvento><detEvento versao="1.00"><descEvento>Cancelamento</descEvento>' +
          `<nProt>13526000012345678</nProt><xJust>${JUST}</xJust></detEvento></infEvento>` +
          `<Signature xmlns="${DSIG}">.*</Signature></evento>$`,
      ),
    );
  });

  it('substitution 110112: detEvento with cOrgaoAutor, tpAutor 1, verAplic, nProt, xJust, chNFeRef', () => {
    const event = substitutionEvent(substitution({ nSeqEvento: 2 }), signer());
    expect(event.id).toBe(`ID110112${chave}02`);
    expect(event.xml).toContain(`<tpEvento>110112</tpEvento><nSeqEvento>2</nSeqEvento><verEvento>1.00</verEvento>`);
    expect(event.xml).toContain(
      '<detEvento versao="1.00"><descEvento>Cancelamento por substituicao</descEvento><cOrgaoAutor>35</cOrgaoAutor>' +
        `<tpAutor>1</tpAutor><verAplic>checkout-test 1.0</verAplic><nProt>13526000012345678</nProt><xJust>${JUST}</xJust>` +
        `<chNFeRef>${contingencyKey}</chNFeRef></detEvento></infEvento><Signature`,
    );
  });

  it('xJust: 15–255 characters after trimming', () => {
    const withJust = (xJust: string) => () => cancellationEvent(cancellation({ xJust }), signer());
    expect(withJust('x'.repeat(14))).toThrow(/xJust must be 15–255 characters after trimming \(TJust\), got 14/);
    expect(withJust(`   ${'x'.repeat(14)}  `)).toThrow(InvalidEvent);
    expect(withJust('x'.repeat(15))().xml).toContain(`<xJust>${'x'.repeat(15)}</xJust>`);
    expect(withJust(`  ${'x'.repeat(15)}\n`)().xml).toContain(`<xJust>${'x'.repeat(15)}</xJust>`);
    expect(withJust('x'.repeat(255))().xml).toContain(`<xJust>${'x'.repeat(255)}</xJust>`);
    expect(withJust('x'.repeat(256))).toThrow(/got 256/);
    expect(() => substitutionEvent(substitution({ xJust: 'curta demais' }), signer())).toThrow(/event 110112: xJust/);
  });

  it('xJust is written as schema text: escaped, tabs and curly quotes mapped', () => {
    const event = cancellationEvent(cancellation({ xJust: 'Cliente “desistiu”\tda compra & <saiu>' }), signer());
    expect(event.xml).toContain('<xJust>Cliente "desistiu" da compra &amp; &lt;saiu&gt;</xJust>');
  });

  it('refuses inconsistent input before signing', () => {
    const c = (o: Partial<CancellationInput>) => () => cancellationEvent(cancellation(o), signer());
    expect(c({ cOrgao: '33' })).toThrow(/cOrgao 33 is not the key's state 35/);
    expect(c({ cOrgao: '35' })).not.toThrow();
    expect(c({ cnpj: '11222333000181' })).toThrow(/is not the key's emitter/);
    expect(c({ nProt: '1352600001234' })).toThrow(/nProt/);
    expect(c({ nSeqEvento: 21 })).toThrow(/nSeqEvento/);
    expect(c({ chave: chave.slice(1) })).toThrow(/chave/);
    expect(() => substitutionEvent(substitution({ chNFeRef: chave }), signer())).toThrow(/chNFeRef/);
    expect(() => substitutionEvent(substitution({ verAplic: '' }), signer())).toThrow(/verAplic/);
  });
});

describe('envEvento and procEventoNFe', () => {
  it('takes 1 to 20 events and a 1–15 digit idLote', () => {
    const xml = cancellationEvent(cancellation(), signer()).xml;
    expect(envEvento('42', [xml])).toBe(`<envEvento xmlns="${NS}" versao="1.00"><idLote>42</idLote>${xml}</envEvento>`);
    expect(() => envEvento('42', [])).toThrow(/1–20 events/);
    expect(envEvento('42', Array(20).fill(xml))).toContain('</idLote><evento');
    expect(() => envEvento('42', Array(21).fill(xml))).toThrow(/got 21/);
    expect(() => envEvento('1234567890123456', [xml])).toThrow(/idLote/);
    expect(() => envEvento('A1', [xml])).toThrow(/idLote/);
  });
});

/** SEFAZ's answer to an event batch, in its SOAP envelope (hand-written after the PL_010d retEnvEvento layout). */
const retEvento = (cStat: string, xMotivo: string, nProt?: string, tpEvento = '110111') =>
  `<retEvento versao="1.00"><infEvento><tpAmb>2</tpAmb><verAplic>SP_EVENTOS_PL_100</verAplic><cOrgao>35</cOrgao>` +
  `<cStat>${cStat}</cStat><xMotivo>${xMotivo}</xMotivo><chNFe>${chave}</chNFe><tpEvento>${tpEvento}</tpEvento>` +
  `<xEvento>Cancelamento registrado</xEvento><nSeqEvento>1</nSeqEvento><dhRegEvento>2026-11-22T12:40:01-03:00</dhRegEvento>` +
  `${nProt ? `<nProt>${nProt}</nProt>` : ''}</infEvento></retEvento>`;
const retEnvEvento = (cStat: string, xMotivo: string, events: string[]) =>
  `<retEnvEvento xmlns="${NS}" versao="1.00"><idLote>42</idLote><tpAmb>2</tpAmb><verAplic>SP_EVENTOS_PL_100</verAplic>` +
  `<cOrgao>35</cOrgao><cStat>${cStat}</cStat><xMotivo>${xMotivo}</xMotivo>${events.join('')}</retEnvEvento>`;
const soap = (message: string) =>
  '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>' +
  `<nfeRecepcaoEventoNFResult xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/NFeRecepcaoEvento4">${message}</nfeRecepcaoEventoNFResult>` +
  '</soap:Body></soap:Envelope>';

const registeredAnswer = retEnvEvento('128', 'Lote de Evento Processado', [
  retEvento('135', 'Evento registrado e vinculado a NF-e', '13526000098765432'),
]);
const rejectedAnswer = retEnvEvento('128', 'Lote de Evento Processado', [
  retEvento('573', 'Rejeicao: Duplicidade de Evento'),
  retEvento('501', 'Rejeicao: Prazo de cancelamento superior ao previsto na Legislacao'),
]);

describe('parseEventAnswer (retEnvEvento)', () => {
  it('a processed batch with a registered event (128 / 135)', () => {
    const answer = parseEventAnswer(soap(registeredAnswer));
    expect(answer).toEqual({
      cStat: '128',
      xMotivo: 'Lote de Evento Processado',
      events: [
        {
          cStat: '135',
          xMotivo: 'Evento registrado e vinculado a NF-e',
          registered: true,
          chNFe: chave,
          tpEvento: '110111',
          nSeqEvento: 1,
          dhRegEvento: '2026-11-22T12:40:01-03:00',
          nProt: '13526000098765432',
          xml: expect.stringMatching(new RegExp(`^<retEvento versao="1.00" xmlns="${NS}"><infEvento>.*</retEvento>$`)),
        },
      ],
    });
  });

  it('136 counts as registered too', () => {
    const answer = parseEventAnswer(
      retEnvEvento('128', 'Lote de Evento Processado', [
        retEvento('136', 'Evento registrado, mas nao vinculado a NF-e', '135260000987654'),
      ]),
    );
    expect(answer.events.map((e) => [e.cStat, e.registered, e.nProt])).toEqual([['136', true, '135260000987654']]);
  });

  it('rejected events: 573 duplicate, 501 out of deadline', () => {
    const answer = parseEventAnswer(soap(rejectedAnswer));
    expect(answer.cStat).toBe('128');
    expect(answer.events.map((e) => [e.cStat, e.registered, e.nProt])).toEqual([
      ['573', false, undefined],
      ['501', false, undefined],
    ]);
    expect(answer.events[1]!.xMotivo).toMatch(/Prazo de cancelamento/);
  });

  it('a rejected batch has no events', () => {
    const answer = parseEventAnswer(soap(retEnvEvento('215', 'Rejeicao: Falha no schema XML', [])));
    expect(answer).toEqual({ cStat: '215', xMotivo: 'Rejeicao: Falha no schema XML', events: [] });
  });

  it('anything else is SefazUnavailable', () => {
    expect(() => parseEventAnswer('<html>502 Bad Gateway</html>')).toThrow(SefazUnavailable);
    expect(() => parseEventAnswer('not xml at all <')).toThrow(SefazUnavailable);
    expect(() => parseEventAnswer(retEnvEvento('12', 'x', []))).toThrow(/without cStat/);
    expect(() =>
      parseEventAnswer(retEnvEvento('128', 'Lote de Evento Processado', [retEvento('135', 'Evento registrado')])),
    ).toThrow(/malformed retEvento/);
  });
});

describe('signature', () => {
  const events = () => [cancellationEvent(cancellation(), signer()), substitutionEvent(substitution(), signer())];

  it('verifies with xml-crypto’s own verifier (the key from the certificate, not from KeyInfo)', () => {
    for (const event of events()) {
      const verifier = new SignedXml({ publicCert: testCertificate().certificatePem, getCertFromKeyInfo: () => null });
      verifier.loadSignature(signatureOf(event.xml));
      expect(verifier.checkSignature(event.xml), event.tpEvento).toBe(true);
      expect(verifier.getSignedReferences()).toHaveLength(1);
      const tampered = event.xml.replace('<tpAmb>2</tpAmb>', '<tpAmb>1</tpAmb>');
      const again = new SignedXml({ publicCert: testCertificate().certificatePem, getCertFromKeyInfo: () => null });
      again.loadSignature(signatureOf(tampered));
      expect(again.checkSignature(tampered), event.tpEvento).toBe(false);
    }
  });

  it('follows the NFe’s profile: the same Signature skeleton as signNfce, reference #ID…', () => {
    const skeleton = (xml: string) =>
      /<Signature .*<\/Signature>/
        .exec(xml)![0]
        .replace(/<(DigestValue|SignatureValue|X509Certificate)>[^<]*</g, '<$1>…<')
        .replace(/URI="#[^"]*"/, 'URI="#…"');
    const nfe = signNfce(documentFor(orderItems(1)), testCertificate()).nfeXml;
    for (const event of events()) {
      expect(skeleton(event.xml)).toBe(skeleton(nfe));
      expect(event.xml).toContain(`<Reference URI="#${event.id}">`);
      expect(event.xml).toContain(`<X509Certificate>${testCertificate().certificateBase64}</X509Certificate>`);
    }
  });

  const noXmlsec = xmlsecMissing();
  if (noXmlsec) console.warn(`skipping the xmlsec1 checks: ${noXmlsec}`);
  it.skipIf(Boolean(noXmlsec))('verifies with xmlsec1; a tampered event does not', () => {
    const pem = testCertificate().certificatePem;
    for (const event of events()) {
      expect(xmlsecVerifies(event.xml, pem, 'infEvento'), event.tpEvento).toBe(true);
      expect(xmlsecVerifies(event.xml.replace('<nProt>1', '<nProt>2'), pem, 'infEvento'), event.tpEvento).toBe(false);
    }
  });
});

const noSchemas = existsSync(EVENT_SCHEMAS) ? undefined : `${EVENT_SCHEMAS} is absent`;
if (noSchemas) console.warn(`skipping the event XSD checks: ${noSchemas}`);

describe.skipIf(Boolean(noSchemas))('against the PL_010d v1.02 event XSDs (libxml2-wasm)', () => {
  const failures = (schema: string, xml: string) => schemaValidator(EVENT_SCHEMAS, schema).failures(xml);
  const detEvento = (xml: string) =>
    /<detEvento .*<\/detEvento>/.exec(xml)![0].replace('<detEvento ', `<detEvento xmlns="${NS}" `);

  it('a cancellation batch validates against envEventoCancNFe, each detEvento against e110111', () => {
    const list = [cancellationEvent(cancellation(), signer()), cancellationEvent(cancellation({ nSeqEvento: 2 }), signer())];
    expect(
      failures(
        'envEventoCancNFe_v1.00.xsd',
        envEvento(
          '1',
          list.map((e) => e.xml),
        ),
      ),
    ).toEqual([]);
    expect(
      failures(
        'envEvento_v1.00.xsd',
        envEvento(
          '1',
          list.map((e) => e.xml),
        ),
      ),
    ).toEqual([]);
    expect(failures('e110111_v1.00.xsd', detEvento(list[0]!.xml))).toEqual([]);
  });

  it('a substitution batch validates against envEventoCancSubst, its detEvento against e110112', () => {
    const event = substitutionEvent(substitution(), signer());
    expect(failures('envEventoCancSubst_v1.00.xsd', envEvento('123456789012345', [event.xml]))).toEqual([]);
    expect(failures('envEvento_v1.00.xsd', envEvento('1', [event.xml]))).toEqual([]);
    expect(failures('e110112_v1.00.xsd', detEvento(event.xml))).toEqual([]);
  });

  it('an alphanumeric-CNPJ event validates against the generic envEvento and e110111 / e110112', () => {
    const cnpj = '12ABC34501DE35';
    const alpha = key({ cnpj });
    const c = cancellationEvent(cancellation({ chave: alpha, cnpj }), signer());
    const s = substitutionEvent(substitution({ chave: alpha, cnpj, chNFeRef: key({ cnpj, nNF: 7, tpEmis: 9 }) }), signer());
    expect(c.id).toBe(`ID110111${alpha}01`);
    expect(failures('envEvento_v1.00.xsd', envEvento('7', [c.xml, s.xml]))).toEqual([]);
    expect(failures('e110111_v1.00.xsd', detEvento(c.xml))).toEqual([]);
    expect(failures('e110112_v1.00.xsd', detEvento(s.xml))).toEqual([]);
  });

  it('the hand-written answers follow retEnvEvento, and procEventoNFe validates with the parsed retEvento', () => {
    expect(failures('retEnvEventoCancNFe_v1.00.xsd', registeredAnswer)).toEqual([]);
    expect(failures('retEnvEventoCancNFe_v1.00.xsd', rejectedAnswer)).toEqual([]);
    const event = cancellationEvent(cancellation(), signer());
    const proc = procEventoNFe(event.xml, parseEventAnswer(soap(registeredAnswer)).events[0]!.xml);
    expect(proc).toMatch(
      new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?><procEventoNFe versao="1.00" xmlns="${NS}"><evento `),
    );
    expect(failures('procEventoCancNFe_v1.00.xsd', proc)).toEqual([]);
    expect(failures('procEventoNFe_v1.00.xsd', proc)).toEqual([]);
    const substituted = substitutionEvent(substitution(), signer());
    const substAnswer = retEnvEvento('128', 'Lote de Evento Processado', [
      retEvento('135', 'Evento registrado', '135260000987654', '110112'),
    ]);
    const substProc = procEventoNFe(substituted.xml, parseEventAnswer(substAnswer).events[0]!.xml);
    expect(failures('procEventoCancSubst_v1.00.xsd', substProc)).toEqual([]);
  });

  it('catches a broken event (the check can fail)', () => {
    const xml = cancellationEvent(cancellation(), signer()).xml;
    expect(
      failures(
        'envEventoCancNFe_v1.00.xsd',
        envEvento('1', [xml.replace('<descEvento>Cancelamento<', '<descEvento>Cancelado<')]),
      ).join('\n'),
    ).toMatch(/descEvento/);
    expect(failures('envEventoCancSubst_v1.00.xsd', envEvento('1', [xml])).join('\n')).toMatch(/tpEvento|110111/);
  });
});
