import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aliasBomb } from './hostile-yaml.ts';
import { issuesOf } from './usage-issues.ts';
import { capIssues, formatIssue, UsageError } from '../../src/util/errors.ts';
import { MAX_INPUT_BYTES, MAX_ISSUES, MAX_NESTING_DEPTH, MAX_SHOWN_CHARS } from '../../src/util/limits.ts';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import { tooDeepLine } from '../../src/config/yaml.ts';
import { clip, quote } from '../../src/util/shown.ts';

// Bad input of any size or shape is a UsageError naming the file (exit 2), in bounded time
// and memory, with a bounded report: never an internal error, never a flood of lines.

/** `n` unknown keys under `section` (or at the top when empty). */
function unknownKeys(n: number, section = 'rollout'): string {
  const indent = section ? '  ' : '';
  const lines = Array.from({ length: n }, (_, i) => `${indent}unknown_key_${i}: ${i}`);
  return `${section ? `${section}:\n` : ''}${lines.join('\n')}\n`;
}

describe('YAML that would exhaust the parser', () => {
  it('refuses an alias bomb as bad input, naming the file (it threw "Excessive alias count")', () => {
    const issues = issuesOf(() => parseConfig(aliasBomb(), 'f.yml'));
    const rule = expect.stringMatching(/aliases \(\*name\) would expand into more than 100 copies/);
    expect(issues).toEqual([{ source: 'f.yml', path: '', rule }]);
  });

  it('still reads aliases used as intended', () => {
    const text =
      'experiments:\n  thresholds:\n    service-kill: &t { max_recovery_time_seconds: 20 }\n    cpu-spike: *t\n';
    const set = { max_recovery_time_seconds: 20 };
    expect(parseConfig(text, 'f.yml').experiments.thresholds).toEqual({ 'service-kill': set, 'cpu-spike': set });
  });

  it.each([
    ['flow lists', '['.repeat(200_000)],
    ['flow mappings', '{a: '.repeat(50_000)],
    ['a chain of list items', '- '.repeat(100_000) + 'x\n'],
    ['anchored lists', '&a ['.repeat(50_000)],
  ])('refuses %s nested beyond the limit before parsing them, with the line', (_what, text) => {
    expect(issuesOf(() => parseConfig(text, 'f.yml'))).toEqual([
      {
        source: 'f.yml',
        path: '',
        line: 1,
        rule: `nests lists and mappings more than ${MAX_NESTING_DEPTH} levels deep: not read`,
      },
    ]);
  });

  it('refuses deep nesting by indentation after parsing, naming the field', () => {
    const text = Array.from({ length: MAX_NESTING_DEPTH + 2 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n';
    const [issue] = issuesOf(() => parseConfig(text, 'f.yml'));
    expect(issue?.rule).toContain('levels deep');
    expect(issue?.path).toMatch(/^k0\.k1\.k2\./);
  });

  it('the nesting scan leaves real files alone: quotes, comments, brackets inside text', () => {
    expect(
      tooDeepLine('a: "[[[[[[[["\nb: \'{{{{\' # [[[[[[\nc: x[[[[[[[\nq: |\n  sum(rate(x[5m]))\n', 3),
    ).toBeUndefined();
    expect(tooDeepLine('a: [[[[1]]]]\n', 3)).toBe(1);
    expect(tooDeepLine('a:\n  - - - - x\n', 3)).toBe(2);
  });

  it('reports a duplicate key with both lines, in one pass even over 10,000 keys', () => {
    expect(
      issuesOf(() => parseConfig('rollout:\n  bake_seconds: 4\n  traffic_rps: 40\n  bake_seconds: 5\n', 'f.yml')),
    ).toEqual([
      {
        source: 'f.yml',
        path: 'rollout.bake_seconds',
        line: 4,
        rule: 'duplicate key (also at line 2): one would silently replace the other',
      },
    ]);
    const started = performance.now();
    const issues = issuesOf(() => parseConfig(`${unknownKeys(10_000)}  unknown_key_7: 1\n`, 'f.yml'));
    process.stdout.write(`10,000 keys and a duplicate: ${Math.round(performance.now() - started)} ms\n`);
    expect(issues).toEqual([expect.objectContaining({ path: 'rollout.unknown_key_7', line: 10_002 })]);
  });
});

describe('size', () => {
  it(`refuses a text over ${MAX_INPUT_BYTES} bytes before parsing it, with its size and the limit`, () => {
    const text = `# ${'x'.repeat(MAX_INPUT_BYTES)}\n`;
    expect(issuesOf(() => parseConfig(text, 'f.yml'))).toEqual([
      {
        source: 'f.yml',
        path: '',
        rule:
          `is ${(MAX_INPUT_BYTES + 3).toLocaleString('en-US')} bytes, ` +
          'more than the 256 KiB (262,144 bytes) an input file may have: not read',
      },
    ]);
    // Counted in bytes, not characters: "é" is two.
    const accents = `# ${'é'.repeat(MAX_INPUT_BYTES / 2)}\n`;
    expect(issuesOf(() => parseConfig(accents, 'f.yml'))[0]?.rule).toContain('more than the 256 KiB');
  });

  it('refuses a 50 MB file on disk without reading it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-big-'));
    const file = join(dir, 'chaos-gate.yml');
    writeFileSync(file, '');
    truncateSync(file, 50 * 1024 * 1024); // sparse: no 50 MB is written or read
    const started = performance.now();
    expect(issuesOf(() => loadConfig(file, dir))).toEqual([
      { source: file, path: '', rule: expect.stringMatching(/^is 52,428,800 bytes, more than the 256 KiB/) },
    ]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses a folder or a device given as the configuration, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-dir-'));
    mkdirSync(join(dir, 'chaos-gate.yml'));
    const rule = expect.stringContaining('is not a regular file');
    expect(issuesOf(() => loadConfig(undefined, dir))[0]).toMatchObject({ source: join(dir, 'chaos-gate.yml'), rule });
    expect(issuesOf(() => loadConfig('/dev/zero', dir))[0]).toMatchObject({ source: '/dev/zero', rule });
  });
});

describe('the number of problems reported', () => {
  it(`lists the first ${MAX_ISSUES} and counts the rest in one line (2,000 unknown keys printed 2,000 lines)`, () => {
    const err = (() => {
      try {
        parseConfig(unknownKeys(2000), 'f.yml');
      } catch (e) {
        return e as UsageError;
      }
      throw new Error('expected a UsageError');
    })();
    expect(err.issues).toHaveLength(MAX_ISSUES + 1);
    expect(err.issues[0]).toEqual({
      source: 'f.yml',
      path: 'rollout.unknown_key_0',
      line: 2,
      rule: 'unknown field (check its spelling)',
    });
    expect(err.issues[MAX_ISSUES - 1]?.line).toBe(MAX_ISSUES + 1);
    expect(err.issues[MAX_ISSUES]).toEqual({
      source: 'f.yml',
      path: '',
      rule: `... and ${2000 - MAX_ISSUES} more problems`,
    });
    expect(err.message.split('\n')).toHaveLength(MAX_ISSUES + 1);
  });

  it('validates a file at the size limit, full of unknown keys, with a bounded report', () => {
    let n = 0;
    while (unknownKeys(n + 1000).length < MAX_INPUT_BYTES) n += 1000;
    for (const section of ['rollout', '']) {
      const text = unknownKeys(n, section);
      const started = performance.now();
      const issues = issuesOf(() => parseConfig(text, 'f.yml'));
      const ms = Math.round(performance.now() - started);
      process.stdout.write(
        `${text.length} bytes, ${n} unknown keys ${section ? `in ${section}` : 'at the top'}: ${ms} ms\n`,
      );
      expect(issues).toHaveLength(MAX_ISSUES + 1);
      expect(issues[MAX_ISSUES]?.rule).toBe(`... and ${n - MAX_ISSUES} more problems`);
    }
  });

  it('keeps the counts of lists already capped when they are gathered into one', () => {
    const many = (source: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ source, path: `k${i}`, rule: 'bad' }));
    const a = new UsageError(many('a.yml', 60)).issues;
    const b = new UsageError(many('b.yml', 70)).issues;
    const all = capIssues([...a, ...b]);
    expect(all).toHaveLength(MAX_ISSUES + 1);
    // 50 of a.yml listed, its other 10 and all of b.yml's counted: at a.yml, where the first of them is.
    expect(all[MAX_ISSUES]).toEqual({ source: 'a.yml', path: '', rule: `... and ${130 - MAX_ISSUES} more problems` });
  });
});

describe('text from the file in messages', () => {
  it('cuts a long unknown key and escapes control characters, so a file cannot flood or drive the terminal', () => {
    const text = `rollout:\n  ${'k'.repeat(1000)}: 1\n  "red\\e[31mtext": 2\n  "a.b": 3\n  "rtl\\u202Eevil": 4\n`;
    const issues = issuesOf(() => parseConfig(text, 'f.yml'));
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      [`rollout.${'k'.repeat(MAX_SHOWN_CHARS - '…(1000 characters)'.length)}…(1000 characters)`, 2],
      ['rollout.red\\u{1b}\\u{5b}31mtext', 3],
      ['rollout.a\\u{2e}b', 4],
      ['rollout.rtl\\u{202e}evil', 5],
    ]);
    const message = issues.map(formatIssue).join('\n');
    // eslint-disable-next-line no-control-regex -- the very characters that must not reach a terminal
    expect(message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    expect(Math.max(...message.split('\n').map((l) => l.length))).toBeLessThan(200);
  });

  it('quotes a long or hostile value cut and escaped', () => {
    expect(issuesOf(() => parseConfig(`rollout:\n  strategy: "${'x'.repeat(3000)}\\e"\n`, 'f.yml'))[0]?.rule).toBe(
      `must be one of "canary", "rolling", got "${'x'.repeat(40 - 18)}"…(3001 characters)`,
    );
    expect(quote('a"b\\c\u001b', 64)).toBe('"a\\"b\\\\c\\u001b"');
    expect(clip('plain', 64)).toBe('plain');
    expect(clip('\u0085\u200b', 64)).toBe('\\u{85}\\u{200b}');
  });

  it('refuses a key that is a list or a mapping (the YAML library printed it in a warning on stderr)', () => {
    expect(issuesOf(() => parseConfig('rollout:\n  ? [a, "\\e[31m"]\n  : 1\n', 'f.yml'))).toEqual([
      {
        source: 'f.yml',
        path: 'rollout',
        rule: 'has a key that is a list or a mapping: a key must be a name',
        line: 2,
      },
    ]);
  });

  it('keeps a "__proto__" key a field: refused as unknown, in the base and in an environment', () => {
    const text =
      'rollout:\n  __proto__: { bake_seconds: -1 }\n' +
      'environments:\n  e:\n    rollout:\n      __proto__: { bake_seconds: -2 }\n';
    expect(issuesOf(() => parseConfig(text, 'f.yml')).map((i) => [i.path, i.rule, i.line])).toEqual([
      ['rollout.__proto__', 'unknown field (check its spelling)', 2],
      ['environments.e.rollout.__proto__', 'unknown field (check its spelling)', 6],
    ]);
  });
});
