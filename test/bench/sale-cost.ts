/**
 * The cost of a sale, counted: one POS pays orders one at a time (POST 202 → polls → 200) while
 * the meter (meter.ts) counts every SDK call and Lambda invocation; each is filed under the step
 * that made it. Bench-only.
 */
import { Tally, type InvocationRecord, type Meter } from './meter.ts';

/** One column of the table: the sum over `n` occurrences of a step. */
export class Column {
  readonly tally = new Tally();
  gbSeconds = 0;
  apiRequests = 0;
  n = 0;

  addRecords(records: InvocationRecord[]): void {
    for (const r of records) {
      this.tally.merge(r.tally);
      this.tally.add(`Lambda ${r.name}`);
      // Lambda bills each invocation's duration rounded up to the millisecond.
      this.gbSeconds += (Math.ceil(r.ms) / 1000) * (r.memoryMb / 1024);
      if (r.viaApi) this.apiRequests += 1;
    }
  }

  merge(other: Column): this {
    this.tally.merge(other.tally);
    this.gbSeconds += other.gbSeconds;
    this.apiRequests += other.apiRequests;
    return this;
  }

  /** Per occurrence. */
  per(key: string): number {
    return this.tally.get(key) / Math.max(1, this.n);
  }
}

export interface SaleCost {
  columns: Record<'post202' | 'issuer' | 'first200' | 'sale' | 'poll208' | 'poll200', Column>;
}

/**
 * Pays `orderKeys.length` orders one after the other through `post` (which answers the HTTP
 * status), polling every `pollMs`, then polls each finished payment once more (its 200 again).
 */
export async function meterSales(
  meter: Meter,
  orderKeys: string[],
  post: (orderKey: string) => Promise<number>,
  pollMs: number,
): Promise<SaleCost> {
  meter.on();
  const columns = {
    post202: new Column(),
    issuer: new Column(),
    first200: new Column(),
    sale: new Column(),
    poll208: new Column(),
    poll200: new Column(),
  };
  try {
    for (const orderKey of orderKeys) {
      const saleStart = meter.records.length;
      const outsideBefore = meter.outside.copy();
      // The API's invocations during one request (the authorizer's too, when its cache is cold).
      const request = async () => {
        const before = meter.records.length;
        const status = await post(orderKey);
        return { status, records: meter.records.slice(before).filter((r) => r.viaApi || r.name === 'authorizer') };
      };
      for (let step = await request(), first = true; ; step = await request(), first = false) {
        const column =
          step.status === 202 && first
            ? columns.post202
            : step.status === 208
              ? columns.poll208
              : step.status === 200 && !first
                ? columns.first200
                : undefined;
        if (!column) throw new Error(`payment answered ${step.status}`);
        column.addRecords(step.records);
        column.n += 1;
        if (step.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      // The job's message is deleted after the issuer returns: wait for that before counting it.
      await settled(meter, outsideBefore);
      const issuer = meter.records.slice(saleStart).filter((r) => !r.viaApi && r.name !== 'authorizer');
      columns.issuer.addRecords(issuer);
      columns.issuer.tally.merge(withoutEmptyReceives(meter.outside.since(outsideBefore)));
      columns.issuer.n += 1;

      const repeat = await request();
      if (repeat.status !== 200) throw new Error(`a finished payment answered ${repeat.status}`);
      columns.poll200.addRecords(repeat.records);
      columns.poll200.n += 1;
    }
  } finally {
    meter.stop();
  }
  columns.sale.merge(columns.post202).merge(columns.issuer).merge(columns.first200);
  columns.sale.n = orderKeys.length;
  return { columns };
}

/** Until no invocation runs and the event source has deleted what it received since `before`. */
async function settled(meter: Meter, before: Tally): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const since = meter.outside.since(before);
    if (meter.inFlight() === 0 && since.messagesReceived > 0 && since.messagesDeleted >= since.messagesReceived) return;
    if (Date.now() > deadline) throw new Error('the issuer did not settle within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The event source's calls minus its empty long polls (a fixed cost, whatever the sales). */
function withoutEmptyReceives(tally: Tally): Tally {
  const empty = tally.get('SQS ReceiveMessage (empty)');
  tally.add('SQS ReceiveMessage', -empty);
  tally.calls.delete('SQS ReceiveMessage (empty)');
  return tally;
}

/**
 * AWS list prices in USD, São Paulo (sa-east-1) where a source for it was found, read 2026-11-29.
 * The README's Benchmarks section names the sources; update both together.
 */
export const PRICES = {
  /** DynamoDB on-demand, per write / read request unit: us-east-1 figures (São Paulo's not found). */
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  /** S3 Standard, sa-east-1: PUT, COPY, POST, LIST per request; GET and the others per request. */
  s3Put: 0.007 / 1e3,
  s3Get: 0.0056 / 1e4,
  /** SQS standard queue, per request (64 KB chunk): us-east-1 figure (São Paulo's not found). */
  sqsRequest: 0.4 / 1e6,
  /** Lambda, sa-east-1: per request, and per GB-second on Arm (lib/constructs: every function is arm64). */
  lambdaRequest: 0.2 / 1e6,
  lambdaArmGbSecond: 0.0000133334,
  /** API Gateway REST API, sa-east-1, first 333 million requests a month. */
  apiRestRequest: 4.25 / 1e6,
};

const S3_CLASS_A = new Set(['S3 PutObject', 'S3 CopyObject', 'S3 ListObjects', 'S3 ListObjectsV2', 'S3 CreateMultipartUpload']);

/** What one occurrence of a column's step costs at PRICES (free tiers left out). */
export function usd(column: Column): number {
  const { tally } = column;
  let total = tally.writeUnits * PRICES.dynamoWriteUnit + tally.readUnits * PRICES.dynamoReadUnit;
  for (const [key, n] of tally.calls) {
    if (key.endsWith('(empty)')) continue; // a sub-count of SQS ReceiveMessage
    if (key.startsWith('S3 ')) total += n * (S3_CLASS_A.has(key) ? PRICES.s3Put : PRICES.s3Get);
    else if (key.startsWith('SQS ')) total += n * PRICES.sqsRequest;
    else if (key.startsWith('Lambda ')) total += n * PRICES.lambdaRequest;
  }
  total += column.gbSeconds * PRICES.lambdaArmGbSecond + column.apiRequests * PRICES.apiRestRequest;
  return total / Math.max(1, column.n);
}

const ROWS = [
  'DynamoDB GetItem',
  'DynamoDB PutItem',
  'DynamoDB UpdateItem',
  'DynamoDB DeleteItem',
  'DynamoDB Query',
  'DynamoDB Scan',
  'S3 PutObject',
  'S3 GetObject',
  'SQS SendMessage',
  'SQS ReceiveMessage',
  'SQS DeleteMessage',
  'SQS DeleteMessageBatch',
  'SQS ChangeMessageVisibility',
];

/** The table, one line per row; counts per occurrence of each column's step. */
export function costTable(cost: SaleCost): string[] {
  const { post202, issuer, first200, sale, poll208, poll200 } = cost.columns;
  const order = [post202, issuer, first200, sale, poll208, poll200];
  const heads = ['POST 202', 'issuer', 'first 200', '= sale', 'poll 208', 'poll 200'];
  const seen = new Set(order.flatMap((c) => [...c.tally.calls.keys()]));
  // The authorizer too when it was not invoked: API Gateway caches its answer per token (60 s here).
  const lambdas = [...new Set([...seen, 'Lambda authorizer'])].filter((k) => k.startsWith('Lambda ')).sort();
  const others = [...seen].filter((k) => !ROWS.includes(k) && !k.startsWith('Lambda ')).sort();
  const number = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
  const line = (label: string, values: string[]) => `  ${label.padEnd(32)}${values.map((v) => v.padStart(10)).join('')}`;
  const row = (label: string, value: (c: Column) => number) =>
    line(
      label,
      order.map((c) => number(value(c))),
    );
  const lines = [
    line(
      '',
      heads.map((h) => h),
    ),
    ...[...ROWS, ...others].map((key) => row(key, (c) => c.per(key))),
    row('DynamoDB read units (consumed)', (c) => c.tally.readUnits / Math.max(1, c.n)),
    row('DynamoDB write units (consumed)', (c) => c.tally.writeUnits / Math.max(1, c.n)),
    ...(order.some((c) => c.tally.conditionalFailures > 0)
      ? [row('DynamoDB conditional refusals', (c) => c.tally.conditionalFailures / Math.max(1, c.n))]
      : []),
    ...lambdas.map((key) => row(`${key} invocations`, (c) => c.per(key))),
    line(
      'Lambda GB-s (measured ms × memory)',
      order.map((c) => (c.gbSeconds / Math.max(1, c.n)).toFixed(4)),
    ),
    row('API Gateway requests', (c) => c.apiRequests / Math.max(1, c.n)),
    line(
      'US$ per 1,000 at list prices',
      order.map((c) => (usd(c) * 1000).toFixed(4)),
    ),
  ];
  return lines;
}
