import { describe, expect, it } from 'vitest';
import { actionIssue, OWN_SUITE, type IssueOrigin } from '../../src/action/issues.ts';

// Under the Action, an issue deeper code raised against a CLI flag names the input (or the
// config field) the value came from.
describe('actionIssue', () => {
  const none: IssueOrigin = { experimentsInput: false, experimentsDir: false };
  const rule = 'the rule';
  const from = (source: string, path = '') => ({ source, path, rule });
  const config = '/ws/chaos-gate.yml';

  it.each([
    ['--config', 'input config'],
    ['--environment', 'input environment'],
    ['--version', 'input version'],
    ['--failure-rate', 'input failure-rate'],
    ['--seed', 'input seed'],
    ['--report-dir', 'input report-dir'],
  ])('%s -> %s', (flag, input) => {
    expect(actionIssue(from(flag), none)).toEqual(from(input));
  });

  it('--only names the experiments input when it gave the names', () => {
    const origin = { ...none, configFile: config, experimentsInput: true };
    expect(actionIssue(from('--only'), origin)).toEqual(from('input experiments'));
    expect(actionIssue(from('--only'), none)).toEqual(from('input experiments'));
  });

  it("--only names the config's experiments.only when the names came from there", () => {
    expect(actionIssue(from('--only'), { ...none, configFile: config })).toEqual(from(config, 'experiments.only'));
  });

  it("--experiments names the config's experiments.dir, or the Action's own suite (no input names a folder)", () => {
    const origin = { ...none, configFile: config };
    const named = { ...origin, experimentsDir: true };
    expect(actionIssue(from('--experiments'), named)).toEqual(from(config, 'experiments.dir'));
    expect(actionIssue(from('--experiments'), origin)).toEqual(from(OWN_SUITE));
  });

  it('anything else is kept: files with their lines, inputs, and names that only look like keys', () => {
    for (const issue of [
      { ...from('ci/chaos-gate.yml', 'rollout.stages[0].weight'), line: 3 },
      from('input seed'),
      from('toString'),
    ]) expect(actionIssue(issue, none)).toBe(issue);
  });
});
