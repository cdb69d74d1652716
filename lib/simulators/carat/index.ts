/**
 * Carat e-SiTef "Recarga REST" (mobile top-up) simulator, for the local stack and the tests
 * (spec: ../shared/specs/carat-esitef-recarga.md):
 *
 *   const carat = await startCaratSimulator({ merchants: [{ merchantKey, authenticityUrl: 'http://127.0.0.1:3000/carat/authenticity' }] });
 *   // POST `${carat.url}/v3/recharge` {"begin_recharge_request":{"merchant_key","merchant_usn"}} → the NIT is
 *   //   POSTed (form: merchantUSN, nit, orderId, status) to the authenticity URL, which must answer 200
 *   // GET `${carat.url}/v3/rechargedealers?nit=…`, GET `${carat.url}/v3/rechargebranches?nit=…&ddd=11&dealercode=1`
 *   // PUT `${carat.url}/v3/recharge/${nit}` {"do_recharge_request":{…}} → PPC, then {"confirm_recharge_request":{…}} → CON / PPN
 *   // GET `${carat.url}/v3/recharge/${nit}?merchantkey=…` → status, authorization, receipts
 *   carat.control.failNext('do', { kind: 'timeout', apply: true }); // the recharge happens, its answer never comes
 *   await carat.close();
 *
 * Money is in integer centavos inside, digit strings on the wire; every wire value is a string, and
 * every answer object carries fields the client does not know (as the real API may add them).
 */
export { startCaratSimulator, API_BASE_PATH as CARAT_API_BASE_PATH } from './server.ts';
export type { CaratControl, CaratSimulator, CaratSimulatorOptions } from './server.ts';
export { CARAT_CATALOGUE } from './catalogue.ts';
export type { CaratAmountRange, CaratDealer } from './catalogue.ts';
export { ESITEF_CODES as CARAT_ESITEF_CODES } from './errors.ts';
export type { AuthenticityMode, AuthenticityPost, CaratFault, CaratPayment, CaratStep, CaratTransaction } from './types.ts';
