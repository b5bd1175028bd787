import { describe, expect, it } from 'vitest';
import { issuesOf } from './usage-issues.ts';
import { toExperimentsPlan } from '../../src/config/gate.ts';
import { parseConfig } from '../../src/config/load.ts';

const overrides = (set: string) => `experiments:\n  thresholds:\n    service-kill: ${set}\n`;
const FIELD = 'experiments.thresholds.service-kill.max_recovery_time_seconds';

describe('experiments.thresholds in chaos-gate.yml', () => {
  it('keeps the values, 0 included', () => {
    expect(
      parseConfig(overrides('{ max_recovery_time_seconds: 0, max_error_rate_after: 0.5 }'), 'f.yml').experiments
        .thresholds,
    ).toEqual({ 'service-kill': { max_recovery_time_seconds: 0, max_error_rate_after: 0.5 } });
  });

  it.each([
    ['a negative value', '{ max_recovery_time_seconds: -5 }', FIELD, 'must be 0 or more'],
    [
      'infinity',
      '{ max_recovery_time_seconds: .inf }',
      FIELD,
      'must be a finite number (.inf and .nan are not thresholds)',
    ],
    [
      'minus infinity',
      '{ max_recovery_time_seconds: -.inf }',
      FIELD,
      'must be a finite number (.inf and .nan are not thresholds)',
    ],
    [
      'not a number',
      '{ max_recovery_time_seconds: .nan }',
      FIELD,
      'must be a finite number (.inf and .nan are not thresholds)',
    ],
    ['text', '{ max_recovery_time_seconds: fast }', FIELD, 'must be a number, got "fast"'],
    [
      'a share above 1',
      '{ max_error_rate_after: 5 }',
      'experiments.thresholds.service-kill.max_error_rate_after',
      'must be at most 1 (a share)',
    ],
    [
      'an unknown threshold',
      '{ max_recovery_seconds: 5 }',
      'experiments.thresholds.service-kill.max_recovery_seconds',
      expect.stringMatching(
        /^unknown threshold \(known: max_recovery_time_seconds, .*max_time_to_detection_seconds\)$/,
      ),
    ],
  ])('refuses %s, naming the field, the rule and the line', (_what, set, path, rule) => {
    expect(issuesOf(() => parseConfig(overrides(set), 'f.yml'))).toEqual([{ source: 'f.yml', path, rule, line: 3 }]);
  });

  it('points at the environment line when the environment set the bad value', () => {
    const text = `${overrides('{ max_recovery_time_seconds: 20 }')}environments:\n  staging:\n    experiments: { thresholds: { service-kill: { max_recovery_time_seconds: -1 } } }\n`;
    expect(issuesOf(() => parseConfig(text, 'f.yml', 'staging'))).toEqual([
      { source: 'f.yml', path: `environments.staging.${FIELD}`, rule: 'must be 0 or more', line: 6 },
    ]);
  });

  it('keeps zod issues other than thresholds in their words', () => {
    expect(
      issuesOf(() =>
        toExperimentsPlan(
          { only: [], thresholds: { 'service-kill': { max_recovery_time_seconds: Infinity } } },
          'f.yml',
        ),
      ),
    ).toEqual([
      {
        source: 'f.yml',
        path: 'experiments.only',
        rule: 'must name at least one experiment (leave it out to run all)',
      },
      { source: 'f.yml', path: FIELD, rule: 'must be a finite number (.inf and .nan are not thresholds)' },
    ]);
  });
});
