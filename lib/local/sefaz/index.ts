/**
 * SEFAZ simulator for NFC-e authorization (SP, layout 4.00), for the local stack and the tests:
 *
 *   const sefaz = await startSefazSimulator({ schemasDir, csc: { '82373077000171': { id: '000001', token } } });
 *   // POST `${sefaz.url}/ws/NFeAutorizacao4.asmx` (enviNFe, indSinc 1) → retEnviNFe 104 + protNFe 100
 *   sefaz.control.failWith(503, 2); // the next two calls fail
 *   await sefaz.close();
 */
export { startSefazSimulator } from './server.ts';
export type { SefazCalls, SefazControl, SefazSimulator, SefazSimulatorOptions } from './server.ts';
export type { ServiceStatus } from './services.ts';
export type { Authorization } from './registry.ts';
export type { Csc, CscRegistry } from './qrcode.ts';
