import { describe, expect, it, test } from 'vitest';
import { issuesOf } from './usage-issues.ts';
import { defaultPredictPlan, toPredictPlan } from '../../src/predict/config.ts';
import { defaultRolloutPlan, toRolloutPlan } from '../../src/config/rollout.ts';
import { rollbackPolicy } from '../../src/plan/rollout.ts';

describe('predict: section', () => {
  it('fills every default', () => {
    expect(defaultPredictPlan()).toEqual({
      enabled: true,
      maxRisk: 50,
      onHighRisk: 'small_tiers',
      smallTiers: [0.1, 0.5],
      monteCarloSamples: 2000,
      preflight: {
        region: undefined,
        secondsPerProfile: 10,
        profiles: [
          { name: 'low', rps: 10, writeShare: 0.3 },
          { name: 'nominal', rps: 40, writeShare: 0.3 },
          { name: 'peak', rps: 80, writeShare: 0.5 },
        ],
      },
      history: { file: '.chaos-gate/history.jsonl', runs: 20, priorWeight: 100 },
      dependencies: {},
    });
    expect(toPredictPlan(null, 'x')).toEqual(defaultPredictPlan());
    expect(Object.isFrozen(defaultPredictPlan().preflight.profiles[0])).toBe(true);
  });

  it('maps snake_case to the plan', () => {
    const p = toPredictPlan(
      {
        enabled: false,
        max_risk: 30,
        on_high_risk: 'close',
        small_tiers: [0.2],
        monte_carlo_samples: 500,
        preflight: { region: 'eu-west', seconds: 5, profiles: [{ name: 'only', rps: 20 }] },
        history: { file: 'h.jsonl', runs: 5, prior_weight: 0 },
        dependencies: { 'us-west': ['db-main'], 'us-east': ['db-main', 'cache-1'], 'ap-south': [] },
      },
      'x',
    );
    expect(p).toEqual({
      enabled: false,
      maxRisk: 30,
      onHighRisk: 'close',
      smallTiers: [0.2],
      monteCarloSamples: 500,
      preflight: { region: 'eu-west', secondsPerProfile: 5, profiles: [{ name: 'only', rps: 20, writeShare: 0.3 }] },
      history: { file: 'h.jsonl', runs: 5, priorWeight: 0 },
      dependencies: { 'us-west': ['db-main'], 'us-east': ['db-main', 'cache-1'], 'ap-south': [] },
    });
  });

  test.each([
    ['max_risk above 100', { max_risk: 150 }, 'predict.max_risk', 'must be between 0 and 100'],
    [
      'on_high_risk typo',
      { on_high_risk: 'small-tiers' },
      'predict.on_high_risk',
      'must be one of "close", "small_tiers", got "small-tiers"',
    ],
    ['a tier of 0', { small_tiers: [0, 0.5] }, 'predict.small_tiers[0]', 'must be greater than 0 (percent of traffic)'],
    [
      'tiers not increasing',
      { small_tiers: [0.5, 0.1] },
      'predict.small_tiers[1]',
      'must be greater than the previous tier (0.5): they strictly increase',
    ],
    ['too few samples', { monte_carlo_samples: 10 }, 'predict.monte_carlo_samples', 'must be at least 200'],
    [
      'profiles rps not increasing',
      {
        preflight: {
          profiles: [
            { name: 'a', rps: 40 },
            { name: 'b', rps: 40 },
          ],
        },
      },
      'predict.preflight.profiles[1].rps',
      "must be greater than the previous profile's rps (40): they strictly increase",
    ],
    [
      'duplicate profile name',
      {
        preflight: {
          profiles: [
            { name: 'a', rps: 10 },
            { name: 'a', rps: 40 },
          ],
        },
      },
      'predict.preflight.profiles[1].name',
      'duplicate profile name "a" (also profiles[0])',
    ],
    [
      'no profile',
      { preflight: { profiles: [] } },
      'predict.preflight.profiles',
      'must list at least one load profile',
    ],
    [
      'write share',
      { preflight: { profiles: [{ name: 'a', rps: 10, write_share: 2 }] } },
      'predict.preflight.profiles[0].write_share',
      'must be between 0 and 1',
    ],
    ['unknown field', { max_risc: 10 }, 'predict.max_risc', 'unknown field (check its spelling)'],
    ['unknown nested field', { history: { path: 'x' } }, 'predict.history.path', 'unknown field (check its spelling)'],
    [
      'bad region',
      { preflight: { region: 'EU West' } },
      'predict.preflight.region',
      'must be 1 to 63 of lowercase letters, digits and "-"',
    ],
    ['runs negative', { history: { runs: -1 } }, 'predict.history.runs', 'must be 0 or more'],
  ])('%s', (_name, input, path, rule) => {
    expect(issuesOf(() => toPredictPlan(input, 'chaos-gate.yml'))).toContainEqual({
      source: 'chaos-gate.yml',
      path,
      rule,
    });
  });
});

describe('rollout: rollback and on_region_failure', () => {
  it('are left out of the plan unless given; rollbackPolicy fills the defaults (all, stop)', () => {
    const plan = defaultRolloutPlan();
    expect('rollback' in plan).toBe(false);
    expect(rollbackPolicy(plan)).toEqual({ scope: 'all', onRegionFailure: 'stop' });
  });

  it('map to the plan', () => {
    const plan = toRolloutPlan({ rollback: 'region', on_region_failure: 'continue' }, 'x');
    expect(plan).toMatchObject({ rollback: 'region', onRegionFailure: 'continue' });
    expect(rollbackPolicy(plan)).toEqual({ scope: 'region', onRegionFailure: 'continue' });
    expect(rollbackPolicy(toRolloutPlan({ rollback: 'region' }, 'x'))).toEqual({
      scope: 'region',
      onRegionFailure: 'stop',
    });
  });

  test.each([
    ['rollback typo', { rollback: 'regions' }, 'rollout.rollback', 'must be one of "all", "region", got "regions"'],
    [
      'on_region_failure typo',
      { rollback: 'region', on_region_failure: 'go' },
      'rollout.on_region_failure',
      'must be one of "stop", "continue", got "go"',
    ],
    [
      'on_region_failure without rollback: region',
      { on_region_failure: 'continue' },
      'rollout.on_region_failure',
      'applies only with rollback: region (rollback: all rolls back every touched region and stops)',
    ],
  ])('%s', (_name, input, path, rule) => {
    expect(issuesOf(() => toRolloutPlan(input, 'chaos-gate.yml'))).toContainEqual({
      source: 'chaos-gate.yml',
      path,
      rule,
    });
  });

  it('stage weights may start as small as 0.1', () => {
    expect(
      toRolloutPlan({ stages: [{ weight: 0.1 }, { weight: 0.5 }, { weight: 100 }] }, 'x').stages.map((s) => s.weight),
    ).toEqual([0.1, 0.5, 100]);
  });
});
