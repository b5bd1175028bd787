import { describe, expect, test } from 'vitest';
import { systemClock } from '../src/clock.ts';
import { faultJson, Faults, parseFaultSpec } from '../src/faults.ts';
import { ManualClock } from './helpers.ts';

describe('parseFaultSpec', () => {
  test.each([
    [
      { kind: 'latency', duration_ms: 1000, delay_ms: 200 },
      { kind: 'latency', durationMs: 1000, delayMs: 200, jitterMs: 0 },
    ],
    [
      { kind: 'latency', duration_ms: 1, delay_ms: 0, jitter_ms: 60_000 },
      { kind: 'latency', durationMs: 1, delayMs: 0, jitterMs: 60_000 },
    ],
    [
      { kind: 'failure_rate', duration_ms: 600_000, rate: 0.25 },
      { kind: 'failure_rate', durationMs: 600_000, rate: 0.25 },
    ],
    [
      { kind: 'failure_rate', duration_ms: 5, rate: 1 },
      { kind: 'failure_rate', durationMs: 5, rate: 1 },
    ],
    [
      { kind: 'db_unavailable', duration_ms: 5 },
      { kind: 'db_unavailable', durationMs: 5 },
    ],
    [
      { kind: 'cpu', duration_ms: 5 },
      { kind: 'cpu', durationMs: 5 },
    ],
    [
      { kind: 'memory', duration_ms: 5, mb: 4096 },
      { kind: 'memory', durationMs: 5, mb: 4096 },
    ],
  ])('accepts %j', (body, spec) => {
    expect(parseFaultSpec(body)).toEqual({ ok: true, spec });
  });

  test.each([
    [[], 'body must be a JSON object'],
    [null, 'body must be a JSON object'],
    [{ duration_ms: 5 }, '"kind" must be one of latency, failure_rate, db_unavailable, cpu, memory'],
    [{ kind: 'disk', duration_ms: 5 }, '"kind" must be one of'],
    [{ kind: 'cpu' }, '"duration_ms" must be an integer between 1 and 600000'],
    [{ kind: 'cpu', duration_ms: 0 }, '"duration_ms" must be an integer between 1 and 600000'],
    [{ kind: 'cpu', duration_ms: 600_001 }, '"duration_ms" must be an integer between 1 and 600000'],
    [{ kind: 'cpu', duration_ms: 1.5 }, '"duration_ms" must be an integer'],
    [{ kind: 'cpu', duration_ms: '5' }, '"duration_ms" must be an integer'],
    [{ kind: 'latency', duration_ms: 5 }, '"delay_ms" must be an integer between 0 and 60000'],
    [{ kind: 'latency', duration_ms: 5, delay_ms: 60_001 }, '"delay_ms" must be an integer between 0 and 60000'],
    [
      { kind: 'latency', duration_ms: 5, delay_ms: 1, jitter_ms: -1 },
      '"jitter_ms" must be an integer between 0 and 60000',
    ],
    [{ kind: 'failure_rate', duration_ms: 5 }, '"rate" must be a number between 0 and 1'],
    [{ kind: 'failure_rate', duration_ms: 5, rate: 1.01 }, '"rate" must be a number between 0 and 1'],
    [{ kind: 'memory', duration_ms: 5, mb: 0 }, '"mb" must be an integer between 1 and 4096'],
    [{ kind: 'memory', duration_ms: 5, mb: 4097 }, '"mb" must be an integer between 1 and 4096'],
    [{ kind: 'latency', duration_ms: 5, delay: 100 }, '"delay" is not a field of a latency fault'],
    [{ kind: 'cpu', duration_ms: 5, rate: 0.5 }, '"rate" is not a field of a cpu fault'],
  ])('refuses %j', (body, message) => {
    const result = parseFaultSpec(body);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toContain(message);
  });
});

describe('Faults', () => {
  test('each fault lifts itself when its duration has passed, and not before', () => {
    const clock = new ManualClock();
    const faults = new Faults(clock, () => 0.5);
    faults.add({ kind: 'failure_rate', durationMs: 1000, rate: 0.7 });
    faults.add({ kind: 'db_unavailable', durationMs: 2000 });
    expect(faults.failureRate()).toBe(0.7);
    expect(faults.dbUnavailable()).toBe(true);
    clock.advance(999);
    expect(faults.failureRate()).toBe(0.7);
    clock.advance(1);
    expect(faults.failureRate()).toBeUndefined();
    expect(faults.dbUnavailable()).toBe(true);
    clock.advance(1000);
    expect(faults.dbUnavailable()).toBe(false);
    expect(faults.list()).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  test('the newest fault of a kind wins, and the older one shows again when the newer lifts', () => {
    const clock = new ManualClock();
    const faults = new Faults(clock, () => 0.5);
    faults.add({ kind: 'failure_rate', durationMs: 5000, rate: 0.2 });
    faults.add({ kind: 'failure_rate', durationMs: 1000, rate: 0.9 });
    expect(faults.failureRate()).toBe(0.9);
    clock.advance(1000);
    expect(faults.failureRate()).toBe(0.2);
  });

  test('liftAll lifts everything, cancels the expiry timers and says how many', () => {
    const clock = new ManualClock();
    const faults = new Faults(clock, () => 0.5);
    faults.add({ kind: 'latency', durationMs: 1000, delayMs: 10, jitterMs: 0 });
    faults.add({ kind: 'db_unavailable', durationMs: 1000 });
    expect(faults.liftAll()).toBe(2);
    expect(faults.list()).toEqual([]);
    expect(faults.latencyMs()).toBe(0);
    expect(clock.pending).toBe(0);
    expect(faults.liftAll()).toBe(0);
  });

  test.each([
    [0, 100],
    [0.5, 200],
    [0.75, 250],
  ])('latency with rng %d is delay ± jitter: %d ms', (r, expected) => {
    const faults = new Faults(new ManualClock(), () => r);
    faults.add({ kind: 'latency', durationMs: 1000, delayMs: 200, jitterMs: 100 });
    expect(faults.latencyMs()).toBe(expected);
  });

  test('latency never goes below zero', () => {
    const faults = new Faults(new ManualClock(), () => 0);
    faults.add({ kind: 'latency', durationMs: 1000, delayMs: 10, jitterMs: 100 });
    expect(faults.latencyMs()).toBe(0);
  });

  test('faultJson shows the parameters in the request field names', () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const fault = new Faults(clock, () => 0.5).add({ kind: 'latency', durationMs: 1500, delayMs: 200, jitterMs: 50 });
    expect(faultJson(fault)).toEqual({
      id: 1,
      kind: 'latency',
      expires_at: '2030-01-01T00:00:01.500Z',
      duration_ms: 1500,
      delay_ms: 200,
      jitter_ms: 50,
    });
  });

  test('a cpu fault stalls the event loop in slices until it lifts', async () => {
    const faults = new Faults(systemClock, () => 0.5, { cpuBusyMs: 80, cpuIdleMs: 10 });
    const gaps = async (ms: number): Promise<number> => {
      let max = 0;
      let last = performance.now();
      const end = last + ms;
      while (performance.now() < end) {
        await new Promise((r) => setImmediate(r));
        const now = performance.now();
        max = Math.max(max, now - last);
        last = now;
      }
      return max;
    };
    faults.add({ kind: 'cpu', durationMs: 400 });
    expect(await gaps(300)).toBeGreaterThanOrEqual(70);
    faults.liftAll();
    expect(await gaps(200)).toBeLessThan(70);
  });

  test('a memory fault holds mb MiB of written pages until it lifts', () => {
    const clock = new ManualClock();
    const faults = new Faults(clock, () => 0.5);
    const before = process.memoryUsage();
    faults.add({ kind: 'memory', durationMs: 1000, mb: 96 });
    const during = process.memoryUsage();
    // Other small buffers of the process may be collected meanwhile (CI once saw 45 bytes fewer),
    // so allow 1 MiB of slack: a fault that held even one 64 MiB chunk less still fails.
    expect(during.arrayBuffers - before.arrayBuffers).toBeGreaterThanOrEqual(95 * 1024 * 1024);
    // The pages were written, so they are resident, not just reserved.
    expect(during.rss - before.rss).toBeGreaterThan(80 * 1024 * 1024);
    clock.advance(1000);
    expect(faults.list()).toEqual([]);
  });
});
