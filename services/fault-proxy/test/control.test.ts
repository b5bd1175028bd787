import { describe, expect, test } from 'vitest';
import { get, ManualClock, startProxy, tcpUpstream } from './helpers.ts';

async function harness(clock?: ManualClock) {
  const echo = await tcpUpstream();
  return startProxy(
    ['api', 'db', 'db'].map((name) => ({ name, upstream_port: echo })),
    { clock },
  );
}

const post = (url: string, body: unknown) =>
  get(`${url}/toxics`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
const json = (body: string): Record<string, unknown> => JSON.parse(body) as Record<string, unknown>;
const ok = { route: 'api', kind: 'latency', duration_ms: 1000, delay_ms: 10 };

describe('the control API', () => {
  test('GET /healthz and GET /routes', async () => {
    const h = await harness();
    expect(await get(`${h.control}/healthz`)).toMatchObject({ status: 200, body: '{"ok":true}' });
    const { routes } = json((await get(`${h.control}/routes`)).body) as { routes: Record<string, unknown>[] };
    expect(routes.map((r) => r.name)).toEqual(['api', 'db', 'db']);
    expect(routes[0]).toEqual({
      name: 'api',
      listen_port: h.port(0),
      upstream_host: '127.0.0.1',
      upstream_port: expect.any(Number),
      connections: 0,
      requests: 0,
      errors_upstream: 0,
    });
  });

  test('POST, GET, DELETE one and DELETE all', async () => {
    const clock = new ManualClock();
    const h = await harness(clock);
    const created = await post(h.control, { ...ok, jitter_ms: 5 });
    expect(created.status).toBe(201);
    expect(json(created.body)).toEqual({
      id: 1,
      route: 'api',
      kind: 'latency',
      delay_ms: 10,
      jitter_ms: 5,
      duration_ms: 1000,
      created_at: '2030-01-01T00:00:00.000Z',
      expires_at: '2030-01-01T00:00:01.000Z',
      expires_in_ms: 1000,
      affected: 0,
    });
    await post(h.control, { route: 'db', kind: 'reset', duration_ms: 5000 });
    clock.advance(400);
    const listed = json((await get(`${h.control}/toxics`)).body).toxics as Record<string, unknown>[];
    expect(listed.map((t) => [t.id, t.expires_in_ms, t.affected])).toEqual([
      [1, 600, 0],
      [2, 4600, 0],
    ]);
    expect(json((await get(`${h.control}/toxics/1`, { method: 'DELETE' })).body)).toMatchObject({ id: 1, affected: 0 });
    expect((await get(`${h.control}/toxics/1`, { method: 'DELETE' })).status).toBe(404);
    expect(json((await get(`${h.control}/toxics`, { method: 'DELETE' })).body)).toEqual({ lifted: 1 });
    expect(json((await get(`${h.control}/toxics`)).body)).toEqual({ toxics: [] });
  });

  test('an expired toxic is gone from GET /toxics and cannot be deleted', async () => {
    const clock = new ManualClock();
    const h = await harness(clock);
    await post(h.control, ok);
    clock.advance(1000);
    expect(json((await get(`${h.control}/toxics`)).body)).toEqual({ toxics: [] });
    expect((await get(`${h.control}/toxics/1`, { method: 'DELETE' })).status).toBe(404);
  });

  test.each([
    ['not JSON', '{"route":', 'body must be valid UTF-8 JSON'],
    ['an array', [], 'body must be a JSON object'],
    [
      'no kind',
      { route: 'api', duration_ms: 1 },
      '"kind" must be one of latency, http_error, reset, timeout, bandwidth',
    ],
    [
      'an unknown kind',
      { ...ok, kind: 'explode' },
      '"kind" must be one of latency, http_error, reset, timeout, bandwidth',
    ],
    ['an unknown route', { ...ok, route: 'cache' }, '"route" must be the name of a route: one of api, db'],
    ['no route', { kind: 'reset', duration_ms: 1 }, '"route" must be the name of a route: one of api, db'],
    ['no duration', { route: 'api', kind: 'reset' }, '"duration_ms" is required: an integer between 1 and 600000'],
    ['duration 0', { ...ok, duration_ms: 0 }, '"duration_ms" must be an integer between 1 and 600000'],
    ['duration 600001', { ...ok, duration_ms: 600_001 }, '"duration_ms" must be an integer between 1 and 600000'],
    ['duration as a string', { ...ok, duration_ms: '1000' }, '"duration_ms" must be an integer between 1 and 600000'],
    ['no delay', { ...ok, delay_ms: undefined }, '"delay_ms" is required: an integer between 0 and 60000'],
    ['delay -1', { ...ok, delay_ms: -1 }, '"delay_ms" must be an integer between 0 and 60000'],
    ['jitter 60001', { ...ok, jitter_ms: 60_001 }, '"jitter_ms" must be an integer between 0 and 60000'],
    [
      'status 499',
      { route: 'api', kind: 'http_error', duration_ms: 1, status: 499 },
      '"status" must be an integer between 500 and 599',
    ],
    [
      'status 503.5',
      { route: 'api', kind: 'http_error', duration_ms: 1, status: 503.5 },
      '"status" must be an integer between 500 and 599',
    ],
    [
      'share 1.1',
      { route: 'api', kind: 'reset', duration_ms: 1, share: 1.1 },
      '"share" must be a number between 0 and 1',
    ],
    [
      'share null',
      { route: 'api', kind: 'timeout', duration_ms: 1, share: null },
      '"share" must be a number between 0 and 1',
    ],
    [
      'first_n 0',
      { route: 'api', kind: 'http_error', duration_ms: 1, first_n: 0 },
      '"first_n" must be an integer of at least 1',
    ],
    [
      'rate 0',
      { route: 'api', kind: 'bandwidth', duration_ms: 1, rate_kbps: 0 },
      '"rate_kbps" must be an integer between 1 and 1000000',
    ],
    [
      'no rate',
      { route: 'api', kind: 'bandwidth', duration_ms: 1 },
      '"rate_kbps" is required: an integer between 1 and 1000000',
    ],
    [
      'a misspelt field',
      { ...ok, delay: 10 },
      '"delay" is not a field of a latency toxic (fields: duration_ms, delay_ms, jitter_ms)',
    ],
    [
      'a field of another kind',
      { ...ok, share: 1 },
      '"share" is not a field of a latency toxic (fields: duration_ms, delay_ms, jitter_ms)',
    ],
    ['a body over 16 KiB', { ...ok, pad: 'x'.repeat(16 * 1024) }, 'body must be at most 16384 bytes'],
  ])('POST /toxics with %s is 400', async (_what, body, error) => {
    const h = await harness();
    const res = await post(h.control, body);
    expect([res.status, json(res.body)]).toEqual([400, { error }]);
    expect(h.toxics.list()).toEqual([]);
  });

  test.each([
    ['GET', '/nope', 404, 'no such endpoint: /nope', undefined],
    ['GET', '/toxics/1/x', 404, 'no such endpoint: /toxics/1/x', undefined],
    ['DELETE', '/toxics/abc', 404, 'no active toxic with id "abc"', undefined],
    ['PUT', '/toxics', 405, 'PUT is not allowed on /toxics; use GET or POST or DELETE', 'GET, POST, DELETE'],
    ['GET', '/toxics/1', 405, 'GET is not allowed on /toxics/1; use DELETE', 'DELETE'],
    ['POST', '/healthz', 405, 'POST is not allowed on /healthz; use GET', 'GET'],
  ])('%s %s is %d', async (method, path, status, error, allow) => {
    const h = await harness();
    const res = await get(`${h.control}${path}`, { method });
    expect([res.status, json(res.body), res.headers.allow]).toEqual([status, { error }, allow]);
  });
});
