import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import type { RolloutPlan } from '../rollout/plan.ts';
import type { SimulationScenario } from '../simulate/scenario.ts';
import { UsageError, type InputIssue } from './errors.ts';
import { toExperimentsPlan, toGatePolicy, type ExperimentsPlan, type GatePolicy } from './gate.ts';
import { toPredictPlan, type PredictPlan } from './predict.ts';
import { toPrometheusPlan, type PrometheusPlan } from './prometheus.ts';
import { toRolloutPlan } from './rollout.ts';
import { toSimulationScenario } from './simulation.ts';

// Reads chaos-gate.yml (or --config FILE) into validated sections: the Plan. Every problem
// names the file, the line and the field path; nothing runs until the whole file is valid.
// `environments.<name>` holds overrides of any section, deep-merged over it when that
// environment is chosen (--environment), so thresholds can differ per environment.

export const DEFAULT_CONFIG_FILE = 'chaos-gate.yml';
export const SECTIONS = ['rollout', 'prometheus', 'experiments', 'gate', 'simulation', 'predict'] as const;

export interface LoadedConfig {
  /** The file read, or undefined when none exists and every default applies. */
  file: string | undefined;
  environment: string | undefined;
  rollout: RolloutPlan;
  prometheus: PrometheusPlan;
  experiments: ExperimentsPlan;
  gate: GatePolicy;
  simulation: SimulationScenario;
  predict: PredictPlan;
}

/**
 * `explicit` is a --config value: it must exist. Without it, chaos-gate.yml in `cwd` is read
 * when present.
 */
export function loadConfig(explicit: string | undefined, cwd: string = process.cwd(), environment?: string): LoadedConfig {
  const file = explicit !== undefined ? resolve(cwd, explicit) : existsSync(resolve(cwd, DEFAULT_CONFIG_FILE)) ? resolve(cwd, DEFAULT_CONFIG_FILE) : undefined;
  if (file === undefined) {
    if (environment) throw new UsageError([{ source: '--environment', path: '', rule: `${JSON.stringify(environment)}: there is no configuration file with environments (looked for ${DEFAULT_CONFIG_FILE})` }]);
    return parseConfig('', 'defaults');
  }
  if (!existsSync(file)) throw new UsageError([{ source: '--config', path: '', rule: `${JSON.stringify(explicit)}: no such file` }]);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError([{ source: file, path: '', rule: `cannot be read: ${(e as Error).message}` }]);
  }
  const config = parseConfig(text, file, environment);
  // A relative experiments folder is relative to the file that names it.
  const dir = config.experiments.dir === undefined ? undefined : resolve(dirname(file), config.experiments.dir);
  return { ...config, file, experiments: { ...config.experiments, dir } };
}

export function parseConfig(text: string, source: string, environment?: string): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new UsageError(doc.errors.map((e) => ({ source, path: '', rule: `not valid YAML: ${e.message.split('\n')[0] ?? ''}`, line: lines.linePos(e.pos[0]).line })));
  }
  const data: unknown = doc.toJS() ?? {};
  if (!isRecord(data)) throw new UsageError([{ source, path: '', rule: `must be a mapping of sections (${SECTIONS.join(', ')}, environments)`, line: 1 }]);

  const issues: InputIssue[] = [];
  for (const key of Object.keys(data)) {
    if (key !== 'environments' && !(SECTIONS as readonly string[]).includes(key)) issues.push({ source, path: key, rule: `unknown section (sections: ${SECTIONS.join(', ')}, environments)` });
  }
  const environments = data.environments ?? {};
  if (!isRecord(environments)) issues.push({ source, path: 'environments', rule: 'must be a mapping of environment names to section overrides' });
  else {
    for (const [name, override] of Object.entries(environments)) {
      if (!isRecord(override)) issues.push({ source, path: `environments.${name}`, rule: 'must be a mapping of section overrides' });
      else for (const key of Object.keys(override)) {
        if (!(SECTIONS as readonly string[]).includes(key)) issues.push({ source, path: `environments.${name}.${key}`, rule: `unknown section (sections: ${SECTIONS.join(', ')})` });
      }
    }
  }
  let merged: Record<string, unknown> = data;
  if (environment !== undefined) {
    const override = isRecord(environments) ? environments[environment] : undefined;
    if (!isRecord(override)) {
      const known = isRecord(environments) ? Object.keys(environments) : [];
      throw new UsageError([{ source: '--environment', path: '', rule: `${JSON.stringify(environment)} is not an environment of ${source} (environments: ${known.join(', ') || 'none'})` }]);
    }
    merged = deepMerge(data, override);
  }

  const rollout = collect(issues, () => toRolloutPlan(merged.rollout, source));
  const prometheus = collect(issues, () => toPrometheusPlan(merged.prometheus, source));
  const experiments = collect(issues, () => toExperimentsPlan(merged.experiments, source));
  const gate = collect(issues, () => toGatePolicy(merged.gate, source));
  const simulation = collect(issues, () => toSimulationScenario(merged.simulation, source));
  const predict = collect(issues, () => toPredictPlan(merged.predict, source));
  if (predict?.preflight.region !== undefined && rollout && !rollout.regions.includes(predict.preflight.region)) {
    issues.push({ source, path: 'predict.preflight.region', rule: `${JSON.stringify(predict.preflight.region)} must be one of rollout.regions (${rollout.regions.join(', ')})` });
  }
  // A dependency is configured for a region the rollout deploys to; a typo would silently keep the default.
  if (predict && rollout) {
    for (const r of Object.keys(predict.dependencies).filter((k) => !rollout.regions.includes(k))) {
      issues.push({ source, path: `predict.dependencies.${r}`, rule: `${JSON.stringify(r)} must be one of rollout.regions (${rollout.regions.join(', ')})` });
    }
  }
  if (issues.length > 0 || !rollout || !prometheus || !experiments || !gate || !simulation || !predict) {
    throw new UsageError(issues.map((i) => locate(i, doc, lines, environment)));
  }
  return { file: undefined, environment, rollout, prometheus, experiments, gate, simulation, predict };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Mappings merge key by key; anything else (lists included) is replaced by the override. */
export function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function collect<T>(issues: InputIssue[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    issues.push(...e.issues);
    return undefined;
  }
}

/** A problem with a value the chosen environment set points at the environment's line. */
export function locate(issue: InputIssue, doc: Document, lines: LineCounter, environment: string | undefined): InputIssue {
  if (environment !== undefined && issue.path && doc.getIn(['environments', environment, ...segments(issue.path)], true) !== undefined) {
    return withLine({ ...issue, path: `environments.${environment}.${issue.path}` }, doc, lines);
  }
  return withLine(issue, doc, lines);
}

function segments(path: string): (string | number)[] {
  return path.match(/[^.[\]]+/g)?.map((s) => (/^\d+$/.test(s) ? Number(s) : s)) ?? [];
}

/** Finds the line of a field path like "rollout.stages[2].weight" (or its nearest existing parent). */
export function withLine(issue: InputIssue, doc: Document, lines: LineCounter): InputIssue {
  const parts = segments(issue.path);
  for (let n = parts.length; n > 0; n--) {
    // The key's line names the field (and is where an unknown field is); a list item has none.
    const parent = doc.getIn(parts.slice(0, n - 1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === parts[n - 1]);
      const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (keyRange) return { ...issue, line: lines.linePos(keyRange[0]).line };
    }
    const node = doc.getIn(parts.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    const pos = node && typeof node === 'object' && node.range ? node.range[0] : undefined;
    if (pos !== undefined) return { ...issue, line: lines.linePos(pos).line };
  }
  return issue;
}
