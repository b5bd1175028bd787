import { describe, expect, test } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { createRegionServer, DEFAULT_REQUEST_TIMEOUT_MS, jsonDepth, MAX_JSON_DEPTH } from '../src/http.ts';
import { SqliteStore, StoreUnavailableError } from '../src/store.ts';
import { auth, call, trickle, useApp } from './helpers.ts';

// Issue 15, items 12 and 13: bodies that are too deep, and clients that send their request
// too slowly. Each answer is a client error (400, 408) or a closed connection, never a 503
// that blames the database and never a connection held for Node's default 300 s.

const start = useApp();

const DEPTH_ERROR = `body must not nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep`;

/** `depth` arrays inside each other, e.g. 2: `[[]]`. */
const arrays = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** `depth` objects inside each other, e.g. 2: `{"a":{"a":1}}`. */
const objects = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('deeply nested bodies', () => {
  test('a valid order with 5,000 levels of nesting (10 KB) is 400, not 503, and nothing is stored', async () => {
    const h = await start();
    const body = `{"item":"x","quantity":1,"a":${arrays(5000)}}`;
    expect(body.length).toBeGreaterThan(10_000);
    const res = await call(h.url + '/api/orders', { body });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: DEPTH_ERROR });
    expect(h.store.inserts).toBe(0);
    expect(h.logs).toEqual([]);
    expect((await call(h.url + '/health')).status).toBe(200);
  });

  test.each([
    ['an order nesting objects', '/api/orders', `{"item":"x","quantity":1,"a":${objects(5000)}}`],
    ['a top-level array', '/api/orders', arrays(5000)],
    ['a fault spec', '/faults', `{"kind":"latency","duration_ms":1000,"x":${arrays(5000)}}`],
  ])('%s nested 5,000 deep is 400', async (_what, path, body) => {
    const h = await start();
    const res = await call(h.url + path, { body, headers: auth });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: DEPTH_ERROR });
    expect(h.faults.list()).toEqual([]);
  });

  test(`${MAX_JSON_DEPTH} levels are stored and read back, one more is 400`, async () => {
    const h = await start();
    // The order object is level 1.
    const body = (depth: number) => `{"item":"x","quantity":1,"a":${arrays(depth - 1)}}`;
    expect((await call(h.url + '/api/orders', { body: body(MAX_JSON_DEPTH + 1) })).status).toBe(400);
    const created = await call(h.url + '/api/orders', { body: body(MAX_JSON_DEPTH) });
    expect(created.status).toBe(201);
    const read = await call(`${h.url}/api/orders/${String(created.json.id)}`);
    expect(read.status).toBe(200);
    expect(read.json.data).toEqual(JSON.parse(body(MAX_JSON_DEPTH)));
  });

  test.each([
    ['{"item":"x","quantity":1', 'body must be valid JSON'],
    ['{"item":"x","quantity":1}}', 'body must be valid JSON'],
    ['\u0000', 'body must be valid JSON'],
    [`{"item":"x","quantity":1,"a":${'['.repeat(5000)}`, 'body must be valid JSON'],
  ])('malformed body %# is a 400 naming the rule', async (body, message) => {
    const h = await start();
    const res = await call(h.url + '/api/orders', { body });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: message });
  });

  test('a body not valid UTF-8 is 400', async () => {
    const h = await start();
    const body = new Uint8Array([0x7b, 0xff, 0x7d]);
    const res = await fetch(h.url + '/api/orders', { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'body must be UTF-8 encoded JSON' });
  });

  test('jsonDepth counts arrays and objects without recursion, and stops past the limit', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth(null)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth([1, [2, { a: [] }], {}])).toBe(4);
    const deep = JSON.parse(arrays(50_000)) as unknown;
    expect(jsonDepth(deep)).toBe(50_000);
    expect(jsonDepth(deep, 64)).toBe(65);
  });

  test('the store does not blame the database for data it cannot serialise', async () => {
    const h = await start();
    const store = new SqliteStore(h.dataDir);
    const data = { a: JSON.parse(arrays(50_000)) as unknown };
    try {
      let thrown: unknown;
      try {
        store.insert({ item: 'x', quantity: 1, data, createdAt: '2030-01-01T00:00:00.000Z', version: 'v1' });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(RangeError);
      expect(thrown).not.toBeInstanceOf(StoreUnavailableError);
    } finally {
      store.close();
    }
  });
});

/** The request timeout these tests configure. */
const TIMEOUT_MS = 500;

describe('slow clients', () => {
  test('a body trickled slower than the request timeout gets 408 and its connection closed', async () => {
    const h = await start({ config: { requestTimeoutMs: TIMEOUT_MS } });
    const head = 'POST /api/orders HTTP/1.1\r\nHost: region\r\nContent-Length: 200\r\n\r\n';
    // 52 bytes at 100 ms each: 5 s if nobody hangs up, far past the 500 ms timeout.
    const { closedAfterMs, answer } = await trickle(h.url, head, `{"item":"x","quantity":1,"pad":"${'x'.repeat(20)}`);
    expect(closedAfterMs).not.toBeNull();
    expect(closedAfterMs).toBeLessThan(TIMEOUT_MS + 1500);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(h.store.inserts).toBe(0);
    expect((await call(h.url + '/health')).status).toBe(200);
  }, 15_000);

  test('headers trickled slower than the timeout get their connection closed', async () => {
    const h = await start({ config: { requestTimeoutMs: TIMEOUT_MS } });
    const slow = `Host: region\r\nX-Slow: ${'a'.repeat(30)}\r\n\r\n`;
    const { closedAfterMs, answer } = await trickle(h.url, 'GET / HTTP/1.1\r\n', slow);
    expect(closedAfterMs).not.toBeNull();
    expect(closedAfterMs).toBeLessThan(TIMEOUT_MS + 1500);
    expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
  }, 15_000);

  test('the timeout is for receiving the request: a slow answer (latency fault) is not cut', async () => {
    const h = await start({ config: { requestTimeoutMs: TIMEOUT_MS } });
    h.faults.add({ kind: 'latency', durationMs: 60_000, delayMs: 3 * TIMEOUT_MS, jitterMs: 0 });
    const res = await call(h.url + '/api/orders', { body: { item: 'x', quantity: 1 } });
    expect(res.status).toBe(201);
  }, 15_000);

  test('the server has a whole-request deadline by default, and keeps idle connections 5 s', () => {
    const server = createRegionServer(() => {});
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(15_000);
    expect(server.requestTimeout).toBe(DEFAULT_REQUEST_TIMEOUT_MS);
    expect(server.headersTimeout).toBe(DEFAULT_REQUEST_TIMEOUT_MS);
    expect(server.keepAliveTimeout).toBe(5_000);
    expect(createRegionServer(() => {}, 2_000).requestTimeout).toBe(2_000);
  });

  test.each([
    [{}, undefined],
    [{ REQUEST_TIMEOUT_MS: '' }, undefined],
    [{ REQUEST_TIMEOUT_MS: '100' }, 100],
    [{ REQUEST_TIMEOUT_MS: '10000' }, 10_000],
    [{ REQUEST_TIMEOUT_MS: '300000' }, 300_000],
  ])('REQUEST_TIMEOUT_MS %j is accepted as %s', (env, ms) => {
    const result = parseConfig({ VERSION: 'v1', REGION: 'us-west', ...env });
    expect(result.ok && result.config.requestTimeoutMs).toBe(ms);
  });

  test.each(['99', '300001', '1e4', '10s', '-5', ' 100', '0'])('REQUEST_TIMEOUT_MS=%j is refused', (raw) => {
    const error = `REQUEST_TIMEOUT_MS=${JSON.stringify(raw)} must be an integer of milliseconds between 100 and 300000`;
    const result = parseConfig({ VERSION: 'v1', REGION: 'us-west', REQUEST_TIMEOUT_MS: raw });
    expect(result).toEqual({ ok: false, errors: [error] });
  });
});
