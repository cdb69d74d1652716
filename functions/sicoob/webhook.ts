import { createHash } from 'node:crypto';
import * as z from 'zod';
import { updateVersioned } from '../shared/conditional.ts';
import { saoPauloIso } from '../shared/time.ts';
import { normalizeNumero } from './boleto.ts';
import { applyNotice, type PaymentNotice } from './liquidation.ts';
import type { BoletoStore } from './store.ts';
import { matchBoleto } from './matching.ts';

/**
 * Sicoob's payment webhook (spec §2.2–2.3): the URL validation `{"idWebhook","validacaoWebhook":true}`
 * and the payment notices `{"idWebhook","tipoMovimento":7,"dados":{…}}` ("baixa operacional").
 * Every body is archived raw first; a notice moves its boleto ABERTO → PAGO (or reverts it with
 * `cancelamentoBaixa`), never past LIQUIDADO; the same `numeroIdentificadorBaixa` twice changes
 * nothing; a notice for no boleto of ours, or one that cannot be read, is a reconciliation
 * exception. `idWebhook` is recorded, not matched (the path's secret authenticates); notices are not
 * re-verified with the API: the sweep is the authority.
 */
export interface WebhookDeps {
  boletos: BoletoStore;
  archive: { put(key: string, body: Buffer, contentType: string): Promise<void> };
  now(): Date;
}

export type WebhookOutcome = 'validation' | 'paid' | 'reverted' | 'noted' | 'unchanged' | 'unmatched' | 'unreadable';

/** Reais (a JSON number, or a numeric string) → centavos, up to R$ 10 million (beyond: not a boleto's, unreadable). */
const reais = z
  .union([
    z.number().finite().nonnegative(),
    z
      .string()
      .trim()
      .regex(/^\d{1,8}(\.\d{1,4})?$/),
  ])
  .transform((v) => Math.round(Number(v) * 100))
  .refine((centavos) => centavos <= 1_000_000_000, { message: 'is beyond R$ 10,000,000' });
const digits = z
  .union([
    z.number().int().nonnegative(),
    z
      .string()
      .trim()
      .regex(/^\d{1,25}$/),
  ])
  .transform((v) => String(v));
const noticeSchema = z.object({
  idWebhook: digits,
  tipoMovimento: z.coerce.number().refine((tipo) => tipo === 7, { message: 'must be 7 (pagamento)' }),
  dados: z.object({
    numeroIdentificadorBaixa: digits,
    nossoNumero: digits,
    numeroCliente: digits,
    seuNumero: z
      .union([z.string(), z.number()])
      .transform((v) => String(v).trim())
      .optional(),
    valorPagamento: reais,
    dataHoraSituacaoBaixa: z.string().max(40).optional(),
    cancelamentoBaixa: z.boolean().default(false),
  }),
});
const validationSchema = z.object({ validacaoWebhook: z.literal(true), dados: z.never().optional() });

/**
 * Handles one body (bytes as received). Throws only when storage fails (S3, DynamoDB): Sicoob then
 * sends again; anything Sicoob sent is answered.
 */
export async function receiveSicoobWebhook(
  deps: WebhookDeps,
  raw: Buffer,
): Promise<{ outcome: WebhookOutcome; archiveKey: string; newException: boolean }> {
  const now = deps.now();
  const digest = createHash('sha256').update(raw).digest('hex');
  const day = now.toISOString().slice(0, 10).replace(/-/g, '/');
  const archiveKey = `sicoob/notices/${day}/${digest}.json`;
  await deps.archive.put(archiveKey, raw, 'application/json');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    body = undefined;
  }
  // Only the validation's own shape: a body with `dados` is a notice, whatever else it says.
  if (validationSchema.safeParse(body).success) return { outcome: 'validation', archiveKey, newException: false };
  const parsed = noticeSchema.safeParse(body);
  const at = saoPauloIso(now);
  if (!parsed.success) {
    const created = await deps.boletos.putException({
      key: `NOTICE#UNREADABLE#${digest}`,
      kind: 'unmatched-notice',
      numeroCliente: '',
      detail: `a webhook body that is not a payment notice: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || 'body'} ${i.message}`)
        .join('; ')}`,
      source: `archive ${archiveKey}`,
      at,
    });
    return { outcome: 'unreadable', archiveKey, newException: created };
  }
  const { idWebhook, dados } = parsed.data;
  const notice: PaymentNotice = {
    idWebhook,
    numeroIdentificadorBaixa: dados.numeroIdentificadorBaixa,
    numeroCliente: normalizeNumero(dados.numeroCliente),
    nossoNumero: dados.nossoNumero,
    ...(dados.seuNumero ? { seuNumero: dados.seuNumero } : {}),
    valorPagamento: dados.valorPagamento,
    ...(dados.dataHoraSituacaoBaixa ? { dataHoraSituacaoBaixa: dados.dataHoraSituacaoBaixa } : {}),
    cancelamentoBaixa: dados.cancelamentoBaixa,
  };
  const match = await matchBoleto(deps.boletos, notice.numeroCliente, notice.nossoNumero, notice.seuNumero);
  if (match.kind !== 'one') {
    const created = await deps.boletos.putException({
      key: `NOTICE#${notice.numeroIdentificadorBaixa}${notice.cancelamentoBaixa ? '#CANCEL' : ''}`,
      kind: match.kind === 'none' ? 'unmatched-notice' : 'ambiguous-notice',
      numeroCliente: notice.numeroCliente,
      nossoNumero: normalizeNumero(notice.nossoNumero),
      ...(notice.seuNumero ? { seuNumero: notice.seuNumero } : {}),
      valor: notice.valorPagamento,
      detail:
        match.kind === 'none'
          ? `a payment notice${notice.cancelamentoBaixa ? ' cancellation' : ''} for a boleto the platform does not have`
          : `not applied: ${match.detail}`,
      source: `webhook ${idWebhook}, baixa ${notice.numeroIdentificadorBaixa}`,
      at,
    });
    return { outcome: 'unmatched', archiveKey, newException: created };
  }
  const boleto = match.boleto;
  let outcome: WebhookOutcome = 'unchanged';
  await updateVersioned(
    () => deps.boletos.get(boleto.numeroCliente, boleto.nossoNumero),
    (next) => deps.boletos.save(next),
    (current) => {
      if (!current) return undefined;
      const applied = applyNotice(current, notice, at);
      outcome = applied.kind;
      return applied.kind === 'unchanged' ? undefined : applied.boleto;
    },
    `boleto ${boleto.nossoNumero}`,
  );
  return { outcome, archiveKey, newException: false };
}
