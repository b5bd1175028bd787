import { describe, expect, it, test } from 'vitest';
import { UsageError } from '../../src/util/errors.ts';
import { MAX_JUDGED_REQUESTS, MAX_ROLLOUT_REQUESTS } from '../../src/util/limits.ts';
import { parseConfig } from '../../src/config/load.ts';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import { DEFAULT_BASELINE, rolloutWork, studyBudgetIssues, toSimulationScenario } from '../../src/config/simulation.ts';

describe('simulation scenario', () => {
  it('defaults: baseline and canary both 1% errors, p50 20 ms, p99 80 ms', () => {
    expect(toSimulationScenario(undefined, 'x')).toEqual({
      baseline: { version: 'v1', errorRate: 0.01, latency: { medianMs: 20, p99Ms: 80 } },
      canary: { version: 'v2', errorRate: 0.01, latency: { medianMs: 20, p99Ms: 80 } },
    });
    expect(DEFAULT_BASELINE.errorRate).toBe(0.01);
  });

  it('the canary inherits every field it does not set from the baseline', () => {
    const s = toSimulationScenario(
      {
        requests_per_second: 80,
        baseline: { version: 'stable-1', error_rate: 0.02, latency: { median_ms: 50, p99_ms: 200 } },
        canary: { error_rate: 0.2, latency: { p99_ms: 900 } },
      },
      'x',
    );
    expect(s).toEqual({
      baseline: { version: 'stable-1', errorRate: 0.02, latency: { medianMs: 50, p99Ms: 200 } },
      canary: { version: 'v2', errorRate: 0.2, latency: { medianMs: 50, p99Ms: 900 } },
      requestsPerSecond: 80,
    });
  });

  test.each([
    ['error rate 1.5', { canary: { error_rate: 1.5 } }, 'simulation.canary.error_rate', 'must be between 0 and 1'],
    [
      'negative median',
      { baseline: { latency: { median_ms: -1 } } },
      'simulation.baseline.latency.median_ms',
      'must be greater than 0',
    ],
    [
      'p99 below median',
      { canary: { latency: { median_ms: 100 } } },
      'simulation.canary.latency.p99_ms',
      'must be at least median_ms (100), got 80',
    ],
    ['unknown field', { canary: { errors: 0.2 } }, 'simulation.canary.errors', 'unknown field (check its spelling)'],
    [
      'bad version',
      { canary: { version: 'v2; rm -rf /' } },
      'simulation.canary.version',
      'must be a plain tag: a letter or digit, then up to 127 of letters, digits, ".", "_" or "-"',
    ],
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
    expect(toSimulationScenario({ baseline: { latency: { median_ms: 30, p99_ms: 30 } } }, 'x').canary.latency).toEqual({
      medianMs: 30,
      p99Ms: 30,
    });
  });
});

describe('what a plan may ask of the machine', () => {
  const issuesOf = (text: string) => {
    try {
      parseConfig(text, 'f.yml');
    } catch (e) {
      if (e instanceof UsageError) return [...e.issues];
      throw e;
    }
    return [];
  };

  it.each([
    [
      'rollout:\n  traffic_rps: 1000000\n',
      'rollout.traffic_rps',
      /^must be at most 10000 \(about what one machine's load generator sends/,
    ],
    [
      'rollout:\n  stages:\n    - { weight: 100, bake_seconds: 100000 }\n',
      'rollout.stages[0].bake_seconds',
      /^must be at most 3600 \(an hour/,
    ],
    ['simulation:\n  requests_per_second: 1e8\n', 'simulation.requests_per_second', /^must be at most 10000/],
    [
      'rollout:\n  analysis: { stage_deadline_seconds: 100000 }\n',
      'rollout.analysis.stage_deadline_seconds',
      /^must be at most 7200 \(two hours/,
    ],
    ['rollout:\n  health: { deadline_seconds: 1e9 }\n', 'rollout.health.deadline_seconds', /^must be at most 600/],
  ])('refuses a maximum passed, saying why the maximum (it ran for minutes at 2 GB): %j', (text, path, rule) => {
    expect(issuesOf(text)).toContainEqual({
      source: 'f.yml',
      path,
      rule: expect.stringMatching(rule),
      line: expect.any(Number),
    });
  });

  it('refuses a plan whose simulation would send too many requests, with the number it would need', () => {
    expect(issuesOf('rollout:\n  traffic_rps: 5000\n')).toEqual([
      {
        source: 'f.yml',
        path: 'rollout.traffic_rps',
        line: 2,
        rule:
          'a simulated rollout could send up to 3,009,000 requests (4 region(s) x 5 stage(s) at 5000 requests per second, each stage up to ' +
          'its 30 s deadline), more than the 2,000,000 a simulation may send: lower simulation.requests_per_second (or rollout.traffic_rps), ' +
          'stage_deadline_seconds or the number of stages',
      },
    ]);
    // The simulation's own rate is what it sends: a live rate above the budget passes with a lower one.
    expect(issuesOf('rollout:\n  traffic_rps: 5000\nsimulation:\n  requests_per_second: 40\n')).toEqual([]);
    expect(issuesOf('simulation:\n  requests_per_second: 5000\n')[0]).toMatchObject({
      path: 'simulation.requests_per_second',
      line: 2,
    });
  });

  it('refuses a plan whose judging would take too long: long stages judged often, or analyses too frequent', () => {
    const [judged] = issuesOf('rollout:\n  bake_seconds: 100\n  analysis: { stage_deadline_seconds: 200 }\n');
    expect(judged).toMatchObject({ path: 'rollout.traffic_rps', line: 3 });
    expect(judged?.rule).toMatch(
      /^a simulated rollout could judge up to 32,480,000 requests .* more than the 10,000,000 that keep a simulation within seconds/,
    );
    expect(issuesOf('rollout:\n  analysis: { interval_seconds: 0.001 }\n')).toEqual([
      {
        source: 'f.yml',
        path: 'rollout.analysis.interval_seconds',
        line: 2,
        rule:
          'analysing every 0.001 s until the 30 s stage deadline (twice as often while paused) is up to 60,000 analyses per stage, ' +
          'more than the 20,000 a stage may have: raise interval_seconds or lower stage_deadline_seconds',
      },
    ]);
  });

  it('leaves the default plan far inside the budgets', () => {
    const work = rolloutWork(defaultRolloutPlan(), 40);
    // 40 rps + a floor of 15 (2 x 30 min_samples / 4 s bake), 30 s each, 5 stages, 4 regions; 60 analyses at 0.5 s while paused.
    expect(work).toEqual({ requests: 33_000, stageRequests: 1650, judged: 990_000, analysesPerStage: 60 });
    expect(work.requests).toBeLessThan(MAX_ROLLOUT_REQUESTS / 40);
    expect(work.judged).toBeLessThan(MAX_JUDGED_REQUESTS / 5);
    expect(rolloutWork({ ...defaultRolloutPlan(), strategy: 'rolling' }, 40).requests).toBe(0);
  });
});

describe('what a study (simulate --study) may ask', () => {
  const plan = defaultRolloutPlan();
  const scenario = toSimulationScenario(undefined, 'test');

  // The default plan judges at most 990,000 requests a rollout (estimate): 4.95 M a seed for 5 candidates.
  it.each([1, 1000, 20_202])('admits %i seeds of the default plan', (seeds) => {
    expect(studyBudgetIssues(plan, scenario, seeds, 5)).toEqual([]);
  });

  it('refuses more seeds than the budget, naming --seeds and the most this plan may have', () => {
    expect(studyBudgetIssues(plan, scenario, 20_203, 5)).toEqual([
      {
        source: '--seeds',
        path: '',
        rule:
          '20,203 seeds x 5 candidates could judge up to 100,004,850,000 requests, more than the ' +
          '100,000,000,000 a study may: this plan allows at most 20,202 seeds',
      },
    ]);
  });

  it('counts the rate of the scenario: ten times the traffic, about a tenth of the seeds', () => {
    const busy = toSimulationScenario({ requests_per_second: 400 }, 'test');
    const rule = studyBudgetIssues(plan, busy, 20_000, 5)[0]?.rule;
    expect(rule).toMatch(/this plan allows at most 2,[0-9]{3} seeds$/);
  });
});
