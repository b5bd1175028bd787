import { join, resolve } from 'node:path';
import { loadExperiments } from '../chaos/load.ts';
import type { Experiment } from '../chaos/experiment.ts';
import type { JudgementConfig } from '../chaos/measure.ts';
import { UsageError } from '../config/errors.ts';
import { readInputFile } from '../config/input-file.ts';
import type { LoadedConfig } from '../config/load.ts';
import { judgeOptions } from '../rollout/step.ts';
import { applyThresholdOverrides, locateOverrideIssues } from './thresholds.ts';

// The chaos suite as the configuration asks for it, for `gate` and `chaos` alike: which
// folder, which experiments (flag over config), the config's threshold overrides, and the
// judgement limits of the rollout's first stage.

export interface SuiteRequest {
  /** Names to run; undefined: the config's selection or the whole suite; []: none. */
  only?: readonly string[];
  /** A folder given on the command line, relative to cwd; over the config's experiments.dir. */
  experimentsDir?: string;
  cwd: string;
}

export interface Suite {
  experiments: Experiment[];
  /** The folder the experiments came from. */
  dir: string;
}

export function selectSuite(request: SuiteRequest, config: LoadedConfig, home: string, regions: readonly string[]): Suite {
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

/** The limits and options experiments are judged with: the rollout's first stage, as the canary is. */
export function suiteJudgement(config: Pick<LoadedConfig, 'rollout'>): JudgementConfig {
  const limits = config.rollout.stages[0]?.limits ?? { maxErrorRate: 0.05, maxP99Ms: 500 };
  return { limits, options: judgeOptions(config.rollout.analysis) };
}
