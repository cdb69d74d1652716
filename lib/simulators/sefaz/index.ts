/**
 * SEFAZ simulator for NFC-e authorization (SP, layout 4.00), for the local stack and the tests:
 *
 *   const sefaz = await startSefazSimulator({ schemasDir, csc: { '82373077000171': { id: '000001', token } } });
 *   // POST `${sefaz.url}/ws/NFeAutorizacao4.asmx` (enviNFe, indSinc 1) → retEnviNFe 104 + protNFe 100
 *   // POST `${sefaz.url}${sefazServices.consultation.path}` (consSitNFe) → retConsSitNFe 100 + the same protNFe
 *   // POST `${sefaz.url}${sefazServices.event.path}` (envEvento 110111/110112) → retEnvEvento 128 + retEvento 135
 *   //   (pass eventSchemasDir to validate against PL_010d_v1.02_events; a cancelled key then consults as 101)
 *   // POST `${sefaz.url}${sefazServices.inutilization.path}` (inutNFe) → retInutNFe 102; its numbers then answer 206
 *   sefaz.control.failWith(503, 2); // the next two calls fail
 *   sefaz.control.loseAnswers(1); // the next call is processed (e.g. authorized) but never answered
 *   await sefaz.close();
 */
export { startSefazSimulator } from './server.ts';
/** Each web service's path, SOAP action and WSDL namespace: authorization, status, consultation, event, inutilization. */
export { services as sefazServices, type Service as SefazService } from './envelope.ts';
export type { InutilizedRange, SefazCalls, SefazControl, SefazSimulator, SefazSimulatorOptions } from './server.ts';
export type { ServiceStatus } from './services.ts';
export type { Authorization, RegisteredEvent } from './registry.ts';
export { eventSchemas as sefazEventSchemas } from './events.ts';
export type { Csc, CscRegistry } from './qrcode.ts';
export type { Crt, IbsCbsRates, SefazRules, SefazRulesPatch } from './rules.ts';
