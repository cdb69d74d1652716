import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/local/invoke.ts';

/**
 * `npm start` is npm → node (the script `exec`s node instead of leaving a shell in between), so a
 * SIGTERM or SIGINT that reaches npm alone (a process manager, an IDE's stop button) stops the
 * backend whole: npm hands the signal to its child, and that child is the backend.
 */

let started: { npm: ChildProcess; localDir: string; tree: number[] } | undefined;
/** Every other npm start a test ran, by its npm pid: ended with its processes after the test. */
const others: { npm: ChildProcess; tree: number[] }[] = [];
const tempDirs: string[] = [];

afterEach(() => {
  // A failed test must not leave a backend running: end what this test started, by pid.
  for (const other of others.splice(0)) {
    for (const pid of new Set([...other.tree, ...processTree(other.npm.pid!)])) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (!started) return;
  for (const pid of started.tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(started.localDir, { recursive: true, force: true });
  started = undefined;
});

/** A process's parent and state, from /proc (Linux). */
function stat(pid: number): { ppid: number; state: string } | undefined {
  try {
    // pid (comm) state ppid …; comm may hold spaces and parentheses, so read after the last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Running, as opposed to gone or a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** `pid` and every process below it. */
function processTree(pid: number): number[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const p of all) if (stat(p)?.ppid === tree[i]) tree.push(p);
  return tree;
}

/** The command line of a process, as its arguments. */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/**
 * A free port below Linux's ephemeral range (32768–60999), which servers listening on port 0 get
 * theirs from: so no other test's server can take it over right after the backend lets it go.
 */
async function freeFixedPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops whole when npm alone gets %s: the backend exits and its port closes',
    async (signal) => {
      // A temp data dir (LOCAL_DIR) and a port of its own: a developer's .local and :3000 are left alone.
      const localDir = mkdtempSync(join(tmpdir(), 'checkout-npm-start-'));
      const port = await freeFixedPort();
      const npm = spawn('npm', ['start'], {
        cwd: projectRoot,
        env: { ...process.env, PORT: String(port), LOCAL_DIR: localDir, POWERTOOLS_LOG_LEVEL: 'SILENT' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started = { npm, localDir, tree: [npm.pid!] };
      let output = '';
      npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      let exited = false;
      npm.once('exit', () => (exited = true));

      await until('the backend says it is running', () => output.includes('Checkout backend running locally.'), 25_000);
      const demo = JSON.parse(readFileSync(join(localDir, 'demo.json'), 'utf8')) as {
        baseUrl: string;
        sefaz: { url: string };
        emulators: Record<string, string>;
      };
      expect(demo.baseUrl).toBe(`http://127.0.0.1:${port}`);
      const ports = [demo.baseUrl, demo.sefaz.url, ...Object.values(demo.emulators)].map((url) => Number(new URL(url).port));
      expect(ports).toHaveLength(5);
      for (const open of ports) expect(await portOpen(open)).toBe(true);
      started.tree = processTree(npm.pid!);
      const children = started.tree.filter((pid) => stat(pid)?.ppid === npm.pid).map(commandLine);

      npm.kill(signal);
      await until('npm exits', () => exited, 10_000);
      await until('every process it started is gone', () => started!.tree.every((pid) => !alive(pid)), 10_000);
      // Every process is gone, so none holds a port; the API's is checked, the others being
      // ephemeral ports that a test running beside this one may get next.
      expect(await portOpen(port)).toBe(false);
      expect(output).toContain(`${signal}: stopping…`);
      // npm's one child was the backend itself, with no shell between them (below it there may have
      // been esbuild's service, which tsx starts to compile what its cache lacks).
      expect(children.map((argv) => [argv[0]!.split('/').pop(), argv.at(-1)])).toEqual([['node', 'bin/local.ts']]);
    },
    40_000,
  );
});

/** `npm start` on LOCAL_DIR and PORT (and `env`, e.g. SEFAZ_URL), its output gathered as it comes. */
function npmStart(localDir: string, port: number, env: Record<string, string> = {}) {
  const npm = spawn('npm', ['start'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: String(port), LOCAL_DIR: localDir, POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { npm, tree: [npm.pid!], output: '', exitCode: undefined as number | null | undefined };
  others.push(run);
  npm.stdout!.on('data', (chunk: Buffer) => (run.output += chunk.toString()));
  npm.stderr!.on('data', (chunk: Buffer) => (run.output += chunk.toString()));
  npm.once('exit', (code) => (run.exitCode = code));
  return run;
}

/** The backend process below npm (npm's one child: the script execs node). */
function backendOf(npm: ChildProcess): number {
  const [backend, ...more] = processTree(npm.pid!).filter((pid) => stat(pid)?.ppid === npm.pid);
  expect(more).toEqual([]);
  expect(commandLine(backend!).at(-1)).toBe('bin/local.ts');
  return backend!;
}

describe('npm start twice on one data folder', () => {
  it('refuses the second with one line naming the folder and the holder, until the holder is killed', async () => {
    const localDir = mkdtempSync(join(tmpdir(), 'checkout-npm-start-'));
    started = { npm: undefined as never, localDir, tree: [] };
    const running = (run: { output: string }) => run.output.includes('Checkout backend running locally.');

    const first = npmStart(localDir, await freeFixedPort());
    await until('the first backend says it is running', () => running(first), 25_000);
    const holder = backendOf(first.npm);
    first.tree = processTree(first.npm.pid!);
    const demo = () =>
      JSON.parse(readFileSync(join(localDir, 'demo.json'), 'utf8')) as {
        baseUrl: string;
        integrations: { integrationHubServiceId: string; token: string }[];
      };
    const { baseUrl, integrations } = demo();
    const pushTab = (base: string) =>
      fetch(`${base}/orders/TABLE/2`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${integrations[0]!.token}`, 'content-type': 'application/json' },
        body: readFileSync(join(projectRoot, 'fixtures/order-mesa/order-table-2.json')),
      }).then((response) => response.status);
    expect(await pushTab(baseUrl)).toBe(201);
    const before = readdirSync(localDir).sort();

    const second = npmStart(localDir, await freeFixedPort());
    await until('the second npm start exits', () => second.exitCode !== undefined, 25_000);
    expect(second.exitCode).toBe(1);
    const line = `npm start: the data folder ${localDir} is in use by another npm start (pid ${holder}); stop that one first, or set LOCAL_DIR to another folder`;
    // npm adds its own lines about the failed script (lines starting "npm error"); the backend's is this one.
    const backendLines = second.output
      .split('\n')
      .filter((l) => l.trim() !== '' && !/^npm (error|ERR!)/.test(l) && !l.startsWith('>'));
    expect(backendLines).toEqual([line]);
    expect(second.output).not.toMatch(/^\s+at /m);
    expect(second.output).not.toContain('Database is closed');
    expect(readdirSync(localDir).sort()).toEqual(before);

    // The first one kept serving, its data intact: the same tab again replaces the stored one.
    expect(alive(holder)).toBe(true);
    expect(await pushTab(baseUrl)).toBe(200);

    // Killed without a chance to release its lock: the next start takes the folder over.
    process.kill(holder, 'SIGKILL');
    await until('the first npm start exits', () => first.exitCode !== undefined, 10_000);
    const third = npmStart(localDir, await freeFixedPort());
    await until('the third backend says it is running', () => running(third), 25_000);
    const taker = backendOf(third.npm);
    third.tree = processTree(third.npm.pid!);
    expect(JSON.parse(readFileSync(join(localDir, 'npm-start.lock'), 'utf8')).pid).toBe(taker);
    expect(demo().integrations[0]!.token).toBe(integrations[0]!.token);
    expect(await pushTab(demo().baseUrl)).toBe(200);

    // A stop releases the lock.
    third.npm.kill('SIGTERM');
    await until('the third npm start exits', () => third.exitCode !== undefined, 10_000);
    expect(existsSync(join(localDir, 'npm-start.lock'))).toBe(false);
  }, 90_000);
});

describe('npm start with Cielo LIO', () => {
  it("the simulator's notifications for an order placed, paid and closed leave its state, previous status and history, and one NFC-e", async () => {
    const localDir = mkdtempSync(join(tmpdir(), 'checkout-npm-start-'));
    started = { npm: undefined as never, localDir, tree: [] };
    const run = npmStart(localDir, await freeFixedPort());
    await until('the backend says it is running', () => run.output.includes('Checkout backend running locally.'), 25_000);
    run.tree = processTree(run.npm.pid!);
    const demo = JSON.parse(readFileSync(join(localDir, 'demo.json'), 'utf8')) as {
      baseUrl: string;
      integrations: { token: string }[];
      cielo: {
        webhookUrl: string;
        apiUrl: string;
        merchantId: string;
        credentials: { clientId: string; accessToken: string; merchantId: string };
      };
    };
    expect(demo.cielo).toMatchObject({
      webhookUrl: expect.stringMatching(new RegExp(`^${demo.baseUrl}/cielo/notifications/ps_`)),
      merchantId: 'demo-merchant',
    });
    expect(run.output).toContain(`Cielo LIO    ${demo.cielo.apiUrl} (simulator`);
    const { clientId, accessToken, merchantId } = demo.cielo.credentials;
    const cielo = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${demo.cielo.apiUrl}${path}`, {
        method,
        headers: {
          'Client-Id': clientId,
          'Access-Token': accessToken,
          'Merchant-Id': merchantId,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status, `${method} ${path}`).toBeLessThan(300);
      const text = await response.text();
      return text ? JSON.parse(text) : undefined;
    };
    // Cielo's times have one-second resolution: a second between steps gives each its own.
    const second = () => new Promise((resolve) => setTimeout(resolve, 1_050));
    const items = [{ sku: '0000001', name: 'Suco Detox', unit_price: 800, quantity: 2, unit_of_measure: 'EACH' }];
    const { id } = await cielo('POST', '/orders', {
      number: '5',
      reference: 'PEDIDO 5',
      status: 'DRAFT',
      notes: 'Mesa 5',
      items,
      price: 1600,
    });
    await second();
    await cielo('PUT', `/orders/${id}?operation=place`);
    await second();
    await cielo('POST', `/orders/${id}/transactions`, {
      status: 'CONFIRMED',
      terminal_number: '12345678',
      authorization_code: '008619',
      number: '672836',
      amount: 1600,
      transaction_type: 'PAYMENT',
      paymentFields: { primaryProductName: 'CREDITO', secondaryProductName: 'A VISTA', numberOfQuotas: 0 },
      card: { brand: 'VISA', mask: '******5487' },
    });
    await cielo('PUT', `/orders/${id}?operation=pay`);
    await second();
    await cielo('PUT', `/orders/${id}?operation=close`);

    const read = async (): Promise<any> =>
      (
        await fetch(`${demo.baseUrl}/cielo/orders/${id}`, { headers: { authorization: `Bearer ${demo.integrations[0]!.token}` } })
      ).json();
    let order: any;
    await until(
      'the order is closed, verified and invoiced',
      async () => {
        order = await read();
        return order.status === 'CLOSED' && order.invoice?.status === 'AUTHORIZED';
      },
      20_000,
    );
    expect(order).toMatchObject({ previousStatus: 'PAID', verification: { state: 'CONFIRMED' }, invoice: { via: 'LIO' } });
    expect(order.history.map((h: { status: string }) => h.status)).toEqual(['DRAFT', 'ENTERED', 'PAID', 'CLOSED']);
    const receipt = await fetch(`${demo.baseUrl}/invoices/${order.invoice.key}/receipt`, {
      headers: { authorization: `Bearer ${demo.integrations[0]!.token}` },
    });
    expect(receipt.status).toBe(200);
    // A forged notification (no secret of ours) changes nothing.
    const forged = await fetch(`${demo.baseUrl}/cielo/notifications/ps_forged`, {
      method: 'POST',
      body: JSON.stringify({ id, status: 'CANCELED' }),
    });
    expect(forged.status).toBe(401);
    expect((await read()).status).toBe('CLOSED');

    run.npm.kill('SIGTERM');
    await until('npm start exits', () => run.exitCode !== undefined, 10_000);
  }, 60_000);
});

describe('npm start with SEFAZ unreachable, then back', () => {
  it('a payment finishes within seconds with a contingency NFC-e; restarted normally, npm run job -- nfceContingencySender authorizes it', async () => {
    const localDir = mkdtempSync(join(tmpdir(), 'checkout-npm-start-'));
    tempDirs.push(localDir);
    const port = await freeFixedPort();
    // SEFAZ_URL at a port nothing listens on: every call is refused.
    const down = npmStart(localDir, port, { SEFAZ_URL: `http://127.0.0.1:${await freeFixedPort()}` });
    await until('the backend says it is running', () => down.output.includes('Checkout backend running locally.'), 25_000);
    down.tree = processTree(down.npm.pid!);
    const demo = JSON.parse(readFileSync(join(localDir, 'demo.json'), 'utf8')) as {
      baseUrl: string;
      integrations: { token: string }[];
    };
    const call = async (method: string, path: string, body: unknown) => {
      const response = await fetch(`${demo.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${demo.integrations[0]!.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    const order = JSON.parse(readFileSync(join(projectRoot, 'fixtures/order-mesa/order-table-2.json'), 'utf8'));
    const payment = JSON.parse(readFileSync(join(projectRoot, 'fixtures/order-mesa/payment-request.json'), 'utf8'));
    expect((await call('PUT', '/orders/TABLE/2', order)).status).toBe(201);
    const paid = Date.now();
    let answer = await call('POST', '/order/payment', payment);
    await until(
      'the payment answers 200',
      async () => (answer = await call('POST', '/order/payment', payment)).status === 200,
      10_000,
    );
    expect(Date.now() - paid).toBeLessThan(10_000);
    expect(answer.body).toMatchObject({ success: true, error: null, invoiceDetails: { contingency: true } });
    expect(answer.body.invoiceDetails.orderXML).toContain('<tpEmis>9</tpEmis>');
    expect(answer.body.invoiceDetails.receiptText).toContain('EMITIDA EM CONTINGÊNCIA');
    down.npm.kill('SIGTERM');
    await until('npm start exits', () => down.exitCode !== undefined, 10_000);

    const up = npmStart(localDir, port);
    await until('the backend says it is running again', () => up.output.includes('Checkout backend running locally.'), 25_000);
    up.tree = processTree(up.npm.pid!);
    const job = spawn('npm', ['run', '-s', 'job', '--', 'nfceContingencySender'], {
      cwd: projectRoot,
      env: { ...process.env, LOCAL_DIR: localDir, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    job.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise((resolve) => job.once('exit', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ authorized: 1, rejected: 0, waiting: 0, settled: 1, nearDeadline: 0 });
    const after = await call('POST', '/order/payment', payment);
    expect(after.body.invoiceDetails).toMatchObject({ invoiceKey: answer.body.invoiceDetails.invoiceKey, contingency: true });
    expect(after.body.invoiceDetails.orderXML).toMatch(/<nfeProc .*<tpEmis>9<\/tpEmis>.*<protNFe .*<cStat>100<\/cStat>/);
    up.npm.kill('SIGTERM');
    await until('npm start exits', () => up.exitCode !== undefined, 10_000);
  }, 90_000);
});

describe('npm start with Carat e-SiTef', () => {
  it('a recharge runs begin → dealers → branches → recharge → confirm and ends CON; one the store left in PPC is undone by npm run job -- caratReconciler', async () => {
    const localDir = mkdtempSync(join(tmpdir(), 'checkout-npm-start-'));
    tempDirs.push(localDir);
    const run = npmStart(localDir, await freeFixedPort());
    await until('the backend says it is running', () => run.output.includes('Checkout backend running locally.'), 25_000);
    run.tree = processTree(run.npm.pid!);
    expect(run.output).toMatch(/Carat {8}http:\/\/127\.0\.0\.1:\d+\/e-sitef \(e-SiTef recharge simulator/);
    const demo = JSON.parse(readFileSync(join(localDir, 'demo.json'), 'utf8')) as {
      baseUrl: string;
      integrations: { token: string }[];
      carat: { apiUrl: string; authenticityUrl: string };
    };
    expect(demo.carat.authenticityUrl).toMatch(new RegExp(`^${demo.baseUrl}/carat/authenticity/[A-Za-z0-9_-]{20,}$`));
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${demo.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${demo.integrations[0]!.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    const begin = async () => {
      const started = await call('POST', '/recharges', {});
      expect(started).toMatchObject({ status: 201, body: { status: 'NOV' } });
      return started.body.rechargeId as string;
    };

    const id = await begin();
    expect((await call('GET', `/recharges/${id}/dealers`)).body.dealers[0]).toEqual({ dealer: '1', name: 'Vivo' });
    expect((await call('GET', `/recharges/${id}/branches?ddd=11&dealer=1`)).status).toBe(200);
    expect((await call('PUT', `/recharges/${id}`, { dealer: '1', ddd: '11', phone: '987654321', amount: 15 })).body.status).toBe(
      'PPC',
    );
    const confirmed = await call('POST', `/recharges/${id}/confirmation`, { confirm: true });
    expect(confirmed).toMatchObject({ status: 200, body: { status: 'CON', decision: { confirm: true, by: 'store' } } });
    expect(confirmed.body.receipts.customer).toContain('4321');

    // The store crashes after the recharge: nobody confirms.
    const left = await begin();
    expect(
      (await call('PUT', `/recharges/${left}`, { dealer: '4', ddd: '21', phone: '991234567', amountKey: '1' })).body.status,
    ).toBe('PPC');
    const job = spawn('npm', ['run', '-s', 'job', '--', 'caratReconciler'], {
      cwd: projectRoot,
      // Its last change a moment ago: the reconciler takes it at once instead of after 60 s.
      env: { ...process.env, LOCAL_DIR: localDir, POWERTOOLS_LOG_LEVEL: 'SILENT', CARAT_RECONCILE_AFTER_SECONDS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    job.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expect(await new Promise((resolve) => job.once('exit', resolve))).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      checked: 1,
      confirmed: 0,
      undone: 1,
      notApplied: 0,
      final: 0,
      skipped: 0,
      unsettled: [],
      contradicted: [],
      pending: 0,
      oldestPendingSeconds: 0,
    });
    expect((await call('GET', `/recharges/${left}`)).body).toMatchObject({
      status: 'PPN',
      expectedStep: 'none',
      decision: { confirm: false, by: 'reconciler' },
    });
    run.npm.kill('SIGTERM');
    await until('npm start exits', () => run.exitCode !== undefined, 10_000);
  }, 90_000);
});

describe('npm start with Sicoob', () => {
  it('boletos imported through the admin API; a notice marks one PAGO; npm run job -- sicoobSweep marks exactly the liquidated LIQUIDADO, lists the unmatched, and a second run changes nothing', async () => {
    const localDir = mkdtempSync(join(tmpdir(), 'checkout-npm-start-'));
    tempDirs.push(localDir);
    const run = npmStart(localDir, await freeFixedPort());
    await until('the backend says it is running', () => run.output.includes('Checkout backend running locally.'), 25_000);
    run.tree = processTree(run.npm.pid!);
    const demo = JSON.parse(readFileSync(join(localDir, 'demo.json'), 'utf8')) as {
      baseUrl: string;
      admin: { token: string };
      sicoob: { apiUrl: string; authUrl: string; numeroCliente: string; webhookUrl: string };
    };
    expect(demo.sicoob).toMatchObject({
      numeroCliente: '707090',
      webhookUrl: expect.stringMatching(/\/sicoob\/webhook\/[A-Za-z0-9_-]{20,}$/),
    });
    const admin = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${demo.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${demo.admin.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    const simulator = async (action: 'paid' | 'liquidated', nossoNumero: string, valor: number) => {
      const response = await fetch(`${new URL(demo.sicoob.apiUrl).origin}/_simulator/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ numeroCliente: 707090, nossoNumero, seuNumero: `NF-${nossoNumero}`, valor }),
      });
      return (await response.json()) as any;
    };
    const job = async () => {
      const child = spawn('npm', ['run', '-s', 'job', '--', 'sicoobSweep'], {
        cwd: projectRoot,
        env: { ...process.env, LOCAL_DIR: localDir, POWERTOOLS_LOG_LEVEL: 'SILENT' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
      return (JSON.parse(stdout) as { accounts: { records: { applied: number; unmatched: number }; problems: string[] }[] })
        .accounts[0]!;
    };

    const boleto = (nossoNumero: string, valor: number) => ({
      nossoNumero,
      seuNumero: `NF-${nossoNumero}`,
      valor,
      dataVencimento: '2026-12-10',
      numeroCliente: 707090,
      pagador: { nome: 'Maria da Silva', cpfCnpj: '529.982.247-25' },
    });
    const imported = await admin('POST', '/admin/boletos', [boleto('1001', 150), boleto('1002', 89.9), boleto('1003', 42)]);
    expect(imported).toEqual({ status: 200, body: { received: 3, created: 3, updated: 0, unchanged: 0 } });

    expect((await simulator('paid', '1001', 150)).deliveries).toEqual([{ url: demo.sicoob.webhookUrl, status: 200 }]);
    expect((await admin('GET', '/admin/boletos/1001')).body.status).toBe('PAGO');
    await simulator('liquidated', '1001', 150);
    await simulator('liquidated', '1002', 89.9);
    // Paid at Sicoob, never issued by the platform: an exception.
    await simulator('liquidated', '7777', 10);

    let applied = 0;
    for (let runs = 0; runs < 4 && applied < 2; runs++) {
      const swept = await job();
      expect(swept.problems).toEqual([]);
      applied += swept.records.applied;
    }
    expect(applied).toBe(2);
    const [first, second, third] = await Promise.all(['1001', '1002', '1003'].map((n) => admin('GET', `/admin/boletos/${n}`)));
    expect(first!.body).toMatchObject({ status: 'LIQUIDADO', liquidacao: { valorLiquidoCentavos: 15000 } });
    expect(second!.body).toMatchObject({ status: 'LIQUIDADO', liquidacao: { valorLiquidoCentavos: 8990 } });
    expect(third!.body.status).toBe('ABERTO');
    expect(first!.body.history.map((h: { status: string }) => h.status)).toEqual(['ABERTO', 'PAGO', 'LIQUIDADO']);
    const exceptions = await admin('GET', '/admin/boletos/exceptions');
    expect(exceptions.body.exceptions).toEqual([expect.objectContaining({ kind: 'unmatched-liquidation', nossoNumero: '7777' })]);
    const again = await job();
    expect(again.records.applied).toBe(0);
    // Finance's CSV of the period: the header a Brazilian spreadsheet reads, the two liquidated boletos.
    const day = new Date(Date.now() - 3 * 3_600_000).toISOString().slice(0, 10);
    const csv = await fetch(`${demo.baseUrl}/admin/boletos/export.csv?from=${day}&to=${day}&status=LIQUIDADO`, {
      headers: { authorization: `Bearer ${demo.admin.token}` },
    });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const bytes = Buffer.from(await csv.arrayBuffer());
    // UTF-8 with a BOM, so a spreadsheet reads the accents.
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines[0]).toBe(
      'nossoNumero;seuNumero;numeroCliente;pagador;pagadorCpfCnpj;dataVencimento;valor;status;dataLiquidacao;dataPrevisaoCredito;valorLiquido;valorMora;valorDesconto;valorAbatimento;valorTarifaMovimento;canal;divergencia',
    );
    expect(lines.slice(1, -1).map((line) => line.split(';').slice(0, 2).join(';'))).toEqual(['1001;NF-1001', '1002;NF-1002']);
    expect((await admin('GET', '/admin/boletos/1002')).body.updatedAt).toBe(second!.body.updatedAt);
    run.npm.kill('SIGTERM');
    await until('npm start exits', () => run.exitCode !== undefined, 10_000);
  }, 120_000);
});
