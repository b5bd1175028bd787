import { readFileSync } from 'node:fs';
import { describe, expect, it, test } from 'vitest';
import { composeEnv, downCommand, invocation, removeCommand, upCommand } from '../../src/stack/compose-args.ts';
import { composeCli, parseComposeVersion } from '../../src/stack/compose-cli.ts';
import { defaultStackTarget, envStem, type Deployment } from '../../src/stack/target.ts';

const target = defaultStackTarget('/proj');
const v1 = composeCli('v1', 'docker-compose version 1.29.2, build unknown')!;
const v2 = composeCli('v2', 'Docker Compose version v2.29.1')!;

test.each([
  ['docker-compose version 1.29.2, build unknown', '1.29.2'],
  ['Docker Compose version v2.29.1', '2.29.1'],
  ['Docker Compose version 2.30.0-desktop.1', '2.30.0-desktop.1'],
  ['2.27.0', '2.27.0'],
  ['no version here', undefined],
  ['', undefined],
])('parseComposeVersion(%j) = %j', (output, expected) => {
  expect(parseComposeVersion(output)).toBe(expected);
});

test.each([
  [
    v1,
    'docker-compose',
    ['-p', 'chaos-gate', '-f', 'docker-compose.yml', '--profile', 'canary', 'up', '-d', '--no-build', 'region-us-west'],
  ],
  [
    v2,
    'docker',
    [
      'compose',
      '-p',
      'chaos-gate',
      '-f',
      'docker-compose.yml',
      '--profile',
      'canary',
      'up',
      '-d',
      '--no-build',
      'region-us-west',
    ],
  ],
])('invocation for Compose %#', (cli, file, args) => {
  expect(invocation(cli, target, ['canary'], upCommand(['region-us-west']))).toEqual({ file, args });
});

test.each([
  [upCommand(['a', 'b']), ['up', '-d', '--no-build', 'a', 'b']],
  [
    upCommand(['a'], { noDeps: true, recreate: true }),
    ['up', '-d', '--no-build', '--no-deps', '--force-recreate', 'a'],
  ],
  [removeCommand(['region-us-west-canary']), ['rm', '--stop', '--force', 'region-us-west-canary']],
  [downCommand(), ['down', '--volumes', '--remove-orphans', '--timeout', '10']],
])('command %#', (actual, expected) => {
  expect(actual).toEqual(expected);
});

describe('composeEnv', () => {
  it('fills every region with its initial version when nothing runs', () => {
    const env = composeEnv(target, new Map());
    for (const r of target.regions) {
      expect(env[`${envStem(r.name)}_VERSION`]).toBe('v1');
      expect(env[`${envStem(r.name)}_FAILURE_RATE`]).toBe('0');
      expect(env[`${envStem(r.name)}_CANARY_VERSION`]).toBe('v1');
    }
    expect(env.CHAOS_GATE_REGION_IMAGE).toBe('chaos-gate/region:local');
  });

  it('keeps what each region runs, so recreating one service never resets another', () => {
    const env = composeEnv(
      target,
      new Map([
        ['us-west', { stable: { version: 'v2', failureRate: 0 }, canary: { version: 'v3', failureRate: 0.8 } }],
        ['eu-west', { stable: { version: 'v2', failureRate: 0.25 } }],
      ]),
      { CHAOS_GATE_FAULT_TOKEN: 't' },
    );
    expect(env).toMatchObject({
      CG_US_WEST_VERSION: 'v2',
      CG_US_WEST_CANARY_VERSION: 'v3',
      CG_US_WEST_CANARY_FAILURE_RATE: '0.8',
      CG_EU_WEST_VERSION: 'v2',
      CG_EU_WEST_FAILURE_RATE: '0.25',
      CG_EU_WEST_CANARY_VERSION: 'v2',
      CG_US_EAST_VERSION: 'v1',
      CG_AP_SOUTH_VERSION: 'v1',
      CHAOS_GATE_FAULT_TOKEN: 't',
    });
  });
});

// The demo's deliberate knobs go to the slot they were asked for; every other slot gets "" (none).
const plain: Deployment = { version: 'v1', failureRate: 0 };
test.each([
  [
    'DATA_FAULT on the canary',
    { stable: plain, canary: { ...plain, dataFault: 'drop' } },
    { CG_US_EAST_CANARY_DATA_FAULT: 'drop', CG_US_EAST_DATA_FAULT: '', CG_US_EAST_CANARY_REGRESSION: '' },
  ],
  [
    'REGRESSION on the canary',
    { stable: plain, canary: { ...plain, regression: 'slow-start' } },
    { CG_US_EAST_CANARY_REGRESSION: 'slow-start', CG_US_EAST_REGRESSION: '', CG_US_EAST_CANARY_DATA_FAULT: '' },
  ],
  [
    'REGRESSION on stable, kept by the canary slot',
    { stable: { ...plain, regression: 'slow-start' } },
    { CG_US_EAST_REGRESSION: 'slow-start', CG_US_EAST_CANARY_REGRESSION: 'slow-start' },
  ],
  [
    'both knobs on the canary',
    { stable: plain, canary: { ...plain, dataFault: 'corrupt', regression: 'slow-start' } },
    { CG_US_EAST_CANARY_DATA_FAULT: 'corrupt', CG_US_EAST_CANARY_REGRESSION: 'slow-start', CG_US_EAST_REGRESSION: '' },
  ],
  ['nothing asked', {}, { CG_US_EAST_REGRESSION: '', CG_US_EAST_CANARY_REGRESSION: '', CG_US_EAST_DATA_FAULT: '' }],
] as const)('composeEnv: %s', (_name, slots, expected) => {
  const env = composeEnv(target, new Map([['us-east', slots]]));
  expect(env).toMatchObject({ ...expected, CG_US_WEST_REGRESSION: '', CG_US_WEST_CANARY_REGRESSION: '' });
});

// composeEnv's variables are only worth something if docker-compose.yml reads them.
const composeFile = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
test.each(
  target.regions.flatMap((r) =>
    ['DATA_FAULT', 'REGRESSION'].flatMap((knob) => [
      `${knob}: \${${envStem(r.name)}_${knob}:-}`,
      `${knob}: \${${envStem(r.name)}_CANARY_${knob}:-}`,
    ]),
  ),
)('docker-compose.yml reads %s', (line) => {
  expect(composeFile).toContain(line);
});

test.each([
  ['us-west', 'CG_US_WEST'],
  ['ap-south', 'CG_AP_SOUTH'],
  ['eu-central-1', 'CG_EU_CENTRAL_1'],
])('envStem(%s) = %s', (region, stem) => {
  expect(envStem(region)).toBe(stem);
});
