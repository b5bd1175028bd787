import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { parsePrometheusText } from '../../../test/integration/prom-text.ts';
import { call, eventually, trickle } from './helpers.ts';

// The built bundle as the container runs it: a real process, real signals, real files.
const BUNDLE = fileURLToPath(new URL('../dist/server.js', import.meta.url));
const TOKEN = 'process-test-token';

interface Service {
  child: ChildProcess;
  url: string;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

beforeAll(() => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run 'npm run build' first`);
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'region-proc-'));
  dirs.push(d);
  return d;
}

/** A port nobody listens on right now: the child cannot be given port 0. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

function run(env: Record<string, string>): Service {
  const child = spawn(process.execPath, [BUNDLE], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => stdout.push(...d.split('\n').filter(Boolean)));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => stderr.push(...d.split('\n').filter(Boolean)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return { child, url: `http://127.0.0.1:${env.PORT ?? 8080}`, stdout, stderr, exited };
}

/** Starts the service and waits for its start-up line, which it prints once it listens. */
async function start(dataDir: string, extra: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  const svc = run({ VERSION: 'v3', REGION: 'us-east', PORT: String(port), DATA_DIR: dataDir, ...extra });
  const ready = await eventually(
    async () => svc.stdout.some((l) => l.startsWith('region-service region=')) || svc.child.exitCode !== null,
    10_000,
  );
  if (!ready || svc.child.exitCode !== null) throw new Error(`service did not start: ${svc.stderr.join('\n')}`);
  expect(svc.stdout[0]).toBe(
    `region-service region=us-east version=v3 port=${port} failure_rate=${extra.FAILURE_RATE ?? 0}`,
  );
  return svc;
}

describe('the bundled service as a process', () => {
  test('keeps every acknowledged order across a SIGKILL', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const written: { id: number; item: string; quantity: number }[] = [];
    for (let i = 0; i < 50; i++) {
      const res = await call(first.url + '/api/orders', { body: { item: `durable-${i}`, quantity: i + 1, seq: i } });
      expect(res.status).toBe(201);
      written.push({ id: res.json.id as number, item: `durable-${i}`, quantity: i + 1 });
    }
    first.child.kill('SIGKILL');
    expect(await first.exited).toMatchObject({ code: null, signal: 'SIGKILL' });

    const second = await start(dataDir);
    for (const w of written) {
      const res = await call(`${second.url}/api/orders/${w.id}`);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ ...w, data: { item: w.item, quantity: w.quantity, seq: w.quantity - 1 } });
    }
    expect(new Set(written.map((w) => w.id)).size).toBe(50);
  }, 30_000);

  test('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const svc = await start(tempDir(), { FAULT_TOKEN: TOKEN });
    const fault = await call(svc.url + '/faults', {
      headers: { authorization: `Bearer ${TOKEN}` },
      body: { kind: 'latency', duration_ms: 60_000, delay_ms: 1500 },
    });
    expect(fault.status).toBe(202);

    let answeredAt = 0;
    const slow = call(svc.url + '/').then((res) => {
      answeredAt = performance.now();
      return res;
    });
    // Signal only once the service holds the request (the scrape itself is the other one).
    const inFlight = await eventually(async () => {
      const { samples } = parsePrometheusText((await call(svc.url + '/metrics')).text);
      return (samples.find((s) => s.name === 'http_requests_in_flight')?.value ?? 0) >= 2;
    });
    expect(inFlight).toBe(true);
    const signalledAt = performance.now();
    svc.child.kill('SIGTERM');

    const res = await slow;
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', version: 'v3', region: 'us-east' });
    const exit = await svc.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(answeredAt).toBeGreaterThan(signalledAt);
    expect(exit.at).toBeGreaterThanOrEqual(answeredAt);
    expect(svc.stdout).toContain('region-service: SIGTERM, finishing in-flight requests');
  }, 30_000);

  test('on SIGINT with nothing in flight exits 0 at once', async () => {
    const svc = await start(tempDir());
    expect((await call(svc.url + '/health')).status).toBe(200);
    const t0 = performance.now();
    svc.child.kill('SIGINT');
    const exit = await svc.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - t0).toBeLessThan(5000);
  }, 30_000);

  test('gives up on a request that outlasts the 10 s deadline and exits 1', async () => {
    const svc = await start(tempDir(), { FAULT_TOKEN: TOKEN });
    await call(svc.url + '/faults', {
      headers: { authorization: `Bearer ${TOKEN}` },
      body: { kind: 'latency', duration_ms: 60_000, delay_ms: 30_000 },
    });
    // The client would wait 60 s: only the service's deadline can end this request.
    const slow = call(svc.url + '/', { timeoutMs: 60_000 }).catch((err: unknown) => err);
    const inFlight = await eventually(async () => {
      const { samples } = parsePrometheusText((await call(svc.url + '/metrics')).text);
      return (samples.find((s) => s.name === 'http_requests_in_flight')?.value ?? 0) >= 2;
    });
    expect(inFlight).toBe(true);
    const t0 = performance.now();
    svc.child.kill('SIGTERM');
    const exit = await svc.exited;
    expect(exit).toMatchObject({ code: 1, signal: null });
    expect(exit.at - t0).toBeGreaterThanOrEqual(9_500);
    expect(await slow).toBeInstanceOf(Error);
  }, 30_000);

  test('answers a 5,000-deep body 400 and closes a body trickled past REQUEST_TIMEOUT_MS', async () => {
    const svc = await start(tempDir(), { REQUEST_TIMEOUT_MS: '500' });
    const body = `{"item":"x","quantity":1,"a":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const deep = await call(svc.url + '/api/orders', { body });
    expect(deep.status).toBe(400);
    const head = 'POST /api/orders HTTP/1.1\r\nHost: region\r\nContent-Length: 200\r\n\r\n';
    const slow = await trickle(svc.url, head, `{"item":"x","quantity":1,"pad":"${'x'.repeat(20)}`);
    expect(slow.closedAfterMs).not.toBeNull();
    expect(slow.closedAfterMs).toBeLessThan(2000);
    expect(slow.answer === '' || slow.answer.startsWith('HTTP/1.1 408')).toBe(true);
  }, 30_000);

  test.each([
    [
      { VERSION: 'v1', REGION: 'us-west', REQUEST_TIMEOUT_MS: '5s' },
      ['config error: REQUEST_TIMEOUT_MS="5s" must be an integer of milliseconds between 100 and 300000'],
    ],
    [
      { VERSION: 'v1', REGION: 'us-west', FAILURE_RATE: 'abc' },
      ['config error: FAILURE_RATE="abc" must be a number between 0.0 and 1.0'],
    ],
    [
      { REGION: 'US', FAILURE_RATE: '1.5' },
      [
        'config error: VERSION is required and must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
        'config error: REGION="US" must match ^[a-z0-9][a-z0-9-]{0,62}$',
        'config error: FAILURE_RATE="1.5" must be a number between 0.0 and 1.0',
      ],
    ],
  ])(
    'refuses %j with exit status 78 and one line per error',
    async (env, lines) => {
      const svc = run({ DATA_DIR: tempDir(), PORT: String(await freePort()), ...env });
      expect(await svc.exited).toMatchObject({ code: 78 });
      expect(svc.stderr).toEqual(lines);
      expect(svc.stdout).toEqual([]);
    },
    15_000,
  );
});
