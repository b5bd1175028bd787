// The API in-process (start() on 127.0.0.1, port 0) in front of a stub worker on loopback
// that answers as each test says: the error attribution (x-failed-hop), metrics, server.js
// as a process for SIGTERM, and the bugs/*.patch files applied to a copy.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { parsePrometheusText } from '../../../test/integration/prom-text.ts';
import { readVersion, start, type Service, type StartOptions } from '../api/app.js';

const EXAMPLE = fileURLToPath(new URL('..', import.meta.url));
const quiet = (): void => {};
const TIMEOUT_MS = 300;
const ENTRY = { id: '6f1c1f9e-1d2b-4c8e-9a57-0c9d1e2f3a4b', name: 'first', created_at: '2026-01-02T03:04:05.678Z' };

type Mode = 'ok' | 'postgres' | '500' | 'hang' | 'not-json';

interface StubWorker { server: Server; url: string; mode: Mode; requests: string[]; close(): Promise<void>; failures?: number }

const services: Service[] = [];
const stubs: StubWorker[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  await Promise.all(stubs.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** A worker stand-in: 'ok' answers like the worker, the other modes fail as named. */
async function stubWorker(mode: Mode = 'ok'): Promise<StubWorker> {
  const stub = { mode, requests: [] as string[] } as StubWorker;
  stub.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => { body += d; });
    req.on('end', () => {
      stub.requests.push(`${req.method} ${req.url}${body ? ` ${body}` : ''}`);
      if (stub.mode === 'hang') return;
      if ((stub.failures ?? 0) > 0) {
        stub.failures = (stub.failures ?? 0) - 1;
        return send(res, 500, { error: 'worker broke' });
      }
      if (stub.mode === 'postgres') return send(res, 503, { error: 'database: connection refused', hop: 'postgres' }, { 'x-failed-hop': 'postgres' });
      if (stub.mode === '500') return send(res, 500, { error: 'worker broke' });
      if (stub.mode === 'not-json') return void res.writeHead(200).end('<html>');
      if (req.method === 'POST' && req.url === '/entries') return send(res, 201, { ...ENTRY, name: (JSON.parse(body) as { name: string }).name });
      if (req.url === '/entries?limit=20') return send(res, 200, [ENTRY]);
      if (req.url === `/entries/${ENTRY.id}`) return send(res, 200, ENTRY);
      send(res, 404, { error: 'no such entry' });
    });
  });
  await new Promise<void>((resolve) => stub.server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(stub.server.address() as { port: number }).port}`;
  let closed: Promise<void> | undefined;
  stub.close = () => (closed ??= new Promise<void>((resolve) => {
    stub.server.close(() => resolve());
    stub.server.closeAllConnections();
  }));
  stubs.push(stub);
  return stub;
}

async function run(workerUrl: string, options: StartOptions = {}, startFn: typeof start = start): Promise<Service> {
  const s = await startFn({ port: 0, host: '127.0.0.1', workerUrl, workerTimeoutMs: TIMEOUT_MS, log: quiet, ...options });
  services.push(s);
  return s;
}

async function call(url: string, init: { method?: string; body?: unknown; raw?: string } = {}) {
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body ?? null,
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, hop: res.headers.get('x-failed-hop'), headers: res.headers };
}

/** The three routes that go to the worker. */
const ENTRY_CALLS = [
  ['POST /api/entries', '/api/entries', { name: 'x' }],
  ['GET /api/entries/:id', `/api/entries/${ENTRY.id}`, undefined],
  ['GET /api/entries', '/api/entries', undefined],
] as const;

describe('the API with a healthy worker', () => {
  test('POST creates through the worker, GET by id and the list read through it', async () => {
    const w = await stubWorker();
    const s = await run(w.url);
    const created = await call(`${s.url}/api/entries`, { body: { name: 'hello', extra: 1 } });
    expect(created).toMatchObject({ status: 201, hop: null, body: { ...ENTRY, name: 'hello' } });
    expect(created.headers.get('location')).toBe(`/api/entries/${ENTRY.id}`);
    expect(w.requests).toEqual(['POST /entries {"name":"hello"}']);
    expect(await call(`${s.url}/api/entries/${ENTRY.id}`)).toMatchObject({ status: 200, body: ENTRY, hop: null });
    expect(await call(`${s.url}/api/entries/unknown`)).toMatchObject({ status: 404, body: { error: 'no such entry' }, hop: null });
    expect(await call(`${s.url}/api/entries/a%2Fb`)).toMatchObject({ status: 404 });
    expect(w.requests.at(-1)).toBe('GET /entries/a%2Fb');
    expect(await call(`${s.url}/api/entries`)).toMatchObject({ status: 200, body: [ENTRY] });
    expect(w.requests.at(-1)).toBe('GET /entries?limit=20');
  });

  test('bad input: 400, 413, 405, 404 without x-failed-hop, and the worker is not asked', async () => {
    const w = await stubWorker();
    const s = await run(w.url);
    for (const raw of ['', '{', 'null', '[]', '{}', '{"name":""}', '{"name":"  "}', '{"name":7}', '{"name":"a\\u0000b"}', JSON.stringify({ name: 'x'.repeat(201) })]) {
      expect(await call(`${s.url}/api/entries`, { raw }), raw).toMatchObject({ status: 400, hop: null, body: { error: expect.any(String) } });
    }
    expect((await call(`${s.url}/api/entries`, { raw: JSON.stringify({ name: 'x', pad: 'y'.repeat(20_000) }) })).status).toBe(413);
    const wrong = await call(`${s.url}/api/entries`, { method: 'DELETE' });
    expect(wrong).toMatchObject({ status: 405, hop: null });
    expect(wrong.headers.get('allow')).toBe('GET, POST');
    expect(await call(`${s.url}/nowhere`)).toMatchObject({ status: 404, hop: null });
    expect(w.requests).toEqual([]);
  });

  test('version: the VERSION file, and commit when given', async () => {
    const w = await stubWorker();
    expect(readVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect((await call(`${(await run(w.url)).url}/version`)).body).toEqual({ version: readVersion() });
    expect((await call(`${(await run(w.url, { version: '9.9.9', commit: 'abc' })).url}/version`)).body).toEqual({ version: '9.9.9', commit: 'abc' });
  });
});

describe('error attribution: x-failed-hop', () => {
  test('the worker answers 503 naming postgres: 503, hop postgres, passed through', async () => {
    const w = await stubWorker('postgres');
    const s = await run(w.url);
    for (const [what, path, body] of ENTRY_CALLS) {
      expect(await call(`${s.url}${path}`, { body }), what).toMatchObject({ status: 503, hop: 'postgres', body: { hop: 'postgres', error: 'database: connection refused' } });
    }
  });

  test('the worker answers 5xx without naming postgres: 502, hop worker', async () => {
    const w = await stubWorker('500');
    const s = await run(w.url);
    for (const [what, path, body] of ENTRY_CALLS) {
      expect(await call(`${s.url}${path}`, { body }), what).toMatchObject({ status: 502, hop: 'worker', body: { hop: 'worker', error: 'worker: worker broke' } });
    }
  });

  test('the worker answers something that is not JSON: 502, hop worker', async () => {
    const w = await stubWorker('not-json');
    const s = await run(w.url);
    expect(await call(`${s.url}/api/entries`)).toMatchObject({ status: 502, hop: 'worker' });
  });

  test('the worker does not answer within the timeout: 502, hop worker, after the timeout', async () => {
    const w = await stubWorker('hang');
    const s = await run(w.url);
    for (const [what, path, body] of ENTRY_CALLS) {
      const t0 = performance.now();
      const res = await call(`${s.url}${path}`, { body });
      const ms = performance.now() - t0;
      expect(res, what).toMatchObject({ status: 502, hop: 'worker', body: { hop: 'worker', error: expect.stringContaining(`no answer within ${TIMEOUT_MS} ms`) } });
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
      expect(ms).toBeLessThan(TIMEOUT_MS + 1500);
    }
  });

  test('the worker is gone: 502, hop worker; healthz stays 200 (liveness only)', async () => {
    const w = await stubWorker();
    const s = await run(w.url);
    await w.close();
    for (const [what, path, body] of ENTRY_CALLS) {
      expect(await call(`${s.url}${path}`, { body }), what).toMatchObject({ status: 502, hop: 'worker', body: { error: expect.stringContaining('ECONNREFUSED') } });
    }
    expect(await call(`${s.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' }, hop: null });
  });

  test('a read the worker fails at once is tried again, twice at most; a write never is', async () => {
    const w = await stubWorker();
    const s = await run(w.url);
    w.failures = 2;
    expect(await call(`${s.url}/api/entries`)).toMatchObject({ status: 200 });
    expect(w.requests).toEqual(['GET /entries?limit=20', 'GET /entries?limit=20', 'GET /entries?limit=20']);
    w.failures = 3;
    w.requests.length = 0;
    expect(await call(`${s.url}/api/entries/${ENTRY.id}`)).toMatchObject({ status: 502, hop: 'worker' });
    expect(w.requests).toHaveLength(3);
    w.failures = 1;
    w.requests.length = 0;
    expect(await call(`${s.url}/api/entries`, { body: { name: 'x' } })).toMatchObject({ status: 502, hop: 'worker' });
    expect(w.requests).toHaveLength(1);
  });

  test('a read that timed out or that postgres failed is not tried again', async () => {
    for (const mode of ['hang', 'postgres'] as const) {
      const w = await stubWorker(mode);
      const s = await run(w.url);
      await call(`${s.url}/api/entries`);
      expect(w.requests, mode).toHaveLength(1);
    }
  });

  test('a worker name that does not resolve: 502, hop worker', async () => {
    const s = await run('http://no-such-worker.invalid:4000');
    expect(await call(`${s.url}/api/entries`)).toMatchObject({ status: 502, hop: 'worker' });
  });
});

describe('metrics', () => {
  test('prom-client names: by method, route template and status code', async () => {
    const w = await stubWorker();
    const s = await run(w.url);
    await call(`${s.url}/api/entries`, { body: { name: 'm' } });
    await call(`${s.url}/api/entries/${ENTRY.id}`);
    await call(`${s.url}/api/entries/${ENTRY.id}`);
    w.mode = 'postgres';
    await call(`${s.url}/api/entries`);
    const res = await call(`${s.url}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { samples, types } = parsePrometheusText(res.text);
    expect(types.get('http_requests_total')).toBe('counter');
    expect(types.get('http_request_duration_seconds')).toBe('histogram');
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v) && Object.keys(x.labels).length === Object.keys(labels).length)?.value;
    expect(value('http_requests_total', { method: 'POST', route: '/api/entries', status_code: '201' })).toBe(1);
    expect(value('http_requests_total', { method: 'GET', route: '/api/entries/:id', status_code: '200' })).toBe(2);
    expect(value('http_requests_total', { method: 'GET', route: '/api/entries', status_code: '503' })).toBe(1);
    expect(value('http_request_duration_seconds_count', { method: 'GET', route: '/api/entries/:id', status_code: '200' })).toBe(2);
    expect(samples.some((x) => x.labels.route?.includes(ENTRY.id))).toBe(false);
  });
});

/** A port nobody listens on right now: the child cannot be given port 0 and tell us. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('server.js as a process', () => {
  test('serves with WORKER_URL and WORKER_TIMEOUT_MS; SIGTERM: graceful stop, exit 0', async () => {
    const w = await stubWorker('hang');
    const port = await freePort();
    const child = spawn(process.execPath, ['server.js'], {
      cwd: join(EXAMPLE, 'api'),
      env: { PATH: process.env.PATH ?? '', PORT: String(port), WORKER_URL: w.url, WORKER_TIMEOUT_MS: '150' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      const listening = new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('listening') && resolve()));
      await Promise.race([listening, exited]);
      expect(out).toContain(`worker ${w.url}`);
      const t0 = performance.now();
      expect(await call(`http://127.0.0.1:${port}/api/entries`)).toMatchObject({ status: 502, hop: 'worker' });
      expect(performance.now() - t0).toBeLessThan(1000);
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(out).toContain('api: stopped');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  test('a bad WORKER_URL exits 2 naming it', () => {
    const r = spawnSync(process.execPath, ['server.js'], { cwd: join(EXAMPLE, 'api'), env: { PATH: process.env.PATH ?? '', WORKER_URL: 'worker:4000', PORT: '0' }, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('WORKER_URL="worker:4000"');
  });
});

describe('bugs/*.patch', () => {
  /** A copy of the example (without its tests) as the root of its own git repository, the patch checked or applied. */
  function patched(patch: string, check = false): string {
    const dir = mkdtempSync(join(tmpdir(), 'two-tier-test-'));
    dirs.push(dir);
    cpSync(EXAMPLE, dir, { recursive: true, filter: (src) => !src.startsWith(join(EXAMPLE, 'test')) });
    const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir } });
    expect(git('init', '-q').status).toBe(0);
    const before = readFileSync(join(dir, 'api/app.js'), 'utf8');
    const r = git('apply', '--verbose', ...(check ? ['--check'] : []), join('bugs', patch));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('Checking patch api/app.js...');
    expect(r.stderr).not.toContain('Skipped');
    if (!check) expect(readFileSync(join(dir, 'api/app.js'), 'utf8')).not.toBe(before);
    return dir;
  }

  async function patchedStart(patch: string): Promise<typeof start> {
    const dir = patched(patch);
    return ((await import(pathToFileURL(join(dir, 'api/app.js')).href)) as { start: typeof start }).start;
  }

  test.each(['fail-writes.patch', 'slow-reads.patch', 'slow-start.patch', 'no-retry.patch'])('%s applies cleanly to the example', (patch) => {
    expect(existsSync(join(EXAMPLE, 'bugs', patch))).toBe(true);
    patched(patch, true);
  });

  test('fail-writes: every 4th write answers 500 naming the api, and never reaches the worker', async () => {
    const w = await stubWorker();
    const s = await run(w.url, {}, await patchedStart('fail-writes.patch'));
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await call(`${s.url}/api/entries`, { body: { name: `w${i}` } }));
    const failed = answers.filter((a) => a.status === 500);
    expect(failed).toHaveLength(5);
    expect(failed.every((a) => a.hop === 'api' && (a.body as { hop: string }).hop === 'api')).toBe(true);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(15);
    expect(answers[3]?.status).toBe(500);
    expect(w.requests).toHaveLength(15);
    expect(w.requests).not.toContain('POST /entries {"name":"w3"}');
  });

  test('slow-reads: GET /api/entries/:id takes 300 ms more, the list does not', async () => {
    const w = await stubWorker();
    const s = await run(w.url, {}, await patchedStart('slow-reads.patch'));
    let t0 = performance.now();
    expect((await call(`${s.url}/api/entries/${ENTRY.id}`)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    t0 = performance.now();
    expect((await call(`${s.url}/api/entries`)).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(250);
  });

  test('no-retry: a read the worker fails once is an error, where the example tries again', async () => {
    const w = await stubWorker();
    const s = await run(w.url, {}, await patchedStart('no-retry.patch'));
    w.failures = 1;
    expect(await call(`${s.url}/api/entries`)).toMatchObject({ status: 502, hop: 'worker' });
    expect(w.requests).toHaveLength(1);
  });
});
