import type { z } from 'zod';
import type { InputIssue } from './errors.ts';

// Turns zod issues into InputIssues a person can act on: the field path as written in the
// YAML ("rollout.stages[2].weight") and the rule in words. Schemas give their own messages
// for ranges and formats; the generic codes (wrong type, unknown field, not one of) are
// worded here. Parse with `reportInput: true` so a wrong value can be quoted.

export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

export function zodIssues(error: z.ZodError, source: string, prefix: string): InputIssue[] {
  const out: InputIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ source, path: formatPath(prefix, [...issue.path, key]), rule: 'unknown field (check its spelling)' });
      continue;
    }
    out.push({ source, path: formatPath(prefix, issue.path), rule: rule(issue) });
  }
  return out;
}

const NOUNS: Record<string, string> = {
  number: 'a number', int: 'a whole number', string: 'text', array: 'a list', object: 'a mapping of fields', boolean: 'true or false',
};

function rule(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const noun = NOUNS[issue.expected] ?? issue.expected;
      return issue.input === undefined ? `is required (${noun})` : `must be ${noun}, got ${describe(issue.input)}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(issue.input)}`;
    default:
      return issue.message;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
