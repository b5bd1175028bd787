import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { MAX_STUDY_SEEDS } from '../util/limits.ts';
import { DEFAULT_STUDY_SEEDS } from '../simulate/study.ts';
import { parseExperimentList } from '../chaos/experiment-list.ts';
import { parseFailureRate, parseVersion } from '../config/version.ts';
import { DATA_FAULTS, REGRESSIONS, type DataFault, type Regression } from '../stack/target.ts';
import type { ChaosCommand } from './commands/chaos.ts';
import type { DeployCommand } from './commands/deploy.ts';
import type { GateCommand } from './commands/gate.ts';
import type { PredictCommand } from './commands/predict.ts';
import type { PlanCommand } from './commands/plan.ts';
import type { SimulateCommand } from './commands/simulate.ts';

// Pure: argv in, a typed Command out, or a UsageError naming the flag and the rule.

export type Command =
  | { name: 'help'; topic?: string }
  | { name: 'up' }
  | { name: 'down' }
  | { name: 'status'; json: boolean }
  | ({ name: 'deploy' } & DeployCommand)
  | ({ name: 'simulate' } & SimulateCommand)
  | ({ name: 'chaos' } & ChaosCommand)
  | ({ name: 'predict' } & PredictCommand)
  | ({ name: 'plan' } & PlanCommand)
  | ({ name: 'gate' } & GateCommand);

export const COMMANDS = [
  'up',
  'down',
  'status',
  'deploy',
  'simulate',
  'chaos',
  'predict',
  'plan',
  'gate',
  'run',
  'help',
] as const;

type Options = NonNullable<ParseArgsConfig['options']>;
/** What is read here of node's tokens: every occurrence of a flag, in order. */
type Token =
  | { kind: 'option'; name: string; rawName: string; value?: string | undefined }
  | { kind: 'positional' | 'option-terminator' };

interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

function refuse(source: string, path: string, rule: string): never {
  throw new UsageError([{ source, path, rule }]);
}

// A negative number ("deploy v2 -0.1") is a value, never a flag (no flag starts with a digit):
// marked, node's parser takes it as a positional or as the value of the flag before it, and
// the value's own rule judges it.
const NEGATIVE_NUMBER = /^-\.?\d/;
// argv cannot hold NUL (C strings end there), so the mark cannot clash with anything typed.
const MARK = '\0';
const unmark = (text: string): string => (text.startsWith(MARK) ? text.slice(MARK.length) : text);

function parse(command: string, argv: readonly string[], options: Options, maxPositionals: number): Parsed {
  let parsed: Parsed & { tokens: Token[] };
  try {
    parsed = parseArgs({
      args: argv.map((a) => (NEGATIVE_NUMBER.test(a) ? MARK + a : a)),
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    // node's messages already name the flag ("Unknown option '--x'").
    refuse('argument', command, (e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const issues = flagIssues(parsed.tokens, options);
  if (issues.length > 0) throw new UsageError(issues);
  const positionals = parsed.positionals.map(unmark);
  if (positionals.length > maxPositionals) {
    refuse('argument', command, `takes at most ${maxPositionals} argument(s), got ${JSON.stringify(positionals)}`);
  }
  const values = Object.entries(parsed.values).map(([k, v]) => [k, typeof v === 'string' ? unmark(v) : v] as const);
  return { values: Object.fromEntries(values), positionals };
}

// `--only ''` is left to the experiment-list rule, which also says what to write instead.
const OWN_EMPTY_RULE: ReadonlySet<string> = new Set(['only']);

/** A value flag given twice (the last would win silently) or blank (it would mean the default). */
function flagIssues(tokens: readonly Token[], options: Options): InputIssue[] {
  const issues: InputIssue[] = [];
  const uses = new Map<string, string[]>();
  for (const t of tokens) {
    if (t.kind !== 'option' || options[t.name]?.type !== 'string') continue;
    const value = unmark(t.value ?? '');
    uses.set(t.name, [...(uses.get(t.name) ?? []), `${t.rawName} ${JSON.stringify(value)}`]);
    if (value.trim() === '' && !OWN_EMPTY_RULE.has(t.name)) {
      issues.push({ source: `--${t.name}`, path: '', rule: `needs a value, got ${JSON.stringify(value)}` });
    }
  }
  for (const [name, all] of uses) {
    const rule = `given ${all.length} times (${all.join(', ')}): give it once`;
    if (all.length > 1) issues.push({ source: `--${name}`, path: '', rule });
  }
  return issues;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `{ [key]: value }`, or nothing when the value was not given, so a Command has no undefined fields. */
function given<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

const help = (topic: string): Command => ({ name: 'help', topic });

type Parser = (argv: readonly string[]) => Command;
const PARSERS: ReadonlyMap<string, Parser> = new Map<string, Parser>([
  ['up', (argv) => parseBare('up', argv)],
  ['down', (argv) => parseBare('down', argv)],
  ['status', parseStatus],
  ['deploy', parseDeploy],
  ['simulate', parseSimulate],
  ['chaos', parseChaos],
  ['predict', parsePredict],
  ['plan', parsePlan],
  ['gate', (argv) => parseGate('gate', argv)],
  ['run', (argv) => parseGate('run', argv)],
]);

export function parseCommand(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    return { name: 'help', ...given('topic', rest[0] || undefined) };
  }
  const parser = PARSERS.get(name);
  const commands = COMMANDS.join(', ');
  if (!parser) refuse('argument', 'command', `unknown command ${JSON.stringify(name)}; commands: ${commands}`);
  return parser(rest);
}

function parseBare(name: 'up' | 'down', argv: readonly string[]): Command {
  return parse(name, argv, {}, 0).values.help ? help(name) : { name };
}

function parseStatus(argv: readonly string[]): Command {
  const p = parse('status', argv, { json: { type: 'boolean' } }, 0);
  return p.values.help ? help('status') : { name: 'status', json: Boolean(p.values.json) };
}

const DEPLOY_OPTIONS: Options = {
  'failure-rate': { type: 'string' },
  strategy: { type: 'string' },
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  'result-file': { type: 'string' },
  'data-fault': { type: 'string' },
  regression: { type: 'string' },
};

function parseDeploy(argv: readonly string[]): Command {
  const p = parse('deploy', argv, DEPLOY_OPTIONS, 2);
  if (p.values.help) return help('deploy');
  const [versionArg, rateArg] = p.positionals;
  const dataFault = parseDataFault(str(p.values['data-fault']));
  const regression = parseRegression(str(p.values.regression));
  if (versionArg === undefined) {
    refuse('argument', 'deploy', 'needs a version: chaos-gate deploy <version> [failure-rate]');
  }
  const flagRate = str(p.values['failure-rate']);
  if (flagRate !== undefined && rateArg !== undefined) {
    const rule = 'give the failure rate either as the second argument or as --failure-rate, not both';
    refuse('argument', 'failure-rate', rule);
  }
  const strategy = parseStrategy(str(p.values.strategy));
  const rateText = flagRate ?? rateArg;
  const rateSource: [string, string] = flagRate !== undefined ? ['--failure-rate', ''] : ['argument', 'failure-rate'];
  return {
    name: 'deploy',
    version: parseVersion(versionArg, 'argument', 'version'),
    failureRate: rateText === undefined ? 0 : parseFailureRate(rateText, ...rateSource),
    json: Boolean(p.values.json),
    ...given('strategy', strategy),
    ...given('config', str(p.values.config)),
    ...given('resultFile', str(p.values['result-file'])),
    ...given('dataFault', dataFault),
    ...given('regression', regression),
  };
}

const SIMULATE_OPTIONS: Options = {
  seed: { type: 'string' },
  config: { type: 'string', short: 'c' },
  study: { type: 'boolean' },
  seeds: { type: 'string' },
  json: { type: 'boolean' },
};

function parseSimulate(argv: readonly string[]): Command {
  const p = parse('simulate', argv, SIMULATE_OPTIONS, 0);
  if (p.values.help) return help('simulate');
  const config = given('config', str(p.values.config));
  const seeds = str(p.values.seeds);
  if (!p.values.study) {
    // A single rollout already prints JSON; the study's flags would be silently ignored.
    if (seeds !== undefined) refuse('--seeds', '', 'is for a study: add --study');
    if (p.values.json) refuse('--json', '', 'is for a study (a single simulation always prints JSON): add --study');
    return { name: 'simulate', seed: parseSeed(str(p.values.seed) ?? '1'), ...config };
  }
  // A study runs seeds 1..N; one --seed would be a different question.
  if (p.values.seed !== undefined) refuse('--seed', '', 'is for a single simulation: a study runs seeds 1 to --seeds');
  return {
    name: 'simulate',
    seed: 1,
    study: { seeds: parseStudySeeds(seeds ?? String(DEFAULT_STUDY_SEEDS)), json: Boolean(p.values.json) },
    ...config,
  };
}

function parseStudySeeds(text: string): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1 || Number(text) > MAX_STUDY_SEEDS) {
    refuse('--seeds', '', `${JSON.stringify(text)} must be a whole number from 1 to ${MAX_STUDY_SEEDS}`);
  }
  return Number(text);
}

const CHAOS_OPTIONS: Options = {
  only: { type: 'string' },
  experiments: { type: 'string' },
  config: { type: 'string', short: 'c' },
  environment: { type: 'string', short: 'e' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
};

function parseChaos(argv: readonly string[]): Command {
  const p = parse('chaos', argv, CHAOS_OPTIONS, 0);
  if (p.values.help) return help('chaos');
  const seedText = str(p.values.seed);
  return {
    name: 'chaos',
    json: Boolean(p.values.json),
    ...given('only', parseOnly(str(p.values.only), false)),
    ...given('experiments', str(p.values.experiments)),
    ...given('config', str(p.values.config)),
    ...given('environment', parseEnvironment(str(p.values.environment))),
    ...given('seed', seedText === undefined ? undefined : parseSeed(seedText)),
  };
}

const PREDICT_OPTIONS: Options = {
  version: { type: 'string' },
  'failure-rate': { type: 'string' },
  config: { type: 'string', short: 'c' },
  environment: { type: 'string', short: 'e' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
};

function parsePredict(argv: readonly string[]): Command {
  const p = parse('predict', argv, PREDICT_OPTIONS, 0);
  if (p.values.help) return help('predict');
  const versionText =
    str(p.values.version) ??
    refuse('argument', 'predict', 'needs the candidate version: chaos-gate predict --version <version>');
  const rate = str(p.values['failure-rate']);
  return {
    name: 'predict',
    version: parseVersion(versionText, '--version', 'version'),
    failureRate: rate === undefined ? 0 : parseFailureRate(rate, '--failure-rate', ''),
    seed: parseSeed(str(p.values.seed) ?? '1'),
    json: Boolean(p.values.json),
    ...given('config', str(p.values.config)),
    ...given('environment', parseEnvironment(str(p.values.environment))),
  };
}

function parsePlan(argv: readonly string[]): Command {
  const p = parse('plan', argv, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, 0);
  if (p.values.help) return help('plan');
  return { name: 'plan', json: Boolean(p.values.json), ...given('config', str(p.values.config)) };
}

const GATE_OPTIONS: Options = {
  version: { type: 'string' },
  'failure-rate': { type: 'string' },
  config: { type: 'string', short: 'c' },
  environment: { type: 'string', short: 'e' },
  'report-dir': { type: 'string' },
  only: { type: 'string' },
  experiments: { type: 'string' },
  seed: { type: 'string' },
  'keep-stack': { type: 'boolean' },
  regression: { type: 'string' },
};

function parseGate(name: 'gate' | 'run', argv: readonly string[]): Command {
  const p = parse(name, argv, GATE_OPTIONS, 1);
  if (p.values.help) return help('gate');
  const flagVersion = str(p.values.version);
  // Optional here: a user's service defaults to its short commit; the demo's gate requires it.
  const versionText = flagVersion ?? p.positionals[0];
  if (flagVersion !== undefined && p.positionals[0] !== undefined) {
    refuse('argument', 'gate', 'give the version either as --version or as an argument, not both');
  }
  const environment = parseEnvironment(str(p.values.environment));
  const only = parseOnly(str(p.values.only), true);
  const rate = str(p.values['failure-rate']);
  const regression = parseRegression(str(p.values.regression));
  return {
    name: 'gate',
    ...given(
      'version',
      versionText === undefined
        ? undefined
        : parseVersion(versionText, flagVersion !== undefined ? '--version' : 'argument', 'version'),
    ),
    ...given('failureRate', rate === undefined ? undefined : parseFailureRate(rate, '--failure-rate', '')),
    reportDir: str(p.values['report-dir']) ?? 'reports',
    seed: parseSeed(str(p.values.seed) ?? '1'),
    keepStack: Boolean(p.values['keep-stack']),
    ...given('config', str(p.values.config)),
    ...given('environment', environment),
    ...given('only', only),
    ...given('experiments', str(p.values.experiments)),
    ...given('regression', regression),
  };
}

/** "a,b" -> [a, b]; "none" -> [] where running no experiment makes sense (the gate). */
function parseOnly(text: string | undefined, allowNone: boolean): string[] | undefined {
  return text === undefined ? undefined : parseExperimentList(text, { source: '--only', allowNone });
}

function parseDataFault(text: string | undefined): DataFault | undefined {
  if (text === undefined) return undefined;
  const why = 'the candidate corrupts or drops rows: a test of rollback with mitigation';
  const rule = `${JSON.stringify(text)} must be one of ${DATA_FAULTS.join(', ')} (${why})`;
  return DATA_FAULTS.find((f) => f === text) ?? refuse('--data-fault', '', rule);
}

function parseRegression(text: string | undefined): Regression | undefined {
  if (text === undefined) return undefined;
  const why = "the demo's candidate restarts slowly after a crash: a test that the gate sees slow recovery";
  const rule = `${JSON.stringify(text)} must be one of ${REGRESSIONS.join(', ')} (${why})`;
  return REGRESSIONS.find((r) => r === text) ?? refuse('--regression', '', rule);
}

function parseStrategy(text: string | undefined): 'canary' | 'rolling' | undefined {
  if (text === undefined || text === 'canary' || text === 'rolling') return text;
  return refuse('--strategy', '', `${JSON.stringify(text)} must be "canary" or "rolling"`);
}

function parseEnvironment(environment: string | undefined): string | undefined {
  if (environment === undefined || /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(environment)) return environment;
  return refuse('--environment', '', `${JSON.stringify(environment)} must be letters, digits, "_" or "-"`);
}

function parseSeed(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) {
    refuse('--seed', '', `${JSON.stringify(text)} must be a whole number from 0 to 4294967295`);
  }
  return Number(text);
}
