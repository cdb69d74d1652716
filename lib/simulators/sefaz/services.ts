import type { Element } from '@xmldom/xmldom';
import { checkDocument } from './checks.ts';
import { readDocument } from './document.ts';
import { services } from './envelope.ts';
import { statuses, type Status } from './messages.ts';
import type { CscRegistry } from './qrcode.ts';
import { withProcEventos } from './events.ts';
import type { Authorization, Registry, RegisteredEvent } from './registry.ts';
import type { SefazRules } from './rules.ts';
import { brasiliaTime, retConsSitNFe, retConsStatServ, retEnviNFe, soapFault, soapResult, type Header } from './responses.ts';
import { schemaErrors } from './schema.ts';
import { digestValueOf } from './signature.ts';
import { NFE_NS, childElements, descendants, serialize, text } from './xml.ts';

export type ServiceStatus = 'running' | 'paused' | 'stopped';

/** The schema each web service validates its message with (nfeDadosMsg's content). */
export const messageSchemas = {
  authorization: 'enviNFe_v4.00.xsd',
  status: 'consStatServ_v4.00.xsd',
  consultation: 'consSitNFe_v4.00.xsd',
  inutilization: 'inutNFe_v4.00.xsd',
} as const;

/** The simulated SEFAZ: its settings and what it remembers between calls. */
export interface Sefaz {
  tpAmb: '1' | '2';
  cUF: string;
  verAplic: string;
  schemasDir: string | undefined;
  /** PL_010d event schemas (envEvento, e110111, e110112), when NFeRecepcaoEvento4 validates with them. */
  eventSchemasDir?: string | undefined;
  qrCodeUrl: string;
  csc: CscRegistry;
  now: () => Date;
  serviceStatus: ServiceStatus;
  /** Answers the next documents get instead of their checks' (control.rejectNext). */
  forcedRejections: Status[];
  registry: Registry;
  /** The configurable rules (protocol length, IBS/CBS dates and rates, Receita register); control.configure changes them. */
  rules: SefazRules;
}

/** What the web service received inside nfeDadosMsg, as far as the envelope could tell. */
export type Received = { kind: 'tooLarge' } | { kind: 'payload'; payload: Element | undefined };

export interface Answer {
  httpStatus: number;
  body: string;
}

const answer = (body: string): Answer => ({ httpStatus: 200, body });

const header = (sefaz: Sefaz, receivedAt = sefaz.now()): Header => ({
  tpAmb: sefaz.tpAmb,
  verAplic: sefaz.verAplic,
  cUF: sefaz.cUF,
  dhRecbto: brasiliaTime(receivedAt),
});

/** NFeAutorizacao4, synchronous (indSinc 1): one NFC-e per lot, its protocol in the answer. */
export async function authorizeLot(sefaz: Sefaz, received: Received): Promise<Answer> {
  // One reading of the clock: the dhEmi rules (703/704) compare with the dhRecbto answered.
  const receivedAt = sefaz.now();
  const head = header(sefaz, receivedAt);
  const lot = (status: Status) => answer(soapResult(services.authorization, retEnviNFe(head, status)));

  if (sefaz.serviceStatus !== 'running') return lot(sefaz.serviceStatus === 'paused' ? statuses.paused : statuses.stopped);
  if (received.kind === 'tooLarge') return lot(statuses.tooLarge);
  const enviNFe = received.payload;
  if (!enviNFe) return lot(statuses.lotSchema);
  if (sefaz.schemasDir && schemaErrors(sefaz.schemasDir, messageSchemas.authorization, serialize(enviNFe))) {
    return lot(statuses.lotSchema);
  }
  if ([...descendants(enviNFe)].some((element) => element.prefix)) return lot(statuses.prefix);

  // What the schema guarantees, checked again for when no schemas are configured.
  const nfes = childElements(enviNFe, NFE_NS, 'NFe');
  const indSinc = text(enviNFe, 'indSinc');
  const wellFormedLot =
    enviNFe.getAttribute('versao') === '4.00' &&
    /^[0-9]{1,15}$/.test(text(enviNFe, 'idLote') ?? '') &&
    (indSinc === '0' || indSinc === '1') &&
    nfes.length >= 1 &&
    nfes.length <= 50;
  if (!wellFormedLot) return lot(statuses.lotSchema);
  if (indSinc === '1' && nfes.length > 1) return lot(statuses.syncForMany);
  if (indSinc === '0' && nfes.length === 1) return lot(statuses.asyncForOne);
  if (indSinc === '0') {
    return { httpStatus: 500, body: soapFault('Receiver', 'the simulator answers synchronous lots (indSinc 1) only') };
  }

  const nfe = nfes[0]!;
  const document = readDocument(nfe);
  if (!document) return lot(statuses.lotSchema);

  const digVal = digestValueOf(nfe);
  const processed = (status: Status, nProt?: string) =>
    answer(
      soapResult(
        services.authorization,
        retEnviNFe(head, statuses.lotProcessed, { chNFe: document.chNFe, status, nProt, digVal }),
      ),
    );
  const nRec = sefaz.registry.nextReceipt();
  const rejection = sefaz.forcedRejections.shift() ?? checkDocument(document, { ...sefaz, now: receivedAt, digestValue: digVal });
  if (rejection) return processed(rejection);

  // A document that passed the signature checks has a DigestValue.
  const { nProt } = sefaz.registry.authorize(
    document,
    { tpAmb: head.tpAmb, verAplic: head.verAplic, dhRecbto: head.dhRecbto, digVal: digVal!, nRec },
    sefaz.rules.protocolDigits,
  );
  return processed(statuses.authorized, nProt);
}

/** NFeStatusServico4: 107 in operation, 108/109 when control has paused or stopped the service. */
export async function serviceStatus(sefaz: Sefaz, received: Received): Promise<Answer> {
  const head = header(sefaz);
  const reply = (status: Status, tMed?: string) => answer(soapResult(services.status, retConsStatServ(head, status, tMed)));

  if (received.kind === 'tooLarge') return reply(statuses.tooLarge);
  const consStatServ = received.payload;
  if (!consStatServ) return reply(statuses.messageSchema);
  if (sefaz.schemasDir && schemaErrors(sefaz.schemasDir, messageSchemas.status, serialize(consStatServ))) {
    return reply(statuses.messageSchema);
  }
  const tpAmb = text(consStatServ, 'tpAmb');
  const cUF = text(consStatServ, 'cUF');
  const wellFormed =
    consStatServ.getAttribute('versao') === '4.00' &&
    (tpAmb === '1' || tpAmb === '2') &&
    /^[0-9]{2}$/.test(cUF ?? '') &&
    text(consStatServ, 'xServ') === 'STATUS';
  if (!wellFormed) return reply(statuses.messageSchema);
  if (tpAmb !== sefaz.tpAmb) return reply(statuses.wrongEnvironment);
  if (cUF !== sefaz.cUF) return reply(statuses.statusUf);

  if (sefaz.serviceStatus === 'paused') return reply(statuses.paused);
  if (sefaz.serviceStatus === 'stopped') return reply(statuses.stopped);
  return reply(statuses.inOperation, '1');
}

/**
 * NFeConsultaProtocolo4: where a key stands. 100 with the protocol its authorization answered
 * (same nProt, digVal, dhRecbto…) for an authorized key, 101 for a cancelled one (the same protNFe,
 * then the cancellation's procEventoNFe), 217 for a key SEFAZ never authorized.
 */
export async function consultProtocol(sefaz: Sefaz, received: Received): Promise<Answer> {
  const head = header(sefaz);
  const reply = (status: Status, chNFe?: string, authorization?: Authorization, events: RegisteredEvent[] = []) =>
    // protNFe repeats the authorization's infProt (100): its environment, application, time and numbers.
    answer(
      soapResult(
        services.consultation,
        withProcEventos(
          retConsSitNFe(head, status, chNFe, authorization && { ...authorization, status: statuses.authorized }),
          events,
        ),
      ),
    );

  if (received.kind === 'tooLarge') return reply(statuses.tooLarge);
  const consSitNFe = received.payload;
  if (!consSitNFe) return reply(statuses.messageSchema);
  const chNFe = text(consSitNFe, 'chNFe');
  // retConsSitNFe requires a key (TChNFe, letters where an alphanumeric CNPJ sits): echo the one asked about whenever it is one.
  const key = /^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/.test(chNFe ?? '') ? chNFe : undefined;
  if (sefaz.schemasDir && schemaErrors(sefaz.schemasDir, messageSchemas.consultation, serialize(consSitNFe))) {
    return reply(statuses.messageSchema, key);
  }
  const tpAmb = text(consSitNFe, 'tpAmb');
  const wellFormed =
    consSitNFe.getAttribute('versao') === '4.00' &&
    (tpAmb === '1' || tpAmb === '2') &&
    text(consSitNFe, 'xServ') === 'CONSULTAR' &&
    key !== undefined;
  if (!wellFormed) return reply(statuses.messageSchema, key);

  if (sefaz.serviceStatus !== 'running') {
    return reply(sefaz.serviceStatus === 'paused' ? statuses.paused : statuses.stopped, key);
  }
  if (tpAmb !== sefaz.tpAmb) return reply(statuses.wrongEnvironment, key);
  const authorization = sefaz.registry.find(key);
  if (!authorization) return reply(statuses.notFound, key);
  // A cancelled key: 101, the authorization's protNFe, then the cancellation as procEventoNFe.
  const cancellation = sefaz.registry.cancellationOf(key);
  return cancellation
    ? reply(statuses.cancelled, key, authorization, [cancellation])
    : reply(statuses.authorized, key, authorization);
}
