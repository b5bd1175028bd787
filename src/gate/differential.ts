import { join, resolve } from 'node:path';
import type { DifferentialResult, DifferentialTolerance } from '../analysis/differential.ts';
import { runDifferential, type DifferentialEnv, type DifferentialStage } from '../chaos/differential.ts';
import type { Experiment } from '../chaos/experiment.ts';
import { loadExperiments } from '../config/experiment-files.ts';
import { toExperiment } from '../chaos/schema.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { Progress } from '../util/progress.ts';
import { fitSuite, type SuiteRequest, type SuiteTarget } from './suite.ts';

// Which experiments hit the candidate beside the baseline, where and when: the configuration's
// `experiments.differential`, or the built-in set: a crash and, for a user's service, each
// dependency it calls frozen, then slower and then flaky on the way to it (its region's fault
// proxy). The runs themselves are chaos/differential.ts's.

export interface DifferentialSetup {
  experiments: Experiment[];
  region: string;
  /** 0-based stage index in that region; 'last': its last canary stage. */
  stage: number | 'last';
  rps: number;
  tolerance: DifferentialTolerance;
}

const BUILT_IN = 'built-in differential experiment';
/** A crash costs a start: the sides get as long to serve again as a deploy gets to be healthy. */
const MIN_RECOVERY_SECONDS = 20;
/** The built-in dependency latency: what a cross-zone database or a cold cache adds. */
const SLOW_MS = 300;
/** Held longer than the others: a retry that halves the errors must show beyond the tolerance at 20 rps. */
const FLAKY_SECONDS = 15;

/** The dependencies a user's service calls itself: those no other dependency depends on. */
function calledDirectly(services: readonly { name: string; dependsOn: readonly string[] }[]): string[] {
  const below = new Set(services.flatMap((s) => s.dependsOn));
  return services.filter((s) => !below.has(s.name)).map((s) => s.name);
}

function builtIn(dependencies: readonly string[], regions: readonly string[], startSeconds: number): Experiment[] {
  const target = regions[0];
  const windows = {
    before_seconds: 2,
    after_seconds: 2,
    recovery_deadline_seconds: Math.max(MIN_RECOVERY_SECONDS, startSeconds),
  };
  const kill = {
    name: 'candidate-kill',
    description: 'both sides crash (SIGKILL); the restart policy brings them back',
    target,
    fault: { kind: 'kill' },
    windows,
  };
  const perDependency = dependencies.flatMap((service) => [
    {
      name: `candidate-${service}-frozen`,
      description: `${service} frozen (docker pause) under both sides`,
      target,
      fault: { kind: 'dependency', service, mode: 'pause', duration_seconds: 5 },
      windows,
    },
    {
      name: `candidate-${service}-slow`,
      description: `every call to ${service} ${SLOW_MS} ms slower (fault proxy) under both sides`,
      target,
      fault: { kind: 'dependency', service, mode: 'latency', delay_ms: SLOW_MS, duration_seconds: 5 },
      windows,
    },
    {
      name: `candidate-${service}-flaky`,
      description: `half the calls to ${service} fail (fault proxy) under both sides`,
      target,
      fault: { kind: 'dependency', service, mode: 'errors', share: 0.5, duration_seconds: FLAKY_SECONDS },
      windows,
    },
  ]);
  return [kill, ...perDependency].map((e) => toExperiment(e, BUILT_IN, regions));
}

/** The differential runs the gate makes, or why it makes none (a note for the report). */
export function differentialSetup(
  request: SuiteRequest,
  config: LoadedConfig,
  home: string,
  regions: readonly string[],
): DifferentialSetup | { note: string } {
  const plan = config.experiments.differential;
  if (!plan.enabled) return { note: 'no chaos on the candidate: experiments.differential.enabled is false' };
  const services = config.dependencies;
  const target: SuiteTarget = config.service
    ? { kind: 'service', dependencies: services.map((s) => s.name) }
    : { kind: 'demo' };
  let experiments: Experiment[];
  if (plan.run === undefined) {
    experiments = builtIn(calledDirectly(services), regions, config.rollout.health.deadlineSeconds);
  } else {
    const dir =
      request.experimentsDir !== undefined
        ? resolve(request.cwd, request.experimentsDir)
        : (config.experiments.dir ?? join(home, 'chaos'));
    const loaded = loadExperiments(dir, regions, {
      only: plan.run,
      ...(plan.runOrigin ? { origin: plan.runOrigin } : {}),
    });
    // In the order the configuration lists them.
    experiments = fitSuite(
      plan.run.map((name) => loaded.find((e) => e.name === name) as Experiment),
      target,
    );
  }
  const { analysis } = config.rollout;
  return {
    experiments,
    region: plan.region ?? config.rollout.regions[0] ?? '',
    stage: plan.stage ?? 'last',
    rps: plan.rps,
    tolerance: { ...plan.tolerance, alpha: analysis.alpha, minSamples: analysis.minSamples },
  };
}

/** The rollout's hook: each experiment in turn on both sides of the stage's region. */
export function differentialHook(
  setup: DifferentialSetup,
  env: Omit<DifferentialEnv, 'rps' | 'tolerance'>,
  progress: Progress,
) {
  return {
    region: setup.region,
    stage: setup.stage,
    async run(stage: DifferentialStage): Promise<DifferentialResult[]> {
      const results: DifferentialResult[] = [];
      for (const experiment of setup.experiments) {
        progress.step(
          `differential ${experiment.name} in ${stage.region.name} stage ${stage.stage + 1}: ` +
            'candidate and baseline under the same fault',
        );
        const result = await runDifferential(experiment, stage, { ...env, rps: setup.rps, tolerance: setup.tolerance });
        (result.verdict === 'pass' ? progress.info : progress.warn).call(
          progress,
          `differential ${experiment.name}: ${result.verdict.toUpperCase()}: ${result.headline}`,
        );
        results.push(result);
        if (result.verdict === 'regression') break;
      }
      return results;
    },
  };
}
