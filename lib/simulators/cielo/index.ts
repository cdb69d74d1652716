/**
 * Cielo LIO Order Manager simulator (remote integration API + webhook notifier), for the local
 * stack and the tests:
 *
 *   const cielo = await startCieloSimulator({ clock: 'manual', merchants: [{ clientId, accessToken, merchantId }] });
 *   cielo.control.registerWebhook(merchantId, 'http://127.0.0.1:3000/cielo/notifications');
 *   // POST `${cielo.url}/orders` (Client-Id, Access-Token, Merchant-Id) → 201 {"id": "<uuid>"}
 *   // PUT `${cielo.url}/orders/${id}?operation=place` → 200
 *   cielo.control.lioPays(id); // a PAYMENT transaction, then PAID: two notifications queued
 *   await cielo.control.advance(0); // manual clock: POSTs what is due now
 *   await cielo.close();
 *
 * Money is in integer centavos; timestamps are `YYYY-MM-DDThh:mm:ssZ` from the simulator's clock.
 */
export { startCieloSimulator, API_BASE_PATH as CIELO_API_BASE_PATH } from './server.ts';
export type { CieloControl, CieloSimulator, CieloSimulatorOptions, LioPayment } from './server.ts';
export { MAX_ATTEMPTS as CIELO_MAX_ATTEMPTS, RETRY_INTERVAL_MS as CIELO_RETRY_INTERVAL_MS } from './notifier.ts';
export type {
  Delivery,
  DeliveryStatus,
  HeldNotification,
  NotificationKind,
  NotifierBlocks,
  ReleaseOptions,
  ReleaseResult,
} from './notifier.ts';
export type { CieloErrorBody, CieloErrorCode } from './errors.ts';
export type {
  CieloCredentials,
  CieloItem,
  CieloOrder,
  CieloOrderStatus,
  CieloStatusNotification,
  CieloTransaction,
  CieloTransactionNotification,
} from './types.ts';
