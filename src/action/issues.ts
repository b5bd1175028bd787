import type { InputIssue } from '../util/errors.ts';

// Deeper code names the CLI's flags ("--config: "x": no such file"). Under the Action the
// value came from an input, and the annotation must name that, or the user looks for a flag
// they never typed. What came from chaos-gate.yml is named there already, with its line. Pure.

export const OWN_SUITE = "chaos-gate's own experiments folder";

const SOURCE_OF_FLAG: Readonly<Record<string, string>> = {
  '--version': 'input version',
  '--failure-rate': 'input failure-rate',
  '--config': 'input config',
  '--environment': 'input environment',
  '--report-dir': 'input report-dir',
  '--seed': 'input seed',
  '--keep-stack': 'input keep-stack',
  // Names to run come from the experiments input (the config's experiments.only names itself).
  '--only': 'input experiments',
  // No input names a folder, and experiments.dir names itself: this is the Action's own suite.
  '--experiments': OWN_SUITE,
};

export function actionIssue(issue: InputIssue): InputIssue {
  const source = Object.hasOwn(SOURCE_OF_FLAG, issue.source) ? SOURCE_OF_FLAG[issue.source] : undefined;
  return source === undefined ? issue : { ...issue, source };
}
