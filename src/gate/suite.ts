import { join, resolve } from 'node:path';
import { loadExperiments } from '../config/experiment-files.ts';
import { needsFaultEndpoint, type Experiment } from '../chaos/experiment.ts';
import type { JudgementConfig } from '../chaos/measure.ts';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { withLine } from '../config/locate.ts';
import { parseYaml } from '../config/yaml.ts';
import { readInputFile } from '../config/input-file.ts';
import type { LoadedConfig } from '../config/load.ts';
import { judgeOptions } from '../rollout/step.ts';
import { applyThresholdOverrides, locateOverrideIssues } from './thresholds.ts';

// The chaos suite as the configuration asks for it, for `gate` and `chaos` alike: which
// folder, which experiments (flag over config), the config's threshold overrides, and the
// judgement limits of the rollout's first stage.

export interface SuiteRequest {
  /** Names to run; undefined: the config's selection or the whole suite; []: none. */
  only?: readonly string[] | undefined;
  /** A folder given on the command line, relative to cwd; over the config's experiments.dir. */
  experimentsDir?: string | undefined;
  cwd: string;
}

export interface Suite {
  experiments: Experiment[];
  /** The folder the experiments came from. */
  dir: string;
}

export function selectSuite(
  request: SuiteRequest,
  config: LoadedConfig,
  home: string,
  regions: readonly string[],
): Suite {
  const { experiments: plan } = config;
  const fromFlag = request.experimentsDir !== undefined;
  const dir = fromFlag ? resolve(request.cwd, request.experimentsDir ?? '') : (plan.dir ?? join(home, 'chaos'));
  const only = request.only ?? plan.only;
  if (only && only.length === 0) return { experiments: [], dir };
  // Names and a folder from the config are blamed on its lines; from a flag (or an input) on the flag.
  const origin = request.only ? undefined : plan.onlyOrigin;
  const folder = fromFlag ? undefined : plan.dirOrigin;
  const loaded = loadExperiments(dir, regions, only ? { only, ...(origin ? { origin } : {}) } : {}, folder);
  const source = config.file ?? 'chaos-gate.yml';
  try {
    return { experiments: applyThresholdOverrides(loaded, plan.thresholds, source), dir };
  } catch (e) {
    // The suite is known only after the file was read: its lines are looked up again here.
    if (!(e instanceof UsageError) || config.file === undefined) throw e;
    throw new UsageError(locateOverrideIssues(e.issues, source, readInputFile(config.file), config.environment));
  }
}

/** The faults that act from outside a service, so they run on a user's service too. */
const OUTSIDE_KINDS = 'kill, partition, latency (method: tc-netem), cpu or memory (method: cgroup) or dependency';

/** What a suite runs on: the demo (its fault endpoint), or a user's service with these dependencies. */
export type SuiteTarget = { kind: 'demo' } | { kind: 'service'; dependencies: readonly string[] };

/**
 * What keeps an experiment from running on the target. A user's service has no fault
 * endpoint, so only faults from outside it run there (kill, partition, latency by tc-netem,
 * dependency); a dependency experiment needs the service in the dependencies file. Pure.
 */
export function suiteFitIssues(experiments: readonly Experiment[], target: SuiteTarget): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const e of experiments) {
    const { fault, source } = e;
    if (target.kind === 'demo') {
      if (fault.kind === 'dependency')
        issues.push({
          source,
          path: 'fault.kind',
          rule:
            'dependency faults act on the services of your dependencies file: ' +
            'they need a service: section with dependencies (the demo has none)',
        });
      continue;
    }
    if (fault.kind === 'latency' && needsFaultEndpoint(fault)) {
      issues.push({
        source,
        path: 'fault.method',
        rule:
          `${fault.method} may fall back to the demo service's fault endpoint, ` +
          'which your service does not have: write method: tc-netem',
      });
    } else if (fault.kind === 'cpu' && needsFaultEndpoint(fault)) {
      issues.push({
        source,
        path: 'fault.kind',
        rule:
          "cpu by method fault-endpoint (the default) is the demo service's busy loop behind its fault endpoint, " +
          'which your service does not have: write method: cgroup (a CPU quota from outside)',
      });
    } else if (fault.kind === 'memory' && needsFaultEndpoint(fault)) {
      issues.push({
        source,
        path: 'fault.kind',
        rule:
          'memory by method fault-endpoint (the default) is allocated by the demo service behind its fault endpoint, ' +
          'which your service does not have: write method: cgroup (a memory limit from outside)',
      });
    } else if (needsFaultEndpoint(fault)) {
      issues.push({
        source,
        path: 'fault.kind',
        rule:
          `${fault.kind} is injected through the demo service's fault endpoint, which your service does not have: ` +
          `use ${OUTSIDE_KINDS}`,
      });
    } else if (fault.kind === 'dependency' && !target.dependencies.includes(fault.service)) {
      const known =
        target.dependencies.length > 0
          ? `its services: ${target.dependencies.join(', ')}`
          : 'service.dependencies is not given';
      issues.push({
        source,
        path: 'fault.service',
        rule: `${JSON.stringify(fault.service)} is not a service of your dependencies file (${known})`,
      });
    }
  }
  return issues;
}

/** The experiments that fit the target, or a UsageError naming each file's line that does not. */
export function fitSuite(experiments: readonly Experiment[], target: SuiteTarget): Experiment[] {
  const issues = suiteFitIssues(experiments, target);
  if (issues.length === 0) return [...experiments];
  throw new UsageError(
    issues.map((i) => {
      const { doc, lines } = parseYaml(readInputFile(i.source), i.source);
      return withLine(i, doc, lines);
    }),
  );
}

/** The suite `gate` runs: what fits its target, and a note when a user's service runs none. */
export function gateSuite(
  request: SuiteRequest,
  config: LoadedConfig,
  home: string,
  regions: readonly string[],
): { experiments: Experiment[]; note?: string } {
  const suite = selectSuite(request, config, home, regions);
  const { service } = config;
  if (!service) return { experiments: fitSuite(suite.experiments, { kind: 'demo' }) };
  // The built-in suite is the demo's: a user's service runs the suite it gives.
  if (request.experimentsDir === undefined && config.experiments.dir === undefined) {
    if (suite.experiments.length === 0) return { experiments: [] };
    return {
      experiments: [],
      note:
        `chaos suite not run: the built-in suite (${suite.experiments.length} experiment(s)) is the demo service's; ` +
        `give experiments.dir with experiments of kinds ${OUTSIDE_KINDS} for your service`,
    };
  }
  return {
    experiments: fitSuite(suite.experiments, { kind: 'service', dependencies: config.dependencies.map((d) => d.name) }),
  };
}

/**
 * The suite `chaos` runs: the config's selection and threshold overrides, as `gate` takes
 * them, fitted to the demo's stack (where `chaos` runs), judged as the rollout's first stage.
 */
export function chaosSuite(
  request: SuiteRequest,
  config: LoadedConfig,
  home: string,
  regions: readonly string[],
): Suite & { judgement: JudgementConfig } {
  const suite = selectSuite(request, config, home, regions);
  return { ...suite, experiments: fitSuite(suite.experiments, { kind: 'demo' }), judgement: suiteJudgement(config) };
}

/** The limits and options experiments are judged with: the rollout's first stage, as the canary is. */
export function suiteJudgement(config: Pick<LoadedConfig, 'rollout'>): JudgementConfig {
  const limits = config.rollout.stages[0]?.limits ?? { maxErrorRate: 0.05, maxP99Ms: 500 };
  return { limits, options: judgeOptions(config.rollout.analysis) };
}
