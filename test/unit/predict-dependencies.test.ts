import { describe, expect, it, test } from 'vitest';
import type { ExperimentResult } from '../../src/chaos/result.ts';
import { issuesOf } from './usage-issues.ts';
import { parseConfig } from '../../src/config/load.ts';
import { defaultPredictPlan, toPredictPlan } from '../../src/predict/config.ts';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import type { FailureHistory } from '../../src/predict/priors.ts';
import {
  correlatedRegions,
  dependencyGraph,
  describeGraph,
  ownDatabase,
  sharedDependencies,
  type DependencyGraph,
} from '../../src/predict/dependencies.ts';
import { formatPrediction, predict } from '../../src/predict/index.ts';
import { predictionInput } from '../../src/predict/live.ts';
import { fitProfiles, JEFFREYS_PRIOR, predictStage, stageLoads } from '../../src/predict/model.ts';
import { assessRisk, RISK_WEIGHTS } from '../../src/predict/risk.ts';
import { preflightAt } from './predict-fixtures.ts';

// The dependency model (predict.dependencies): its defaults, its validation, and the one
// thing it changes in the risk: a failed database experiment counts again in every region
// that shares the database with its target (correlated failure).

const plan = defaultRolloutPlan();
const NO_HISTORY: FailureHistory = { runs: 0, failed: 0, byRegion: {}, versions: [] };
const SHARED_EU_US: DependencyGraph = { 'eu-west': ['db-main'], 'us-east': ['db-main'] };
const ONE_DATABASE: DependencyGraph = Object.fromEntries(plan.regions.map((r) => [r, ['db-global']]));

function experiment(
  name: string,
  kind: string,
  status: ExperimentResult['status'],
  targets: string[],
): ExperimentResult {
  return {
    name,
    description: '',
    fault: { kind, method: 'test', params: {} },
    targets,
    status,
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 1000,
    faultWindow: { fromMs: 0, toMs: 1 },
    windows: [],
    series: [],
    recoveryTimeSeconds: null,
    acknowledgedWritesLost: 0,
    reverted: true,
    measurements: [
      {
        name: 'recovery_time_seconds',
        value: status === 'FAIL' ? 22 : 3,
        threshold: 15,
        comparator: '<=',
        unit: 's',
        pass: status !== 'FAIL',
      },
    ],
  };
}

const DB_FAILED = experiment('database-failure', 'db_unavailable', 'FAIL', ['eu-west']);
const CPU_PASSED = experiment('cpu-spike', 'cpu', 'PASS', ['us-east']);

const profiles = fitProfiles(preflightAt(0.01));
const stages = stageLoads(plan).map((l) => predictStage(profiles, JEFFREYS_PRIOR, l, 42, 300));
function riskWith(experiments: ExperimentResult[], configured?: DependencyGraph) {
  return assessRisk({
    analysis: plan.analysis,
    regions: plan.regions,
    profiles,
    prior: JEFFREYS_PRIOR,
    stages,
    preflightRegions: ['us-west'],
    history: NO_HISTORY,
    experiments,
    maxRisk: 50,
    dependencies: dependencyGraph(plan.regions, configured),
  });
}
const component = (r: ReturnType<typeof riskWith>, name: string) => r.components.find((c) => c.name === name)!;

describe('the dependency graph', () => {
  it('defaults to each region on its own database, db-<region>, in rollout order', () => {
    expect(dependencyGraph(plan.regions)).toEqual({
      'us-west': ['db-us-west'],
      'us-east': ['db-us-east'],
      'eu-west': ['db-eu-west'],
      'ap-south': ['db-ap-south'],
    });
    expect(Object.keys(dependencyGraph(plan.regions))).toEqual(plan.regions);
    expect(ownDatabase('eu-west')).toBe('db-eu-west');
    expect(sharedDependencies(dependencyGraph(plan.regions))).toEqual([]);
  });

  it('takes the configured regions as written, keeps the default for the rest, and finds what is shared', () => {
    const g = dependencyGraph(plan.regions, {
      'us-east': ['db-main', 'cache'],
      'eu-west': ['db-main'],
      'ap-south': [],
    });
    expect(g).toEqual({
      'us-west': ['db-us-west'],
      'us-east': ['db-main', 'cache'],
      'eu-west': ['db-main'],
      'ap-south': [],
    });
    expect(sharedDependencies(g)).toEqual([{ dependency: 'db-main', regions: ['us-east', 'eu-west'] }]);
    expect(describeGraph(g)).toBe(
      'us-west -> db-us-west; us-east -> db-main, cache; eu-west -> db-main; ap-south -> (none)',
    );
  });

  it('correlated regions: the others sharing a dependency with a target, and through what', () => {
    const g = dependencyGraph(plan.regions, { 'us-west': ['db-a'], 'us-east': ['db-a', 'db-b'], 'eu-west': ['db-b'] });
    expect(correlatedRegions(g, ['us-west'])).toEqual([{ region: 'us-east', via: ['db-a'], targets: ['us-west'] }]);
    expect(correlatedRegions(g, ['us-east'])).toEqual([
      { region: 'us-west', via: ['db-a'], targets: ['us-east'] },
      { region: 'eu-west', via: ['db-b'], targets: ['us-east'] },
    ]);
    // Two targets on the same database: the targets are not counted, only the others.
    expect(correlatedRegions(g, ['us-west', 'us-east'])).toEqual([
      { region: 'eu-west', via: ['db-b'], targets: ['us-east'] },
    ]);
    expect(correlatedRegions(dependencyGraph(plan.regions), ['eu-west'])).toEqual([]);
    // A target outside the graph has its own database, which nobody shares.
    expect(correlatedRegions(g, ['sa-east'])).toEqual([]);
  });
});

describe('the risk with a dependency model: correlated failure', () => {
  // A healthy candidate (1% errors like stable), so that only uncertainty and experiments
  // score: score = 100 x (1 - (1 - 0.2 u)(1 - 0.15 c)) with u = 0.1832 from this pre-flight.
  const expectedScore = (c: number, u: number) =>
    100 * (1 - (1 - RISK_WEIGHTS.uncertainty * u) * (1 - RISK_WEIGHTS.experiments * c));

  test.each([
    ['each region on its own database (default)', undefined, 0.5, 10.9, ['eu-west']],
    ['eu-west and us-east share db-main', SHARED_EU_US, 0.6667, 13.3, ['eu-west', 'us-east']],
    ['all four regions on db-global', ONE_DATABASE, 0.8, 15.2, ['eu-west', 'us-west', 'us-east', 'ap-south']],
  ] as const)(
    'failed database experiment in eu-west, %s: experiments c = (F + C) / (R + C) = %s, score %s',
    (_name, configured, c, score, regions) => {
      const r = riskWith([DB_FAILED, CPU_PASSED], configured);
      const e = component(r, 'experiments');
      expect(e.value).toBe(c);
      expect(r.score).toBe(score);
      expect(r.score).toBeCloseTo(expectedScore(c, component(r, 'uncertainty').value), 1);
      const points = r.failurePoints.filter((f) => f.component === 'experiments');
      expect(points.map((f) => f.region)).toEqual(regions);
      // Every region the fault reaches carries an equal share: the target and each correlated region.
      expect(new Set(points.map((f) => f.points)).size).toBe(1);
      expect(
        points.every(
          (f) =>
            f.experiment === 'database-failure' &&
            f.failureClass === 'database dependency' &&
            f.metric === 'error_rate',
        ),
      ).toBe(true);
    },
  );

  it('says why, in the component and in each correlated failure point', () => {
    const r = riskWith([DB_FAILED, CPU_PASSED], SHARED_EU_US);
    expect(component(r, 'experiments').explanation).toBe(
      '1 of 2 chaos experiment(s) failed: database-failure; correlated failure: database-failure also reaches us-east through db-main, counted as (1 + 1) / (2 + 1)',
    );
    const [target, correlated] = r.failurePoints.filter((f) => f.component === 'experiments');
    expect(target!.explanation).toMatch(/; db-main is shared by us-east, eu-west$/);
    expect(correlated!.explanation).toBe(
      'experiment database-failure (db_unavailable in eu-west) failed, and us-east shares db-main with eu-west: the same fault takes us-east down with it (correlated failure)',
    );
  });

  it('the model changes nothing without a failed dependency fault', () => {
    // A passing database experiment, and a failed kill in a region that shares its database.
    const passed = [
      experiment('database-failure', 'db_unavailable', 'PASS', ['eu-west']),
      experiment('service-kill', 'kill', 'FAIL', ['eu-west']),
    ];
    expect(riskWith(passed, ONE_DATABASE)).toEqual(riskWith(passed));
    expect(component(riskWith(passed, ONE_DATABASE), 'experiments').value).toBe(0.5);
    // No experiments at all: the graph has nothing to carry.
    expect(riskWith([], ONE_DATABASE)).toEqual(riskWith([]));
  });

  it('is monotone in sharing and stays a soft component: at most 0.15 x 1 whatever is shared', () => {
    const scores = [undefined, SHARED_EU_US, ONE_DATABASE].map((g) => riskWith([DB_FAILED, CPU_PASSED], g).score);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    const worst = riskWith([DB_FAILED], ONE_DATABASE);
    expect(component(worst, 'experiments').value).toBe(1);
    expect(worst.score).toBeLessThan(50);
  });
});

describe('predict() with the dependency model', () => {
  const config = { ...defaultPredictPlan(), monteCarloSamples: 200 };

  it('lists the graph it used, defaults filled in, and what is shared', () => {
    const p = predict({
      plan,
      preflight: preflightAt(0.01),
      history: [],
      seed: 1,
      config,
      experiments: [DB_FAILED, CPU_PASSED],
      dependencies: SHARED_EU_US,
    });
    expect(p.dependencies).toEqual({
      graph: { 'us-west': ['db-us-west'], 'us-east': ['db-main'], 'eu-west': ['db-main'], 'ap-south': ['db-ap-south'] },
      shared: [{ dependency: 'db-main', regions: ['us-east', 'eu-west'] }],
    });
    expect(p.risk.score).toBeGreaterThan(
      predict({
        plan,
        preflight: preflightAt(0.01),
        history: [],
        seed: 1,
        config,
        experiments: [DB_FAILED, CPU_PASSED],
      }).risk.score,
    );
    expect(formatPrediction(p)).toContain(
      '  dependencies: us-west -> db-us-west; us-east -> db-main; eu-west -> db-main; ap-south -> db-ap-south (shared: db-main by us-east, eu-west)',
    );
  });

  it('without a model: each region its own database, nothing shared', () => {
    const p = predict({ plan, preflight: preflightAt(0.01), history: [], seed: 1, config });
    expect(p.dependencies).toEqual({ graph: dependencyGraph(plan.regions), shared: [] });
    expect(formatPrediction(p)).toContain('(none shared)');
  });

  it('the live prediction (CLI and gate) passes predict.dependencies as configured', () => {
    const predictPlan = toPredictPlan(
      { dependencies: { 'eu-west': ['db-main'], 'us-east': ['db-main'] } },
      'chaos-gate.yml',
    );
    const input = predictionInput(
      {
        version: 'v2',
        failureRate: 0,
        rollout: plan,
        predict: predictPlan,
        seed: 3,
        cwd: '/',
        experiments: [DB_FAILED],
      },
      preflightAt(0.01),
      [],
    );
    expect(input.dependencies).toEqual({ 'eu-west': ['db-main'], 'us-east': ['db-main'] });
    expect(input).toMatchObject({ plan, seed: 3, config: predictPlan, experiments: [DB_FAILED] });
    expect(predict(input).dependencies.shared).toEqual([{ dependency: 'db-main', regions: ['us-east', 'eu-west'] }]);
  });
});

describe('predict.dependencies in chaos-gate.yml', () => {
  it('defaults to nothing configured, which predict() resolves to each region its own database', () => {
    expect(defaultPredictPlan().dependencies).toEqual({});
    expect(parseConfig('', 'defaults').predict.dependencies).toEqual({});
  });

  it('reads a shared database, also from an environment', () => {
    const text =
      'predict:\n  dependencies:\n    us-west: [db-main]\nenvironments:\n  prod:\n    predict:\n      dependencies: { us-east: [db-main] }\n';
    expect(parseConfig(text, 'f.yml').predict.dependencies).toEqual({ 'us-west': ['db-main'] });
    expect(parseConfig(text, 'f.yml', 'prod').predict.dependencies).toEqual({
      'us-west': ['db-main'],
      'us-east': ['db-main'],
    });
  });

  it('refuses a region that is not one of rollout.regions, naming the field path, the rule and the line', () => {
    const text =
      'rollout: { regions: [us-west, eu-west] }\npredict:\n  dependencies:\n    us-west: [db-main]\n    eu-central: [db-main]\n';
    expect(issuesOf(() => parseConfig(text, 'f.yml'))).toEqual([
      {
        source: 'f.yml',
        path: 'predict.dependencies.eu-central',
        rule: '"eu-central" must be one of rollout.regions (us-west, eu-west)',
        line: 5,
      },
    ]);
  });

  test.each([
    ['not a mapping', { dependencies: ['db'] }, 'predict.dependencies', 'must be a mapping of fields, got a list'],
    [
      'a region name with capitals',
      { dependencies: { 'EU-West': ['db'] } },
      'predict.dependencies.EU-West',
      'region name must be 1 to 63 of lowercase letters, digits and "-"',
    ],
    [
      'a dependency that is not a list',
      { dependencies: { 'us-west': 'db-main' } },
      'predict.dependencies.us-west',
      'must be a list, got "db-main"',
    ],
    [
      'a bad dependency name',
      { dependencies: { 'us-west': ['DB main'] } },
      'predict.dependencies.us-west[0]',
      'must be 1 to 63 of lowercase letters, digits, ".", "_" and "-", starting with a letter or digit',
    ],
    [
      'a dependency twice',
      { dependencies: { 'us-west': ['db-main', 'db-main'] } },
      'predict.dependencies.us-west[1]',
      'duplicate dependency "db-main" (also [0])',
    ],
  ])('%s', (_name, input, path, rule) => {
    expect(issuesOf(() => toPredictPlan(input, 'chaos-gate.yml'))).toContainEqual({
      source: 'chaos-gate.yml',
      path,
      rule,
    });
  });
});
