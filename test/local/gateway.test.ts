import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions, tables, type FunctionSpec } from '../../lib/manifest.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { issueToken, SEED_INTEGRATION, startTestRuntime } from '../support/runtime.ts';

const echo = 'test/support/handlers/echo.ts';
const MiB = 1024 * 1024;
let stack: LocalRuntime;
let token: string;

beforeAll(async () => {
  const route = (method: 'PUT' | 'POST', path: string): FunctionSpec => ({
    entry: echo,
    description: 'test echo',
    trigger: { kind: 'http', method, path, auth: 'bearer' },
    timeoutSeconds: 5,
    memoryMb: 128,
  });
  stack = await startTestRuntime({
    functions: {
      authorizer: functions.authorizer,
      echoOrder: route('PUT', '/orders/{orderKeyType}/{orderKey}'),
      echoPost: route('POST', '/echo'),
    },
    resources: { tables: { integrations: tables.integrations }, queues: {}, buckets: {} },
  });
  token = await issueToken(stack, SEED_INTEGRATION);
});
afterAll(() => stack?.close());

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Whether the agent sent this request on a connection an earlier request had used. */
  reused: boolean;
  /** The client side's port: the same port is the same TCP connection. */
  localPort: number;
}

/**
 * One request with node's own client (the path is sent as is, not normalized), the body either
 * with a content-length (`body`) or chunked (`chunks`).
 */
function call(
  agent: Agent,
  method: string,
  path: string,
  options: { body?: Buffer; chunks?: Buffer[]; auth?: boolean } = {},
): Promise<Answer> {
  const { port } = new URL(stack.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method,
      path,
      agent,
      headers: {
        'content-type': 'application/json',
        ...(options.auth === false ? {} : { authorization: `Bearer ${token}` }),
        ...(options.body ? { 'content-length': String(options.body.length) } : {}),
      },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const localPort = req.socket!.localPort!;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          reused: req.reusedSocket,
          localPort,
        }),
      );
    });
    // Once the answer is in, a connection the gateway closes may still fail the rest of the upload.
    req.on('error', (error) => answered || reject(error));
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else req.end(options.body);
  });
}

const json = (answer: Answer) => JSON.parse(answer.text) as unknown;
const bytes = (size: number) => Buffer.alloc(size, 0x61);
const pieces = (total: number, size = MiB) => Array.from({ length: Math.ceil(total / size) }, () => bytes(size));

const invalidPathBody = {
  errors: [
    {
      key: 'path',
      message: 'path is not valid percent-encoding: every % must start a %XX escape, and the escapes must spell UTF-8',
    },
  ],
};

describe('a path that is not valid percent-encoding', () => {
  const agent = new Agent({ keepAlive: false });
  afterAll(() => agent.destroy());

  it.each(['/orders/TABLE/%', '/orders/TABLE/%E0%A4%A', '/orders/TABLE/%FF', '/orders/%zz/2', '/no-such-route/%'])(
    '%s is refused with 400, before routing and before the authorizer',
    async (path) => {
      for (const auth of [false, true]) {
        const answer = await call(agent, 'PUT', path, { body: Buffer.from('{}'), auth });
        expect(answer.status).toBe(400);
        expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(json(answer)).toEqual(invalidPathBody);
      }
    },
  );

  it('while valid escapes reach the handler decoded', async () => {
    const answer = await call(agent, 'PUT', '/orders/TABLE/mesa%20%C3%A9%2F2', { body: Buffer.from('{}') });
    expect(answer.status).toBe(200);
    expect(json(answer)).toMatchObject({
      path: '/orders/TABLE/mesa%20%C3%A9%2F2',
      pathParameters: { orderKeyType: 'TABLE', orderKey: 'mesa é/2' },
    });
  });
});

describe('request bodies', () => {
  const agent = new Agent({ keepAlive: false });
  afterAll(() => agent.destroy());

  it('reach the handler base64-encoded, text or not, as with binaryMediaTypes */*', async () => {
    const text = Buffer.from('{"orderKey":"mesa ção"}', 'utf8');
    expect(json(await call(agent, 'POST', '/echo', { body: text }))).toEqual({
      path: '/echo',
      pathParameters: null,
      body: 'eyJvcmRlcktleSI6Im1lc2Egw6fDo28ifQ==',
      isBase64Encoded: true,
    });
    expect(json(await call(agent, 'POST', '/echo', { body: Buffer.from([0xff, 0xfe, 0x00]) }))).toMatchObject({
      body: '//4A',
      isBase64Encoded: true,
    });
    expect(json(await call(agent, 'POST', '/echo', { chunks: [Buffer.from('{"a":'), Buffer.from('1}')] }))).toMatchObject({
      body: 'eyJhIjoxfQ==',
      isBase64Encoded: true,
    });
  });

  it('an empty body is null and not base64', async () => {
    expect(json(await call(agent, 'POST', '/echo'))).toMatchObject({ body: null, isBase64Encoded: false });
  });
});

describe('a kept-alive connection', () => {
  const tooLarge = { errors: [{ key: 'body', message: 'request too large' }] };

  it('carries the next request after each refusal by the gateway', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await call(agent, 'POST', '/echo', { body: Buffer.from('{}') });
      expect([first.status, first.reused]).toEqual([200, false]);
      const next = async () => {
        const answer = await call(agent, 'POST', '/echo', { body: Buffer.from('{}') });
        expect([answer.status, answer.reused, answer.localPort]).toEqual([200, true, first.localPort]);
      };

      const refusals: [string, () => Promise<Answer>, number, unknown][] = [
        ['413, content-length', () => call(agent, 'POST', '/echo', { body: bytes(11 * MiB) }), 413, tooLarge],
        ['413, chunked', () => call(agent, 'POST', '/echo', { chunks: pieces(11 * MiB) }), 413, tooLarge],
        [
          '404 with a body',
          () => call(agent, 'POST', '/no-such-route', { body: bytes(MiB) }),
          404,
          { errors: [{ key: 'route', message: 'no such route' }] },
        ],
        [
          '401 with a body',
          () => call(agent, 'POST', '/echo', { body: bytes(MiB), auth: false }),
          401,
          { errors: [{ key: 'authorization', message: 'missing or unknown bearer token' }] },
        ],
        [
          '400 path with a chunked body',
          () => call(agent, 'PUT', '/orders/TABLE/%', { chunks: pieces(MiB) }),
          400,
          invalidPathBody,
        ],
      ];
      for (const [what, refused, status, body] of refusals) {
        const answer = await refused();
        expect({ what, status: answer.status, body: json(answer), reused: answer.reused, localPort: answer.localPort }).toEqual({
          what,
          status,
          body,
          reused: true,
          localPort: first.localPort,
        });
        expect(answer.headers.connection).toBe('keep-alive');
        await next();
      }
    } finally {
      agent.destroy();
    }
  });

  it('is closed, and says so, when a refused body goes on past the drain bound (20 MiB)', async () => {
    for (const upload of [{ body: bytes(25 * MiB) }, { chunks: pieces(25 * MiB) }]) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await call(agent, 'POST', '/echo', { body: Buffer.from('{}') });
        const refused = await call(agent, 'POST', '/echo', upload);
        expect([refused.status, json(refused), refused.headers.connection, refused.reused, refused.localPort]).toEqual([
          413,
          tooLarge,
          'close',
          true,
          first.localPort,
        ]);
        const after = await call(agent, 'POST', '/echo', { body: Buffer.from('{}') });
        expect(after.status).toBe(200);
        expect(after.reused).toBe(false);
        expect(after.localPort).not.toBe(first.localPort);
      } finally {
        agent.destroy();
      }
    }
  });
});
