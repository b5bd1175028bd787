import { describe, expect, test } from 'vitest';
import type { ToxicSpec } from '../src/spec.ts';
import type { Toxic } from '../src/toxics.ts';
import { get, httpUpstream, startProxy, tcpUpstream, TcpClient, until, type Harness } from './helpers.ts';

// Each toxic through real sockets on loopback: it takes effect, it is counted, and it lifts.

async function httpProxy(): Promise<{ h: Harness; url: string; up: Awaited<ReturnType<typeof httpUpstream>> }> {
  const up = await httpUpstream();
  const h = await startProxy([{ name: 'api', upstream_port: up.port }]);
  return { h, url: `http://127.0.0.1:${h.port()}`, up };
}

async function tcpProxy(): Promise<Harness> {
  return startProxy([{ name: 'db', upstream_port: await tcpUpstream() }]);
}

const add = (h: Harness, spec: Record<string, unknown>): Toxic =>
  h.toxics.add({ duration_ms: 60_000, ...spec } as ToxicSpec);

/** Resolves with the error a request ends in; fails the test if it is answered instead. */
async function failure(p: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  return p.then(
    (answer) => {
      throw new Error(`answered: ${JSON.stringify(answer)}`);
    },
    (err: NodeJS.ErrnoException) => err,
  );
}

/** Whether p is still pending after ms: the only way to show that nothing happens. */
async function stillPendingAfter(p: Promise<unknown>, ms: number): Promise<boolean> {
  const marker = Symbol('pending');
  const timer = new Promise((resolve) => setTimeout(() => resolve(marker), ms));
  return (await Promise.race([p.catch(() => undefined), timer])) === marker;
}

describe('latency', () => {
  test('delays each HTTP answer by delay_ms, and is fast without it', async () => {
    const { h, url } = await httpProxy();
    expect((await get(url)).ms).toBeLessThan(150);
    const toxic = add(h, { route: 'api', kind: 'latency', delay_ms: 200, jitter_ms: 0 });
    const slow = await get(url);
    expect([slow.status, slow.body]).toEqual([200, 'xx']);
    expect(slow.ms).toBeGreaterThanOrEqual(180);
    h.toxics.lift(toxic.id);
    expect((await get(url)).ms).toBeLessThan(150);
    expect(toxic.affected).toBe(1);
  });

  test('delays every TCP chunk from upstream, in order, counting the connection once', async () => {
    const h = await tcpProxy();
    const client = new TcpClient(h.port());
    client.socket.write('a');
    await client.receive('a');
    const toxic = add(h, { route: 'db', kind: 'latency', delay_ms: 200, jitter_ms: 0 });
    client.socket.write('b');
    client.socket.write('c');
    expect(await client.receive('abc')).toBeGreaterThanOrEqual(180);
    h.toxics.lift(toxic.id);
    client.socket.write('d');
    expect(await client.receive('abcd')).toBeLessThan(150);
    expect(toxic.affected).toBe(1);
  });
});

describe('http_error', () => {
  test('share 1 answers every request itself, without reaching the upstream', async () => {
    const { h, url, up } = await httpProxy();
    const toxic = add(h, { route: 'api', kind: 'http_error', status: 500, share: 1 });
    for (let i = 0; i < 3; i++) {
      const res = await get(url, { method: 'POST', body: 'ignored' });
      expect([res.status, res.headers['x-chaos-gate-fault']]).toEqual([500, 'http_error']);
      expect(res.body).toBe('{"error":"injected by chaos-gate fault proxy"}');
    }
    expect([up.requests, toxic.affected]).toEqual([0, 3]);
  });

  test('first_n=2 fails exactly the first two requests, then forwards', async () => {
    const { h, url, up } = await httpProxy();
    const toxic = add(h, { route: 'api', kind: 'http_error', status: 503, share: 1, first_n: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(url)).status);
    expect(statuses).toEqual([503, 503, 200, 200]);
    expect([toxic.affected, up.requests]).toEqual([2, 2]);
  });

  test('has no effect on a TCP connection', async () => {
    const h = await tcpProxy();
    const toxic = add(h, { route: 'db', kind: 'http_error', status: 503, share: 1 });
    const client = new TcpClient(h.port());
    client.socket.write('hello');
    await client.receive('hello');
    expect(toxic.affected).toBe(0);
  });
});

describe('reset', () => {
  test('resets HTTP requests, and forwards again once lifted', async () => {
    const { h, url, up } = await httpProxy();
    const toxic = add(h, { route: 'api', kind: 'reset', share: 1 });
    expect((await failure(get(url))).code).toBe('ECONNRESET');
    h.toxics.lift(toxic.id);
    expect((await get(url)).status).toBe(200);
    expect([toxic.affected, up.requests]).toEqual([1, 1]);
  });

  test('resets new TCP connections and those already open', async () => {
    const h = await tcpProxy();
    const open = new TcpClient(h.port());
    open.socket.write('hi');
    await open.receive('hi');
    const toxic = add(h, { route: 'db', kind: 'reset', share: 1 });
    await open.closed;
    const fresh = new TcpClient(h.port());
    fresh.socket.write('hello');
    await fresh.closed;
    expect([open.error?.code, fresh.error?.code, toxic.affected]).toEqual(['ECONNRESET', 'ECONNRESET', 2]);
  });
});

describe('timeout', () => {
  test('holds an HTTP request unanswered and unforwarded until lifted, then drops it', async () => {
    const { h, url, up } = await httpProxy();
    const toxic = add(h, { route: 'api', kind: 'timeout', share: 1 });
    const pending = get(url);
    await until(() => toxic.affected === 1);
    expect(await stillPendingAfter(pending, 300)).toBe(true);
    h.toxics.lift(toxic.id);
    expect((await failure(pending)).message).toMatch(/socket hang up|ECONNRESET/);
    expect(up.requests).toBe(0);
    expect((await get(url)).status).toBe(200);
  });

  test('freezes an open TCP connection until the toxic expires by itself, then closes it', async () => {
    const h = await tcpProxy();
    const client = new TcpClient(h.port());
    client.socket.write('one');
    await client.receive('one');
    const toxic = add(h, { route: 'db', kind: 'timeout', share: 1, duration_ms: 400 });
    const lifted = new Promise((resolve) => h.toxics.onLift(resolve));
    client.socket.write('two');
    await lifted;
    await client.closed;
    expect([client.received, toxic.affected]).toEqual(['one', 1]);
  });
});

describe('bandwidth', () => {
  test('64 KiB at 64 KiB/s takes about a second; unthrottled far less', async () => {
    const { h, url } = await httpProxy();
    const fast = await get(`${url}/?n=65536`);
    const toxic = add(h, { route: 'api', kind: 'bandwidth', rate_kbps: 64 });
    const slow = await get(`${url}/?n=65536`);
    expect([fast.body.length, slow.body.length]).toEqual([65536, 65536]);
    expect(slow.ms).toBeGreaterThanOrEqual(700);
    expect(slow.ms).toBeLessThan(3000);
    expect(fast.ms).toBeLessThan(slow.ms / 2);
    expect(toxic.affected).toBe(1);
  });
});

describe('expiry and counters', () => {
  test('a toxic lifts itself at its expiry with nobody calling, and the route forwards again', async () => {
    const { h, url } = await httpProxy();
    const body = JSON.stringify({ route: 'api', kind: 'http_error', duration_ms: 300 });
    const created = await get(`${h.control}/toxics`, { method: 'POST', body });
    expect(created.status).toBe(201);
    const lifted = new Promise<Toxic>((resolve) => h.toxics.onLift(resolve));
    expect((await get(url)).status).toBe(503);
    expect((await lifted).affected).toBe(1);
    expect(JSON.parse((await get(`${h.control}/toxics`)).body)).toEqual({ toxics: [] });
    expect((await get(url)).status).toBe(200);
  });

  test('GET /routes counts connections, requests and upstream errors; DELETE returns the final affected', async () => {
    const { h, url, up } = await httpProxy();
    const toxic = add(h, { route: 'api', kind: 'http_error', share: 1, status: 502, first_n: 1 });
    await get(url);
    await get(url);
    const routes = JSON.parse((await get(`${h.control}/routes`)).body) as { routes: Record<string, unknown>[] };
    expect(routes.routes[0]).toMatchObject({ name: 'api', connections: 2, requests: 2, errors_upstream: 0 });
    const deleted = await get(`${h.control}/toxics/${toxic.id}`, { method: 'DELETE' });
    expect(JSON.parse(deleted.body)).toMatchObject({ id: toxic.id, affected: 1 });
    expect(up.requests).toBe(1);
  });
});
