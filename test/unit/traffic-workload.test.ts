import { describe, expect, it, test } from 'vitest';
import { isError } from '../../src/analysis/observation.ts';
import type { ServicePlan } from '../../src/target/service.ts';
import { pickKind } from '../../src/traffic/mix.ts';
import type { AcknowledgedWrite } from '../../src/traffic/store.ts';
import {
  DEMO_WORKLOAD,
  TRAFFIC_ONLY_MIX,
  USER_MIX,
  isUnexpected,
  judgeProbeRead,
  parseIdField,
  pickEntry,
  renderBody,
  renderPath,
  routeOf,
  userWorkload,
  type DrawContext,
} from '../../src/traffic/workload.ts';

type Plan = Pick<ServicePlan, 'traffic' | 'probe' | 'health'>;

const PLAN: Plan = {
  health: { path: '/healthz', expectStatus: [200] },
  traffic: [
    { method: 'GET', path: '/api/items', expectStatus: [200], weight: 3 },
    { method: 'GET', path: '/api/teapot', expectStatus: [200], weight: 1 },
  ],
  probe: {
    write: {
      method: 'POST',
      path: '/api/items',
      body: { name: 'cg-{{ uuid }}', tags: ['{{ uuid }}', 'x'], count: 1 },
      expectStatus: [201],
      id: 'id',
    },
    read: { method: 'GET', path: '/api/items/{{ id }}', expectStatus: [200] },
  },
};

/** uuids u-1, u-2, ... so rendered requests are exact. */
function counter(): () => string {
  let n = 0;
  return () => `u-${++n}`;
}

function write(id: string | number, extra: Partial<AcknowledgedWrite> = {}): AcknowledgedWrite {
  return { id, region: 'us-west', cohort: 'canary', version: 'v2', at: 0, ...extra };
}

function context(draw: number, writes: readonly AcknowledgedWrite[] = [], seq = 1): DrawContext {
  return { random: () => draw, writes, seq };
}

describe('pure parts', () => {
  test.each([
    { weights: [1, 3], u: 0, picked: 0 },
    { weights: [1, 3], u: 0.24, picked: 0 },
    { weights: [1, 3], u: 0.25, picked: 1 },
    { weights: [1, 3], u: 0.999, picked: 1 },
    { weights: [0, 1], u: 0, picked: 1 },
    { weights: [2], u: 0.5, picked: 0 },
    { weights: [1, 1, 2], u: 0.5, picked: 2 },
  ])('pickEntry($weights, $u) is entry $picked', ({ weights, u, picked }) => {
    const entries = weights.map((weight, i) => ({ weight, i }));
    expect(pickEntry(entries, u).i).toBe(picked);
  });

  test.each([
    { path: '/api/items/{{ id }}', values: { id: 42 }, out: '/api/items/42' },
    { path: '/api/items/{{id}}', values: { id: 'a b/c?d' }, out: '/api/items/a%20b%2Fc%3Fd' },
    { path: '/api/items/{{ uuid }}?x={{ uuid }}', values: { uuid: 'u-1' }, out: '/api/items/u-1?x=u-1' },
    { path: '/api/items/{{ id }}', values: { uuid: 'u-1' }, out: '/api/items/{{ id }}' },
    { path: '/api/{{ other }}/{{ id }}', values: { id: 7 }, out: '/api/{{ other }}/7' },
    { path: '/health', values: { id: 7, uuid: 'u' }, out: '/health' },
  ])('renderPath($path)', ({ path, values, out }) => {
    expect(renderPath(path, values)).toBe(out);
  });

  test.each([
    {
      body: { name: 'cg-{{ uuid }}', n: 1, ok: true, none: null },
      values: { uuid: 'u-1' },
      out: { name: 'cg-u-1', n: 1, ok: true, none: null },
    },
    {
      body: { a: { b: ['{{ uuid }}', 2, { c: '{{ uuid }}' }] } },
      values: { uuid: 'u-2' },
      out: { a: { b: ['u-2', 2, { c: 'u-2' }] } },
    },
    { body: { id: '{{ id }}', label: 'id {{ id }}' }, values: { id: 42 }, out: { id: 42, label: 'id 42' } },
    { body: { id: '{{ id }}' }, values: { id: 'a/b' }, out: { id: 'a/b' } },
    { body: { id: '{{ id }}', k: '{{ uuid }}' }, values: {}, out: { id: '{{ id }}', k: '{{ uuid }}' } },
    { body: '{{ uuid }}', values: { uuid: 'u-3' }, out: 'u-3' },
    { body: 5, values: { uuid: 'u' }, out: 5 },
  ])('renderBody($body)', ({ body, values, out }) => {
    expect(renderBody(body, values)).toEqual(out);
  });

  test.each([
    { text: '{"id":5}', field: 'id', id: 5 },
    { text: '{"id":"3f2b-uuid"}', field: 'id', id: '3f2b-uuid' },
    { text: '{"data":{"item":{"id":"x"}}}', field: 'data.item.id', id: 'x' },
    { text: '{"id":""}', field: 'id', id: undefined },
    { text: '{"id":null}', field: 'id', id: undefined },
    { text: '{"id":{"a":1}}', field: 'id', id: undefined },
    { text: '{"id":[1]}', field: 'id', id: undefined },
    { text: '{"data":[{"id":1}]}', field: 'data.0.id', id: undefined },
    { text: '{"other":1}', field: 'id', id: undefined },
    { text: '{}', field: 'constructor', id: undefined },
    { text: 'created', field: 'id', id: undefined },
    { text: '', field: 'id', id: undefined },
    { text: 'null', field: 'id', id: undefined },
  ])('parseIdField($text, $field) is $id', ({ text, field, id }) => {
    expect(parseIdField(text, field)).toBe(id);
  });

  test.each([
    { status: 200, uuids: ['u-1'], text: '{"name":"cg-u-1"}', outcome: 'ok' },
    { status: 200, uuids: [], text: '{}', outcome: 'ok' },
    { status: 200, uuids: ['u-1', 'u-2'], text: '{"name":"cg-u-1"}', outcome: 'missing' },
    { status: 200, uuids: ['u-1'], text: '{"name":"garbled"}', outcome: 'missing' },
    { status: 404, uuids: ['u-1'], text: '', outcome: 'missing' },
    { status: 410, uuids: ['u-1'], text: 'gone', outcome: 'missing' },
    { status: 503, uuids: ['u-1'], text: 'busy', outcome: 'retry' },
    { status: 204, uuids: ['u-1'], text: '', outcome: 'retry' },
  ])('a probe read-back answering $status with $text is $outcome', ({ status, uuids, text, outcome }) => {
    expect(judgeProbeRead([200], uuids, { status, text })).toBe(outcome);
  });

  test.each([
    { expect: [200], status: 200, unexpected: false },
    { expect: [200, 204], status: 204, unexpected: false },
    { expect: [200], status: 404, unexpected: true },
    { expect: [200], status: 503, unexpected: true },
    { expect: [200], status: 0, unexpected: false },
  ])('status $status against $expect: unexpected $unexpected', ({ expect: expectStatus, status, unexpected }) => {
    expect(isUnexpected({ expectStatus }, status)).toBe(unexpected);
  });

  test.each([
    { status: 200, unexpected: undefined, error: false },
    { status: 404, unexpected: undefined, error: false },
    { status: 404, unexpected: true as const, error: true },
    { status: 503, unexpected: undefined, error: true },
    { status: 0, unexpected: undefined, error: true },
  ])('isError: status $status, unexpected $unexpected', ({ status, unexpected, error }) => {
    expect(isError({ status, ...(unexpected ? { unexpected } : {}) })).toBe(error);
  });

  test.each([
    { u: 0, haveWrites: true, kind: 'health' },
    { u: 0.69, haveWrites: true, kind: 'health' },
    { u: 0.7, haveWrites: true, kind: 'write' },
    { u: 0.849, haveWrites: true, kind: 'write' },
    { u: 0.85, haveWrites: true, kind: 'read' },
    { u: 0.85, haveWrites: false, kind: 'write' },
  ])('the user mix draws $kind at $u (writes: $haveWrites)', ({ u, haveWrites, kind }) => {
    expect(pickKind(USER_MIX, u, haveWrites)).toBe(kind);
  });

  it('names a user route by its method and path template', () => {
    expect(routeOf({ method: 'GET', path: '/api/items/{{ id }}' })).toBe('GET /api/items/{{ id }}');
  });
});

describe('the demo workload', () => {
  test.each([
    { kind: 'health' as const, route: '/health', method: 'GET', path: '/health', body: undefined },
    {
      kind: 'write' as const,
      route: '/api/orders',
      method: 'POST',
      path: '/api/orders',
      body: '{"item":"cg-7","quantity":8}',
    },
    { kind: 'read' as const, route: '/api/orders/:id', method: 'GET', path: '/api/orders/12', body: undefined },
  ])("sends today's $kind request", ({ kind, route, method, path, body }) => {
    const out = DEMO_WORKLOAD.request(kind, context(0.5, [write(11), write(12)], 7));
    expect({ route: out.route, method: out.method, path: out.path, body: out.body }).toEqual({
      route,
      method,
      path,
      body,
    });
  });

  it("keeps today's mix", () => {
    expect(DEMO_WORKLOAD.mix).toEqual({ health: 0.4, write: 0.3, read: 0.3 });
  });

  test.each([
    { status: 201, text: '{"id":3}', acknowledged: { id: 3, item: 'cg-7' } },
    { status: 201, text: '{"id":"3"}', acknowledged: undefined },
    { status: 201, text: 'not json', acknowledged: undefined },
    { status: 200, text: '{"id":3}', acknowledged: undefined },
    { status: 503, text: '', acknowledged: undefined },
  ])('acknowledges a write answering $status $text: $acknowledged', ({ status, text, acknowledged }) => {
    const verdict = DEMO_WORKLOAD.request('write', context(0, [], 7)).settle({ status, text });
    expect(verdict).toEqual({ unexpected: false, missing: false, ...(acknowledged ? { acknowledged } : {}) });
  });

  test.each([
    { status: 404, missing: true },
    { status: 200, missing: false },
    { status: 410, missing: false },
    { status: 400, missing: false },
  ])('counts a read answering $status as missing: $missing, never unexpected', ({ status, missing }) => {
    expect(DEMO_WORKLOAD.request('read', context(0, [write(1)])).settle({ status, text: '' })).toEqual({
      unexpected: false,
      missing,
    });
  });

  test.each([
    { status: 200, text: '{"item":"cg-1"}', outcome: 'ok' },
    { status: 200, text: '{"item":"cg-2"}', outcome: 'missing' },
    { status: 200, text: '{}', outcome: 'missing' },
    { status: 200, text: 'half a bo', outcome: 'retry' },
    { status: 404, text: '', outcome: 'missing' },
    { status: 503, text: '', outcome: 'retry' },
  ])('reads back an order answering $status $text as $outcome', ({ status, text, outcome }) => {
    const spec = DEMO_WORKLOAD.readBack;
    expect(spec?.request(write(5, { item: 'cg-1' }))).toEqual({
      method: 'GET',
      path: '/api/orders/5',
      body: undefined,
    });
    expect(spec?.judge(write(5, { item: 'cg-1' }), { status, text })).toBe(outcome);
  });
});

describe("a user's workload", () => {
  it('sends the traffic entries by weight, each with a fresh uuid, named by method and path template', () => {
    const uuid = counter();
    const workload = userWorkload(
      {
        ...PLAN,
        traffic: [
          ...PLAN.traffic,
          {
            method: 'PUT',
            path: '/api/things/{{ uuid }}',
            body: { id: '{{ uuid }}' },
            expectStatus: [200, 201],
            weight: 4,
          },
        ],
      },
      uuid,
    );
    expect(workload.mix).toEqual(USER_MIX);
    const first = workload.request('health', context(0));
    expect([first.route, first.method, first.path, first.body]).toEqual([
      'GET /api/items',
      'GET',
      '/api/items',
      undefined,
    ]);
    expect(workload.request('health', context(0.4)).route).toBe('GET /api/teapot');
    const put = workload.request('health', context(0.9));
    expect([put.route, put.method, put.path, put.body]).toEqual([
      'PUT /api/things/{{ uuid }}',
      'PUT',
      '/api/things/u-3',
      '{"id":"u-3"}',
    ]);
    expect(put.settle({ status: 201, text: '' })).toEqual({ unexpected: false, missing: false });
    expect(put.settle({ status: 409, text: '' })).toEqual({ unexpected: true, missing: false });
    expect(put.settle({ status: 0, text: '' })).toEqual({ unexpected: false, missing: false });
  });

  test.each([
    {
      status: 201,
      text: '{"id":"a1"}',
      verdict: { unexpected: false, missing: false, acknowledged: { id: 'a1', uuids: ['u-1'] } },
    },
    {
      status: 201,
      text: '{"id":9}',
      verdict: { unexpected: false, missing: false, acknowledged: { id: 9, uuids: ['u-1'] } },
    },
    { status: 201, text: '{"name":"no id"}', verdict: { unexpected: false, missing: false } },
    { status: 200, text: '{"id":"a1"}', verdict: { unexpected: true, missing: false } },
    { status: 500, text: '{"id":"a1"}', verdict: { unexpected: true, missing: false } },
    { status: 0, text: '', verdict: { unexpected: false, missing: false } },
  ])('a probe write answering $status $text', ({ status, text, verdict }) => {
    const out = userWorkload(PLAN, counter()).request('write', context(0));
    expect([out.route, out.method, out.path]).toEqual(['POST /api/items', 'POST', '/api/items']);
    expect(JSON.parse(out.body ?? '')).toEqual({ name: 'cg-u-1', tags: ['u-1', 'x'], count: 1 });
    expect(out.settle({ status, text })).toEqual(verdict);
  });

  it('keeps no uuid for a write whose body holds none', () => {
    const probe = { ...PLAN.probe!, write: { ...PLAN.probe!.write, body: { name: 'fixed' } } };
    expect(
      userWorkload({ ...PLAN, probe }, counter())
        .request('write', context(0))
        .settle({ status: 201, text: '{"id":1}' }).acknowledged,
    ).toEqual({ id: 1, uuids: [] });
  });

  test.each([
    { status: 200, verdict: { unexpected: false, missing: false } },
    { status: 404, verdict: { unexpected: true, missing: true } },
    { status: 410, verdict: { unexpected: true, missing: true } },
    { status: 503, verdict: { unexpected: true, missing: false } },
  ])('a probe read answering $status', ({ status, verdict }) => {
    const out = userWorkload(PLAN, counter()).request('read', context(0.6, [write(1), write('a b/c')]));
    expect([out.route, out.method, out.path]).toEqual(['GET /api/items/{{ id }}', 'GET', '/api/items/a%20b%2Fc']);
    expect(out.settle({ status, text: '' })).toEqual(verdict);
  });

  it.each([
    ["no shared data: its own cohort's writes only", {}, 'baseline', '/api/items/b1'],
    ['no shared data: none of its own, so it writes', {}, 'canary', '/api/items'],
    ['a data volume shared by both', { data: { path: '/data' } }, 'canary', '/api/items/b1'],
    ['a shared dependency', { dependencies: '/repo/deps.yml' }, 'canary', '/api/items/b1'],
  ] as const)('a probe read with %s', (_what, shared, cohort, path) => {
    const out = userWorkload({ ...PLAN, ...shared }, counter()).request('read', {
      ...context(0.6, [write('b1', { cohort: 'baseline' })]),
      cohort,
    });
    expect(out.path).toBe(path);
  });

  it('writes when there is nothing to read yet', () => {
    expect(userWorkload(PLAN, counter()).request('read', context(0.6, [])).route).toBe('POST /api/items');
  });

  it('reads a write back by its id and wants its uuids', () => {
    const spec = userWorkload(PLAN, counter()).readBack;
    const w = write('id/7', { uuids: ['u-9'] });
    expect(spec?.request(w)).toEqual({ method: 'GET', path: '/api/items/id%2F7', body: undefined });
    expect(spec?.judge(w, { status: 200, text: '{"name":"cg-u-9"}' })).toBe('ok');
    expect(spec?.judge(w, { status: 200, text: '{"name":"cg-u-8"}' })).toBe('missing');
  });

  it('without a probe sends only its traffic, whatever the mix; without traffic its health check', () => {
    const workload = userWorkload({ ...PLAN, probe: undefined }, counter());
    expect(workload.mix).toEqual(TRAFFIC_ONLY_MIX);
    expect(workload.readBack).toBeUndefined();
    expect(
      ['health', 'write', 'read'].map((k) => workload.request(k as 'health', context(0, [write(1)])).route),
    ).toEqual(['GET /api/items', 'GET /api/items', 'GET /api/items']);
    const bare = userWorkload({ ...PLAN, traffic: [], probe: undefined }, counter()).request('health', context(0.3));
    expect([bare.route, bare.path]).toEqual(['GET /healthz', '/healthz']);
  });
});
