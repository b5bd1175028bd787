import type { InputIssue } from '../config/errors.ts';

// Deeper code (config loading, the suite) names the CLI's flags: "--config: "x": no such
// file". Under the Action the value came from an input, or from chaos-gate.yml, and the
// annotation must name that, or the user looks for a flag they never typed. Pure.

const INPUT_OF_FLAG: Readonly<Record<string, string>> = {
  '--version': 'version',
  '--failure-rate': 'failure-rate',
  '--config': 'config',
  '--environment': 'environment',
  '--report-dir': 'report-dir',
  '--seed': 'seed',
  '--keep-stack': 'keep-stack',
};

/** Where the Action's experiment selection came from, to name it in place of --only and --experiments. */
export interface IssueOrigin {
  /** The configuration file read (its path as loadConfig gives it), or undefined when there was none. */
  configFile?: string | undefined;
  /** The `experiments` input named the experiments; otherwise the config's experiments.only did. */
  experimentsInput: boolean;
  /** The config's experiments.dir chose the suite folder; otherwise it is the Action's own chaos/. */
  experimentsDir: boolean;
}

export const OWN_SUITE = "chaos-gate's own experiments folder";

export function actionIssue(issue: InputIssue, origin: IssueOrigin): InputIssue {
  const input = Object.hasOwn(INPUT_OF_FLAG, issue.source) ? INPUT_OF_FLAG[issue.source] : undefined;
  if (input !== undefined) return { ...issue, source: `input ${input}` };
  const { configFile } = origin;
  if (issue.source === '--only') {
    // The names the gate ran with: the input's when given, else the config's experiments.only.
    if (origin.experimentsInput || configFile === undefined) return { ...issue, source: 'input experiments' };
    return { ...issue, source: configFile, path: 'experiments.only' };
  }
  if (issue.source === '--experiments') {
    // No input names a folder: it is the config's experiments.dir, or the Action's own suite.
    if (origin.experimentsDir && configFile !== undefined) {
      return { ...issue, source: configFile, path: 'experiments.dir' };
    }
    return { ...issue, source: OWN_SUITE };
  }
  return issue;
}
