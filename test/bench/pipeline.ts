/** (b) POST → authorized 200 through the local stack, SEFAZ answering after a fixed delay. */
import { randomUUID } from 'node:crypto';
import { createTestA1 } from '../../functions/nfce/pkcs12.ts';
import { provisionFiscal } from '../../lib/local/fiscal.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';
import { demoCatalog, demoEmitter } from '../support/nfce.ts';
import { issueToken, SEED_INTEGRATION } from '../support/runtime.ts';
import { benchStack, measure } from './harness.ts';
import { createMeter } from './meter.ts';
import { costTable, meterSales, usd } from './sale-cost.ts';

// Off until the metered sales; on the event source's SQS client before its first long poll.
const meter = createMeter();
const stack = await benchStack(undefined, { onClients: (clients) => meter.instrument(clients.sqs, 'SQS') });
meter.instrumentHandlers();
try {
  const SEFAZ_DELAY_MS = 200;
  /**
   * How often each POS polls (the protocol asks for about 1 s, `retry-after`). 20 ms bounds the
   * measure's own error to one interval; at 5 ms the 4 POS's polls, each a full request, were the
   * machine's main load (2 cores) and delayed the very answers they waited for. BENCH_POLL_MS.
   */
  const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 20);
  const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 40);
  /** Sales paid one at a time, after the timed ones, with every AWS call counted. */
  const METERED = 5;
  const token = await issueToken(stack, SEED_INTEGRATION);
  const emitter = await provisionFiscal(stack.documents, stack.env, stack.sefaz.url, {
    integrationHubServiceId: SEED_INTEGRATION,
    emitter: demoEmitter(),
    catalog: demoCatalog(),
    pfx: createTestA1({ name: 'ALBINO LTDA', cnpj: '82373077000171', password: 'bench' }),
    password: 'bench',
  });
  stack.registerCsc(emitter.cnpj, emitter.csc);
  stack.sefaz.control.setDelay(SEFAZ_DELAY_MS);
  const order = fixture('order-mesa/order-table-2.json');
  let largestAnswer = 0;
  const call = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const bytes = await response.arrayBuffer();
    if (response.status === 200) {
      largestAnswer = Math.max(largestAnswer, bytes.byteLength);
      // A finished payment must be a sale: the bench measures authorized NFC-e only.
      const answer = JSON.parse(Buffer.from(bytes).toString('utf8')) as { success?: boolean; error?: unknown };
      if (method === 'POST' && answer.success !== true) throw new Error(`payment failed: ${JSON.stringify(answer.error)}`);
    }
    return response.status;
  };
  const payUntilFinished = async (payment: unknown) => {
    for (
      let status = await call('POST', '/order/payment', payment);
      status !== 200;
      status = await call('POST', '/order/payment', payment)
    ) {
      if (status !== 202 && status !== 208) throw new Error(`payment answered ${status}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const runId = randomUUID().slice(0, 6);
  for (let i = 0; i < PAYMENTS; i++) {
    if ((await call('PUT', `/orders/TABLE/${runId}-${i}`, order)) !== 201) throw new Error('order refused');
  }
  const meteredKeys = Array.from({ length: METERED }, (_, i) => `${runId}-metered-${i}`);
  for (const key of meteredKeys) {
    if ((await call('PUT', `/orders/TABLE/${key}`, order)) !== 201) throw new Error('order refused');
  }
  // Unmeasured first: one sale per POS warms the containers' caches (the A1 certificate, the SDK's
  // connections), whose first use the cold-start section measures on its own.
  const WARMUP = 4;
  for (let i = 0; i < WARMUP; i++) {
    if ((await call('PUT', `/orders/TABLE/${runId}-warm-${i}`, order)) !== 201) throw new Error('order refused');
  }
  await Promise.all(
    Array.from({ length: WARMUP }, (_, i) => payUntilFinished({ ...seedPayment(), orderKey: `${runId}-warm-${i}` })),
  );
  const sample = await measure('POST → 200 minus the SEFAZ delay', PAYMENTS, 4, async (i) => {
    const key = `${runId}-${i}`;
    await payUntilFinished({ ...seedPayment(), orderKey: key });
  });

  // A large tab: 500 items with 90-character names full of escaped text (120 would take the NFC-e,
  // with its IBS/CBS groups, past SEFAZ's 500 KB message limit; such a tab ends ISSUE_FAILED).
  const items = Array.from({ length: 500 }, (_, i) => ({
    sku: `SKU-${i}`,
    name: `Pão & "Queijo" <Especial> nº ${i} `.repeat(5).slice(0, 90),
    quantity: 1,
    unitPrice: 1,
    unit: 'UN',
  }));
  if ((await call('PUT', `/orders/TABLE/${runId}-large`, { ...order, items })) !== 201) throw new Error('large order refused');
  const large = seedPayment();
  Object.assign(large, { orderKey: `${runId}-large` });
  Object.assign(large.paymentObject, { orderAmount: 500, fees: 50, total: 550 });
  large.paymentObject.methods[0].value = 550;
  const t0 = performance.now();
  await payUntilFinished(large);
  const largeMs = performance.now() - t0;

  const cost = await meterSales(
    meter,
    meteredKeys,
    (orderKey) => call('POST', '/order/payment', { ...seedPayment(), orderKey }),
    5,
  );
  const overhead = (ms: number) => (ms - SEFAZ_DELAY_MS).toFixed(1).padStart(6);
  console.log(
    `\nPayment → authorized NFC-e, ${PAYMENTS} payments, 4 POS at once, SEFAZ delay ${SEFAZ_DELAY_MS} ms (polls every ${POLL_MS} ms), after ${WARMUP} unmeasured`,
  );
  console.log(
    `  pipeline overhead beyond SEFAZ         p50 ${overhead(sample.p50)} ms   p99 ${overhead(sample.p99)} ms   (${sample.perSecond.toFixed(1)} payments/s; p99 / p50 ${(Number(overhead(sample.p99)) / Number(overhead(sample.p50))).toFixed(1)}, targets p50 ≤ 150 ms, ratio ≤ 3)`,
  );
  const pickUps = meter.pickUpMs.slice(0, PAYMENTS).sort((a, b) => a - b);
  const pickUpAt = (q: number) => pickUps[Math.min(pickUps.length - 1, Math.floor(q * pickUps.length))] ?? NaN;
  console.log(
    `  of which the job's pick-up from SQS    p50 ${pickUpAt(0.5).toFixed(1).padStart(6)} ms   p99 ${pickUpAt(0.99).toFixed(1).padStart(6)} ms   (SentTimestamp → issuer invoked)`,
  );
  console.log(
    `  500-item tab, POST → 200              ${largeMs.toFixed(0).padStart(6)} ms   largest answer served ${(largestAnswer / 1024).toFixed(0)} KiB`,
  );
  console.log(
    `\nCost of a sale: AWS calls counted on the SDK clients and the local runtime's invocations, ${METERED} sales one at a time`,
  );
  console.log("(per step; issuer = the job through SQS, the event source's receive and delete included; polls every 5 ms)");
  for (const line of costTable(cost)) console.log(line);
  console.log(
    `  AWS list prices (README): US$ ${(usd(cost.columns.sale) * 1000).toFixed(3)} per 1,000 sales, plus US$ ${(usd(cost.columns.poll208) * 1000).toFixed(4)} per 1,000 polls answered 208`,
  );
} finally {
  await stack.close();
}
