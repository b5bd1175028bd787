import { isAbsolute, relative, resolve, sep } from 'node:path';
import { formatIssue, type InputIssue } from '../util/errors.ts';

// Bad input as GitHub annotations. GitHub places an annotation on a file by its path from
// the repository root (the workspace), with "/" separators; an absolute path, or one
// outside the checkout, is not shown on the file. Such issues keep their place in the text.

export const ANNOTATION_TITLE = 'chaos-gate: bad input';

export interface GitHubAnnotation {
  message: string;
  properties: { title: string; file?: string; startLine?: number };
}

/** `file` relative to `workspace`, or undefined when it is not inside it. */
export function workspacePath(file: string, workspace: string): string | undefined {
  const rel = relative(workspace, resolve(workspace, file));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

export function annotationOf(issue: InputIssue, workspace: string): GitHubAnnotation {
  const file = issue.line === undefined ? undefined : workspacePath(issue.source, workspace);
  if (file === undefined || issue.line === undefined)
    return { message: formatIssue(issue), properties: { title: ANNOTATION_TITLE } };
  return {
    message: issue.path ? `${issue.path}: ${issue.rule}` : issue.rule,
    properties: { title: ANNOTATION_TITLE, file, startLine: issue.line },
  };
}
