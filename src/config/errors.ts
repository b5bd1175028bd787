// Bad input of any kind (config file, CLI flag, version string, experiment file) becomes a
// UsageError: the CLI prints every issue and exits 2 before anything is touched.
export interface InputIssue {
  /** Where the bad value came from: a file path, "argument", "--flag" or "env FOO". */
  source: string;
  /** Field path inside the source, e.g. "rollout.stages[2].weight"; empty for a whole argument. */
  path: string;
  /** The rule the value broke, written for a person. */
  rule: string;
  /** 1-based line in the source file, when known. */
  line?: number;
}

export class UsageError extends Error {
  readonly issues: readonly InputIssue[];
  constructor(issues: readonly InputIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'UsageError';
    this.issues = issues;
  }
}

export function formatIssue(issue: InputIssue): string {
  const where = issue.line === undefined ? issue.source : `${issue.source}:${issue.line}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.rule}` : `${where}: ${issue.rule}`;
}
