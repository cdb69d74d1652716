import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as manifest from '../manifest.ts';
import type { FunctionSpec, SecretName } from '../manifest.ts';
import { readSchedules } from '../schedule.ts';
import { startEmulators, type Emulators } from './emulators.ts';
import { startGateway, type Route } from './gateway.ts';
import { loadHandler } from './invoke.ts';
import { startPoller } from './poller.ts';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  localClients,
  provision,
  type LocalClients,
  type ProvisionedQueue,
  type Resources,
} from './provision.ts';
import { startScheduler } from './scheduler.ts';
import type { CaratSimulator, CaratSimulatorOptions } from '../simulators/carat/index.ts';
import type { CieloSimulator, CieloSimulatorOptions } from '../simulators/cielo/index.ts';
import type { SicoobSimulator, SicoobSimulatorOptions } from '../simulators/sicoob/index.ts';
import { SICOOB_PRODUCTION_AUTH_URL } from '../../functions/sicoob/api.ts';
import {
  carat as caratPartner,
  cielo as cieloPartner,
  sefaz as sefazPartner,
  sicoob as sicoobPartner,
  startPartner,
} from '../simulators/index.ts';
import type { Csc, SefazSimulator } from '../simulators/sefaz/index.ts';

export interface LocalRuntimeOptions {
  /** Keep DynamoDB and S3 data here across restarts; in memory when absent. */
  dataDir?: string;
  /** API port; 0 picks a free one. */
  port?: number;
  /** Defaults to the manifest; tests may declare extra functions and resources. */
  functions?: Record<string, FunctionSpec>;
  resources?: Resources;
  /** Extra environment for the handlers (e.g. shorter timings in tests). */
  env?: Record<string, string>;
  /** Secret files (A1 certificates, CSC): AWS's Secrets Manager stand-in; a fresh temp dir when absent. */
  secretsDir?: string;
  /** Official XSDs: when given, the SEFAZ simulator validates every message against them. */
  schemasDir?: string;
  /** PL_010d's event schemas: when given, the SEFAZ simulator validates every event batch against them. */
  eventSchemasDir?: string;
  /** The SEFAZ simulator's clock (tests move it: a redrive an hour later, the 168 h of 110112); the real one by default. */
  sefazNow?: () => Date;
  /** Partners' real URLs by `*_URL` variable (`SEFAZ_URL`…): those simulators are not started. */
  partnerEnv?: Record<string, string | undefined>;
  rateLimitPerSecond?: number;
  burstLimit?: number;
  partnerRateLimitPerSecond?: number;
  partnerBurstLimit?: number;
  /** The Cielo simulator's options (tests take its clock in hand: `clock: 'manual'`). */
  cielo?: CieloSimulatorOptions;
  /** The Carat simulator's options (tests move its clock). */
  carat?: CaratSimulatorOptions;
  /** The Sicoob simulator's options (its clock, files per report, polls before ready…). */
  sicoob?: SicoobSimulatorOptions;
  /** Start the EventBridge-like timers (off in tests, which fire schedules by hand). */
  timers?: boolean;
  /**
   * Test-only: sees the runtime's own SDK clients before anything is sent with them (the bench's
   * meter adds its middleware to the SQS client the event source mapping polls with).
   */
  onClients?: (clients: LocalClients) => void;
  log?: (message: string, error?: unknown) => void;
}

export interface LocalRuntime {
  baseUrl: string;
  emulators: Emulators;
  clients: LocalClients;
  documents: DynamoDBDocumentClient;
  queues: Record<string, ProvisionedQueue>;
  env: Record<string, string>;
  /** Each partner's base URL for this run: its simulator's, or the one its `*_URL` named. */
  partnerUrls: { sefaz: string; cielo: string; carat: string; sicoob: string; sicoobAuth: string };
  /** The SEFAZ simulator; throws when SEFAZ_URL pointed the backend elsewhere. */
  readonly sefaz: SefazSimulator;
  /** The Cielo Order Manager simulator; throws when CIELO_API_URL pointed the backend elsewhere. */
  readonly cielo: CieloSimulator;
  /** The Carat e-SiTef simulator; throws when CARAT_API_URL pointed the backend elsewhere. */
  readonly carat: CaratSimulator;
  /** The Sicoob simulator; throws when SICOOB_API_URL pointed the backend elsewhere. */
  readonly sicoob: SicoobSimulator;
  /** Registers an emitter's CSC with the SEFAZ simulator (the QR code hash is checked with it). */
  registerCsc(cnpj: string, csc: Csc): void;
  runSchedule(name: string): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * The whole backend on this machine: emulators, the manifest's resources, the API, the queue
 * pollers and the schedules, running the real handlers with the real AWS SDK clients.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  // One line per failure on the console (the handler already logged it, structured); the stack with DEBUG.
  const log =
    options.log ??
    ((message, error) =>
      console.error(
        error === undefined || process.env.DEBUG ? [message, error ?? ''].join(' ') : `${message}: ${(error as Error).message}`,
      ));
  const functions = options.functions ?? manifest.functions;
  manifest.assertRoutes(functions);
  // Read before anything starts: an expression EventBridge would refuse stops the stack here.
  const schedules = readSchedules(functions);
  const emulators = await startEmulators(options.dataDir);
  const clients = localClients(emulators);
  options.onClients?.(clients);
  const resources = options.resources ?? { tables: manifest.tables, queues: manifest.queues, buckets: manifest.buckets };
  const provisioned = await provision(clients, resources);

  const cscs = new Map<string, Csc>();
  const sefaz = await startPartner(
    sefazPartner,
    {
      csc: (cnpj) => cscs.get(cnpj),
      ...(options.schemasDir ? { schemasDir: options.schemasDir } : {}),
      ...(options.eventSchemasDir ? { eventSchemasDir: options.eventSchemasDir } : {}),
      ...(options.sefazNow ? { now: options.sefazNow } : {}),
    },
    options.partnerEnv ?? {},
  );
  const cielo = await startPartner(cieloPartner, options.cielo ?? {}, options.partnerEnv ?? {});
  const carat = await startPartner(caratPartner, options.carat ?? {}, options.partnerEnv ?? {});
  // The local gateway is plain http on a free port: the simulator takes such webhook URLs.
  const sicoob = await startPartner(sicoobPartner, { allowInsecureWebhooks: true, ...options.sicoob }, options.partnerEnv ?? {});
  const sicoobAuth =
    (sicoob.simulator as SicoobSimulator | undefined)?.authUrl ??
    (options.partnerEnv?.SICOOB_AUTH_URL?.trim() || SICOOB_PRODUCTION_AUTH_URL);

  const env: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    LOCAL_SECRETS_DIR: options.secretsDir ?? mkdtempSync(join(tmpdir(), 'checkout-secrets-')),
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb,
    AWS_ENDPOINT_URL_SQS: emulators.sqs,
    AWS_ENDPOINT_URL_S3: emulators.s3,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME: 'checkout-local',
    CIELO_API_URL: cielo.url,
    CARAT_API_URL: carat.url,
    SICOOB_API_URL: sicoob.url,
    SICOOB_AUTH_URL: sicoobAuth,
    // Metrics (EMF) go to stdout in Lambda; locally they would only add noise.
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Invocations run concurrently in this process (lib/local/invoke.ts gives each its own
    // InvokeStore context); like Lambda Managed Instances, this tells Powertools to keep
    // per-invocation state there. Its value is not read, only its presence.
    AWS_LAMBDA_MAX_CONCURRENCY: '64',
    ...provisioned.env,
    ...Object.fromEntries(
      Object.entries(manifest.secrets).map(([name, { prefix }]) => [manifest.envName.secretPrefix(name as SecretName), prefix]),
    ),
    ...options.env,
  };
  // Handlers share this process and read their environment once, when first loaded.
  Object.assign(process.env, env);

  const loaded = await Promise.all(
    Object.entries(functions).map(async ([name, spec]) => ({
      name,
      spec: spec as FunctionSpec,
      handler: await loadHandler(spec),
    })),
  );

  const authorizer = loaded.find((f) => f.spec.trigger.kind === 'authorizer');
  if (!authorizer) throw new Error('the manifest declares no authorizer function');
  const routes: Route[] = loaded.flatMap((f) =>
    f.spec.trigger.kind === 'http' ? [{ ...f, method: f.spec.trigger.method, path: f.spec.trigger.path }] : [],
  );
  const gateway = await startGateway({
    routes,
    authorizer,
    port: options.port ?? 0,
    ...(options.rateLimitPerSecond !== undefined ? { rateLimitPerSecond: options.rateLimitPerSecond } : {}),
    ...(options.partnerRateLimitPerSecond !== undefined ? { partnerRateLimitPerSecond: options.partnerRateLimitPerSecond } : {}),
    ...(options.partnerBurstLimit !== undefined ? { partnerBurstLimit: options.partnerBurstLimit } : {}),
    ...(options.burstLimit !== undefined ? { burstLimit: options.burstLimit } : {}),
  });

  const pollers = (
    await Promise.all(
      loaded.flatMap((f) => {
        const trigger = f.spec.trigger;
        if (trigger.kind !== 'queue') return [];
        const queue = provisioned.queues[trigger.queue];
        if (!queue) throw new Error(`${f.name} is triggered by undeclared queue ${trigger.queue}`);
        return [
          clients.sqs
            .send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['QueueArn'] }))
            .then(({ Attributes }) =>
              // One loop per concurrent batch, like the event source's maximum concurrency.
              Array.from({ length: trigger.maxConcurrency }, () =>
                startPoller({
                  sqs: clients.sqs,
                  queueUrl: queue.url,
                  queueArn: Attributes?.QueueArn ?? '',
                  batchSize: trigger.batchSize,
                  visibilityTimeoutSeconds: queue.spec.visibilityTimeoutSeconds,
                  ...f,
                  onError: (error) => log(`${f.name} batch failed`, error),
                }),
              ),
            ),
        ];
      }),
    )
  ).flat();

  const scheduled = loaded.flatMap((f) => {
    const schedule = schedules[f.name];
    return schedule ? [{ ...f, schedule }] : [];
  });
  const scheduler = startScheduler(scheduled, options.timers ?? false, (name, error) => log(`${name} failed`, error));

  return {
    baseUrl: gateway.url,
    emulators,
    clients,
    documents: DynamoDBDocumentClient.from(clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    queues: provisioned.queues,
    env,
    partnerUrls: { sefaz: sefaz.url, cielo: cielo.url, carat: carat.url, sicoob: sicoob.url, sicoobAuth },
    get sefaz() {
      if (!sefaz.simulator) throw new Error(`${sefazPartner.urlVariable} points at ${sefaz.url}: no SEFAZ simulator runs`);
      return sefaz.simulator as SefazSimulator;
    },
    get cielo() {
      if (!cielo.simulator) throw new Error(`${cieloPartner.urlVariable} points at ${cielo.url}: no Cielo simulator runs`);
      return cielo.simulator as CieloSimulator;
    },
    get sicoob() {
      if (!sicoob.simulator) throw new Error(`${sicoobPartner.urlVariable} points at ${sicoob.url}: no Sicoob simulator runs`);
      return sicoob.simulator as SicoobSimulator;
    },
    get carat() {
      if (!carat.simulator) throw new Error(`${caratPartner.urlVariable} points at ${carat.url}: no Carat simulator runs`);
      return carat.simulator as CaratSimulator;
    },
    registerCsc: (cnpj, csc) => cscs.set(cnpj, csc),
    runSchedule: (name) => scheduler.run(name),
    async close() {
      scheduler.stop();
      await Promise.all(pollers.map((p) => p.stop()));
      await closeServer(gateway.server);
      await sefaz.simulator?.close();
      await cielo.simulator?.close();
      await carat.simulator?.close();
      await sicoob.simulator?.close();
      await emulators.close();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
