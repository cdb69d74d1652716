/**
 * Counts what the local stack asks of AWS: every call the real SDK clients make (an SDK v3
 * middleware on the handlers' shared clients from functions/shared/aws.ts, and on the runtime's
 * SQS client, which the local event source mapping polls with), and every Lambda invocation with
 * its duration (lib/local/invoke.ts's observer). Calls made inside an invocation are filed under
 * it; the rest (the event source's receives and deletes) under `outside`. Bench-only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { dynamo, s3, sqs } from '../../functions/shared/aws.ts';
import { observeInvocations } from '../../lib/local/invoke.ts';

/** Calls by `<service> <operation>` (`DynamoDB GetItem`, `SQS ReceiveMessage`…) and what they consumed. */
export class Tally {
  readonly calls = new Map<string, number>();
  /** DynamoDB capacity units reported by the service (ReturnConsumedCapacity TOTAL). */
  readUnits = 0;
  writeUnits = 0;
  /** DynamoDB writes refused by their condition (billed in AWS, reported without capacity). */
  conditionalFailures = 0;
  /** Messages the SQS receives returned, and the entries the deletes removed. */
  messagesReceived = 0;
  messagesDeleted = 0;

  add(key: string, n = 1): void {
    this.calls.set(key, (this.calls.get(key) ?? 0) + n);
  }

  get(key: string): number {
    return this.calls.get(key) ?? 0;
  }

  /** Adds `other` into this tally. */
  merge(other: Tally): this {
    for (const [key, n] of other.calls) this.add(key, n);
    this.readUnits += other.readUnits;
    this.writeUnits += other.writeUnits;
    this.conditionalFailures += other.conditionalFailures;
    this.messagesReceived += other.messagesReceived;
    this.messagesDeleted += other.messagesDeleted;
    return this;
  }

  /** What this tally holds beyond `earlier` (a copy taken before). */
  since(earlier: Tally): Tally {
    const delta = new Tally();
    for (const [key, n] of this.calls) if (n !== earlier.get(key)) delta.add(key, n - earlier.get(key));
    delta.readUnits = this.readUnits - earlier.readUnits;
    delta.writeUnits = this.writeUnits - earlier.writeUnits;
    delta.conditionalFailures = this.conditionalFailures - earlier.conditionalFailures;
    delta.messagesReceived = this.messagesReceived - earlier.messagesReceived;
    delta.messagesDeleted = this.messagesDeleted - earlier.messagesDeleted;
    return delta;
  }

  copy(): Tally {
    return new Tally().merge(this);
  }
}

export interface InvocationRecord {
  name: string;
  memoryMb: number;
  /** Wall time of the invocation in this process (Lambda bills it rounded up to the millisecond). */
  ms: number;
  /** The HTTP status of an API Gateway invocation's answer. */
  statusCode?: number;
  /** True for an invocation behind an API Gateway request (the event has an httpMethod). */
  viaApi: boolean;
  /** The SDK calls made inside it. */
  tally: Tally;
}

export interface Meter {
  /** Finished invocations, in the order they finished. */
  readonly records: InvocationRecord[];
  /** SDK calls made outside any invocation: the event source mapping's receives and deletes. */
  readonly outside: Tally;
  /**
   * For each queue-triggered invocation, on or off: ms from the job's SentTimestamp to the
   * invocation's start (the event source's pick-up delay).
   */
  readonly pickUpMs: number[];
  /** Invocations running now (counted while on). */
  inFlight(): number;
  /**
   * Adds the middlewares to an SDK client. Before it sends anything: a call already in flight
   * (a long poll) went out without them and is not counted.
   */
  instrument(client: { middlewareStack: unknown }, service: 'DynamoDB' | 'S3' | 'SQS'): void;
  /** Instruments the handlers' shared clients (functions/shared/aws.ts), once the runtime set their environment. */
  instrumentHandlers(): void;
  /** Starts counting; until then the middlewares and the observer only pass calls through. */
  on(): void;
  /** Stops counting for good and takes the middlewares and the observer away. */
  stop(): void;
}

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const CAPACITY = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

interface Capacity {
  CapacityUnits?: number;
}

/** The part of an SDK v3 client's middleware stack used here (the SDK's own types differ per client). */
type Next = (args: { input: object }) => Promise<{ output: unknown }>;
interface MiddlewareStackLike {
  remove(name: string): boolean;
  add(
    middleware: (next: Next, context: { commandName?: string }) => Next,
    options: { step: 'initialize' | 'deserialize'; priority: 'high' | 'low'; name: string },
  ): void;
}

/**
 * A meter, off, observing the invocations of this process from now on. Instrument the runtime's
 * SQS client through its `onClients` option and the handlers' clients once it started, then turn
 * it on to count. Each client gets two middlewares: one at `initialize` that asks DynamoDB for its
 * consumed capacity (ReturnConsumedCapacity TOTAL, which only adds a field to the answer), one
 * around the deserializer that counts each attempt (AWS bills retries too).
 */
export function createMeter(): Meter {
  const current = new AsyncLocalStorage<Tally>();
  const outside = new Tally();
  const records: InvocationRecord[] = [];
  let running = 0;
  let counting = false;

  const instrumented: MiddlewareStackLike[] = [];
  const instrument: Meter['instrument'] = (client, service) => {
    const middlewareStack = client.middlewareStack as MiddlewareStackLike;
    instrumented.push(middlewareStack);
    middlewareStack.add(
      (next, context) => async (args) => {
        if (counting && service === 'DynamoDB' && CAPACITY.has(operationOf(context))) {
          const input = args.input as { ReturnConsumedCapacity?: string };
          input.ReturnConsumedCapacity ??= 'TOTAL';
        }
        return next(args);
      },
      { step: 'initialize', priority: 'low', name: 'benchMeterCapacity' },
    );
    middlewareStack.add(
      (next, context) => async (args) => {
        // Filed when answered, so that a long poll sent before the meter was on still counts.
        const tally = current.getStore() ?? outside;
        const operation = operationOf(context);
        let result: Awaited<ReturnType<Next>>;
        try {
          result = await next(args);
        } catch (error) {
          if (counting) {
            tally.add(`${service} ${operation}`);
            if ((error as Error).name === 'ConditionalCheckFailedException') {
              tally.conditionalFailures += 1;
              // DynamoDB charges a refused write as a write (the emulator reports no capacity for it):
              // one unit per KB of the item sent, at least one.
              const item = (args.input as { Item?: unknown }).Item;
              tally.writeUnits += Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(item ?? {})) / 1024));
            }
          }
          throw error;
        }
        if (!counting) return result;
        tally.add(`${service} ${operation}`);
        const output = result.output as { ConsumedCapacity?: Capacity | Capacity[]; Messages?: unknown[] };
        const units = [output.ConsumedCapacity ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        if (READS.has(operation)) tally.readUnits += units;
        else tally.writeUnits += units;
        if (service === 'SQS' && operation === 'ReceiveMessage') {
          const received = output.Messages?.length ?? 0;
          tally.messagesReceived += received;
          if (received === 0) tally.add('SQS ReceiveMessage (empty)');
        }
        if (service === 'SQS' && operation === 'DeleteMessageBatch') {
          tally.messagesDeleted += ((args.input as { Entries?: unknown[] }).Entries ?? []).length;
        }
        if (service === 'SQS' && operation === 'DeleteMessage') tally.messagesDeleted += 1;
        return result;
      },
      { step: 'deserialize', priority: 'high', name: 'benchMeterCalls' },
    );
  };
  const pickUpMs: number[] = [];
  observeInvocations(async ({ name, spec, event }, run) => {
    const sent = (event as { Records?: { attributes?: { SentTimestamp?: string } }[] }).Records?.[0]?.attributes?.SentTimestamp;
    if (sent !== undefined) pickUpMs.push(Date.now() - Number(sent));
    if (!counting) return run();
    const tally = new Tally();
    const t0 = performance.now();
    running++;
    let result: unknown;
    try {
      result = await current.run(tally, run);
      return result;
    } finally {
      running--;
      const viaApi = typeof (event as { httpMethod?: unknown }).httpMethod === 'string';
      const statusCode = (result as { statusCode?: number } | undefined)?.statusCode;
      records.push({
        name,
        memoryMb: spec.memoryMb,
        ms: performance.now() - t0,
        viaApi,
        tally,
        ...(viaApi && statusCode !== undefined ? { statusCode } : {}),
      });
    }
  });

  return {
    records,
    outside,
    pickUpMs,
    inFlight: () => running,
    instrument,
    instrumentHandlers() {
      instrument(dynamo(), 'DynamoDB');
      instrument(s3(), 'S3');
      instrument(sqs(), 'SQS');
    },
    on() {
      counting = true;
    },
    stop() {
      counting = false;
      observeInvocations(undefined);
      for (const middlewareStack of instrumented) {
        middlewareStack.remove('benchMeterCapacity');
        middlewareStack.remove('benchMeterCalls');
      }
    },
  };
}

function operationOf(context: { commandName?: string }): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}
