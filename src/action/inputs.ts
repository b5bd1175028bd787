import { UsageError, type InputIssue } from '../config/errors.ts';
import { isVersion, parseFailureRate, VERSION_RULE } from '../config/version.ts';

// The Action's inputs as one typed object, read through an injected getter so the rules are
// tested without a runner (as docker/setup-buildx-action's context.ts does). Every problem
// is reported at once, naming the input.

export interface ActionInputs {
  version: string;
  failureRate: number;
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

export function readInputs(get: (name: string) => string): ActionInputs {
  const issues: InputIssue[] = [];
  const issue = (name: string, rule: string) => issues.push({ source: `input ${name}`, path: '', rule });
  const bool = (name: string, fallback: boolean): boolean => {
    const v = get(name).trim().toLowerCase();
    if (v === '') return fallback;
    if (['true', 'yes', '1'].includes(v)) return true;
    if (['false', 'no', '0'].includes(v)) return false;
    issue(name, `${JSON.stringify(get(name))} must be true or false`);
    return fallback;
  };

  const version = get('version').trim();
  if (!version) issue('version', 'is required: the candidate version to roll out');
  else if (!isVersion(version)) issue('version', `${JSON.stringify(version)} ${VERSION_RULE}`);

  let failureRate = 0;
  const rateText = get('failure-rate').trim();
  if (rateText) {
    try {
      failureRate = parseFailureRate(rateText, 'input failure-rate', '');
    } catch (e) {
      issues.push(...(e as UsageError).issues);
    }
  }

  const experimentsText = get('experiments').trim();
  let experiments: string[] | undefined;
  if (experimentsText === 'none') experiments = [];
  else if (experimentsText) {
    experiments = experimentsText.split(',').map((s) => s.trim()).filter(Boolean);
    for (const name of experiments) if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) issue('experiments', `${JSON.stringify(name)} is not an experiment name (lowercase letters, digits, "-")`);
  }

  const environment = get('environment').trim() || undefined;
  if (environment && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(environment)) issue('environment', `${JSON.stringify(environment)} must be letters, digits, "_" or "-"`);

  const seedText = get('seed').trim() || '1';
  if (!/^\d{1,10}$/.test(seedText) || Number(seedText) > 0xffffffff) issue('seed', `${JSON.stringify(seedText)} must be a whole number from 0 to 4294967295`);

  const inputs: ActionInputs = {
    version,
    failureRate,
    config: get('config').trim() || undefined,
    experiments,
    environment,
    reportDir: get('report-dir').trim() || 'reports',
    seed: Number(seedText),
    failOnClosedGate: bool('fail-on-closed-gate', true),
    keepStack: bool('keep-stack', false),
    historyCache: bool('history-cache', true),
  };
  if (issues.length > 0) throw new UsageError(issues);
  return inputs;
}
