import { readBody } from '../http.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { readEnvelope, services, type Service } from './envelope.ts';
import { eventSchemas, receiveEvents } from './events.ts';
import { inutilizeNumbers } from './inutilizacao.ts';
import type { Status } from './messages.ts';
import { SP_QRCODE_URL, type CscRegistry } from './qrcode.ts';
import { Registry, type Authorization } from './registry.ts';
import { soapFault } from './responses.ts';
import { applyRules, defaultRules, type SefazRulesPatch } from './rules.ts';
import { schemaValidator } from './schema.ts';
import {
  authorizeLot,
  consultProtocol,
  messageSchemas,
  serviceStatus,
  type Answer,
  type Received,
  type Sefaz,
  type ServiceStatus,
} from './services.ts';

export interface SefazSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The environment this SEFAZ serves: 2 homologation (default), 1 production. */
  tpAmb?: '1' | '2';
  /** The authorizer's UF code; 35 (SP) by default. */
  cUF?: string;
  verAplic?: string;
  /**
   * PL_010e_v1.01 schemas: when given, every message is validated against them in process (225/215
   * on failure), an inutilização against inutNFe_v4.00.xsd.
   */
  schemasDir?: string;
  /**
   * PL_010d_v1.02_events schemas: when given, every NFeRecepcaoEvento4 batch is validated against
   * the generic envEvento (215 on failure) and each detEvento against e110111 / e110112 (493).
   */
  eventSchemasDir?: string;
  /** The QR code address the documents must use; SP's for the environment by default. */
  qrCodeUrl?: string;
  /** Each emitter's CSC, which the QR code hash is checked with. */
  csc: CscRegistry;
  /**
   * The clock for dhRecbto (which dhEmi is checked against: 703/704), protocol years, certificate
   * validity and the cancellation deadlines.
   */
  now?: () => Date;
  /**
   * The 2026 rules that are configuration (lib/simulators/sefaz/rules.ts): nProt of 17 digits
   * (default) or 15; from when each CRT must carry IBS/CBS (1115); the IBS/CBS rates per year
   * (1026/1036/1037); a Receita Federal register of CNPJ → CRT (180; empty by default).
   */
  rules?: SefazRulesPatch;
}

export interface SefazCalls {
  authorization: number;
  status: number;
  consultation: number;
  /** NFeRecepcaoEvento4; absent until its first call, so the three services' counts read as before. */
  event?: number;
  /** NFeInutilizacao4; absent until its first call, like `event`. */
  inutilization?: number;
}

/** A range SEFAZ inutilized (NFeInutilizacao4, 102), as control.inutilized() lists it. */
export interface InutilizedRange {
  cnpj: string;
  serie: number;
  /** First and last number, inclusive. */
  from: number;
  to: number;
  /** The inutilização's protocol, 15 digits. */
  nProt: string;
}

/**
 * The simulator's knobs. The three ways a SEFAZ call goes wrong for a client, which compose:
 * unreachable (`down`: nothing arrives, nothing is processed), slow (`setDelay`: processed, answered
 * late) and authorized-but-answer-lost (`loseAnswers`: processed, never answered; after a delay
 * when one is set). Besides them, faults (`failWith`), a paused service (`setServiceStatus`) and
 * forced rejections (`rejectNext`).
 */
export interface SefazControl {
  /**
   * Answer every call `ms` late. The message is processed first, as when the real SEFAZ is slow:
   * a client that gives up waiting may still have had its NFC-e authorized.
   */
  setDelay(ms: number): void;
  /** Answer the next `times` calls (0 stops), or every call, with this HTTP status and a SOAP fault, unprocessed. */
  failWith(httpStatus: 500 | 503, times: number | 'always'): void;
  /**
   * Process the next `times` calls (0 stops) as usual — a lot authorized and registered, an event
   * registered — but destroy the connection instead of answering: the client sees the connection
   * broken with no answer, as when SEFAZ authorized an NFC-e whose answer was lost on the way.
   * Calls answered with a `failWith` fault are not processed, so they do not count.
   */
  loseAnswers(times: number): void;
  /**
   * Make the service unreachable until up(): 'refuse' closes the port (ECONNREFUSED), 'reset'
   * accepts and destroys each connection (ECONNRESET). Open connections are destroyed either way.
   */
  down(how?: 'refuse' | 'reset'): Promise<void>;
  up(): Promise<void>;
  /** paused → 108, stopped → 109, from the status service, for every lot, consultation, event batch and inutilização. */
  setServiceStatus(status: ServiceStatus): void;
  /** The next document that reaches the checks is answered with this instead (one per call). */
  rejectNext(cStat: string, xMotivo: string): void;
  /**
   * Changes rules from now on (on top of the current ones), e.g. `configure({ protocolDigits: 15 })`,
   * `configure({ receitaRegister: { [cnpj]: '1' } })`, `configure({ ibsCbsRates: { '2027': { cbs: '0.90' } } })`.
   */
  configure(rules: SefazRulesPatch): void;
  /**
   * Back to the initial state: no failures, delay or lost answers, up, running, nothing authorized
   * or inutilized, no calls counted, the options' rules.
   */
  reset(): Promise<void>;
  authorized(): Authorization[];
  /** The ranges inutilized (102), in the order they were. */
  inutilized(): InutilizedRange[];
  /** HTTP calls received per service, including those answered with a fault. */
  calls(): SefazCalls;
}

export interface SefazSimulator {
  /**
   * Base URL, e.g. http://127.0.0.1:40123; the services are at /ws/NFeAutorizacao4.asmx,
   * /ws/NFeStatusServico4.asmx, /ws/NFeConsultaProtocolo4.asmx, /ws/NFeRecepcaoEvento4.asmx and
   * /ws/NFeInutilizacao4.asmx (sefazServices has each path).
   */
  url: string;
  control: SefazControl;
  close(): Promise<void>;
}

/** Lots over 500 KB are refused by SEFAZ (214). */
const MAX_BODY_BYTES = 500 * 1024;

interface Route {
  service: Service;
  handle: (sefaz: Sefaz, received: Received) => Promise<Answer>;
  counter: keyof SefazCalls;
}

const routes = new Map<string, Route>([
  [services.authorization.path, { service: services.authorization, handle: authorizeLot, counter: 'authorization' }],
  [services.status.path, { service: services.status, handle: serviceStatus, counter: 'status' }],
  [services.consultation.path, { service: services.consultation, handle: consultProtocol, counter: 'consultation' }],
  [services.event.path, { service: services.event, handle: receiveEvents, counter: 'event' }],
  [services.inutilization.path, { service: services.inutilization, handle: inutilizeNumbers, counter: 'inutilization' }],
]);

/**
 * A SEFAZ NFC-e authorizer (SP's layout 4.00 web services, SOAP 1.2 over plain HTTP) on 127.0.0.1,
 * with a control surface to make it slow, failing, unreachable or paused.
 */
export async function startSefazSimulator(options: SefazSimulatorOptions): Promise<SefazSimulator> {
  const tpAmb = options.tpAmb ?? '2';
  const cUF = options.cUF ?? '35';
  // Compiled now (once per process): a missing or broken schema folder fails the start, not a lot.
  if (options.schemasDir) for (const schema of Object.values(messageSchemas)) schemaValidator(options.schemasDir, schema);
  if (options.eventSchemasDir) {
    for (const schema of Object.values(eventSchemas)) schemaValidator(options.eventSchemasDir, schema);
  }
  const sefaz: Sefaz = {
    tpAmb,
    cUF,
    verAplic: options.verAplic ?? 'SP_NFCE_PL_010_V400',
    schemasDir: options.schemasDir,
    eventSchemasDir: options.eventSchemasDir,
    qrCodeUrl: options.qrCodeUrl ?? SP_QRCODE_URL[tpAmb],
    csc: options.csc,
    now: options.now ?? (() => new Date()),
    serviceStatus: 'running',
    forcedRejections: [],
    registry: new Registry(cUF),
    rules: applyRules(defaultRules(), options.rules),
  };
  const initial = () => ({
    delayMs: 0,
    failure: { httpStatus: 500 as 500 | 503, remaining: 0 },
    lostAnswers: 0,
    calls: { authorization: 0, status: 0, consultation: 0 } as SefazCalls,
  });
  let state = initial();
  /** down('reset'): connections are accepted and destroyed at once. */
  let dropConnections = false;
  const sockets = new Set<Socket>();
  const closing = new AbortController();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (req.socket.destroyed) return; // the client went away, or control took the service down
      console.error('SEFAZ simulator failure', error);
      if (!res.headersSent) send(res, { httpStatus: 500, body: soapFault('Receiver', 'internal error') });
    });
  });
  server.on('connection', (socket) => {
    if (dropConnections) return socket.destroy();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = routes.get(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (!route) return send(res, { httpStatus: 404, body: soapFault('Sender', 'no such service') });
    if (req.method !== 'POST')
      return send(res, { httpStatus: 405, body: soapFault('Sender', 'SOAP calls are POSTs') }, { allow: 'POST' });
    state.calls[route.counter] = (state.calls[route.counter] ?? 0) + 1;

    const body = await readBody(req, MAX_BODY_BYTES);
    let answer: Answer;
    let lost = false;
    if (state.failure.remaining > 0) {
      state.failure.remaining--;
      const reason = state.failure.httpStatus === 503 ? 'Service Unavailable' : 'Internal Server Error';
      answer = { httpStatus: state.failure.httpStatus, body: soapFault('Receiver', reason) };
    } else {
      // Decided before processing, as a fault is: the next calls in the order they are read.
      lost = state.lostAnswers > 0;
      if (lost) state.lostAnswers--;
      answer = await respond(route, req.headers['content-type'], body);
    }

    try {
      if (state.delayMs > 0) await sleep(state.delayMs, undefined, { signal: closing.signal });
    } catch {
      return void res.destroy(); // closing: never answer
    }
    // The work is done (authorized, registered); only the answer goes missing.
    if (lost) return void res.destroy();
    send(res, answer);
  }

  async function respond(route: Route, contentType: string | undefined, body: string | undefined): Promise<Answer> {
    if (body === undefined) return route.handle(sefaz, { kind: 'tooLarge' });
    const envelope = readEnvelope(route.service, contentType, body);
    if (envelope.kind === 'fault') return { httpStatus: envelope.httpStatus, body: soapFault('Sender', envelope.reason) };
    return route.handle(sefaz, { kind: 'payload', payload: envelope.kind === 'message' ? envelope.payload : undefined });
  }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  /** Resolves once every open connection is closed. */
  const destroySockets = () =>
    Promise.all([...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve).destroy())));
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      void destroySockets();
    });

  let port = options.port ?? 0;
  await listen();
  port = (server.address() as AddressInfo).port;

  const control: SefazControl = {
    setDelay: (ms) => void (state.delayMs = ms),
    failWith: (httpStatus, times) => void (state.failure = { httpStatus, remaining: times === 'always' ? Infinity : times }),
    loseAnswers: (times) => void (state.lostAnswers = times),
    async down(how = 'refuse') {
      if (how === 'reset') dropConnections = true;
      await Promise.all([destroySockets(), how === 'refuse' && stopListening()]);
      // One more turn of the event loop, so that a client in this process sees its pooled
      // connections closed now rather than on its next request, possibly after up().
      await new Promise((resolve) => setImmediate(resolve));
    },
    async up() {
      dropConnections = false;
      if (!server.listening) await listen();
    },
    setServiceStatus: (status) => void (sefaz.serviceStatus = status),
    rejectNext: (cStat, xMotivo) => void sefaz.forcedRejections.push({ cStat, xMotivo } satisfies Status),
    configure: (rules) => void (sefaz.rules = applyRules(sefaz.rules, rules)),
    async reset() {
      state = initial();
      sefaz.rules = applyRules(defaultRules(), options.rules);
      sefaz.serviceStatus = 'running';
      sefaz.forcedRejections.length = 0;
      sefaz.registry.clear();
      await control.up();
    },
    authorized: () => sefaz.registry.list(),
    inutilized: () =>
      sefaz.registry.listInutilized().map(({ cnpj, serie, from, to, nProt }) => ({ cnpj, serie, from, to, nProt })),
    calls: () => ({ ...state.calls }),
  };

  return {
    url: `http://127.0.0.1:${port}`,
    control,
    async close() {
      closing.abort();
      await stopListening();
    },
  };
}

function send(res: ServerResponse, answer: Answer, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(answer.httpStatus, { 'content-type': 'application/soap+xml; charset=utf-8', ...headers });
  res.end(answer.body);
}
