import { describe, expect, it, test } from 'vitest';
import type { UsageError } from '../../src/config/errors.ts';
import { DEFAULT_BASELINE, toSimulationScenario } from '../../src/config/simulation.ts';

describe('simulation scenario', () => {
  it('defaults: baseline and canary both 1% errors, p50 20 ms, p99 80 ms', () => {
    expect(toSimulationScenario(undefined, 'x')).toEqual({
      baseline: { version: 'v1', errorRate: 0.01, latency: { medianMs: 20, p99Ms: 80 } },
      canary: { version: 'v2', errorRate: 0.01, latency: { medianMs: 20, p99Ms: 80 } },
    });
    expect(DEFAULT_BASELINE.errorRate).toBe(0.01);
  });

  it('the canary inherits every field it does not set from the baseline', () => {
    const s = toSimulationScenario({
      requests_per_second: 80,
      baseline: { version: 'stable-1', error_rate: 0.02, latency: { median_ms: 50, p99_ms: 200 } },
      canary: { error_rate: 0.2, latency: { p99_ms: 900 } },
    }, 'x');
    expect(s).toEqual({
      baseline: { version: 'stable-1', errorRate: 0.02, latency: { medianMs: 50, p99Ms: 200 } },
      canary: { version: 'v2', errorRate: 0.2, latency: { medianMs: 50, p99Ms: 900 } },
      requestsPerSecond: 80,
    });
  });

  test.each([
    ['error rate 1.5', { canary: { error_rate: 1.5 } }, 'simulation.canary.error_rate', 'must be between 0 and 1'],
    ['negative median', { baseline: { latency: { median_ms: -1 } } }, 'simulation.baseline.latency.median_ms', 'must be greater than 0'],
    ['p99 below median', { canary: { latency: { median_ms: 100 } } }, 'simulation.canary.latency.p99_ms', 'must be at least median_ms (100), got 80'],
    ['unknown field', { canary: { errors: 0.2 } }, 'simulation.canary.errors', 'unknown field (check its spelling)'],
    ['bad version', { canary: { version: 'v2; rm -rf /' } }, 'simulation.canary.version', 'must be a plain tag: a letter or digit, then up to 127 of letters, digits, ".", "_" or "-"'],
    ['rps 0', { requests_per_second: 0 }, 'simulation.requests_per_second', 'must be greater than 0'],
  ])('%s', (_name, input, path, rule) => {
    let issues: unknown;
    try {
      toSimulationScenario(input, 'chaos-gate.yml');
    } catch (e) {
      issues = (e as UsageError).issues;
    }
    expect(issues).toContainEqual({ source: 'chaos-gate.yml', path, rule });
  });

  it('accepts p99 equal to the median (a constant latency)', () => {
    expect(toSimulationScenario({ baseline: { latency: { median_ms: 30, p99_ms: 30 } } }, 'x').canary.latency).toEqual({ medianMs: 30, p99Ms: 30 });
  });
});
