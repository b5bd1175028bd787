import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { UsageError, type InputIssue } from '../config/errors.ts';
import { withLine } from '../config/load.ts';
import type { Experiment } from './experiment.ts';
import { toExperiment } from './schema.ts';

// Reads the suite: every *.yml / *.yaml in a folder, in file-name order, one experiment per
// file. The whole suite is validated before anything runs; every problem names the file,
// the line and the field path.

/** Parses one file's text; throws a UsageError with line numbers. */
export function parseExperimentText(text: string, source: string, regions: readonly string[]): Experiment {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new UsageError(doc.errors.map((e) => ({ source, path: '', rule: `not valid YAML: ${e.message.split('\n')[0] ?? ''}`, line: lines.linePos(e.pos[0]).line })));
  }
  const data: unknown = doc.toJS();
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError([{ source, path: '', rule: 'must be a mapping with name, description, target, fault, load, windows and thresholds', line: 1 }]);
  }
  try {
    return toExperiment(data, source, regions);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    throw new UsageError(e.issues.map((i) => withLine(i, doc, lines)));
  }
}

export interface SuiteSelection {
  /** Names to run (--only); all when undefined. */
  only?: readonly string[];
}

/** Checks names are unique and --only names exist; returns the experiments to run, in file order. */
export function selectExperiments(experiments: readonly Experiment[], selection: SuiteSelection): Experiment[] {
  const issues: InputIssue[] = [];
  const seen = new Map<string, string>();
  for (const e of experiments) {
    const first = seen.get(e.name);
    if (first !== undefined) issues.push({ source: e.source, path: 'name', rule: `duplicate experiment name "${e.name}" (also in ${first})` });
    else seen.set(e.name, e.source);
  }
  for (const name of selection.only ?? []) {
    if (!seen.has(name)) issues.push({ source: '--only', path: '', rule: `no experiment named ${JSON.stringify(name)} (experiments: ${[...seen.keys()].join(', ')})` });
  }
  if (issues.length > 0) throw new UsageError(issues);
  return selection.only ? experiments.filter((e) => selection.only?.includes(e.name)) : [...experiments];
}

/** Loads and validates every experiment file in `dir`. */
export function loadExperiments(dir: string, regions: readonly string[], selection: SuiteSelection = {}): Experiment[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError([{ source: '--experiments', path: '', rule: `${JSON.stringify(dir)} is not a folder` }]);
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) throw new UsageError([{ source: '--experiments', path: '', rule: `no experiment files (*.yml) in ${dir}` }]);
  const issues: InputIssue[] = [];
  const experiments: Experiment[] = [];
  for (const file of files) {
    const source = join(dir, file);
    try {
      experiments.push(parseExperimentText(readFileSync(source, 'utf8'), source, regions));
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      issues.push(...e.issues);
    }
  }
  if (issues.length > 0) throw new UsageError(issues);
  return selectExperiments(experiments, selection);
}
