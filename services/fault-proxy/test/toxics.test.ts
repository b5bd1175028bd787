import { describe, expect, test } from 'vitest';
import type { ToxicSpec } from '../src/spec.ts';
import { toxicJson, Toxics, type Toxic } from '../src/toxics.ts';
import { ManualClock } from './helpers.ts';

function table(rngValues: number[] = [0.5]): { clock: ManualClock; toxics: Toxics } {
  const clock = new ManualClock();
  let i = 0;
  const toxics = new Toxics(clock, () => rngValues[Math.min(i++, rngValues.length - 1)] as number);
  return { clock, toxics };
}

const base = { route: 'api', duration_ms: 1000 };
const spec = (s: Record<string, unknown>): ToxicSpec => ({ ...base, ...s }) as ToxicSpec;

describe('the toxic table', () => {
  test('lifts a toxic by itself at its expiry, telling the listeners', () => {
    const { clock, toxics } = table();
    const lifted: Toxic[] = [];
    toxics.onLift((t) => lifted.push(t));
    const toxic = toxics.add(spec({ kind: 'reset', share: 1 }));
    clock.advance(999);
    expect(toxics.list().map((t) => t.id)).toEqual([toxic.id]);
    expect(toxicJson(toxic, clock.now())).toMatchObject({ expires_in_ms: 1, affected: 0, route: 'api', kind: 'reset' });
    clock.advance(1);
    expect(toxics.list()).toEqual([]);
    expect(lifted).toEqual([toxic]);
    expect(clock.pending).toBe(0);
    expect(toxics.verdict('api', 'tcp')).toEqual({ action: 'forward' });
  });

  test('lift and liftAll cancel the expiry and report what there was', () => {
    const { clock, toxics } = table();
    const a = toxics.add(spec({ kind: 'reset', share: 1 }));
    toxics.add(spec({ kind: 'timeout', share: 1 }));
    expect(toxics.lift(a.id)).toBe(a);
    expect(toxics.lift(a.id)).toBeUndefined();
    expect(toxics.liftAll()).toBe(1);
    expect(clock.pending).toBe(0);
  });

  test('toxicJson shows the parameters, times as ISO strings and the count', () => {
    const { clock, toxics } = table();
    const toxic = toxics.add(spec({ kind: 'http_error', status: 500, share: 1, first_n: 2 }));
    clock.advance(250);
    expect(toxicJson(toxic, clock.now())).toEqual({
      id: 1,
      route: 'api',
      kind: 'http_error',
      status: 500,
      share: 1,
      first_n: 2,
      duration_ms: 1000,
      created_at: '2030-01-01T00:00:00.000Z',
      expires_at: '2030-01-01T00:00:01.000Z',
      expires_in_ms: 750,
      affected: 0,
    });
  });
});

describe('verdicts', () => {
  test('apply reset, then timeout, then http_error, whatever order they came in', () => {
    const { toxics } = table();
    const error = toxics.add(spec({ kind: 'http_error', status: 503, share: 1 }));
    const timeout = toxics.add(spec({ kind: 'timeout', share: 1 }));
    const reset = toxics.add(spec({ kind: 'reset', share: 1 }));
    expect(toxics.verdict('api', 'http')).toEqual({ action: 'reset', toxic: reset });
    toxics.lift(reset.id);
    expect(toxics.verdict('api', 'http')).toEqual({ action: 'timeout', toxic: timeout });
    toxics.lift(timeout.id);
    expect(toxics.verdict('api', 'http')).toEqual({ action: 'http_error', toxic: error });
    expect(toxics.verdict('other', 'http')).toEqual({ action: 'forward' });
  });

  test('http_error does nothing to TCP connections and is not counted there', () => {
    const { toxics } = table();
    const error = toxics.add(spec({ kind: 'http_error', status: 503, share: 1 }));
    expect(toxics.verdict('api', 'tcp')).toEqual({ action: 'forward' });
    expect(error.affected).toBe(0);
  });

  test.each([
    [0.5, 0.49, true],
    [0.5, 0.5, false],
    [0, 0, false],
    [1, 0.999, true],
  ])('share %d with random %d picks: %s', (share, random, picked) => {
    const { toxics } = table([random]);
    const toxic = toxics.add(spec({ kind: 'reset', share }));
    expect(toxics.verdict('api', 'tcp').action).toBe(picked ? 'reset' : 'forward');
    expect(toxic.affected).toBe(picked ? 1 : 0);
  });

  test('first_n fails exactly the first N requests, then lets them through', () => {
    const { toxics } = table();
    const toxic = toxics.add(spec({ kind: 'http_error', status: 500, share: 1, first_n: 2 }));
    const actions = [1, 2, 3, 4].map(() => toxics.verdict('api', 'http').action);
    expect(actions).toEqual(['http_error', 'http_error', 'forward', 'forward']);
    expect(toxic.affected).toBe(2);
  });
});

describe('shaping', () => {
  test('adds the delays, keeps the lowest rate, counts each request', () => {
    const { toxics } = table();
    const a = toxics.add(spec({ kind: 'latency', delay_ms: 100, jitter_ms: 0 }));
    const b = toxics.add(spec({ kind: 'latency', delay_ms: 50, jitter_ms: 0 }));
    const c = toxics.add(spec({ kind: 'bandwidth', rate_kbps: 64 }));
    toxics.add(spec({ kind: 'bandwidth', rate_kbps: 32 }));
    expect(toxics.shaping('api')).toEqual({ delayMs: 150, rateKbps: 32 });
    expect(toxics.shaping('api')).toEqual({ delayMs: 150, rateKbps: 32 });
    expect([a.affected, b.affected, c.affected]).toEqual([2, 2, 2]);
    expect(toxics.shaping('other')).toEqual({ delayMs: 0, rateKbps: null });
  });

  test('counts a connection once per toxic however many chunks it shapes', () => {
    const { toxics } = table();
    const toxic = toxics.add(spec({ kind: 'latency', delay_ms: 10, jitter_ms: 0 }));
    const seen = new Set<number>();
    for (let i = 0; i < 5; i++) toxics.shaping('api', seen);
    expect(toxic.affected).toBe(1);
  });

  test.each([
    [0, 100],
    [0.5, 200],
    [0.999, 300],
  ])('jitter is uniform around the delay: random %d gives %d ms', (random, delay) => {
    const { toxics } = table([random]);
    toxics.add(spec({ kind: 'latency', delay_ms: 200, jitter_ms: 100 }));
    expect(toxics.shaping('api').delayMs).toBe(delay);
  });

  test('jitter never makes a delay negative', () => {
    const { toxics } = table([0]);
    toxics.add(spec({ kind: 'latency', delay_ms: 10, jitter_ms: 100 }));
    expect(toxics.shaping('api').delayMs).toBe(0);
  });
});
