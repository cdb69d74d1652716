import { functions } from '../../lib/manifest.ts';
import { callerAdmin } from '../shared/api.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { importBoletos, importBody } from './admin.ts';
import { boletos } from './wiring.ts';

/**
 * POST /admin/boletos: upserts up to 1,000 boletos by numeroCliente + nossoNumero (admin tokens
 * only). The body is a JSON array of `{nossoNumero, seuNumero, valor (reais), dataVencimento
 * (yyyy-MM-dd), numeroCliente, pagador: {nome, cpfCnpj}}`; every row is validated before any is
 * written (400 naming each invalid row's index: `3.valor`). Answers 200 `{"received", "created",
 * "updated", "unchanged"}`; a retried call completes a partial one.
 */
export const handler = httpRoute(
  async (event) => {
    const admin = callerAdmin(event);
    const rows = importBody(event.json);
    const counts = await importBoletos({ store: boletos(), now: () => new Date() }, rows, admin);
    // Counts only: the rows carry the payers' names and documents.
    logger.info('boletos imported', { admin, ...counts });
    return json(200, counts);
  },
  { maxBodyBytes: functions.boletoImport.trigger.maxBodyBytes },
);
