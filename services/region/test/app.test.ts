import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parsePrometheusText } from '../../../test/integration/prom-text.ts';
import { SqliteStore, StoreUnavailableError, type OrderStore } from '../src/store.ts';
import { auth, call, eventually, ManualClock, TOKEN, useApp } from './helpers.ts';

const start = useApp();

const order = { item: 'widget', quantity: 3 };

/** A store whose every method fails with the given error. */
function failingStore(make: () => Error): (dir: string) => OrderStore {
  return () => ({
    insert: () => {
      throw make();
    },
    get: () => {
      throw make();
    },
    ping: () => {
      throw make();
    },
    close: () => {},
  });
}

describe('GET /', () => {
  test('answers version, region and failure rate as JSON', async () => {
    const { url } = await start({ config: { version: 'v7', region: 'eu-west', failureRate: 0.25 } });
    const res = await call(url + '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.json).toEqual({ status: 'ok', version: 'v7', region: 'eu-west', failure_rate: 0.25 });
  });

  test('ignores the failure rate and database faults', async () => {
    const h = await start({ config: { failureRate: 1 } });
    h.rng.value = 0;
    h.faults.add({ kind: 'db_unavailable', durationMs: 60_000 });
    expect((await call(h.url + '/')).status).toBe(200);
  });
});

describe('GET /health', () => {
  test.each([
    [0.3, 0.1, 503],
    [0.3, 0.5, 200],
    [0.3, 0.3, 200],
    [0, 0, 200],
    [1, 0.999, 503],
  ])('with FAILURE_RATE %d and rng %d answers %d', async (rate, r, status) => {
    const h = await start({ config: { failureRate: rate } });
    h.rng.value = r;
    const res = await call(h.url + '/health');
    expect(res.status).toBe(status);
    expect(res.json).toEqual(
      status === 200
        ? { status: 'healthy', version: 'v1', region: 'us-west' }
        : { status: 'unhealthy', version: 'v1', region: 'us-west', reason: 'injected failure' },
    );
  });

  test('is 503 when the data directory cannot hold a database', async () => {
    const h = await start({
      store: (dir) => {
        const notADir = join(dir, 'file');
        writeFileSync(notADir, 'x');
        return new SqliteStore(notADir);
      },
    });
    const res = await call(h.url + '/health');
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ status: 'unhealthy', reason: 'database unavailable' });
    const write = await call(h.url + '/api/orders', { body: order });
    expect(write.status).toBe(503);
    expect(write.json).toEqual({ error: 'database unavailable' });
  });
});

describe('orders', () => {
  test('POST stores the order and GET reads it back with the whole body', async () => {
    const clock = new ManualClock(Date.UTC(2030, 4, 6, 7, 8, 9));
    const h = await start({ clock });
    const body = { item: 'widget', quantity: 3, note: 'extra', tags: ['a'] };
    const created = await call(h.url + '/api/orders', { body });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ id: 1, region: 'us-west', version: 'v1' });
    const second = await call(h.url + '/api/orders', { body: { item: 'gadget', quantity: 1 } });
    expect(second.json.id).toBe(2);
    const read = await call(h.url + '/api/orders/1');
    expect(read.status).toBe(200);
    expect(read.json).toEqual({
      id: 1,
      item: 'widget',
      quantity: 3,
      data: body,
      created_at: '2030-05-06T07:08:09.000Z',
      region: 'us-west',
      version: 'v1',
    });
  });

  test('GET of an id never written is 404', async () => {
    const h = await start();
    const res = await call(h.url + '/api/orders/42');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: 'not found' });
  });

  test.each(['abc', '0', '-1', '1.5', '01', '1e3', '99999999999999999999'])('GET /api/orders/%s is 400', async (id) => {
    const h = await start();
    const res = await call(`${h.url}/api/orders/${id}`);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: '"id" must be a positive integer' });
  });

  test.each([
    ['{"item":', 'body must be valid JSON'],
    ['', 'body must be valid JSON'],
    ['[]', 'body must be a JSON object'],
    ['null', 'body must be a JSON object'],
    ['"widget"', 'body must be a JSON object'],
    [{ quantity: 1 }, '"item" must be a non-empty string of at most 200 characters'],
    [{ item: '', quantity: 1 }, '"item" must be a non-empty string'],
    [{ item: 7, quantity: 1 }, '"item" must be a non-empty string'],
    [{ item: 'x'.repeat(201), quantity: 1 }, '"item" must be a non-empty string of at most 200 characters'],
    [{ item: 'x' }, '"quantity" must be an integer between 1 and 1000000'],
    [{ item: 'x', quantity: 0 }, '"quantity" must be an integer between 1 and 1000000'],
    [{ item: 'x', quantity: 1.5 }, '"quantity" must be an integer'],
    [{ item: 'x', quantity: '2' }, '"quantity" must be an integer'],
    [{ item: 'x', quantity: 1_000_001 }, '"quantity" must be an integer between 1 and 1000000'],
  ])('POST %j is 400: %s', async (body, message) => {
    const h = await start();
    const res = await call(h.url + '/api/orders', { method: 'POST', body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(String(res.json.error)).toContain(message);
    expect(h.store.inserts).toBe(0);
  });

  test('the limits themselves are accepted: 200 characters (code points), quantity 1000000', async () => {
    const h = await start();
    const res = await call(h.url + '/api/orders', { body: { item: '🦊'.repeat(200), quantity: 1_000_000 } });
    expect(res.status).toBe(201);
  });

  test('a body of 64 KiB is accepted and one byte more is 413', async () => {
    const h = await start();
    const fill = (size: number) => {
      const text = JSON.stringify({ item: 'big', quantity: 1, pad: '' });
      return text.replace('"pad":""', `"pad":"${'x'.repeat(size - text.length)}"`);
    };
    expect(Buffer.byteLength(fill(65536))).toBe(65536);
    expect((await call(h.url + '/api/orders', { body: fill(65536) })).status).toBe(201);
    const res = await call(h.url + '/api/orders', { body: fill(65537) });
    expect(res.status).toBe(413);
    expect(res.json).toEqual({ error: 'body must be at most 65536 bytes' });
    // A much larger body still gets its answer rather than a reset connection.
    expect((await call(h.url + '/api/orders', { body: fill(4 * 1024 * 1024) })).status).toBe(413);
    expect(h.store.inserts).toBe(1);
  });

  test('a chunked body without a length is cut off at 64 KiB too', async () => {
    const h = await start();
    const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(h.url + '/api/orders', { method: 'POST', body: stream, duplex: 'half' });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/json');
  });
});

describe('failure rate on data endpoints', () => {
  test('an injected 503 on POST never writes', async () => {
    const h = await start({ config: { failureRate: 0.3 } });
    h.rng.value = 0.1;
    const failed = await call(h.url + '/api/orders', { body: order });
    expect(failed.status).toBe(503);
    expect(failed.json).toEqual({ error: 'injected failure' });
    expect(h.store.inserts).toBe(0);
    h.rng.value = 0.5;
    const ok = await call(h.url + '/api/orders', { body: order });
    expect(ok.status).toBe(201);
    // The failed write consumed no id: nothing was inserted.
    expect(ok.json.id).toBe(1);
  });

  test('GET of an order is subject to it too', async () => {
    const h = await start({ config: { failureRate: 0.3 } });
    h.rng.value = 0.5;
    await call(h.url + '/api/orders', { body: order });
    h.rng.value = 0.29;
    expect((await call(h.url + '/api/orders/1')).json).toEqual({ error: 'injected failure' });
    h.rng.value = 0.3;
    expect((await call(h.url + '/api/orders/1')).status).toBe(200);
  });
});

describe('errors', () => {
  test('unknown routes are 404 JSON with the path', async () => {
    const h = await start();
    for (const path of ['/nope', '/api/orders/1/items', '/health/', '/api']) {
      const res = await call(`${h.url}${path}?q=1`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.json).toEqual({ error: 'not found', path });
    }
  });

  test.each([
    ['POST', '/', 'GET'],
    ['DELETE', '/health', 'GET'],
    ['POST', '/metrics', 'GET'],
    ['GET', '/api/orders', 'POST'],
    ['PUT', '/api/orders/1', 'GET'],
    ['PUT', '/faults', 'GET, POST, DELETE'],
  ])('%s %s is 405 with Allow: %s', async (method, path, allow) => {
    const h = await start();
    const res = await call(h.url + path, { method, headers: auth });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.json).toEqual({ error: 'method not allowed' });
  });

  test('an unexpected error is a 500 without details, logged as one line', async () => {
    const h = await start({ store: failingStore(() => new TypeError('secret detail: cannot read x of undefined')) });
    for (const res of [
      await call(h.url + '/api/orders/1'),
      await call(h.url + '/api/orders', { body: order }),
      await call(h.url + '/health'),
    ]) {
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ error: 'internal error' });
      expect(res.text).not.toMatch(/secret|TypeError|\bat\b/);
    }
    expect(h.logs).toHaveLength(3);
    for (const line of h.logs) {
      expect(line).toContain('secret detail');
      expect(line).not.toContain('\n');
    }
    // The service keeps serving after it.
    expect((await call(h.url + '/')).status).toBe(200);
  });

  test('a database error is 503, never 201', async () => {
    const h = await start({ store: failingStore(() => new StoreUnavailableError('disk I/O error')) });
    const res = await call(h.url + '/api/orders', { body: order });
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ error: 'database unavailable' });
    expect((await call(h.url + '/api/orders/1')).status).toBe(503);
    expect(h.logs).toEqual([]);
  });
});

describe('GET /metrics', () => {
  test('exposes every metric with its labels and counts what happened', async () => {
    const h = await start({ config: { region: 'ap-south', version: 'v9', failureRate: 0.3 } });
    const before = parsePrometheusText((await call(h.url + '/metrics')).text).samples;
    expect(before.find((s) => s.name === 'service_errors_total')).toEqual({
      name: 'service_errors_total',
      labels: { region: 'ap-south', version: 'v9' },
      value: 0,
    });

    await call(h.url + '/health');
    await call(h.url + '/api/orders', { body: order });
    await call(h.url + '/api/orders/1');
    await call(h.url + '/nowhere/1');
    h.rng.value = 0.1;
    await call(h.url + '/health');
    await call(h.url + '/api/orders/1');

    const res = await call(h.url + '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const { samples, types } = parsePrometheusText(res.text);
    expect(Object.fromEntries([...types].filter(([name]) => !/^(process|nodejs)_/.test(name)))).toEqual({
      service_up: 'gauge',
      service_info: 'gauge',
      http_requests_total: 'counter',
      http_request_duration_seconds: 'histogram',
      http_requests_in_flight: 'gauge',
      service_errors_total: 'counter',
      db_operation_duration_seconds: 'histogram',
    });
    const find = (name: string, labels: Record<string, string> = {}) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    const id = { region: 'ap-south', version: 'v9' };
    expect(find('service_up')).toEqual([{ name: 'service_up', labels: id, value: 1 }]);
    expect(find('service_info')).toEqual([{ name: 'service_info', labels: id, value: 1 }]);
    const count = (route: string, status: string, method = 'GET') =>
      find('http_requests_total', { ...id, method, route, status })[0]?.value;
    expect(count('/health', '200')).toBe(1);
    expect(count('/health', '503')).toBe(1);
    expect(count('/api/orders', '201', 'POST')).toBe(1);
    expect(count('/api/orders/:id', '200')).toBe(1);
    expect(count('/api/orders/:id', '503')).toBe(1);
    expect(count('unmatched', '404')).toBe(1);
    expect(count('/metrics', '200')).toBe(1);
    for (const s of find('http_requests_total'))
      expect(Object.keys(s.labels).sort()).toEqual(['method', 'region', 'route', 'status', 'version']);
    expect(find('service_errors_total')).toEqual([{ name: 'service_errors_total', labels: id, value: 2 }]);

    const buckets = find('http_request_duration_seconds_bucket', { route: '/health' });
    expect(buckets.map((s) => s.labels.le)).toEqual([
      '0.001',
      '0.0025',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '+Inf',
    ]);
    expect(Object.keys(buckets[0]?.labels ?? {}).sort()).toEqual(['le', 'region', 'route', 'version']);
    expect(find('http_request_duration_seconds_count', { route: '/health' })[0]?.value).toBe(2);
    expect(find('db_operation_duration_seconds_count', { operation: 'insert' })[0]?.value).toBe(1);
    expect(find('db_operation_duration_seconds_count', { operation: 'select' })[0]?.value).toBe(1);
    expect(Object.keys(find('db_operation_duration_seconds_bucket')[0]?.labels ?? {}).sort()).toEqual([
      'le',
      'operation',
      'region',
      'version',
    ]);
    // The scrape itself is the only request in flight.
    expect(find('http_requests_in_flight')[0]?.value).toBe(1);
  });
});

describe('/faults', () => {
  test('is 404 for every method when FAULT_TOKEN is empty', async () => {
    const h = await start({ config: { faultToken: '' } });
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await call(h.url + '/faults', { method, headers: { authorization: 'Bearer ' } });
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ error: 'fault injection disabled' });
    }
  });

  test.each([
    [{}],
    [{ authorization: 'Bearer wrong' }],
    [{ authorization: `Bearer ${TOKEN}x` }],
    [{ authorization: `Basic ${TOKEN}` }],
    [{ authorization: TOKEN }],
  ])('is 401 with headers %j', async (headers) => {
    const h = await start();
    const res = await call(h.url + '/faults', { method: 'POST', headers, body: { kind: 'cpu', duration_ms: 1000 } });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'unauthorized' });
    expect(h.faults.list()).toEqual([]);
  });

  test('POST adds, GET lists, DELETE lifts them all', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const h = await start({ clock });
    const added = await call(h.url + '/faults', {
      headers: { authorization: `bearer  ${TOKEN}` },
      body: { kind: 'failure_rate', duration_ms: 60_000, rate: 1 },
    });
    expect(added.status).toBe(202);
    expect(added.json).toEqual({ id: 1, kind: 'failure_rate', expires_at: '2030-01-01T00:01:00.000Z' });
    await call(h.url + '/faults', { headers: auth, body: { kind: 'db_unavailable', duration_ms: 30_000 } });
    const listed = await call(h.url + '/faults', { headers: auth });
    expect(listed.json).toEqual({
      faults: [
        { id: 1, kind: 'failure_rate', expires_at: '2030-01-01T00:01:00.000Z', duration_ms: 60_000, rate: 1 },
        { id: 2, kind: 'db_unavailable', expires_at: '2030-01-01T00:00:30.000Z', duration_ms: 30_000 },
      ],
    });
    const lifted = await call(h.url + '/faults', { method: 'DELETE', headers: auth });
    expect(lifted.json).toEqual({ lifted: 2 });
    expect((await call(h.url + '/faults', { headers: auth })).json).toEqual({ faults: [] });
    expect((await call(h.url + '/health')).status).toBe(200);
  });

  test('a bad fault body is 400 naming the field', async () => {
    const h = await start();
    const res = await call(h.url + '/faults', { headers: auth, body: { kind: 'latency', duration_ms: 1000 } });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: '"delay_ms" must be an integer between 0 and 60000' });
    expect((await call(h.url + '/faults', { headers: auth, body: '{' })).status).toBe(400);
  });

  test('a fault lifts itself after duration_ms', async () => {
    const h = await start();
    const res = await call(h.url + '/faults', {
      headers: auth,
      body: { kind: 'failure_rate', duration_ms: 300, rate: 1 },
    });
    expect(res.status).toBe(202);
    expect((await call(h.url + '/health')).status).toBe(503);
    const healed = await eventually(async () => (await call(h.url + '/health')).status === 200);
    expect(healed).toBe(true);
    expect((await call(h.url + '/faults', { headers: auth })).json).toEqual({ faults: [] });
  });

  test('a failure_rate fault overrides FAILURE_RATE on /health and data endpoints, not on /', async () => {
    const h = await start({ config: { failureRate: 0 } });
    h.rng.value = 0.6;
    await call(h.url + '/faults', { headers: auth, body: { kind: 'failure_rate', duration_ms: 60_000, rate: 0.7 } });
    expect((await call(h.url + '/health')).status).toBe(503);
    expect((await call(h.url + '/api/orders', { body: order })).status).toBe(503);
    expect((await call(h.url + '/api/orders/1')).status).toBe(503);
    expect((await call(h.url + '/')).json).toMatchObject({ status: 'ok', failure_rate: 0 });
    expect(h.store.inserts).toBe(0);
  });

  test('db_unavailable fails every database operation with 503 until lifted', async () => {
    const h = await start();
    await call(h.url + '/api/orders', { body: order });
    await call(h.url + '/faults', { headers: auth, body: { kind: 'db_unavailable', duration_ms: 60_000 } });
    const write = await call(h.url + '/api/orders', { body: order });
    expect(write.status).toBe(503);
    expect(write.json).toEqual({ error: 'database unavailable' });
    expect((await call(h.url + '/api/orders/1')).json).toEqual({ error: 'database unavailable' });
    expect((await call(h.url + '/health')).json).toMatchObject({ status: 'unhealthy', reason: 'database unavailable' });
    expect(h.store.inserts).toBe(1);
    await call(h.url + '/faults', { method: 'DELETE', headers: auth });
    expect((await call(h.url + '/api/orders', { body: order })).json.id).toBe(2);
  });

  test('latency delays requests but not /metrics or /faults', async () => {
    const h = await start();
    await call(h.url + '/faults', { headers: auth, body: { kind: 'latency', duration_ms: 60_000, delay_ms: 400 } });
    const timed = async (path: string, init?: Parameters<typeof call>[1]) => {
      const t0 = performance.now();
      const res = await call(h.url + path, init);
      return { status: res.status, ms: performance.now() - t0 };
    };
    for (const path of ['/', '/health', '/nowhere']) {
      expect((await timed(path)).ms).toBeGreaterThanOrEqual(390);
    }
    expect((await timed('/metrics')).ms).toBeLessThan(390);
    expect((await timed('/faults', { headers: auth })).ms).toBeLessThan(390);
    await call(h.url + '/faults', { method: 'DELETE', headers: auth });
    expect((await timed('/')).ms).toBeLessThan(390);
  });
});
