import { UsageError, type InputIssue } from '../util/errors.ts';
import { parseExperimentList } from '../chaos/experiment-list.ts';
import { isVersion, parseFailureRate, VERSION_RULE } from '../config/version.ts';
import type { GateRequest } from '../gate/pipeline.ts';

// The Action's inputs as one typed object, read through an injected getter so the rules are
// tested without a runner (as docker/setup-buildx-action's context.ts does). Every problem
// is reported at once, naming the input.
//
// Blank values: the runner passes '' both for an input left out and for one set to an empty
// expression (`experiments: ${{ inputs.x }}` forwarding nothing), so '' means the default.
// A value of only whitespace is never meaningful for any input and is refused, which needs
// the getter to return the raw, untrimmed value (core.getInput with trimWhitespace: false).

export interface ActionInputs {
  /** Required for the demo (the pipeline says so); a user's service defaults to its short commit. */
  version: string | undefined;
  /** The demo's knob; undefined when not given. */
  failureRate: number | undefined;
  config: string | undefined;
  /** undefined: the whole suite; []: no experiment. */
  experiments: string[] | undefined;
  environment: string | undefined;
  reportDir: string;
  seed: number;
  failOnClosedGate: boolean;
  keepStack: boolean;
  /** Restore the run history from the Actions cache before the gate and save it after. */
  historyCache: boolean;
}

export const BLANK_RULE = 'is only whitespace: leave it out (or set it to "") for the default, or give a value';

const EXPERIMENTS_RULES = { source: 'input experiments', allowNone: true } as const;

export function readInputs(get: (name: string) => string): ActionInputs {
  const issues: InputIssue[] = [];
  const issue = (name: string, rule: string) => issues.push({ source: `input ${name}`, path: '', rule });
  /** The trimmed value, or undefined when left out; whitespace alone is refused. */
  const text = (name: string): string | undefined => {
    const raw = get(name);
    if (raw !== '' && raw.trim() === '') issue(name, BLANK_RULE);
    return raw.trim() || undefined;
  };
  /** A rule from deeper code (a UsageError naming the input) joins the other issues. */
  const checked = <T>(parse: () => T, fallback: T): T => {
    try {
      return parse();
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      issues.push(...e.issues);
      return fallback;
    }
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const v = text(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['true', 'yes', '1'].includes(v)) return true;
    if (['false', 'no', '0'].includes(v)) return false;
    issue(name, `${JSON.stringify(get(name))} must be true or false`);
    return fallback;
  };

  const version = text('version');
  if (version !== undefined && !isVersion(version)) issue('version', `${JSON.stringify(version)} ${VERSION_RULE}`);

  const rateText = text('failure-rate');
  const failureRate =
    rateText === undefined
      ? undefined
      : checked<number | undefined>(() => parseFailureRate(rateText, 'input failure-rate', ''), undefined);

  // Parsed as written (the parser trims), so the rule quotes the user's text, as the CLI does.
  const experiments =
    text('experiments') === undefined
      ? undefined
      : checked<string[] | undefined>(() => parseExperimentList(get('experiments'), EXPERIMENTS_RULES), undefined);

  const environment = text('environment');
  if (environment && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(environment)) {
    issue('environment', `${JSON.stringify(environment)} must be letters, digits, "_" or "-"`);
  }

  const seedText = text('seed') ?? '1';
  if (!/^\d{1,10}$/.test(seedText) || Number(seedText) > 0xffffffff) {
    issue('seed', `${JSON.stringify(seedText)} must be a whole number from 0 to 4294967295`);
  }

  const inputs: ActionInputs = {
    version,
    failureRate,
    config: text('config'),
    experiments,
    environment,
    reportDir: text('report-dir') ?? 'reports',
    seed: Number(seedText),
    failOnClosedGate: bool('fail-on-closed-gate', true),
    keepStack: bool('keep-stack', false),
    historyCache: bool('history-cache', true),
  };
  if (issues.length > 0) throw new UsageError(issues);
  return inputs;
}

/** The inputs as the pipeline's request, every field named so a renamed one cannot drop out. */
export function gateRequestOf(inputs: ActionInputs, workspace: string): GateRequest {
  return {
    version: inputs.version,
    failureRate: inputs.failureRate,
    config: inputs.config,
    environment: inputs.environment,
    reportDir: inputs.reportDir,
    only: inputs.experiments,
    // The Action runs the config's suite (experiments.dir) or its own chaos/: no input sets a folder.
    experimentsDir: undefined,
    seed: inputs.seed,
    keepStack: inputs.keepStack,
    cwd: workspace,
  };
}
