import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../config/errors.ts';
import { parseFailureRate, parseVersion } from '../config/version.ts';
import { DATA_FAULTS, type DataFault } from '../stack/target.ts';

// Pure: argv in, a typed Command out, or a UsageError naming the flag and the rule.

export type Command =
  | { name: 'help'; topic?: string }
  | { name: 'up' }
  | { name: 'down' }
  | { name: 'status'; json: boolean }
  | { name: 'deploy'; version: string; failureRate: number; strategy?: 'canary' | 'rolling'; config?: string; json: boolean; resultFile?: string; dataFault?: DataFault }
  | { name: 'simulate'; seed: number; config?: string }
  | { name: 'chaos'; only?: string[]; experiments?: string; seed?: number; json: boolean }
  | { name: 'predict'; version: string; failureRate: number; config?: string; environment?: string; seed: number; json: boolean }
  | { name: 'gate'; version: string; failureRate: number; config?: string; environment?: string; reportDir: string; only?: string[]; experiments?: string; seed: number; keepStack: boolean };

export const COMMANDS = ['up', 'down', 'status', 'deploy', 'simulate', 'chaos', 'predict', 'gate', 'run', 'help'] as const;

type Options = NonNullable<ParseArgsConfig['options']>;

interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

function parse(command: string, argv: string[], options: Options, maxPositionals: number): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    // node's messages already name the flag ("Unknown option '--x'").
    throw new UsageError([{ source: 'argument', path: command, rule: (e as Error).message.replace(/\. To specify a positional.*$/s, '') }]);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError([{ source: 'argument', path: command, rule: `takes at most ${maxPositionals} argument(s), got ${JSON.stringify(parsed.positionals)}` }]);
  }
  return parsed;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function parseCommand(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return { name: 'help', ...(rest[0] ? { topic: rest[0] } : {}) };
  switch (name) {
    case 'up':
    case 'down': {
      const p = parse(name, rest, {}, 0);
      return p.values.help ? { name: 'help', topic: name } : { name };
    }
    case 'status': {
      const p = parse(name, rest, { json: { type: 'boolean' } }, 0);
      return p.values.help ? { name: 'help', topic: name } : { name, json: Boolean(p.values.json) };
    }
    case 'deploy': {
      const p = parse(name, rest, {
        'failure-rate': { type: 'string' },
        strategy: { type: 'string' },
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean' },
        'result-file': { type: 'string' },
        'data-fault': { type: 'string' },
      }, 2);
      if (p.values.help) return { name: 'help', topic: name };
      const [versionArg, rateArg] = p.positionals;
      const dataFaultText = str(p.values['data-fault']);
      const dataFault = DATA_FAULTS.find((f) => f === dataFaultText);
      if (dataFaultText !== undefined && !dataFault) throw new UsageError([{ source: '--data-fault', path: '', rule: `${JSON.stringify(dataFaultText)} must be one of ${DATA_FAULTS.join(', ')} (the candidate corrupts or drops rows: a test of rollback with mitigation)` }]);
      if (versionArg === undefined) throw new UsageError([{ source: 'argument', path: 'deploy', rule: 'needs a version: chaos-gate deploy <version> [failure-rate]' }]);
      const flagRate = str(p.values['failure-rate']);
      if (flagRate !== undefined && rateArg !== undefined) throw new UsageError([{ source: 'argument', path: 'failure-rate', rule: 'give the failure rate either as the second argument or as --failure-rate, not both' }]);
      const strategy = str(p.values.strategy);
      if (strategy !== undefined && strategy !== 'canary' && strategy !== 'rolling') throw new UsageError([{ source: '--strategy', path: '', rule: `${JSON.stringify(strategy)} must be "canary" or "rolling"` }]);
      const rateText = flagRate ?? rateArg;
      return {
        name,
        version: parseVersion(versionArg, 'argument', 'version'),
        failureRate: rateText === undefined ? 0 : parseFailureRate(rateText, flagRate !== undefined ? '--failure-rate' : 'argument', 'failure-rate'),
        json: Boolean(p.values.json),
        ...(strategy ? { strategy } : {}),
        ...(str(p.values.config) ? { config: str(p.values.config) } : {}),
        ...(str(p.values['result-file']) ? { resultFile: str(p.values['result-file']) } : {}),
        ...(dataFault ? { dataFault } : {}),
      };
    }
    case 'simulate': {
      const p = parse(name, rest, { seed: { type: 'string' }, config: { type: 'string', short: 'c' } }, 0);
      if (p.values.help) return { name: 'help', topic: name };
      return { name, seed: parseSeed(str(p.values.seed) ?? '1'), ...(str(p.values.config) ? { config: str(p.values.config) } : {}) };
    }
    case 'chaos': {
      const p = parse(name, rest, { only: { type: 'string' }, experiments: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } }, 0);
      if (p.values.help) return { name: 'help', topic: name };
      const only = parseOnly(str(p.values.only), false);
      const seedText = str(p.values.seed);
      return {
        name,
        json: Boolean(p.values.json),
        ...(only ? { only: [...new Set(only)] } : {}),
        ...(str(p.values.experiments) ? { experiments: str(p.values.experiments) } : {}),
        ...(seedText !== undefined ? { seed: parseSeed(seedText) } : {}),
      };
    }
    case 'predict': {
      const p = parse(name, rest, {
        version: { type: 'string' }, 'failure-rate': { type: 'string' }, config: { type: 'string', short: 'c' }, environment: { type: 'string', short: 'e' },
        seed: { type: 'string' }, json: { type: 'boolean' },
      }, 0);
      if (p.values.help) return { name: 'help', topic: name };
      const versionText = str(p.values.version);
      if (versionText === undefined) throw new UsageError([{ source: 'argument', path: 'predict', rule: 'needs the candidate version: chaos-gate predict --version <version>' }]);
      const environment = parseEnvironment(str(p.values.environment));
      const rate = str(p.values['failure-rate']);
      return {
        name,
        version: parseVersion(versionText, '--version', 'version'),
        failureRate: rate === undefined ? 0 : parseFailureRate(rate, '--failure-rate', ''),
        seed: parseSeed(str(p.values.seed) ?? '1'),
        json: Boolean(p.values.json),
        ...(str(p.values.config) ? { config: str(p.values.config) } : {}),
        ...(environment ? { environment } : {}),
      };
    }
    case 'gate':
    case 'run': {
      const p = parse(name, rest, {
        version: { type: 'string' }, 'failure-rate': { type: 'string' }, config: { type: 'string', short: 'c' }, environment: { type: 'string', short: 'e' },
        'report-dir': { type: 'string' }, only: { type: 'string' }, experiments: { type: 'string' }, seed: { type: 'string' }, 'keep-stack': { type: 'boolean' },
      }, 1);
      if (p.values.help) return { name: 'help', topic: 'gate' };
      const versionText = str(p.values.version) ?? p.positionals[0];
      if (versionText === undefined) throw new UsageError([{ source: 'argument', path: 'gate', rule: 'needs the candidate version: chaos-gate gate --version <version>' }]);
      if (str(p.values.version) !== undefined && p.positionals[0] !== undefined) throw new UsageError([{ source: 'argument', path: 'gate', rule: 'give the version either as --version or as an argument, not both' }]);
      const environment = parseEnvironment(str(p.values.environment));
      const only = parseOnly(str(p.values.only), true);
      const rate = str(p.values['failure-rate']);
      return {
        name: 'gate',
        version: parseVersion(versionText, str(p.values.version) !== undefined ? '--version' : 'argument', 'version'),
        failureRate: rate === undefined ? 0 : parseFailureRate(rate, '--failure-rate', ''),
        reportDir: str(p.values['report-dir']) || 'reports',
        seed: parseSeed(str(p.values.seed) ?? '1'),
        keepStack: Boolean(p.values['keep-stack']),
        ...(str(p.values.config) ? { config: str(p.values.config) } : {}),
        ...(environment ? { environment } : {}),
        ...(only ? { only } : {}),
        ...(str(p.values.experiments) ? { experiments: str(p.values.experiments) } : {}),
      };
    }
    default:
      throw new UsageError([{ source: 'argument', path: 'command', rule: `unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.join(', ')}` }]);
  }
}

function parseEnvironment(environment: string | undefined): string | undefined {
  if (environment !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(environment)) throw new UsageError([{ source: '--environment', path: '', rule: `${JSON.stringify(environment)} must be letters, digits, "_" or "-"` }]);
  return environment;
}

/** "a,b" -> [a, b]; "none" -> [] where allowed (run no experiment). */
function parseOnly(text: string | undefined, allowNone: boolean): string[] | undefined {
  if (text === undefined) return undefined;
  if (allowNone && text.trim() === 'none') return [];
  const only = text.split(',').map((s) => s.trim());
  if (only.length === 0 || only.some((n) => !/^[a-z0-9][a-z0-9-]{0,62}$/.test(n))) {
    throw new UsageError([{ source: '--only', path: '', rule: `${JSON.stringify(text)} must be experiment names separated by commas, e.g. service-kill,network-latency${allowNone ? ', or none' : ''}` }]);
  }
  return [...new Set(only)];
}

function parseSeed(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) throw new UsageError([{ source: '--seed', path: '', rule: `${JSON.stringify(text)} must be a whole number from 0 to 4294967295` }]);
  return Number(text);
}
