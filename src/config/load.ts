import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import type { RolloutPlan } from '../plan/rollout.ts';
import type { SimulationScenario } from '../simulate/scenario.ts';
import type { BaselinePlan, DependencyService, ServicePlan } from '../target/service.ts';
import { DEFAULT_REGIONS } from '../stack/target.ts';
import { clip } from '../util/shown.ts';
import { isMoreIssue, UsageError, type InputIssue } from '../util/errors.ts';
import { controlsIssues, toExperimentsPlan, toGatePolicy, type ExperimentsPlan, type GatePolicy } from './gate.ts';
import { readDependencies } from './dependencies-file.ts';
import { differentialIssues } from './differential.ts';
import { readInputFile } from './input-file.ts';
import { pathKey } from '../util/issues.ts';
import { MAX_ENVIRONMENTS, MAX_ISSUES, MAX_SHOWN_CHARS } from '../util/limits.ts';
import { environmentSets, relatedPaths, segments, withLine } from './locate.ts';
import { historyFileIssues, toPredictPlan, type PredictPlan } from '../predict/config.ts';
import { toPrometheusPlan, type PrometheusPlan } from '../prometheus/config.ts';
import { regionIssues, toRolloutPlan } from './rollout.ts';
import { planPreflight, preflightIssues } from '../plan/preflight.ts';
import { serviceFileIssues, toTarget } from './service.ts';
import { rolloutBudgetIssues, toSimulationScenario } from './simulation.ts';
import { parseYaml } from './yaml.ts';

// Reads chaos-gate.yml (or --config FILE) into validated sections: the Plan. Every problem
// names the file, the line and the field path; nothing runs until the whole file is valid.
// `environments.<name>` holds overrides of any section, deep-merged over it when that
// environment is chosen (--environment). Every environment is validated, chosen or not, so
// a typo in the production overrides is found by the run that checks staging.

export const DEFAULT_CONFIG_FILE = 'chaos-gate.yml';
export const SECTIONS = [
  'rollout',
  'prometheus',
  'experiments',
  'gate',
  'simulation',
  'predict',
  'service',
  'baseline',
] as const;
/** An environment's name, as --environment takes it. */
const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const ENVIRONMENT_NAME_RULE =
  'an environment name must be 1 to 63 of letters, digits, "_" and "-", ' +
  'starting with a letter or digit (as --environment takes it)';

interface Sections {
  rollout: RolloutPlan;
  prometheus: PrometheusPlan;
  experiments: ExperimentsPlan;
  gate: GatePolicy;
  simulation: SimulationScenario;
  predict: PredictPlan;
  /** The user's service; undefined: no `service:` section, the demo is the target. */
  service: ServicePlan | undefined;
  /** What runs as stable before the rollout; undefined exactly when service is. */
  baseline: BaselinePlan | undefined;
}

export interface LoadedConfig extends Sections {
  /** The file read, or undefined when none exists and every default applies. */
  file: string | undefined;
  environment: string | undefined;
  /** The services of service.dependencies, read once with the file (loadConfig); none without one. */
  dependencies: readonly DependencyService[];
}

/** What a file is checked against beyond its own text. */
export interface ConfigContext {
  /** The stack's regions, which rollout.regions must name (default: the four of the stack). */
  regions?: readonly string[];
  /**
   * Absolute folders predict.history.file must stay inside: the working directory and the
   * config file's folder. Without them, only a relative path that does not climb out passes.
   */
  roots?: readonly string[];
  /** The folder a relative history file is resolved against (the working directory). */
  cwd?: string;
  /** The config file's folder, which service paths are resolved against (default: cwd, else the process's). */
  dir?: string;
  /** Whether the files service: names must exist (loadConfig; a text alone is checked without the disk). */
  checkFiles?: boolean;
  /** false: a plan that could never reach a verdict is not refused (`chaos-gate plan` shows why itself). */
  planPreflight?: boolean;
}

/**
 * `explicit` is a --config value: it must exist. Without it, chaos-gate.yml in `cwd` is read
 * when present.
 */
export function loadConfig(
  explicit: string | undefined,
  cwd: string = process.cwd(),
  environment?: string,
  checks: Pick<ConfigContext, 'planPreflight'> = {},
): LoadedConfig {
  const file =
    explicit !== undefined
      ? resolve(cwd, explicit)
      : existsSync(resolve(cwd, DEFAULT_CONFIG_FILE))
        ? resolve(cwd, DEFAULT_CONFIG_FILE)
        : undefined;
  if (file === undefined) {
    if (environment)
      throw new UsageError([
        {
          source: '--environment',
          path: '',
          rule:
            `${JSON.stringify(environment)}: ` +
            `there is no configuration file with environments (looked for ${DEFAULT_CONFIG_FILE})`,
        },
      ]);
    return parseConfig('', 'defaults', undefined, checks);
  }
  if (!existsSync(file))
    throw new UsageError([{ source: '--config', path: '', rule: `${JSON.stringify(explicit)}: no such file` }]);
  const text = readInputFile(file);
  const context = {
    ...checks,
    roots: [resolve(cwd), dirname(file)],
    cwd: resolve(cwd),
    dir: dirname(file),
    checkFiles: true,
  };
  const config = parseConfig(text, file, environment, context);
  // A relative experiments folder is relative to the file that names it.
  const dir = config.experiments.dir === undefined ? undefined : resolve(dirname(file), config.experiments.dir);
  return {
    ...config,
    file,
    experiments: { ...config.experiments, dir },
    dependencies: dependenciesOf(config.service, context.roots),
  };
}

/** The dependencies file's services; its problems were found when the file was validated. */
function dependenciesOf(service: ServicePlan | undefined, roots: readonly string[]): readonly DependencyService[] {
  if (service?.dependencies === undefined) return [];
  const read = readDependencies(service.dependencies, roots);
  if (read.issues.length > 0) throw new UsageError(read.issues);
  return read.services;
}

/** An issue not yet given its line, and the environment whose merged result it is about. */
interface Pending {
  issue: InputIssue;
  environment?: string;
}

/** The file as parsed, to find lines in. */
interface FileText {
  source: string;
  doc: Document;
  lines: LineCounter;
}

interface Validated {
  /** Every section, when there was no issue. */
  sections?: Sections;
  issues: InputIssue[];
}

export function parseConfig(
  text: string,
  source: string,
  environment?: string,
  context: ConfigContext = {},
): LoadedConfig {
  const { data, doc, lines } = parseYaml(text, source);
  const root = data ?? {};
  if (!isRecord(root)) {
    const rule = `must be a mapping of sections (${SECTIONS.join(', ')}, environments)`;
    throw new UsageError([{ source, path: '', rule, line: 1 }]);
  }
  const environments = isRecord(root.environments) ? root.environments : {};
  if (environment !== undefined && !isRecord(environments[environment])) {
    throw unknownEnvironment(environment, environments, source);
  }

  const pending: Pending[] = shapeIssues(root, source).map((issue) => ({ issue }));
  const base = validate(root, source, context);
  pending.push(...base.issues.map((issue) => ({ issue })));
  const known = new Set(base.issues.map(issueKey));
  let chosen = base.sections;
  for (const [name, override] of checkedEnvironments(environments)) {
    // Past the issues shown, the other environments would only lengthen the count: bounded work.
    if (pending.length > MAX_ISSUES) break;
    const merged = validate(deepMerge(root, override), source, context);
    // The base's own problems are reported once, at the base, unless the environment writes the field too.
    const own = merged.issues.filter((i) => !known.has(issueKey(i)) || writes(override, i.path));
    pending.push(...own.map((issue) => ({ issue, environment: name })));
    if (name === environment) chosen = merged.sections;
  }
  if (pending.length > 0 || !chosen) throw located(pending, { source, doc, lines }, root);
  const experiments = withOrigins(chosen.experiments, { source, doc, lines }, environment);
  return { file: undefined, environment, ...chosen, experiments, dependencies: [] };
}

const issueKey = (i: InputIssue) => `${i.path}\n${i.rule}`;

/** Whether the override writes the field at `path` itself (looked up in the data, not the document: no scan). */
function writes(override: Record<string, unknown>, path: string): boolean {
  let node: unknown = override;
  for (const part of segments(path)) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return false;
    node = (node as Record<string | number, unknown>)[part];
  }
  return true;
}

function unknownEnvironment(environment: string, environments: Record<string, unknown>, source: string): UsageError {
  const names = Object.keys(environments);
  const more = names.length > 20 ? `, ... (${names.length})` : '';
  const shown =
    names
      .slice(0, 20)
      .map((n) => clip(n, MAX_SHOWN_CHARS))
      .join(', ') + more;
  const rule = `${JSON.stringify(environment)} is not an environment of ${source} (environments: ${shown || 'none'})`;
  return new UsageError([{ source: '--environment', path: '', rule }]);
}

/** Unknown sections, and environments that are not a mapping of sections under a usable name. */
function shapeIssues(root: Record<string, unknown>, source: string): InputIssue[] {
  const issue = (path: string, rule: string): InputIssue => ({ source, path, rule });
  const issues = Object.keys(root)
    .filter((k) => k !== 'environments' && !isSection(k))
    .map((k) => issue(pathKey(k), `unknown section (sections: ${SECTIONS.join(', ')}, environments)`));
  const environments = root.environments ?? {};
  if (!isRecord(environments)) {
    return [...issues, issue('environments', 'must be a mapping of environment names to section overrides')];
  }
  const names = Object.keys(environments);
  if (names.length > MAX_ENVIRONMENTS) {
    const rule =
      `has ${names.length} environments, more than the ${MAX_ENVIRONMENTS} a file may have ` +
      '(each is validated in full)';
    issues.push(issue('environments', rule));
  }
  for (const name of names.slice(0, MAX_ENVIRONMENTS)) {
    const path = `environments.${pathKey(name)}`;
    const override = environments[name];
    if (!ENVIRONMENT_NAME.test(name)) issues.push(issue(path, ENVIRONMENT_NAME_RULE));
    else if (!isRecord(override)) issues.push(issue(path, 'must be a mapping of section overrides'));
    else
      for (const key of Object.keys(override).filter((k) => !isSection(k))) {
        issues.push(issue(`${path}.${pathKey(key)}`, `unknown section (sections: ${SECTIONS.join(', ')})`));
      }
  }
  return issues;
}

function isSection(key: string): boolean {
  return (SECTIONS as readonly string[]).includes(key);
}

/** The environments whose merged result is validated: well named mappings, at most MAX_ENVIRONMENTS. */
function checkedEnvironments(environments: Record<string, unknown>): [string, Record<string, unknown>][] {
  return Object.entries(environments)
    .slice(0, MAX_ENVIRONMENTS)
    .filter((e): e is [string, Record<string, unknown>] => ENVIRONMENT_NAME.test(e[0]) && isRecord(e[1]));
}

/** Every section of one variant of the file (the base, or the base with an environment), and the checks across them. */
function validate(data: Record<string, unknown>, source: string, context: ConfigContext): Validated {
  const issues: InputIssue[] = [];
  const rollout = collect(issues, () => toRolloutPlan(data.rollout, source));
  const prometheus = collect(issues, () => toPrometheusPlan(data.prometheus, source));
  const experiments = collect(issues, () => toExperimentsPlan(data.experiments, source));
  const gate = collect(issues, () => toGatePolicy(data.gate, source));
  const simulation = collect(issues, () => toSimulationScenario(data.simulation, source));
  const predict = collect(issues, () => toPredictPlan(data.predict, source));
  if (rollout) issues.push(...regionIssues(rollout, predict, source, context.regions ?? DEFAULT_REGIONS));
  if (rollout && experiments) issues.push(...differentialIssues(experiments.differential, rollout, source));
  if (rollout && gate) issues.push(...controlsIssues(gate.controls, rollout.regions, source));
  if (rollout && simulation) issues.push(...rolloutBudgetIssues(rollout, simulation, source));
  // A plan that could never reach a verdict (plan/preflight.ts): refused before anything is deployed.
  if (rollout && context.planPreflight !== false)
    issues.push(...preflightIssues(planPreflight(rollout), rollout, source));
  if (predict) issues.push(...historyFileIssues(predict.history.file, source, context.roots ?? [], context.cwd));
  const base = { dir: context.dir ?? context.cwd ?? process.cwd(), roots: context.roots ?? [] };
  const target = collect(issues, () => toTarget(data.service, data.baseline, source, base));
  if (target?.service && context.checkFiles)
    issues.push(...serviceFileIssues(target.service, source, base.roots.length > 0 ? base.roots : [base.dir]));
  const complete = rollout && prometheus && experiments && gate && simulation && predict && target;
  if (issues.length > 0 || !complete) return { issues };
  return { issues, sections: { rollout, prometheus, experiments, gate, simulation, predict, ...target } };
}

/** The UsageError of every pending issue: the first MAX_ISSUES, the ones shown, are looked up for their lines. */
function located(pending: readonly Pending[], file: FileText, root: Record<string, unknown>): UsageError {
  let placed = 0;
  return new UsageError(
    pending.map((p) => {
      if (placed >= MAX_ISSUES || isMoreIssue(p.issue)) return p.issue;
      placed++;
      return place(p, file, root);
    }),
  );
}

/** An issue of an environment's merged result is the environment's: its path, and its line where it writes one. */
function place(p: Pending, { doc, lines }: FileText, root: Record<string, unknown>): InputIssue {
  const { issue, environment } = p;
  if (environment === undefined || !issue.path) return withLine(issue, doc, lines, relatedPaths(issue.path, root));
  const prefix = `environments.${environment}.`;
  const override = (root.environments as Record<string, Record<string, unknown>>)[environment] ?? {};
  const related = [...relatedPaths(issue.path, override).map((r) => prefix + r), ...relatedPaths(issue.path, root)];
  return withLine({ ...issue, path: prefix + issue.path }, doc, lines, related);
}

/**
 * Where experiments.only and experiments.dir were written, so a problem found with them later names the file's line.
 */
function withOrigins(
  plan: ExperimentsPlan,
  { source, doc, lines }: FileText,
  environment: string | undefined,
): ExperimentsPlan {
  const pathOf = (field: string) => {
    const scoped = environment !== undefined && environmentSets(doc, environment, `experiments.${field}`);
    return `${scoped ? `environments.${environment}.` : ''}experiments.${field}`;
  };
  const lineOf = (path: string) => withLine({ source, path, rule: '' }, doc, lines).line;
  let out = plan;
  if (plan.only !== undefined) {
    const path = pathOf('only');
    const at = plan.only.map((_, i) => lineOf(`${path}[${i}]`));
    out = { ...out, onlyOrigin: Object.freeze({ source, path, lines: Object.freeze(at) }) };
  }
  const run = plan.differential.run;
  if (run !== undefined) {
    const path = pathOf('differential.run');
    const origin = Object.freeze({ source, path, lines: Object.freeze(run.map((_, i) => lineOf(`${path}[${i}]`))) });
    out = { ...out, differential: Object.freeze({ ...plan.differential, runOrigin: origin }) };
  }
  if (plan.dir !== undefined) {
    const path = pathOf('dir');
    const line = lineOf(path);
    out = { ...out, dirOrigin: Object.freeze({ source, path, ...(line === undefined ? {} : { line }) }) };
  }
  return Object.freeze(out);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Mappings merge key by key; anything else (lists included) is replaced by the override. */
export function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const b = Object.hasOwn(out, k) ? out[k] : undefined;
    // Defined, not assigned: a "__proto__" key stays a field (and is refused as unknown).
    const value = isRecord(b) && isRecord(v) ? deepMerge(b, v) : v;
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
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
