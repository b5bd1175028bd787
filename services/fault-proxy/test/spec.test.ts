import { describe, expect, test } from 'vitest';
import { parseToxicSpec } from '../src/spec.ts';

const routes = ['api', 'db', 'db'];

describe('parseToxicSpec', () => {
  test.each([
    [
      { kind: 'latency', delay_ms: 200 },
      { kind: 'latency', delay_ms: 200, jitter_ms: 0 },
    ],
    [
      { kind: 'latency', delay_ms: 0, jitter_ms: 60_000 },
      { kind: 'latency', delay_ms: 0, jitter_ms: 60_000 },
    ],
    [{ kind: 'http_error' }, { kind: 'http_error', status: 503, share: 1 }],
    [
      { kind: 'http_error', status: 500, share: 0.25, first_n: 2 },
      { kind: 'http_error', status: 500, share: 0.25, first_n: 2 },
    ],
    [{ kind: 'reset' }, { kind: 'reset', share: 1 }],
    [
      { kind: 'timeout', share: 0 },
      { kind: 'timeout', share: 0 },
    ],
    [
      { kind: 'bandwidth', rate_kbps: 1_000_000 },
      { kind: 'bandwidth', rate_kbps: 1_000_000 },
    ],
  ])('accepts %j with its defaults', (body, expected) => {
    const result = parseToxicSpec({ route: 'api', duration_ms: 600_000, ...body }, routes);
    expect(result).toEqual({ ok: true, spec: { route: 'api', duration_ms: 600_000, ...expected } });
  });

  test('names each route once in its refusal', () => {
    expect(parseToxicSpec({ route: 'x', kind: 'reset', duration_ms: 1 }, routes)).toEqual({
      ok: false,
      error: '"route" must be the name of a route: one of api, db',
    });
  });
});
