import { MAX_ISSUES } from './limits.ts';

// Bad input of any kind (config file, CLI flag, version string, experiment file) becomes a
// UsageError: the CLI prints every issue and exits 2 before anything is touched. A file with
// thousands of problems gives the first MAX_ISSUES and one line counting the rest.
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
    const capped = capIssues(issues);
    super(capped.map(formatIssue).join('\n'));
    this.name = 'UsageError';
    this.issues = capped;
  }
}

export function formatIssue(issue: InputIssue): string {
  const where = issue.line === undefined ? issue.source : `${issue.source}:${issue.line}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.rule}` : `${where}: ${issue.rule}`;
}

const MORE = /^\.\.\. and (\d+) more problems?$/;

/** Whether the issue stands for problems not listed (moreIssue). */
export function isMoreIssue(issue: InputIssue): boolean {
  return issue.path === '' && MORE.test(issue.rule);
}

/** The issue that stands for `count` problems not listed. */
function moreIssue(source: string, count: number): InputIssue {
  return { source, path: '', rule: `... and ${count} more problem${count === 1 ? '' : 's'}` };
}

/**
 * The first `max` issues, then one that counts the others; lists already capped (one
 * UsageError's issues gathered into another's) keep their counts.
 */
export function capIssues(issues: readonly InputIssue[], max = MAX_ISSUES): readonly InputIssue[] {
  const listed: InputIssue[] = [];
  let more = 0;
  // The count is said at the source of the first problem it stands for.
  let firstNotListed: string | undefined;
  for (const issue of issues) {
    const counted = issue.path === '' ? MORE.exec(issue.rule) : null;
    if (!counted && listed.length < max) {
      listed.push(issue);
      continue;
    }
    more += counted ? Number(counted[1]) : 1;
    firstNotListed ??= issue.source;
  }
  return more === 0 ? issues : [...listed, moreIssue(firstNotListed ?? '', more)];
}
