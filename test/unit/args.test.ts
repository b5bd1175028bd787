import { describe, expect, it, test } from 'vitest';
import { parseCommand } from '../../src/cli/args.ts';
import { UsageError } from '../../src/config/errors.ts';

test.each([
  [['up'], { name: 'up' }],
  [['down'], { name: 'down' }],
  [['status'], { name: 'status', json: false }],
  [['status', '--json'], { name: 'status', json: true }],
  [['deploy', 'v2'], { name: 'deploy', version: 'v2', failureRate: 0, json: false }],
  [['deploy', 'v3', '0.8'], { name: 'deploy', version: 'v3', failureRate: 0.8, json: false }],
  [['deploy', 'v3', '--failure-rate', '.5', '--strategy', 'rolling'], { name: 'deploy', version: 'v3', failureRate: 0.5, strategy: 'rolling', json: false }],
  [['deploy', '1.2.3-rc.1_b', '1', '--json', '--config', 'x.yml'], { name: 'deploy', version: '1.2.3-rc.1_b', failureRate: 1, json: true, config: 'x.yml' }],
  [['simulate', '--seed', '42'], { name: 'simulate', seed: 42 }],
  [['simulate'], { name: 'simulate', seed: 1 }],
  [['chaos'], { name: 'chaos', json: false }],
  [['chaos', '--only', 'service-kill, network-latency,service-kill', '--seed', '7', '--experiments', 'x', '--json'], { name: 'chaos', only: ['service-kill', 'network-latency'], seed: 7, experiments: 'x', json: true }],
  [['chaos', '--help'], { name: 'help', topic: 'chaos' }],
  [[], { name: 'help' }],
  [['deploy', '--help'], { name: 'help', topic: 'deploy' }],
  [['gate', '--version', 'v2'], { name: 'gate', version: 'v2', failureRate: 0, reportDir: 'reports', seed: 1, keepStack: false }],
  [['run', 'v3', '--failure-rate', '0.8', '--only', 'service-kill,cpu-spike', '-e', 'staging', '--keep-stack', '--report-dir', 'out', '--seed', '9'],
    { name: 'gate', version: 'v3', failureRate: 0.8, only: ['service-kill', 'cpu-spike'], environment: 'staging', keepStack: true, reportDir: 'out', seed: 9 }],
  [['gate', '--version', 'v2', '--only', 'none'], { name: 'gate', version: 'v2', failureRate: 0, reportDir: 'reports', seed: 1, keepStack: false, only: [] }],
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
  [['deploy', 'v2', '--failure-rate', '-0.1'], "--failure-rate"],
  [['deploy', 'v2', '0.1', '--failure-rate', '0.2'], 'either as the second argument or as --failure-rate'],
  [['deploy', 'v2', '0.1', 'extra'], 'at most 2 argument'],
  [['deploy', 'v2', '--strategy', 'bluegreen'], '"canary" or "rolling"'],
  [['status', '--jsn'], "Unknown option '--jsn'"],
  [['simulate', '--seed', 'x'], 'whole number'],
  [['chaos', '--seed', '1.5'], 'whole number'],
  [['chaos', '--only', ''], 'must be experiment names separated by commas'],
  [['chaos', '--only', 'a,,b'], 'must be experiment names separated by commas'],
  [['chaos', '--only', 'Service_Kill'], 'must be experiment names'],
  [['chaos', 'extra'], 'at most 0 argument'],
  [['chaos', '--experiment', 'x'], "Unknown option '--experiment'"],
  [['explode'], 'unknown command "explode"'],
  [['gate'], 'needs the candidate version'],
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
    expect(parseCommand(['predict', '--version', 'v2', '--failure-rate', '0.8', '--seed', '9', '--config', 'c.yml', '--json'])).toEqual({
      name: 'predict', version: 'v2', failureRate: 0.8, seed: 9, json: true, config: 'c.yml',
    });
    expect(parseCommand(['predict', '--version', 'v2'])).toEqual({ name: 'predict', version: 'v2', failureRate: 0, seed: 1, json: false });
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
