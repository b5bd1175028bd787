import { existsSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, type InputIssue } from '../util/errors.ts';
import type { FieldOrigin, ListOrigin } from './gate.ts';
import { cannotRead, readInputFile } from './input-file.ts';
import { MAX_EXPERIMENT_FILES, MAX_SUITE_BYTES } from '../util/limits.ts';
import { withLine } from './locate.ts';
import { formatBytes, parseYaml } from './yaml.ts';
import { isInside } from '../util/paths.ts';
import type { Experiment } from '../chaos/experiment.ts';
import { toExperiment } from '../chaos/schema.ts';

// Reads the suite: every *.yml / *.yaml in a folder, in file-name order, one experiment per
// file. The whole suite is validated before anything runs; every problem names the file,
// the line and the field path. Only regular files inside the folder are read (a symbolic
// link may point elsewhere in it, never out of it: its target's lines would be quoted back
// as "unknown field" errors), within the limits of util/limits.ts.

/** Parses one file's text; throws a UsageError with line numbers. */
export function parseExperimentText(text: string, source: string, regions: readonly string[]): Experiment {
  const { data, doc, lines } = parseYaml(text, source);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError([
      {
        source,
        path: '',
        rule: 'must be a mapping with name, description, target, fault, load, windows and thresholds',
        line: 1,
      },
    ]);
  }
  try {
    return toExperiment(data, source, regions);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    // The UsageError holds at most MAX_ISSUES (and a count): only those are looked up.
    throw new UsageError(e.issues.map((i) => withLine(i, doc, lines)));
  }
}

export interface SuiteSelection {
  /** Names to run (--only, or experiments.only of the config); all when undefined. */
  only?: readonly string[];
  /** Where `only` was written when it came from the config file (ExperimentsPlan.onlyOrigin); --only when absent. */
  origin?: ListOrigin;
}

/** Checks names are unique and --only names exist; returns the experiments to run, in file order. */
export function selectExperiments(experiments: readonly Experiment[], selection: SuiteSelection): Experiment[] {
  const issues: InputIssue[] = [];
  const seen = new Map<string, string>();
  for (const e of experiments) {
    const first = seen.get(e.name);
    if (first !== undefined)
      issues.push({ source: e.source, path: 'name', rule: `duplicate experiment name "${e.name}" (also in ${first})` });
    else seen.set(e.name, e.source);
  }
  (selection.only ?? []).forEach((name, i) => {
    if (seen.has(name)) return;
    const rule = `no experiment named ${JSON.stringify(name)} (experiments: ${[...seen.keys()].join(', ')})`;
    issues.push(selection.origin ? originIssue(selection.origin, i, rule) : { source: '--only', path: '', rule });
  });
  if (issues.length > 0) throw new UsageError(issues);
  return selection.only ? experiments.filter((e) => selection.only?.includes(e.name)) : [...experiments];
}

function originIssue(origin: ListOrigin, index: number, rule: string): InputIssue {
  const line = origin.lines[index];
  return { source: origin.source, path: `${origin.path}[${index}]`, rule, ...(line === undefined ? {} : { line }) };
}

/** A folder given with --experiments; a folder from the config names experiments.dir and its line. */
const FLAG_FOLDER: FieldOrigin = { source: '--experiments', path: '' };

/** Loads and validates every experiment file in `dir`; `folder` says where `dir` was written. */
export function loadExperiments(
  dir: string,
  regions: readonly string[],
  selection: SuiteSelection = {},
  folder: FieldOrigin = FLAG_FOLDER,
): Experiment[] {
  const refuse = (rule: string) => new UsageError([{ ...folder, rule }]);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw refuse(`${JSON.stringify(dir)} is not a folder`);
  const files = listFolder(dir, folder)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  if (files.length === 0) throw refuse(`no experiment files (*.yml) in ${dir}`);
  if (files.length > MAX_EXPERIMENT_FILES) {
    throw refuse(`${dir} has ${files.length} experiment files, more than the ${MAX_EXPERIMENT_FILES} a suite may have`);
  }
  const texts = readSuite(dir, files, folder);
  const issues: InputIssue[] = [...texts.issues];
  const experiments: Experiment[] = [];
  for (const { source, text } of texts.files) {
    try {
      experiments.push(parseExperimentText(text, source, regions));
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      issues.push(...e.issues);
    }
  }
  if (issues.length > 0) throw new UsageError(issues);
  return selectExperiments(experiments, selection);
}

interface SuiteFile {
  source: string;
  text: string;
}

/** The text of every file that may be read; a problem with one is its issue, and the others are still read. */
function readSuite(
  dir: string,
  files: readonly string[],
  folder: FieldOrigin,
): { files: SuiteFile[]; issues: InputIssue[] } {
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (e) {
    throw atFolder(cannotRead(folder.source, e), folder);
  }
  const out: SuiteFile[] = [];
  const issues: InputIssue[] = [];
  let total = 0;
  for (const file of files) {
    const source = join(dir, file);
    try {
      checkInside(source, root);
      const text = readInputFile(source);
      total += Buffer.byteLength(text, 'utf8');
      // Stop reading at the budget: the files so far are all that is held in memory.
      if (total > MAX_SUITE_BYTES) return { files: [], issues: [...issues, suiteTooBig(dir, folder)] };
      out.push({ source, text });
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      issues.push(...e.issues);
    }
  }
  return { files: out, issues };
}

function listFolder(dir: string, folder: FieldOrigin): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    throw atFolder(cannotRead(folder.source, e), folder);
  }
}

/** The folder's own problem, placed where the folder was named (the flag, or experiments.dir's line). */
function atFolder(error: UsageError, folder: FieldOrigin): UsageError {
  return new UsageError(error.issues.map((i) => ({ ...i, ...folder })));
}

function suiteTooBig(dir: string, folder: FieldOrigin): InputIssue {
  const rule =
    `the experiment files in ${dir} have more than the ${formatBytes(MAX_SUITE_BYTES)} a suite may have ` +
    'together: not checked';
  return { ...folder, rule };
}

/** A symbolic link must lead to a file inside the experiments folder; its target is never named. */
function checkInside(source: string, root: string): void {
  let target: string;
  try {
    if (!lstatSync(source).isSymbolicLink()) return;
    target = realpathSync(source);
  } catch (e) {
    throw cannotRead(source, e);
  }
  if (!isInside(root, target)) {
    const rule =
      'is a symbolic link that leads out of the experiments folder: not read ' +
      '(an experiment file must be inside the folder)';
    throw new UsageError([{ source, path: '', rule }]);
  }
}
