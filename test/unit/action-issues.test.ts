import { describe, expect, it } from 'vitest';
import { actionIssue, OWN_SUITE } from '../../src/action/issues.ts';

// Under the Action, an issue deeper code raised against a CLI flag names the input the value
// came from. What came from chaos-gate.yml names the file and line where it is raised
// (experiments.only and experiments.dir: test/unit/gate-suite.test.ts).
describe('actionIssue', () => {
  const rule = 'the rule';
  const from = (source: string, path = '') => ({ source, path, rule });

  it.each([
    ['--config', 'input config'],
    ['--environment', 'input environment'],
    ['--version', 'input version'],
    ['--failure-rate', 'input failure-rate'],
    ['--seed', 'input seed'],
    ['--report-dir', 'input report-dir'],
  ])('%s -> %s', (flag, input) => {
    expect(actionIssue(from(flag))).toEqual(from(input));
  });

  it('--only names the experiments input, the only place the Action takes names from besides the config', () => {
    expect(actionIssue(from('--only'))).toEqual(from('input experiments'));
  });

  it("--experiments names the Action's own suite (no input names a folder; experiments.dir names itself)", () => {
    expect(actionIssue(from('--experiments'))).toEqual(from(OWN_SUITE));
  });

  it('anything else is kept: files with their lines, inputs, and names that only look like keys', () => {
    for (const issue of [
      { ...from('ci/chaos-gate.yml', 'rollout.stages[0].weight'), line: 3 },
      from('input seed'),
      from('toString'),
    ])
      expect(actionIssue(issue)).toBe(issue);
  });
});
