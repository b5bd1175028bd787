import { describe, expect, it, test } from 'vitest';
import { UsageError, type InputIssue } from '../../src/util/errors.ts';
import { formatPath } from '../../src/util/issues.ts';
import { defaultRolloutPlan, toRolloutPlan } from '../../src/config/rollout.ts';

const issuesOf = (input: unknown): InputIssue[] => {
  try {
    toRolloutPlan(input, 'chaos-gate.yml');
  } catch (e) {
    if (e instanceof UsageError) return [...e.issues];
    throw e;
  }
  throw new Error('expected a UsageError');
};

describe('rollout defaults', () => {
  it('fills every default', () => {
    const limits = { maxErrorRate: 0.05, maxP99Ms: 500 };
    expect(defaultRolloutPlan()).toEqual({
      regions: ['us-west', 'us-east', 'eu-west', 'ap-south'],
      strategy: 'canary',
      stages: [1, 5, 25, 50, 100].map((weight) => ({ weight, bakeSeconds: 4, limits })),
      analysis: {
        intervalSeconds: 1,
        minSamples: 30,
        alpha: 0.05,
        pauseBudgetSeconds: 10,
        stageDeadlineSeconds: 30,
        maxErrorRateIncrease: 0.01,
        maxLatencyIncreaseRatio: 0.1,
        maxLatencyIncreaseMs: 5,
        sources: ['synthetic', 'prometheus'],
      },
      health: { consecutiveSuccesses: 3, deadlineSeconds: 30 },
      trafficRps: 40,
    });
  });

  it('treats a missing or empty section as all defaults', () => {
    expect(toRolloutPlan(null, 'x')).toEqual(defaultRolloutPlan());
    expect(toRolloutPlan({}, 'x')).toEqual(defaultRolloutPlan());
  });

  it('returns a deeply frozen plan', () => {
    const plan = defaultRolloutPlan();
    expect(Object.isFrozen(plan)).toBe(true);
    expect(Object.isFrozen(plan.stages[0]!.limits)).toBe(true);
    expect(Object.isFrozen(plan.regions)).toBe(true);
  });
});

describe('rollout mapping', () => {
  it('maps snake_case to the plan, with per-stage bake and stricter limits', () => {
    const plan = toRolloutPlan(
      {
        regions: ['eu-west', 'us-east'],
        strategy: 'rolling',
        bake_seconds: 6,
        limits: { max_error_rate: 0.02, max_p99_ms: 800 },
        stages: [
          { weight: 0.1 },
          { weight: 10, bake_seconds: 8 },
          { weight: 50, max_error_rate: 0, max_p99_ms: 300 },
          { weight: 100 },
        ],
        analysis: {
          interval_seconds: 0.5,
          min_samples: 100,
          alpha: 0.01,
          pause_budget_seconds: 0,
          stage_deadline_seconds: 60,
          max_error_rate_increase: 0,
          max_latency_increase_ratio: 0.25,
          max_latency_increase_ms: 0,
          sources: ['prometheus'],
        },
        health: { consecutive_successes: 5, deadline_seconds: 45 },
        traffic_rps: 100,
      },
      'x',
    );
    expect(plan.regions).toEqual(['eu-west', 'us-east']);
    expect(plan.strategy).toBe('rolling');
    expect(plan.stages).toEqual([
      { weight: 0.1, bakeSeconds: 6, limits: { maxErrorRate: 0.02, maxP99Ms: 800 } },
      { weight: 10, bakeSeconds: 8, limits: { maxErrorRate: 0.02, maxP99Ms: 800 } },
      { weight: 50, bakeSeconds: 6, limits: { maxErrorRate: 0, maxP99Ms: 300 } },
      { weight: 100, bakeSeconds: 6, limits: { maxErrorRate: 0.02, maxP99Ms: 800 } },
    ]);
    expect(plan.analysis).toEqual({
      intervalSeconds: 0.5,
      minSamples: 100,
      alpha: 0.01,
      pauseBudgetSeconds: 0,
      stageDeadlineSeconds: 60,
      maxErrorRateIncrease: 0,
      maxLatencyIncreaseRatio: 0.25,
      maxLatencyIncreaseMs: 0,
      sources: ['prometheus'],
    });
    expect(plan.health).toEqual({ consecutiveSuccesses: 5, deadlineSeconds: 45 });
    expect(plan.trafficRps).toBe(100);
  });

  it('accepts a single stage of 100 and max_error_rate 0 (any error red)', () => {
    expect(toRolloutPlan({ stages: [{ weight: 100 }], limits: { max_error_rate: 0 } }, 'x').stages).toEqual([
      { weight: 100, bakeSeconds: 4, limits: { maxErrorRate: 0, maxP99Ms: 500 } },
    ]);
  });
});

describe('rollout validation: every bad case names its path and rule', () => {
  test.each([
    [
      'weights not increasing',
      { stages: [{ weight: 5 }, { weight: 5 }, { weight: 100 }] },
      'rollout.stages[1].weight',
      "must be greater than the previous stage's weight (5): weights strictly increase",
    ],
    [
      'weights decreasing',
      { stages: [{ weight: 50 }, { weight: 25 }, { weight: 100 }] },
      'rollout.stages[1].weight',
      "must be greater than the previous stage's weight (50): weights strictly increase",
    ],
    [
      'not ending at 100',
      { stages: [{ weight: 1 }, { weight: 50 }] },
      'rollout.stages[1].weight',
      'the last stage must have weight 100 (the candidate then takes all traffic), got 50',
    ],
    [
      'weight 0',
      { stages: [{ weight: 0 }, { weight: 100 }] },
      'rollout.stages[0].weight',
      'must be greater than 0 (percent of traffic)',
    ],
    [
      'weight above 100',
      { stages: [{ weight: 50 }, { weight: 101 }] },
      'rollout.stages[1].weight',
      'must be at most 100 (percent of traffic)',
    ],
    [
      'weight not a number',
      { stages: [{ weight: '5%' }, { weight: 100 }] },
      'rollout.stages[0].weight',
      'must be a number, got "5%"',
    ],
    ['no stages', { stages: [] }, 'rollout.stages', 'must list at least one stage'],
    [
      'duplicate region',
      { regions: ['us-west', 'eu-west', 'us-west'] },
      'rollout.regions[2]',
      'duplicate region "us-west" (also regions[0])',
    ],
    ['no regions', { regions: [] }, 'rollout.regions', 'must list at least one region'],
    [
      'region with capitals',
      { regions: ['US-West'] },
      'rollout.regions[0]',
      'must be 1 to 63 of lowercase letters, digits and "-"',
    ],
    [
      'empty region name',
      { regions: [''] },
      'rollout.regions[0]',
      'must be 1 to 63 of lowercase letters, digits and "-"',
    ],
    ['unknown field', { bake_secs: 4 }, 'rollout.bake_secs', 'unknown field (check its spelling)'],
    [
      'unknown field in a stage',
      { stages: [{ weight: 100, bake: 3 }] },
      'rollout.stages[0].bake',
      'unknown field (check its spelling)',
    ],
    [
      'camelCase key',
      { analysis: { minSamples: 10 } },
      'rollout.analysis.minSamples',
      'unknown field (check its spelling)',
    ],
    ['negative bake', { bake_seconds: -1 }, 'rollout.bake_seconds', 'must be greater than 0'],
    [
      'negative stage bake',
      { stages: [{ weight: 100, bake_seconds: -2 }] },
      'rollout.stages[0].bake_seconds',
      'must be greater than 0',
    ],
    ['error rate 1.5', { limits: { max_error_rate: 1.5 } }, 'rollout.limits.max_error_rate', 'must be between 0 and 1'],
    [
      'negative error rate in a stage',
      { stages: [{ weight: 100, max_error_rate: -0.1 }] },
      'rollout.stages[0].max_error_rate',
      'must be between 0 and 1',
    ],
    ['p99 limit 0', { limits: { max_p99_ms: 0 } }, 'rollout.limits.max_p99_ms', 'must be greater than 0'],
    ['alpha 0', { analysis: { alpha: 0 } }, 'rollout.analysis.alpha', 'must be between 0 and 1 (exclusive)'],
    ['alpha 1', { analysis: { alpha: 1 } }, 'rollout.analysis.alpha', 'must be between 0 and 1 (exclusive)'],
    [
      'fractional min_samples',
      { analysis: { min_samples: 2.5 } },
      'rollout.analysis.min_samples',
      'must be a whole number, got 2.5',
    ],
    ['min_samples 0', { analysis: { min_samples: 0 } }, 'rollout.analysis.min_samples', 'must be at least 1'],
    [
      'negative pause budget',
      { analysis: { pause_budget_seconds: -1 } },
      'rollout.analysis.pause_budget_seconds',
      'must be 0 or more',
    ],
    [
      'interval 0',
      { analysis: { interval_seconds: 0 } },
      'rollout.analysis.interval_seconds',
      'must be greater than 0',
    ],
    [
      'deadline shorter than a bake',
      { stages: [{ weight: 50, bake_seconds: 40 }, { weight: 100 }] },
      'rollout.analysis.stage_deadline_seconds',
      'must be greater than the longest bake_seconds (40), or no stage could pass',
    ],
    [
      'unknown strategy',
      { strategy: 'blue-green' },
      'rollout.strategy',
      'must be one of "canary", "rolling", got "blue-green"',
    ],
    [
      'zero health successes',
      { health: { consecutive_successes: 0 } },
      'rollout.health.consecutive_successes',
      'must be at least 1',
    ],
    [
      'negative health deadline',
      { health: { deadline_seconds: -5 } },
      'rollout.health.deadline_seconds',
      'must be greater than 0',
    ],
    ['traffic 0', { traffic_rps: 0 }, 'rollout.traffic_rps', 'must be greater than 0'],
    ['a section that is not a mapping', [1, 2], 'rollout', 'must be a mapping of fields, got a list'],
    ['a null sub-section', { health: null }, 'rollout.health', 'must be a mapping of fields, got nothing (null)'],
  ])('%s', (_name, input, path, rule) => {
    const issues = issuesOf(input);
    expect(issues).toContainEqual({ source: 'chaos-gate.yml', path, rule });
  });

  it('lists every problem at once, not only the first', () => {
    const issues = issuesOf({
      regions: ['a', 'a'],
      limits: { max_error_rate: 2 },
      bake_seconds: 0,
      strategy: 'x',
      foo: 1,
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'rollout.bake_seconds',
      'rollout.foo',
      'rollout.limits.max_error_rate',
      'rollout.regions[1]',
      'rollout.strategy',
    ]);
  });

  it('says so once when the last weight is above 100', () => {
    expect(issuesOf({ stages: [{ weight: 50 }, { weight: 150 }] })).toHaveLength(1);
  });

  it('the UsageError message has one line per issue', () => {
    expect(() => toRolloutPlan({ traffic_rps: -1 }, 'chaos-gate.yml')).toThrow(
      'chaos-gate.yml: rollout.traffic_rps: must be greater than 0',
    );
  });
});

describe('formatPath', () => {
  test.each([
    ['rollout', ['stages', 2, 'weight'], 'rollout.stages[2].weight'],
    ['rollout', [], 'rollout'],
    ['', ['a', 0], 'a[0]'],
  ] as const)('%s + %j = %s', (prefix, path, expected) => {
    expect(formatPath(prefix, path)).toBe(expected);
  });
});
