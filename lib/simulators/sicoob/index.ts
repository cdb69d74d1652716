/**
 * Sicoob Cobrança Bancária v3 simulator — movement reports ("movimentação") and payment webhooks —
 * with its token endpoint, for the local stack and the tests (spec: ../shared/specs/sicoob-cobranca-v3.md):
 *
 *   const sicoob = await startSicoobSimulator({ clients: [{ clientId, numeroCliente: 707090 }], allowInsecureWebhooks: true });
 *   sicoob.control.seedBoleto({ numeroCliente: 707090, nossoNumero: '24437', seuNumero: 'P-1', valor: 8500, dataVencimento: '2026-03-10' });
 *   sicoob.control.liquidate(707090, '24437', { dataLiquidacao: '2026-03-02' });
 *   // POST sicoob.authUrl (form grant_type=client_credentials&client_id=…&scope=…) → access_token
 *   // POST `${sicoob.url}/boletos/movimentacoes` {numeroCliente, tipoMovimento: 5, dataInicial, dataFinal} → codigoSolicitacao
 *   // GET  `${sicoob.url}/boletos/movimentacoes?numeroCliente&codigoSolicitacao` → 204 (not ready), then idArquivos
 *   // GET  `${sicoob.url}/boletos/movimentacoes/download?…&idArquivo` → base64 ZIP of LIQUI records
 *   // POST `${sicoob.url}/webhooks` {url, codigoTipoMovimento: 7, codigoPeriodoMovimento: 1} → validation POST to url
 *   await sicoob.control.notify(707090, '24437'); // the payment notice to every validated webhook
 *   await sicoob.close();
 *
 * Every API call needs `Authorization: Bearer <token>` and the `client_id` header. Money is in
 * integer centavos inside; reais on the wire (4-decimal numbers in movement files). Days are São
 * Paulo days (UTC−03:00).
 */
export { SICOOB_API_BASE_PATH, SICOOB_TOKEN_PATH, startSicoobSimulator } from './server.ts';
export { SICOOB_CODES } from './errors.ts';
export { TIPOS_OP_FINANCEIRA as SICOOB_TIPOS_OP_FINANCEIRA } from './ledger.ts';
export type {
  SicoobBoletoSeed,
  SicoobControl,
  SicoobEndpoint,
  SicoobFault,
  SicoobFileOptions,
  SicoobLiquidation,
  SicoobMovementRequest,
  SicoobNoticeOptions,
  SicoobSimulator,
  SicoobSimulatorOptions,
  SicoobUnmatchedLiquidation,
  SicoobWebhookInfo,
} from './types.ts';
