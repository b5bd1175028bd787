import { describe, expect, it, test } from 'vitest';
import { parseCommand } from '../../src/cli/args.ts';
import { UsageError } from '../../src/util/errors.ts';
import { FAILURE_RATE_RULE } from '../../src/config/version.ts';
import { issuesOf } from './usage-issues.ts';

test.each([
  [['up'], { name: 'up' }],
  [['down'], { name: 'down' }],
  [['status'], { name: 'status', json: false }],
  [['status', '--json'], { name: 'status', json: true }],
  [['deploy', 'v2'], { name: 'deploy', version: 'v2', failureRate: 0, json: false }],
  [['deploy', 'v3', '0.8'], { name: 'deploy', version: 'v3', failureRate: 0.8, json: false }],
  [
    ['deploy', 'v3', '--failure-rate', '.5', '--strategy', 'rolling'],
    { name: 'deploy', version: 'v3', failureRate: 0.5, strategy: 'rolling', json: false },
  ],
  [
    ['deploy', '1.2.3-rc.1_b', '1', '--json', '--config', 'x.yml'],
    { name: 'deploy', version: '1.2.3-rc.1_b', failureRate: 1, json: true, config: 'x.yml' },
  ],
  [['simulate', '--seed', '42'], { name: 'simulate', seed: 42 }],
  [['simulate'], { name: 'simulate', seed: 1 }],
  [['plan'], { name: 'plan', json: false }],
  [['plan', '--json', '-c', 'x.yml'], { name: 'plan', json: true, config: 'x.yml' }],
  [['plan', '--help'], { name: 'help', topic: 'plan' }],
  [['simulate', '--study'], { name: 'simulate', seed: 1, study: { seeds: 1000, json: false } }],
  [
    ['simulate', '--study', '--seeds', '50', '--json', '-c', 'x.yml'],
    { name: 'simulate', seed: 1, study: { seeds: 50, json: true }, config: 'x.yml' },
  ],
  [['simulate', '--study', '--seeds', '100000'], { name: 'simulate', seed: 1, study: { seeds: 100000, json: false } }],
  [['chaos'], { name: 'chaos', json: false }],
  [
    ['chaos', '--only', 'service-kill, network-latency,service-kill', '--seed', '7', '--experiments', 'x', '--json'],
    { name: 'chaos', only: ['service-kill', 'network-latency'], seed: 7, experiments: 'x', json: true },
  ],
  [['chaos', '--help'], { name: 'help', topic: 'chaos' }],
  [[], { name: 'help' }],
  [['deploy', '--help'], { name: 'help', topic: 'deploy' }],
  [['gate', '--version', 'v2'], { name: 'gate', version: 'v2', reportDir: 'reports', seed: 1, keepStack: false }],
  // The version is optional here: a user's service defaults to its commit (the demo's gate requires it: gate-request.test.ts).
  [['gate'], { name: 'gate', reportDir: 'reports', seed: 1, keepStack: false }],
  [['gate', '--failure-rate', '0'], { name: 'gate', failureRate: 0, reportDir: 'reports', seed: 1, keepStack: false }],
  [
    [
      'run',
      'v3',
      '--failure-rate',
      '0.8',
      '--only',
      'service-kill,cpu-spike',
      '-e',
      'staging',
      '--keep-stack',
      '--report-dir',
      'out',
      '--seed',
      '9',
    ],
    {
      name: 'gate',
      version: 'v3',
      failureRate: 0.8,
      only: ['service-kill', 'cpu-spike'],
      environment: 'staging',
      keepStack: true,
      reportDir: 'out',
      seed: 9,
    },
  ],
  [
    ['gate', '--version', 'v2', '--only', 'none'],
    { name: 'gate', version: 'v2', reportDir: 'reports', seed: 1, keepStack: false, only: [] },
  ],
])('parseCommand(%j)', (argv, expected) => {
  expect(parseCommand(argv)).toEqual(expected);
});

test.each([
  [['deploy'], 'needs a version'],
  [['deploy', 'v2; rm -rf /'], 'must be a plain tag'],
  [['deploy', '-v2'], 'Unknown option'],
  [['deploy', '.hidden'], 'must be a plain tag'],
  [['deploy', 'a'.repeat(129)], 'must be a plain tag'],
  [['deploy', 'v2', '1.5'], 'between 0.0 and 1.0'],
  [['deploy', 'v2', 'abc'], 'between 0.0 and 1.0'],
  [['deploy', 'v2', '--failure-rate=-0.1'], 'between 0.0 and 1.0'],
  [['deploy', 'v2', '--failure-rate', '-0.1'], '--failure-rate'],
  [['deploy', 'v2', '0.1', '--failure-rate', '0.2'], 'either as the second argument or as --failure-rate'],
  [['deploy', 'v2', '0.1', 'extra'], 'at most 2 argument'],
  [['deploy', 'v2', '--strategy', 'bluegreen'], '"canary" or "rolling"'],
  [['status', '--jsn'], "Unknown option '--jsn'"],
  [['simulate', '--seed', 'x'], 'whole number'],
  [['plan', 'x.yml'], 'takes at most 0 argument(s)'],
  [['plan', '--seed', '1'], 'Unknown option'],
  [['simulate', '--study', '--seeds', '0'], '--seeds: "0" must be a whole number from 1 to 100000'],
  [['simulate', '--study', '--seeds', '100001'], '--seeds: "100001" must be a whole number from 1 to 100000'],
  [['simulate', '--study', '--seeds', '1e3'], '--seeds: "1e3" must be a whole number from 1 to 100000'],
  [['simulate', '--study', '--seeds', '-5'], '--seeds: "-5" must be a whole number'],
  [['simulate', '--study', '--seeds', '10.5'], 'must be a whole number from 1 to 100000'],
  [['simulate', '--seeds', '10'], '--seeds: is for a study: add --study'],
  [['simulate', '--json'], '--json: is for a study'],
  [['simulate', '--study', '--seed', '3'], '--seed: is for a single simulation'],
  [['chaos', '--seed', '1.5'], 'whole number'],
  [['chaos', '--only', ''], 'must be experiment names separated by commas'],
  [['chaos', '--only', 'a,,b'], 'must be experiment names separated by commas'],
  [['chaos', '--only', 'Service_Kill'], 'must be experiment names'],
  [['chaos', 'extra'], 'at most 0 argument'],
  [['chaos', '--experiment', 'x'], "Unknown option '--experiment'"],
  [['explode'], 'unknown command "explode"'],
  [['gate', '--version', 'v2', 'v3'], 'either as --version or as an argument'],
  [['gate', '--version', 'v2', '--only', 'Kill!'], 'experiment names separated by commas'],
  [['gate', '--version', 'v2', '--environment', '../prod'], 'letters, digits'],
  [['gate', '--version', 'v2', '--failure-rate', 'high'], 'between 0.0 and 1.0'],
])('parseCommand(%j) is refused: %s', (argv, message) => {
  let error: unknown;
  try {
    parseCommand(argv);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UsageError);
  expect((error as UsageError).message).toContain(message);
});

describe('predict', () => {
  it('parses the version, rate, seed, config and --json', () => {
    expect(
      parseCommand([
        'predict',
        '--version',
        'v2',
        '--failure-rate',
        '0.8',
        '--seed',
        '9',
        '--config',
        'c.yml',
        '--json',
      ]),
    ).toEqual({
      name: 'predict',
      version: 'v2',
      failureRate: 0.8,
      seed: 9,
      json: true,
      config: 'c.yml',
    });
    expect(parseCommand(['predict', '--version', 'v2'])).toEqual({
      name: 'predict',
      version: 'v2',
      failureRate: 0,
      seed: 1,
      json: false,
    });
  });

  it.each([
    [['predict'], /needs the candidate version/],
    [['predict', '--version', 'v2;rm'], /must be a plain tag/],
    [['predict', '--version', 'v2', '--failure-rate', '1.5'], /between 0.0 and 1.0/],
    [['predict', '--version', 'v2', '--seed', 'x'], /whole number/],
    [['predict', '--version', 'v2', '--bogus'], /Unknown option '--bogus'/],
    [['predict', 'v2'], /at most 0 argument/],
  ])('%j is refused before anything runs', (argv, rule) => {
    expect(() => parseCommand(argv)).toThrow(rule);
  });
});

describe('flags: every bad use is refused, naming the flag (issue 15)', () => {
  it.each([
    // Each of these was taken silently before: the last value won, or '' meant the default.
    [
      ['gate', '--version', 'v2', '--version', 'v3'],
      { source: '--version', rule: 'given 2 times (--version "v2", --version "v3"): give it once' },
    ],
    [
      ['gate', '-c', 'a.yml', '--config', 'b.yml', 'v2'],
      { source: '--config', rule: 'given 2 times (-c "a.yml", --config "b.yml"): give it once' },
    ],
    [
      ['deploy', 'v2', '--strategy', 'canary', '--strategy=rolling'],
      { source: '--strategy', rule: expect.stringContaining('given 2 times') },
    ],
    [['gate', '--version', 'v2', '--config', ''], { source: '--config', rule: 'needs a value, got ""' }],
    [['gate', '--version', 'v2', '--report-dir='], { source: '--report-dir', rule: 'needs a value, got ""' }],
    [['gate', '--version', 'v2', '--experiments', ' '], { source: '--experiments', rule: 'needs a value, got " "' }],
    [['deploy', 'v2', '--result-file', ''], { source: '--result-file', rule: 'needs a value, got ""' }],
    [['simulate', '-c', ''], { source: '--config', rule: 'needs a value, got ""' }],
    [['plan', '--config', ''], { source: '--config', rule: 'needs a value, got ""' }],
    [['simulate', '--study', '--seeds', ''], { source: '--seeds', rule: 'needs a value, got ""' }],
    [['chaos', '--experiments', ''], { source: '--experiments', rule: 'needs a value, got ""' }],
    [['predict', '--version', ''], { source: '--version', rule: 'needs a value, got ""' }],
  ])('%j', (argv, issue) => {
    expect(issuesOf(() => parseCommand(argv))).toEqual([{ path: '', ...issue }]);
  });

  it('a repeated switch changes nothing and is accepted', () => {
    expect(parseCommand(['status', '--json', '--json'])).toEqual({ name: 'status', json: true });
  });

  it.each([
    [['chaos', '--only', ',']],
    [['gate', 'v2', '--only', 'a,,b']],
    [['gate', 'v2', '--only', 'service-kill,']],
  ])('%j: an empty experiment name is refused, never dropped', (argv) => {
    const [issue] = issuesOf(() => parseCommand(argv));
    expect(issue?.source).toBe('--only');
    expect(issue?.rule).toContain('not a name: "" (empty)');
  });
});

describe('a negative number is a value, never a flag', () => {
  it.each([
    [['deploy', 'v2', '-0.1'], { source: 'argument', path: 'failure-rate', rule: `"-0.1" ${FAILURE_RATE_RULE}` }],
    [['deploy', 'v2', '-.5'], { source: 'argument', path: 'failure-rate', rule: `"-.5" ${FAILURE_RATE_RULE}` }],
    [
      ['deploy', 'v2', '--failure-rate', '-0.1'],
      { source: '--failure-rate', path: '', rule: `"-0.1" ${FAILURE_RATE_RULE}` },
    ],
    [
      ['gate', '--version', 'v2', '--seed', '-1'],
      { source: '--seed', path: '', rule: '"-1" must be a whole number from 0 to 4294967295' },
    ],
  ])('%j is judged by its rule, not "Unknown option"', (argv, issue) => {
    expect(issuesOf(() => parseCommand(argv))).toEqual([issue]);
  });

  it('a dash and a letter is still an unknown option', () => {
    expect(() => parseCommand(['deploy', 'v2', '-x1'])).toThrow("Unknown option '-x'");
  });
});
