import type { Element } from '@xmldom/xmldom';
import { services } from './envelope.ts';
import { statuses, type Status } from './messages.ts';
import { brasiliaTime, soapResult } from './responses.ts';
import { schemaErrors } from './schema.ts';
import { messageSchemas, type Answer, type Received, type Sefaz } from './services.ts';
import { checkSignedElement } from './signature.ts';
import { NFE_NS, child, descendants, escapeXml, serialize, text } from './xml.ts';

/**
 * NFeInutilizacao4 for the NFC-e: a signed `inutNFe` 4.00 (PL_010e_v1.01 `inutNFe_v4.00.xsd`)
 * declares a range of numbers of one series skipped; the answer is `retInutNFe` 4.00
 * (`retInutNFe_v4.00.xsd`). Rules of `../shared/specs/nfce-2026.md` §5 and MOC 7.0; codes and
 * texts of the MOC's cStat table as maintained NF-e libraries list them (the MOC's own rule table
 * for this service could not be read, so the order below is this simulator's). Checks, first
 * failure answers:
 *
 * - 108/109 the service paused or stopped (control.setServiceStatus), 214 too large;
 * - 215 not an inutNFe, one that fails `inutNFe_v4.00.xsd` (when the schemas are configured) or,
 *   without them, the fields the rules below read; 404 a namespace prefix;
 * - 252 another environment; 226 a cUF other than this SEFAZ's (the NF-e's code; some cStat lists
 *   give the inutilização 250 "UF diverge da UF autorizadora": UNCONFIRMED);
 * - 775 a mod other than 65 (these are NFC-e URLs) — the code is the NFC-e authorization's,
 *   UNCONFIRMED for the inutilização;
 * - 502 an Id that is not "ID" + cUF + ano + CNPJ + mod + serie(3) + nNFIni(9) + nNFFin(9) — the
 *   NF-e key's "Campo Id não corresponde à concatenação" code and text, UNCONFIRMED for the
 *   inutilização (its own rule could not be read);
 * - the NFe's signature checks over `infInut` (298, 290, 297, 291, 292, 213: signature.ts), the
 *   certificate's CNPJ base against the request's CNPJ;
 * - 453 an ano after the current year (Brasília, on the simulator's clock), 454 one before 2006
 *   (both texts name the inutilização; where SEFAZ-SP checks them, UNCONFIRMED);
 * - 224 nNFIni > nNFFin;
 * - 241 a number of the range this SEFAZ authorized (cancelled ones included);
 * - 256 a range sharing a number with one already inutilized (a resend of the same range too:
 *   SEFAZ's 563 "Já existe pedido de Inutilização com a mesma faixa" is not simulated);
 *
 * then 102 "Inutilização de número homologado" with a 15-digit nProt of the registry's event
 * protocol sequence and dhRecbto; the registry records the range, and NFeAutorizacao4 then rejects
 * any of its numbers (206). Like a document, the next request that reaches the checks takes
 * control.rejectNext's answer instead. Not simulated: the size limit of a range, the emitter's
 * register (240, 203) and the CNPJ's check digits.
 */

/** TNF: 1–999999999 without leading zeros. */
const T_NF = /^[1-9][0-9]{0,8}$/;

/** One `inutNFe` as far as the schema guarantees it (checked again for when no schemas are configured). */
interface ReceivedRequest {
  inutNFe: Element;
  id: string;
  tpAmb: string;
  cUF: string;
  ano: string;
  cnpj: string;
  mod: string;
  /** serie, nNFIni and nNFFin as written (no leading zeros), echoed so in the answer. */
  serie: string;
  nNFIni: string;
  nNFFin: string;
}

function readRequest(inutNFe: Element): ReceivedRequest | undefined {
  const infInut = child(inutNFe, 'infInut');
  const field = (name: string) => text(infInut, name) ?? '';
  const fields = {
    tpAmb: field('tpAmb'),
    cUF: field('cUF'),
    ano: field('ano'),
    cnpj: field('CNPJ'),
    mod: field('mod'),
    serie: field('serie'),
    nNFIni: field('nNFIni'),
    nNFFin: field('nNFFin'),
  };
  const xJust = field('xJust');
  const wellFormed =
    inutNFe.getAttribute('versao') === '4.00' &&
    infInut?.hasAttribute('Id') &&
    (fields.tpAmb === '1' || fields.tpAmb === '2') &&
    field('xServ') === 'INUTILIZAR' &&
    /^[0-9]{2}$/.test(fields.cUF) &&
    /^[0-9]{2}$/.test(fields.ano) &&
    /^[0-9A-Z]{12}[0-9]{2}$/.test(fields.cnpj) &&
    (fields.mod === '55' || fields.mod === '65') &&
    /^(?:0|[1-9][0-9]{0,2})$/.test(fields.serie) &&
    T_NF.test(fields.nNFIni) &&
    T_NF.test(fields.nNFFin) &&
    xJust.length >= 15 &&
    xJust.length <= 255;
  return wellFormed ? { inutNFe, id: infInut!.getAttribute('Id')!, ...fields } : undefined;
}

/** A 102's request and the protocol it got. */
type Homologated = { request: ReceivedRequest; nProt: string };

const element = (name: string, value: string | undefined): string =>
  value === undefined ? '' : `<${name}>${escapeXml(value)}</${name}>`;

/**
 * retInutNFe 4.00 (TRetInutNFe), its namespace declared so that it stands alone in a ProcInutNFe:
 * tpAmb, verAplic, cStat, xMotivo, cUF, then on 102 the range (ano, CNPJ, mod, serie, nNFIni,
 * nNFFin), dhRecbto (required: the receipt on a rejection, the record on 102) and on 102 nProt.
 */
function retInutNFe(sefaz: Sefaz, dhRecbto: string, status: Status, homologated?: Homologated): string {
  const r = homologated?.request;
  return (
    `<retInutNFe versao="4.00" xmlns="${NFE_NS}"><infInut>${element('tpAmb', sefaz.tpAmb)}` +
    `${element('verAplic', sefaz.verAplic)}${element('cStat', status.cStat)}${element('xMotivo', status.xMotivo)}` +
    `${element('cUF', sefaz.cUF)}${element('ano', r?.ano)}${element('CNPJ', r?.cnpj)}${element('mod', r?.mod)}` +
    `${element('serie', r?.serie)}${element('nNFIni', r?.nNFIni)}${element('nNFFin', r?.nNFFin)}` +
    `${element('dhRecbto', dhRecbto)}${element('nProt', homologated?.nProt)}</infInut></retInutNFe>`
  );
}

/** NFeInutilizacao4: one range of one series, checked as the module's comment lists, recorded on 102. */
export async function inutilizeNumbers(sefaz: Sefaz, received: Received): Promise<Answer> {
  const now = sefaz.now();
  const dhRecbto = brasiliaTime(now);
  const reply = (status: Status, homologated?: Homologated): Answer => ({
    httpStatus: 200,
    body: soapResult(services.inutilization, retInutNFe(sefaz, dhRecbto, status, homologated)),
  });

  if (sefaz.serviceStatus !== 'running') return reply(sefaz.serviceStatus === 'paused' ? statuses.paused : statuses.stopped);
  if (received.kind === 'tooLarge') return reply(statuses.tooLarge);
  const inutNFe = received.payload;
  if (!inutNFe) return reply(statuses.messageSchema);
  if (sefaz.schemasDir && schemaErrors(sefaz.schemasDir, messageSchemas.inutilization, serialize(inutNFe))) {
    return reply(statuses.messageSchema);
  }
  if ([...descendants(inutNFe)].some((e) => e.prefix)) return reply(statuses.prefix);
  const request = readRequest(inutNFe);
  if (!request) return reply(statuses.messageSchema);

  const rejection = sefaz.forcedRejections.shift() ?? checkRequest(sefaz, request, now);
  if (rejection) return reply(rejection);
  const nProt = sefaz.registry.nextEventProtocol(dhRecbto);
  sefaz.registry.inutilize({
    cnpj: request.cnpj,
    mod: request.mod,
    serie: Number(request.serie),
    from: Number(request.nNFIni),
    to: Number(request.nNFFin),
    nProt,
    dhRecbto,
  });
  return reply(statuses.inutilized, { request, nProt });
}

/** The checks of one request, in the order the module's comment lists them; undefined when it is to be recorded. */
function checkRequest(sefaz: Sefaz, request: ReceivedRequest, now: Date): Status | undefined {
  const { cUF, ano, cnpj, mod, serie, nNFIni, nNFFin } = request;
  if (request.tpAmb !== sefaz.tpAmb) return statuses.wrongEnvironment;
  if (cUF !== sefaz.cUF) return statuses.wrongUf;
  if (mod !== '65') return statuses.notNfce;
  const id = `ID${cUF}${ano}${cnpj}${mod}${serie.padStart(3, '0')}${nNFIni.padStart(9, '0')}${nNFFin.padStart(9, '0')}`;
  if (request.id !== id) return statuses.keyMismatch;

  const signature = checkSignedElement(request.inutNFe, request.id, cnpj, now);
  if (signature) return signature;

  // Two-digit years: SEFAZ's own year in Brasília (brasiliaTime's YYYY), 2006 the first of the NF-e.
  if (Number(ano) > Number(brasiliaTime(now).slice(2, 4))) return statuses.inutilizationYearAhead;
  if (Number(ano) < 6) return statuses.inutilizationYearTooOld;
  const [from, to] = [Number(nNFIni), Number(nNFFin)];
  if (from > to) return statuses.rangeInverted;
  if (sefaz.registry.usedInRange(cnpj, mod, Number(serie), from, to)) return statuses.numberUsed;
  if (sefaz.registry.inutilizedOverlapping(cnpj, mod, Number(serie), from, to)) return statuses.rangeInutilized;
  return undefined;
}
