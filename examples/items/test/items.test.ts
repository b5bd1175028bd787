// The items example service, in-process (start() on 127.0.0.1, port 0, a temp DATA_DIR),
// plus server.js as a process for the signals, and the bugs/*.patch files applied to a copy.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { parsePrometheusText } from '../../../test/integration/prom-text.ts';
import { readVersion, start, type Service, type StartOptions } from '../app.js';

const EXAMPLE = fileURLToPath(new URL('..', import.meta.url));
const quiet = (): void => {};

const services: Service[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'items-test-'));
  dirs.push(d);
  return d;
}

async function run(options: StartOptions = {}, startFn: typeof start = start): Promise<Service> {
  const service = await startFn({ port: 0, host: '127.0.0.1', dataDir: tempDir(), log: quiet, ...options });
  services.push(service);
  await service.ready;
  return service;
}

async function call(url: string, init: { method?: string; body?: unknown; raw?: string } = {}): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
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
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Sends raw bytes on a new connection; resolves with everything the server sent until it closed. */
function rawConnection(port: number): { write(s: string): void; reply: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.setEncoding('utf8').on('data', (d: string) => { data += d; });
  const reply = new Promise<string>((resolve) => socket.on('close', () => resolve(data)));
  socket.on('error', () => {});
  return { write: (s) => socket.write(s), reply };
}

describe('the API', () => {
  test('healthz, version, and commit when given', async () => {
    const s = await run({ version: '9.9.9' });
    expect(await call(`${s.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await call(`${s.url}/version`)).body).toEqual({ version: '9.9.9' });
    const c = await run({ version: '9.9.9', commit: 'abc123' });
    expect((await call(`${c.url}/version`)).body).toEqual({ version: '9.9.9', commit: 'abc123' });
  });

  test('the version is the VERSION file by default', async () => {
    expect(readVersion()).toMatch(/^\d+\.\d+\.\d+/);
    const s = await run();
    expect((await call(`${s.url}/version`)).body).toEqual({ version: readVersion() });
  });

  test('POST creates an item with a uuid; GET reads it back; unknown ids are 404', async () => {
    const s = await run();
    const created = await call(`${s.url}/api/items`, { body: { name: 'first' } });
    expect(created.status).toBe(201);
    const item = created.body as { id: string; name: string };
    expect(item).toEqual({ id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/), name: 'first' });
    expect(created.headers.get('location')).toBe(`/api/items/${item.id}`);
    expect(await call(`${s.url}/api/items/${item.id}`)).toMatchObject({ status: 200, body: item });
    expect((await call(`${s.url}/api/items/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await call(`${s.url}/api/items/%E0%A4%A`)).status).toBe(404);
    expect((await call(`${s.url}/nowhere`)).status).toBe(404);
  });

  test('the list holds the last 50, newest first', async () => {
    const s = await run();
    for (let i = 0; i < 55; i++) expect((await call(`${s.url}/api/items`, { body: { name: `n${i}` } })).status).toBe(201);
    const list = (await call(`${s.url}/api/items`)).body as { name: string }[];
    expect(list).toHaveLength(50);
    expect(list[0]?.name).toBe('n54');
    expect(list[49]?.name).toBe('n5');
  });

  test('bad bodies: 400, too large: 413, wrong method: 405, nothing stored', async () => {
    const s = await run();
    for (const raw of ['', '{', 'null', '[]', '"x"', '{}', '{"name":""}', '{"name":"   "}', '{"name":42}', JSON.stringify({ name: 'x'.repeat(201) })]) {
      const res = await call(`${s.url}/api/items`, { raw });
      expect(res.status, raw).toBe(400);
      expect(res.body).toMatchObject({ error: expect.any(String) });
    }
    expect((await call(`${s.url}/api/items`, { raw: JSON.stringify({ name: 'x', pad: 'y'.repeat(20_000) }) })).status).toBe(413);
    // Declared too large, and streamed too large without a length (chunked).
    const declared = rawConnection(s.port);
    declared.write('POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"name":');
    expect(await declared.reply).toMatch(/^HTTP\/1\.1 413 /);
    const chunked = rawConnection(s.port);
    chunked.write('POST /api/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < 5; i++) chunked.write(`1000\r\n${'a'.repeat(0x1000)}\r\n`);
    expect(await chunked.reply).toMatch(/^HTTP\/1\.1 413 /);
    const wrong = await call(`${s.url}/api/items`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
    expect((await call(`${s.url}/api/items`)).body).toEqual([]);
  });
});

describe('metrics', () => {
  test('counter and histogram by method, route template and status code, and the start time', async () => {
    const s = await run();
    const { id } = (await call(`${s.url}/api/items`, { body: { name: 'm' } })).body as { id: string };
    await call(`${s.url}/api/items/${id}`);
    await call(`${s.url}/api/items/${id}`);
    await call(`${s.url}/api/items/unknown`);
    await call(`${s.url}/api/items`, { raw: '{' });
    const res = await call(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { samples, types } = parsePrometheusText(res.text);
    expect(types.get('http_requests_total')).toBe('counter');
    expect(types.get('http_request_duration_seconds')).toBe('histogram');
    expect(types.get('process_start_time_seconds')).toBe('gauge');

    const value = (name: string, labels: Record<string, string>): number | undefined =>
      samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v) && Object.keys(x.labels).length === Object.keys(labels).length)?.value;
    const byId = { method: 'GET', route: '/api/items/:id', status_code: '200' };
    expect(value('http_requests_total', byId)).toBe(2);
    expect(value('http_requests_total', { ...byId, status_code: '404' })).toBe(1);
    expect(value('http_requests_total', { method: 'POST', route: '/api/items', status_code: '201' })).toBe(1);
    expect(value('http_requests_total', { method: 'POST', route: '/api/items', status_code: '400' })).toBe(1);
    // No raw path ever becomes a label value.
    expect(samples.some((x) => x.labels.route?.includes(id))).toBe(false);

    // prom-client's default buckets, cumulative, +Inf equal to the count.
    const les = samples.filter((x) => x.name === 'http_request_duration_seconds_bucket' && x.labels.route === '/api/items/:id' && x.labels.status_code === '200').map((x) => x.labels.le);
    expect(les).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
    const buckets = les.map((le) => value('http_request_duration_seconds_bucket', { ...byId, le: le as string }) as number);
    expect(buckets.every((b, i) => i === 0 || b >= (buckets[i - 1] as number))).toBe(true);
    expect(buckets.at(-1)).toBe(2);
    expect(value('http_request_duration_seconds_count', byId)).toBe(2);
    expect(value('http_request_duration_seconds_sum', byId)).toBeGreaterThan(0);

    const startTime = value('process_start_time_seconds', {}) as number;
    expect(startTime).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(startTime).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 5);
  });

  test('noMetrics (NO_METRICS=1): /metrics is 404, the rest works', async () => {
    const s = await run({ noMetrics: true });
    expect((await call(`${s.url}/metrics`)).status).toBe(404);
    expect((await call(`${s.url}/healthz`)).status).toBe(200);
  });
});

describe('the database', () => {
  test('WAL in DATA_DIR/items.db, and items survive a restart', async () => {
    const dataDir = tempDir();
    const first = await run({ dataDir });
    const { id } = (await call(`${first.url}/api/items`, { body: { name: 'kept' } })).body as { id: string };
    await first.close();
    const db = new DatabaseSync(join(dataDir, 'items.db'));
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    db.close();
    const second = await run({ dataDir });
    expect(await call(`${second.url}/api/items/${id}`)).toMatchObject({ status: 200, body: { id, name: 'kept' } });
  });

  test('503 until the database opens, retried every second', async () => {
    const parent = tempDir();
    const dataDir = join(parent, 'data');
    writeFileSync(dataDir, 'not a folder');
    const s = await start({ port: 0, host: '127.0.0.1', dataDir, log: quiet });
    services.push(s);
    expect(await call(`${s.url}/healthz`)).toMatchObject({ status: 503, body: { status: 'starting' } });
    expect((await call(`${s.url}/api/items`)).status).toBe(503);
    expect((await call(`${s.url}/api/items`, { body: { name: 'x' } })).status).toBe(503);
    rmSync(dataDir);
    await s.ready;
    expect((await call(`${s.url}/healthz`)).status).toBe(200);
    expect((await call(`${s.url}/api/items`, { body: { name: 'x' } })).status).toBe(201);
  });
});

describe('start and stop', () => {
  test('startDelaySeconds (START_DELAY_SECONDS) delays listening', async () => {
    const t0 = performance.now();
    await run({ startDelaySeconds: 0.3 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });

  test('close() lets an in-flight request finish, then stops accepting', async () => {
    const s = await run({ graceMs: 5000 });
    const conn = rawConnection(s.port);
    const body = JSON.stringify({ name: 'in-flight' });
    conn.write(`POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const closed = s.close();
    await new Promise((r) => setTimeout(r, 100));
    conn.write(body.slice(5));
    const reply = await conn.reply;
    await closed;
    expect(reply).toMatch(/^HTTP\/1\.1 201 /);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(performance.now() - t0).toBeLessThan(2000);
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  test('close() cuts a request that does not finish within graceMs', async () => {
    const s = await run({ graceMs: 200 });
    const conn = rawConnection(s.port);
    conn.write('POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"na');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await s.close();
    expect(performance.now() - t0).toBeLessThan(1500);
    await conn.reply;
  });
});

/** A port nobody listens on right now: the child cannot be given port 0 and tell us. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

interface Proc {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function spawnServer(env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, ['server.js'], {
    cwd: EXAMPLE,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), DATA_DIR: tempDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

describe('server.js as a process', () => {
  test('SIGTERM: graceful stop, exit 0 within seconds', async () => {
    const p = await spawnServer({ COMMIT: 'deadbeef' });
    expect(await until(() => p.output().includes('database open'), 10_000)).toBe(true);
    expect((await call(`${p.url}/version`)).body).toEqual({ version: readVersion(), commit: 'deadbeef' });
    expect((await call(`${p.url}/api/items`, { body: { name: 'x' } })).status).toBe(201);
    const t0 = performance.now();
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(p.output()).toContain('items: stopped');
  });

  test('IGNORE_SIGTERM=1: SIGTERM is ignored (SIGKILL ends it)', async () => {
    const p = await spawnServer({ IGNORE_SIGTERM: '1' });
    expect(await until(() => p.output().includes('database open'), 10_000)).toBe(true);
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(p.child.exitCode).toBeNull();
    expect((await call(`${p.url}/healthz`)).status).toBe(200);
    expect(p.output()).toContain('SIGTERM ignored');
    p.child.kill('SIGKILL');
    expect((await p.exited).signal).toBe('SIGKILL');
  });

  test('a bad PORT exits 2 naming it', async () => {
    const p = await spawnServer({ PORT: 'eighty' });
    expect((await p.exited).code).toBe(2);
    expect(p.output()).toContain('PORT="eighty"');
  });
});

describe('bugs/*.patch', () => {
  /**
   * A copy of the example (without its tests) as the root of its own git repository, as a
   * user's repository is, with the patch checked or applied. (In a subdirectory of another
   * repository, git apply takes the patch's paths from that repository's root and skips
   * them: the README says to add --directory there.)
   */
  function patched(patch: string, check = false): string {
    const dir = tempDir();
    cpSync(EXAMPLE, dir, { recursive: true, filter: (src) => !src.startsWith(join(EXAMPLE, 'test')) });
    const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir } });
    expect(git('init', '-q').status).toBe(0);
    const before = readFileSync(join(dir, 'app.js'), 'utf8');
    const r = git('apply', '--verbose', ...(check ? ['--check'] : []), join('bugs', patch));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('Checking patch app.js...');
    expect(r.stderr).not.toContain('Skipped');
    if (!check) expect(readFileSync(join(dir, 'app.js'), 'utf8')).not.toBe(before);
    return dir;
  }

  async function patchedStart(patch: string): Promise<typeof start> {
    const dir = patched(patch);
    return ((await import(pathToFileURL(join(dir, 'app.js')).href)) as { start: typeof start }).start;
  }

  test.each(['fail-writes.patch', 'slow-reads.patch'])('%s applies cleanly to the example', (patch) => {
    expect(existsSync(join(EXAMPLE, 'bugs', patch))).toBe(true);
    patched(patch, true);
  });

  test('fail-writes: every 4th write answers 500 and is not stored', async () => {
    const s = await run({}, await patchedStart('fail-writes.patch'));
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await call(`${s.url}/api/items`, { body: { name: `w${i}` } })).status);
    expect(statuses.filter((x) => x === 500)).toHaveLength(5);
    expect(statuses.filter((x) => x === 201)).toHaveLength(15);
    expect(statuses[3]).toBe(500);
    const names = ((await call(`${s.url}/api/items`)).body as { name: string }[]).map((x) => x.name);
    expect(names).toHaveLength(15);
    expect(names).not.toContain('w3');
  });

  test('slow-reads: GET /api/items/:id takes 300 ms more, the list does not', async () => {
    const s = await run({}, await patchedStart('slow-reads.patch'));
    const { id } = (await call(`${s.url}/api/items`, { body: { name: 'slow' } })).body as { id: string };
    let t0 = performance.now();
    expect((await call(`${s.url}/api/items/${id}`)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    t0 = performance.now();
    expect((await call(`${s.url}/api/items`)).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(250);
  });
});
