import type { z } from 'zod';
import { clip, quote } from './shown.ts';
import type { InputIssue } from './errors.ts';
import { MAX_SHOWN_CHARS } from './limits.ts';

// Turns zod issues into InputIssues a person can act on: the field path as written in the
// YAML ("rollout.stages[2].weight") and the rule in words. Schemas give their own messages
// for ranges and formats; the generic codes (wrong type, unknown field, not one of) are
// worded here. Parse with `reportInput: true` so a wrong value can be quoted. A key or value
// from the file is shown escaped and cut (util/shown.ts): it may be anything.

export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${pathKey(part)}` : pathKey(part);
  }
  return out;
}

/**
 * A key as a path shows it: escaped and cut (util/shown.ts), and ".", "[" and "]" escaped
 * too, so the path still reads as its fields. config/locate.ts finds its line by this form.
 */
export function pathKey(key: PropertyKey): string {
  return clip(String(key), MAX_SHOWN_CHARS).replace(/[.[\]]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

export function zodIssues(error: z.ZodError, source: string, prefix: string): InputIssue[] {
  const out: InputIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({
          source,
          path: formatPath(prefix, [...issue.path, key]),
          rule: 'unknown field (check its spelling)',
        });
      continue;
    }
    out.push({ source, path: formatPath(prefix, issue.path), rule: rule(issue) });
  }
  return out;
}

const NOUNS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  array: 'a list',
  object: 'a mapping of fields',
  boolean: 'true or false',
};

function rule(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const noun = NOUNS[issue.expected] ?? issue.expected;
      // zod refuses .inf and .nan as "not a number"; say what they are instead.
      const infinite = typeof issue.input === 'number' && !Number.isFinite(issue.input);
      if (infinite) return `must be a finite number, got ${describe(issue.input)}`;
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
  if (typeof value === 'number' && Number.isNaN(value)) return 'not a number (.nan)';
  if (value === Infinity) return 'infinity (.inf)';
  if (value === -Infinity) return 'minus infinity (-.inf)';
  if (typeof value === 'string') return quote(value, 40);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects and lists are described above
  return String(value);
}
