import { describe, expect, it, test } from 'vitest';
import type { Observation } from '../../src/analysis/observation.ts';
import {
  allRecoveredAt,
  detectedDownAt,
  healthFlaggedAt,
  judgementFlaggedAt,
  recoveredAt,
} from '../../src/chaos/detect.ts';
import type { Threshold } from '../../src/chaos/experiment.ts';
import { evaluate, measureAll, phases } from '../../src/chaos/measure.ts';
import type { HealthProbe, Recording } from '../../src/chaos/recording.ts';

const LIMITS = { maxErrorRate: 0.05, maxP99Ms: 500 };
const OPTIONS = { minSamples: 30, alpha: 0.05, maxErrorRateIncrease: 0.01, maxLatencyIncreaseRatio: 0.1 };
const JUDGEMENT = { limits: LIMITS, options: OPTIONS };

const probe = (at: number, ok: boolean, latencyMs = 5, region = 'us-west'): HealthProbe => ({
  region,
  at,
  latencyMs,
  ok,
  status: ok ? 200 : 0,
});
const obs = (at: number, status: number, o: Partial<Observation> = {}): Observation => ({
  at,
  region: 'us-west',
  version: 'v1',
  cohort: 'baseline',
  route: '/health',
  status,
  latencyMs: 5,
  ...o,
});

/** Probes every 200 ms from `from` to `to` (exclusive), failing while `down(at)`. */
const probes = (from: number, to: number, down: (at: number) => boolean, region = 'us-west'): HealthProbe[] => {
  const out: HealthProbe[] = [];
  for (let at = from; at < to; at += 200) out.push(probe(at, !down(at), down(at) ? 1000 : 5, region));
  return out;
};

const base: Recording = {
  kind: 'latency',
  targets: ['us-west'],
  t0: 0,
  injectStart: 4900,
  injectAt: 5000,
  revertAt: 13_000,
  recoveryDeadline: 33_000,
  afterFrom: 13_100,
  end: 18_100,
  observations: [],
  probes: [],
  up: [],
  samples: [],
  containers: [],
  crashed: false,
  readBack: { checked: 0, missing: 0, unverified: 0 },
  notes: [],
};

describe('recovery', () => {
  it('after a crash: from the kill to the first success after the first failure', () => {
    // A probe sent at 5000 slipped in before the process died; the outage is 5200..6800.
    const rec = {
      ...base,
      kind: 'kill' as const,
      crashed: true,
      probes: probes(0, 10_000, (at) => at >= 5200 && at < 7000),
    };
    expect(recoveredAt(rec, 'us-west')).toBe(7005);
  });

  it('otherwise: the first success sent once the fault was lifted, when it was answered', () => {
    const rec = { ...base, probes: probes(0, 20_000, (at) => at >= 5000 && at < 13_400) };
    expect(recoveredAt(rec, 'us-west')).toBe(13_405);
  });

  it('does not count a recovery after the deadline (the stack was repaired by then)', () => {
    const rec = { ...base, recoveryDeadline: 14_000, probes: probes(0, 20_000, (at) => at >= 5000 && at < 15_000) };
    expect(recoveredAt(rec, 'us-west')).toBeNull();
  });

  it("after a dependency's outage: when the target's requests succeeded again, 5 in a row (its /health never failed)", () => {
    // Requests every 100 ms, 5 ms each; errors until 13_600 but for one lucky success at 13_300.
    const observations = Array.from({ length: 100 }, (_, i) => 12_000 + 100 * i).map((at) =>
      obs(at, at < 13_600 && at !== 13_300 ? 503 : 200, at < 13_600 ? { hop: 'postgres' } : {}),
    );
    const rec = { ...base, kind: 'dependency' as const, observations, probes: probes(0, 20_000, () => false) };
    expect(recoveredAt(rec, 'us-west')).toBe(13_605);
    expect(recoveredAt({ ...rec, recoveryDeadline: 13_900 }, 'us-west')).toBeNull();
    expect(
      recoveredAt({ ...rec, observations: observations.map((o) => ({ ...o, region: 'eu-west' })) }, 'us-west'),
    ).toBeNull();
  });

  it('waits for every target', () => {
    const rec = {
      ...base,
      targets: ['us-west', 'eu-west'],
      probes: [...probes(0, 20_000, (at) => at < 13_200), ...probes(0, 20_000, (at) => at < 14_000, 'eu-west')],
    };
    expect(allRecoveredAt(rec)).toBe(14_005);
    expect(allRecoveredAt({ ...rec, probes: rec.probes.filter((p) => p.region === 'us-west') })).toBeNull();
  });
});

describe('detection', () => {
  it('flags health at the answer of the first failed probe during the fault', () => {
    const rec = {
      ...base,
      probes: [probe(4800, false), probe(5000, true), probe(5200, false, 1000), probe(5400, false)],
    };
    expect(healthFlaggedAt(rec, 'us-west')).toBe(6200);
    expect(healthFlaggedAt({ ...rec, probes: [probe(5000, true)] }, 'us-west')).toBeNull();
  });

  it('takes the first up == 0 reading of the target in range', () => {
    const up = [
      { region: 'us-west', at: 4000, up: 0 },
      { region: 'us-west', at: 5500, up: 1 },
      { region: 'eu-west', at: 6000, up: 0 },
      { region: 'us-west', at: 7500, up: null },
      { region: 'us-west', at: 8000, up: 0 },
    ];
    expect(detectedDownAt(up, 'us-west', 5000, 13_000)).toBe(8000);
    expect(detectedDownAt(up, 'us-west', 9000, 13_000)).toBeNull();
  });

  it('replays the judgement until it is red', () => {
    const before = Array.from({ length: 200 }, (_, i) => obs(i * 25, 200));
    // From 5000 on, half of the requests fail: red once enough of them have been answered.
    const during = Array.from({ length: 320 }, (_, i) => obs(5000 + i * 25, i % 2 === 0 ? 503 : 200));
    const at = judgementFlaggedAt(before, during, 5000, 13_000, LIMITS, OPTIONS);
    expect(at).not.toBeNull();
    expect(at as number).toBeGreaterThan(5000);
    expect(at as number).toBeLessThan(6000);
    expect(
      judgementFlaggedAt(
        before,
        during.map((o) => ({ ...o, status: 200 })),
        5000,
        13_000,
        LIMITS,
        OPTIONS,
      ),
    ).toBeNull();
  });
});

describe('measurements', () => {
  const during = (i: number) => 5000 + i * 100;
  const rec: Recording = {
    ...base,
    probes: probes(0, 18_000, (at) => at >= 5000 && at < 13_000),
    observations: [
      ...Array.from({ length: 49 }, (_, i) => obs(i * 100, 200, { latencyMs: 10 })),
      obs(4950, 500, { latencyMs: 1 }), // sent while the fault was being injected: in no window
      ...Array.from({ length: 80 }, (_, i) => obs(during(i), i < 4 ? 0 : 200, { latencyMs: i < 4 ? 2000 : 300 })),
      obs(during(1), 201, { route: '/api/orders' }),
      obs(during(2), 503, { route: '/api/orders' }),
      obs(during(3), 404, { route: '/api/orders/:id' }),
      ...Array.from({ length: 50 }, (_, i) => obs(13_100 + i * 100, 200, { latencyMs: 12 })),
      ...Array.from({ length: 20 }, (_, i) => obs(during(i), i === 0 ? 500 : 200, { region: 'eu-west' })),
    ],
    readBack: { checked: 40, missing: 1, unverified: 2 },
  };
  const values = measureAll(rec, JUDGEMENT);

  it('splits the run into before, during and after', () => {
    expect(phases(rec)).toEqual({
      before: { from: 0, to: 4900 },
      during: { from: 5000, to: 13_000 },
      after: { from: 13_100, to: 18_100 },
    });
  });

  test.each([
    ['recovery_time_seconds', 0.005],
    ['acknowledged_writes_lost', 3],
    ['error_rate_during', 0.0602], // 4 time-outs + one 503, of 83
    ['error_rate_after', 0],
    ['p99_latency_ms_during', 300],
    ['p99_latency_ms_after', 12],
    ['throughput_degradation_percent', 2.5], // 49 ok in 4.9 s = 10/s before, 78 ok in 8 s = 9.75/s during
    ['p50_latency_ms_after', 12],
    ['latency_degradation_percent', 2900], // median 10 -> 300 ms
    ['timeouts_during', 4],
    ['other_regions_error_rate_during', 0.05],
    ['unclean_write_answers_during', 1], // the 201
    ['unclean_read_answers_during', 1], // the 404
    ['time_to_health_flag_seconds', 1],
    ['time_to_detection_seconds', null],
  ] as const)('%s = %s', (name, expected) => {
    expect(values[name].value).toBe(expected);
  });

  it('says why a value is missing', () => {
    expect(measureAll({ ...rec, probes: [] }, JUDGEMENT).recovery_time_seconds).toMatchObject({
      value: null,
      detail: expect.stringContaining('not healthy again within the recovery deadline (20 s)'),
    });
  });
});

describe('thresholds', () => {
  const t = (value: number, comparator: '<=' | '>=' = '<='): Threshold => ({
    measurement: 'recovery_time_seconds',
    comparator,
    value,
  });

  test.each([
    [t(15), 1.4, true],
    [t(15), 15, true],
    [t(15), 15.001, false],
    [t(0), 0, true],
    [t(2, '>='), 2, true],
    [t(2, '>='), 1.9, false],
  ])('%j against %s passes: %s', (threshold, value, pass) => {
    expect(evaluate(threshold, { value }).pass).toBe(pass);
  });

  it('never passes a value that could not be measured', () => {
    expect(evaluate(t(1000), { value: null })).toEqual({
      name: 'recovery_time_seconds',
      value: null,
      threshold: 1000,
      comparator: '<=',
      unit: 's',
      pass: false,
      detail: 'could not be measured',
    });
  });
});
