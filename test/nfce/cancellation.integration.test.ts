import { existsSync } from 'node:fs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { envName } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { schemaValidator } from '../../lib/simulators/sefaz/schema.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import {
  EVENT_SCHEMAS,
  provisionDemoFiscal,
  SCHEMAS,
  storedCertificatePem,
  xmlsecMissing,
  xmlsecVerifies,
} from '../support/nfce.ts';
import {
  issueToken,
  OTHER_INTEGRATION,
  post,
  pollUntilFinished,
  SEED_INTEGRATION,
  send,
  startTestRuntime,
} from '../support/runtime.ts';

/**
 * Cancelling an NFC-e (event 110111) through `POST /invoices/{key}/cancellation`, against the SEFAZ
 * simulator (which holds its own 30 minutes, on a clock the tests move): within the deadline, past
 * it, repeated, refused, SEFAZ away, for an online and for a contingency NFC-e.
 */

const JUSTIFICATION = 'Cliente desistiu da compra no caixa';

let stack: LocalRuntime;
let token: string;
let otherToken: string;
let table = 0;
/** How far the SEFAZ simulator's clock runs ahead of ours. */
let sefazAhead = 0;

beforeAll(async () => {
  stack = await startTestRuntime({
    ...(existsSync(SCHEMAS) ? { schemasDir: SCHEMAS } : {}),
    ...(existsSync(EVENT_SCHEMAS) ? { eventSchemasDir: EVENT_SCHEMAS } : {}),
    sefazNow: () => new Date(Date.now() + sefazAhead),
    // Every payment asks SEFAZ, even right after it was seen away.
    env: { RETRY_BASE_SECONDS: '0.1', SEFAZ_TIMEOUT_SECONDS: '1', CONTINGENCY_AWAY_SECONDS: '0' },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
  otherToken = await issueToken(stack, OTHER_INTEGRATION);
  await provisionDemoFiscal(stack, SEED_INTEGRATION);
});
afterAll(() => stack?.close());
beforeEach(async () => {
  sefazAhead = 0;
  await stack.sefaz.control.reset();
});

/** A paid tab's NFC-e key (authorized now, unless SEFAZ is down: then in contingency). */
async function anNfce(): Promise<string> {
  const orderKey = `X${++table}`;
  expect((await send(stack, 'PUT', `/orders/TABLE/${orderKey}`, fixture('order-mesa/order-table-2.json'), token)).status).toBe(
    201,
  );
  const payment = { ...seedPayment(), orderKey };
  await post(stack, '/order/payment', payment, token);
  const done = await pollUntilFinished(stack, payment, token, 10_000);
  expect(done.body.success).toBe(true);
  return done.body.invoiceDetails.invoiceKey as string;
}
const cancel = (chave: string, body: unknown = { justification: JUSTIFICATION }, bearer = token) =>
  send(stack, 'POST', `/invoices/${chave}/cancellation`, body, bearer);
const events = () => stack.sefaz.control.calls().event ?? 0;

const noEventSchemas = existsSync(EVENT_SCHEMAS) ? undefined : `${EVENT_SCHEMAS} is absent`;
const noXmlsec = xmlsecMissing();
if (noEventSchemas) console.warn(`skipping the procEventoNFe XSD checks: ${noEventSchemas}`);
if (noXmlsec) console.warn(`skipping the event xmlsec1 checks: ${noXmlsec}`);

/** The procEventoNFe against PL_010d's schema and its evento's signature with xmlsec1, where present. */
function expectValidEvent(proc: string) {
  if (!noEventSchemas) expect(schemaValidator(EVENT_SCHEMAS, 'procEventoNFe_v1.00.xsd').failures(proc)).toEqual([]);
  if (!noXmlsec) {
    const pem = storedCertificatePem(stack, SEED_INTEGRATION);
    const evento = /<evento [\s\S]*<\/evento>/.exec(proc)![0];
    expect(xmlsecVerifies(evento, pem, 'infEvento')).toBe(true);
    expect(xmlsecVerifies(evento.replace(JUSTIFICATION, 'Cliente desistiu da compra no balcao'), pem, 'infEvento')).toBe(false);
  }
}

describe('cancelling an NFC-e within 30 minutes of its authorization', () => {
  it('registers 110111: the procEventoNFe stored, the invoice and its receipt say CANCELLED, a repeat answers the same', async () => {
    const chave = await anNfce();
    const first = await cancel(chave);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      invoiceKey: chave,
      status: 'CANCELLED',
      protocol: expect.stringMatching(/^135\d{12}$/),
      cancelledAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-03:00$/),
      eventXML: expect.any(String),
    });
    const proc: string = first.body.eventXML;
    expect(proc).toMatch(
      new RegExp(
        `^<\\?xml version="1.0" encoding="UTF-8"\\?><procEventoNFe versao="1.00" xmlns="http://www.portalfiscal.inf.br/nfe"><evento .*<chNFe>${chave}</chNFe>.*<tpEvento>110111</tpEvento>.*<xJust>${JUSTIFICATION}</xJust>.*<retEvento .*<cStat>135</cStat>.*<nProt>${first.body.protocol}</nProt>`,
      ),
    );
    expectValidEvent(proc);

    const again = await cancel(chave, { justification: 'Outra justificativa qualquer, repetida' });
    expect(again).toMatchObject({ status: 200, body: first.body });
    expect(events()).toBe(1);

    const xml = await send(stack, 'GET', `/invoices/${chave}`, undefined, token);
    expect(xml.headers.get('invoice-status')).toBe('CANCELLED');
    const receipt = await send(stack, 'GET', `/invoices/${chave}/receipt`, undefined, token);
    expect(receipt.body).toMatch(
      new RegExp(
        `\\n +NFC-e CANCELADA\\n +Protocolo de cancelamento:\\n +${first.body.protocol}\\n +\\d{2}/\\d{2}/\\d{4} \\d{2}:\\d{2}:\\d{2}\\n`,
      ),
    );
    expect((await send(stack, 'GET', `/invoices/${chave}/cancellation`, undefined, token)).body).toBe(proc);
  });

  it('two requests at once send one event', async () => {
    const chave = await anNfce();
    stack.sefaz.control.setDelay(300);
    const answers = await Promise.all([cancel(chave), cancel(chave)]);
    const statuses = answers.map((a) => a.status).sort();
    // The second finds the first's claim (409, repeat for the result) or, once done, its result.
    expect([
      [200, 200],
      [200, 409],
    ]).toContainEqual(statuses);
    expect(events()).toBe(1);
    expect((await cancel(chave)).status).toBe(200);
  });
});

describe('what is refused', () => {
  it('a justification SEFAZ would refuse, a key of another integration, a key that is not one', async () => {
    const chave = await anNfce();
    const short = await cancel(chave, { justification: 'curta demais' });
    expect(short).toMatchObject({
      status: 400,
      body: {
        errors: [
          { key: 'justification', message: 'body.justification must hold at least 15 characters the NFC-e can carry (TJust)' },
        ],
      },
    });
    expect((await cancel(chave, { justification: '🍕'.repeat(20) })).body.errors[0].key).toBe('justification');
    expect((await cancel(chave, { justification: 'x'.repeat(256) })).body.errors).toEqual([
      { key: 'justification', message: 'body.justification must hold at most 255 characters (TJust)' },
    ]);
    expect((await cancel(chave, {})).status).toBe(400);
    expect((await cancel(chave, { justification: JUSTIFICATION, extra: 1 })).status).toBe(400);
    expect(await cancel(chave, undefined, otherToken)).toMatchObject({
      status: 404,
      body: { errors: [{ key: 'invoiceKey', message: `no NFC-e ${chave} for this integration` }] },
    });
    expect((await cancel('123', undefined)).status).toBe(400);
    expect(events()).toBe(0);
  });

  it('past 30 minutes from the authorization: 409 naming the deadline, nothing sent', async () => {
    const chave = await anNfce();
    const authorizedAt = '2026-01-02T10:00:00-03:00';
    await stack.documents.send(
      new UpdateCommand({
        TableName: stack.env[envName.table('invoices')],
        Key: { pk: `INVOICE#${chave}` },
        UpdateExpression: 'SET authorizedAt = :at',
        ExpressionAttributeValues: { ':at': authorizedAt },
      }),
    );
    expect(await cancel(chave)).toMatchObject({
      status: 409,
      body: {
        errors: [
          {
            key: 'invoiceKey',
            message: `the 30 minutes to cancel NFC-e ${chave} ended at 2026-01-02T10:30:00.000-03:00 (authorized ${authorizedAt}); SEFAZ refuses it now`,
          },
        ],
      },
    });
    expect(events()).toBe(0);
  });

  it('SEFAZ’s own refusal (its clock past the 30 minutes: 501) is a 422 with its code; nothing is recorded', async () => {
    const chave = await anNfce();
    sefazAhead = 31 * 60_000;
    const refused = await cancel(chave);
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      {
        key: 'sefaz.501',
        message: 'SEFAZ refused the cancellation: 501 Rejeição: Prazo de cancelamento superior ao previsto na Legislação',
      },
    ]);
    expect((await send(stack, 'GET', `/invoices/${chave}`, undefined, token)).headers.get('invoice-status')).toBe('AUTHORIZED');
    sefazAhead = 0;
    expect((await cancel(chave)).status).toBe(200);
  });

  it('SEFAZ away: 503 with retry-after, nothing recorded; the same request later cancels', async () => {
    const chave = await anNfce();
    await stack.sefaz.control.down('refuse');
    const away = await cancel(chave);
    expect(away.status).toBe(503);
    expect(away.headers.get('retry-after')).toBe('30');
    expect(away.body.errors[0]).toMatchObject({
      key: 'sefaz',
      message: expect.stringMatching(/^SEFAZ did not answer the cancellation/),
    });
    await stack.sefaz.control.up();
    // Paused is "not now" too, never a refusal.
    stack.sefaz.control.setServiceStatus('paused');
    expect((await cancel(chave)).status).toBe(503);
    stack.sefaz.control.setServiceStatus('running');
    expect((await cancel(chave)).status).toBe(200);
  });

  it('its answer lost: the repeat reads SEFAZ’s registered event back (573 → the consultation), no second event', async () => {
    const chave = await anNfce();
    stack.sefaz.control.loseAnswers(1);
    expect((await cancel(chave)).status).toBe(503);
    const repeat = await cancel(chave);
    expect(repeat.status).toBe(200);
    expect(repeat.body.eventXML).toContain(`<chNFe>${chave}</chNFe>`);
    expectValidEvent(repeat.body.eventXML);
    expect((await cancel(chave)).body).toEqual(repeat.body);
  });

  it('its answer lost and the request repeated only after the 30 minutes: SEFAZ’s record is read back, not a 409', async () => {
    const chave = await anNfce();
    stack.sefaz.control.loseAnswers(1);
    expect((await cancel(chave)).status).toBe(503);
    await stack.documents.send(
      new UpdateCommand({
        TableName: stack.env[envName.table('invoices')],
        Key: { pk: `INVOICE#${chave}` },
        UpdateExpression: 'SET authorizedAt = :at',
        ExpressionAttributeValues: { ':at': '2026-01-02T10:00:00-03:00' },
      }),
    );
    const late = await cancel(chave);
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ invoiceKey: chave, status: 'CANCELLED' });
    expect(events()).toBe(1);
  });
});

describe('a contingency NFC-e', () => {
  it('cannot be cancelled before SEFAZ authorizes it; authorized hours after the sale, it has its own 30 minutes', async () => {
    await stack.sefaz.control.down('refuse');
    const chave = await anNfce();
    expect(chave[34]).toBe('9');
    const early = await cancel(chave);
    expect(early.status).toBe(409);
    expect(early.body.errors[0].message).toMatch(/offline contingency and SEFAZ has not authorized it yet/);

    await stack.sefaz.control.up();
    // SEFAZ receives it three hours after the sale (tpEmis 9 is accepted late).
    sefazAhead = 3 * 3600_000;
    await stack.runSchedule('nfceContingencySender');
    expect((await send(stack, 'GET', `/invoices/${chave}`, undefined, token)).headers.get('invoice-status')).toBe('AUTHORIZED');
    const cancelled = await cancel(chave);
    expect(cancelled.status).toBe(200);
    expectValidEvent(cancelled.body.eventXML);
  });
});
