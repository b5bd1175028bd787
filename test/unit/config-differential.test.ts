import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { issuesOf } from './usage-issues.ts';

// experiments.differential: chaos on the candidate beside the baseline, in one stage of one region.

const section = (body: string) =>
  `rollout:\n  regions: [us-west, us-east]\n  stages: [{ weight: 50 }, { weight: 100 }]\nexperiments:\n  differential:\n${body}`;

describe('experiments.differential in chaos-gate.yml', () => {
  it('is on by default: the first region, the first stage, 20 requests a second a side, the default tolerances', () => {
    expect(parseConfig('', 'f.yml').experiments.differential).toEqual({
      enabled: true,
      run: undefined,
      region: undefined,
      stage: undefined,
      rps: 20,
      tolerance: {
        maxErrorRateIncrease: 0.05,
        maxLatencyIncreaseRatio: 0.5,
        maxLatencyIncreaseMs: 50,
        maxRecoveryIncreaseSeconds: 3,
      },
    });
  });

  it('keeps what the file says, and where each experiment it runs was written', () => {
    const d = parseConfig(
      section(
        '    run: [service-kill, database-failure]\n    region: us-east\n    stage: 2\n    max_recovery_increase_seconds: 1\n',
      ),
      'f.yml',
    ).experiments.differential;
    expect(d).toMatchObject({
      run: ['service-kill', 'database-failure'],
      region: 'us-east',
      stage: 1,
      tolerance: { maxRecoveryIncreaseSeconds: 1 },
    });
    expect(d.runOrigin).toEqual({ source: 'f.yml', path: 'experiments.differential.run', lines: [6, 6] });
  });

  it.each([
    [
      'a region the rollout does not deploy to',
      '    region: eu-west\n',
      'experiments.differential.region',
      '"eu-west" must be one of rollout.regions (us-west, us-east)',
      6,
    ],
    [
      'a stage the rollout does not run',
      '    stage: 3\n',
      'experiments.differential.stage',
      'must be at most 2 (rollout.stages has 2)',
      6,
    ],
    ['stage 0', '    stage: 0\n', 'experiments.differential.stage', 'must be at least 1 (the first canary stage)', 6],
    [
      'an empty run list',
      '    run: []\n',
      'experiments.differential.run',
      'must name at least one experiment (or set enabled: false)',
      6,
    ],
    [
      'a name that is no experiment name',
      '    run: ["../x"]\n',
      'experiments.differential.run[0]',
      'must be an experiment name: lowercase letters, digits and "-"',
      6,
    ],
    [
      'a share above 1',
      '    max_error_rate_increase: 2\n',
      'experiments.differential.max_error_rate_increase',
      'must be between 0 and 1',
      6,
    ],
    [
      'an unknown field',
      '    stages: 1\n',
      'experiments.differential.stages',
      expect.stringContaining('unknown field'),
      6,
    ],
  ])('refuses %s, naming the field, the rule and the line', (_what, body, path, rule, line) => {
    expect(issuesOf(() => parseConfig(section(body), 'f.yml'))).toEqual([{ source: 'f.yml', path, rule, line }]);
  });

  it('checks nothing about region and stage when it is off', () => {
    expect(parseConfig(section('    enabled: false\n    stage: 3\n'), 'f.yml').experiments.differential.enabled).toBe(
      false,
    );
  });
});
