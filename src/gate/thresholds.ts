import { MEASUREMENTS, thresholdKey, unknownThresholdRule, type MeasurementName } from '../chaos/catalogue.ts';
import type { Experiment, Threshold } from '../chaos/experiment.ts';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { locate } from '../config/locate.ts';
import { parseYaml, type ParsedYaml } from '../config/yaml.ts';

// `experiments.thresholds` of chaos-gate.yml (per environment too) over the experiments'
// own thresholds. Pure. An unknown experiment or threshold key is refused, naming it.

export function applyThresholdOverrides(
  experiments: readonly Experiment[],
  overrides: Readonly<Record<string, Readonly<Record<string, number>>>>,
  source: string,
): Experiment[] {
  const issues: InputIssue[] = [];
  const byKey = new Map((Object.keys(MEASUREMENTS) as MeasurementName[]).map((m) => [thresholdKey(m), m]));
  const names = new Set(experiments.map((e) => e.name));
  for (const [name, keys] of Object.entries(overrides)) {
    if (!names.has(name))
      issues.push({
        source,
        path: `experiments.thresholds.${name}`,
        rule: `no experiment named "${name}" in the suite (${[...names].join(', ')})`,
      });
    for (const key of Object.keys(keys)) {
      if (!byKey.has(key))
        issues.push({ source, path: `experiments.thresholds.${name}.${key}`, rule: unknownThresholdRule() });
    }
  }
  if (issues.length > 0) throw new UsageError(issues);
  return experiments.map((e) => {
    const set = overrides[e.name];
    if (!set) return e;
    const thresholds: Threshold[] = e.thresholds.filter((t) => set[thresholdKey(t.measurement)] === undefined);
    for (const [key, value] of Object.entries(set)) {
      const measurement = byKey.get(key) as MeasurementName;
      thresholds.push({ measurement, comparator: MEASUREMENTS[measurement].comparator, value });
    }
    return { ...e, thresholds };
  });
}

/**
 * Adds the line to the issues of `source` that have none, from the config file's text. The
 * suite (and so an unknown experiment name) is known only after the file was read, when its
 * YAML document is gone; this finds the field again, as config/load.ts does (a name that the
 * chosen environment set points at the environment's line).
 */
export function locateOverrideIssues(
  issues: readonly InputIssue[],
  source: string,
  text: string,
  environment: string | undefined,
): InputIssue[] {
  let parsed: ParsedYaml;
  try {
    parsed = parseYaml(text, source);
  } catch {
    return [...issues];
  }
  const { doc, lines } = parsed;
  return issues.map((issue) => {
    if (issue.source !== source || issue.line !== undefined || !issue.path) return issue;
    return locate(issue, doc, lines, environment);
  });
}
