import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasBomb } from './hostile-yaml.ts';
import { loadExperiments, parseExperimentText } from '../../src/config/experiment-files.ts';
import { UsageError } from '../../src/util/errors.ts';
import { MAX_INPUT_BYTES, MAX_ISSUES } from '../../src/util/limits.ts';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import { createRandom, type Random } from '../../src/util/random.ts';

// Seeded fuzzing of the two inputs a user writes: chaos-gate.yml and the experiment files.
// Whatever the text (random keys and types, deep nesting, aliases and alias bombs, sizes at
// and over the limit, broken YAML, .inf/.nan, control and unicode bytes), reading it either
// succeeds or throws a UsageError (exit 2), never any other error (exit 3), and the report
// stays bounded: at most MAX_ISSUES problems and a count, each with a source and a rule,
// no line of kilobytes, no raw control character. Times are printed, not asserted.

const REGIONS = ['us-west', 'us-east', 'eu-west', 'ap-south'];
// CHAOS_GATE_FUZZ_SEED=n runs other draws (a failure message names the input's number).
const SEED = Number(process.env.CHAOS_GATE_FUZZ_SEED ?? 20_261_127);
const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const REFERENCE = /```yaml\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Configuration reference')))?.[1] ?? '';
const SUITE = readdirSync(join(root, 'chaos'))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => readFileSync(join(root, 'chaos', f), 'utf8'));

const KNOWN_KEYS = [
  'rollout',
  'prometheus',
  'experiments',
  'gate',
  'simulation',
  'predict',
  'environments',
  'regions',
  'stages',
  'weight',
  'bake_seconds',
  'traffic_rps',
  'analysis',
  'interval_seconds',
  'stage_deadline_seconds',
  'url',
  'allow_remote',
  'checks',
  'only',
  'thresholds',
  'history',
  'file',
  'preflight',
  'region',
  'dependencies',
  'requests_per_second',
  'name',
  'target',
  'fault',
  'kind',
  'duration_seconds',
  'load',
  'rps',
  'windows',
  'effect',
  'description',
  '__proto__',
  'constructor',
];
const ODD_TEXT = [
  '\u001b[31m',
  '\u202e',
  '\u0000',
  '\u0085',
  'é',
  '日本',
  '🙂',
  '\ud800',
  '\t',
  ' ',
  '#',
  ':',
  '- ',
  '{',
  ']',
  '"',
  "'",
  '&a',
  '*a',
  '!!binary',
  '<<',
];
const SCALARS = [
  '.inf',
  '-.inf',
  '.nan',
  '.NaN',
  '~',
  'null',
  'true',
  'no',
  '0',
  '-1',
  '1e308',
  '1e-320',
  '0x1f',
  '0o17',
  '4',
  '40',
  '100',
  '0.1',
  '1000000',
  '1e8',
  '"us-west"',
  'mars',
  'random',
  'kill',
  'latency',
  'canary',
  'http://10.0.0.1:9090',
  '../../etc/x',
  '/etc/passwd',
  '""',
  "''",
  '|\n  block',
  '>-\n  folded',
  '!!str 5',
  '2026-01-01',
];

const pick = <T>(r: Random, list: readonly T[]): T => list[Math.floor(r.next() * list.length)] as T;
const int = (r: Random, n: number) => Math.floor(r.next() * n);

function randomText(r: Random, max: number): string {
  let s = '';
  const n = 1 + int(r, max);
  for (let i = 0; i < n; i++) s += r.next() < 0.7 ? String.fromCharCode(97 + int(r, 26)) : pick(r, ODD_TEXT);
  return s;
}

function randomKey(r: Random): string {
  const x = r.next();
  if (x < 0.6) return pick(r, KNOWN_KEYS);
  if (x < 0.9) return JSON.stringify(randomText(r, 12));
  return JSON.stringify('k'.repeat(1 + int(r, 900)));
}

function randomScalar(r: Random): string {
  return r.next() < 0.75 ? pick(r, SCALARS) : JSON.stringify(randomText(r, 30));
}

/** A random YAML value in block style at `indent`, `depth` levels at most. */
function randomBlock(r: Random, indent: number, depth: number): string {
  const pad = ' '.repeat(indent);
  const x = r.next();
  if (depth <= 0 || x < 0.35) return ` ${randomScalar(r)}\n`;
  if (x < 0.45) return ` ${randomFlow(r, depth)}\n`;
  if (x < 0.5) return ` *a${int(r, 3)}\n`;
  const n = 1 + int(r, 4);
  let out = r.next() < 0.1 ? ` &a${int(r, 3)}\n` : '\n';
  for (let i = 0; i < n; i++) {
    const value = randomBlock(r, indent + 2, depth - 1);
    out += x < 0.75 ? `${pad}- ${value.trimStart()}` : `${pad}${randomKey(r)}:${value}`;
    if (out.endsWith('\n') === false) out += '\n';
  }
  return out;
}

function randomFlow(r: Random, depth: number): string {
  if (depth <= 0 || r.next() < 0.4) return randomScalar(r).replace(/\n/g, ' ');
  const n = int(r, 4);
  const items = Array.from({ length: n }, () => (r.next() < 0.5 ? '' : `${randomKey(r)}: `) + randomFlow(r, depth - 1));
  return r.next() < 0.5
    ? `[${items.join(', ')}]`
    : `{${items.map((i) => (i.includes(': ') ? i : `k: ${i}`)).join(', ')}}`;
}

/** A real file with a few random edits: lines dropped, doubled, values or keys replaced, bytes flipped. */
function mutate(r: Random, text: string): string {
  const lines = text.split('\n');
  const edits = 1 + int(r, 4);
  for (let e = 0; e < edits; e++) {
    const i = int(r, lines.length);
    const line = lines[i] ?? '';
    const x = r.next();
    if (x < 0.2) lines.splice(i, 1);
    else if (x < 0.35) lines.splice(i, 0, line);
    else if (x < 0.6) lines[i] = line.replace(/:\s.*$/, `: ${randomScalar(r).replace(/\n/g, ' ')}`);
    else if (x < 0.75) lines[i] = line.replace(/^(\s*-?\s*)[\w-]+:/, `$1${randomKey(r)}:`);
    else if (x < 0.9)
      lines.splice(i, 0, `${' '.repeat(int(r, 3) * 2)}${randomKey(r)}:${randomBlock(r, 4, 3).trimEnd()}`);
    else lines[i] = line.slice(0, int(r, line.length + 1)) + pick(r, ODD_TEXT) + line.slice(int(r, line.length + 1));
  }
  return lines.join(r.next() < 0.1 ? '\r\n' : '\n');
}

/** Unknown keys until the text is `bytes` long, under a random section. */
function sized(r: Random, bytes: number): string {
  const section = pick(r, ['rollout', 'predict', 'x', '']);
  const indent = section ? '  ' : '';
  const parts = [section ? `${section}:\n` : ''];
  let size = parts[0]?.length ?? 0;
  for (let i = 0; size < bytes; i++) {
    const line = `${indent}key_${i}_${int(r, 1000)}: ${randomScalar(r).replace(/\n/g, ' ')}\n`;
    parts.push(line);
    size += Buffer.byteLength(line);
  }
  return parts.join('').slice(0, bytes);
}

function deep(r: Random): string {
  const n = 50 + int(r, 20_000);
  const indented = () => Array.from({ length: Math.min(n, 400) }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
  return pick(r, [() => '['.repeat(n), () => '{a: '.repeat(n), () => '- '.repeat(n) + 'x', indented])();
}

/** One input: mostly random or mutated files, with the hostile kinds mixed in. */
function generate(r: Random, kind: 'config' | 'experiment', i: number): string {
  const base = kind === 'config' ? REFERENCE : pick(r, SUITE);
  switch (i % 10) {
    case 0:
      return aliasBomb(2 + int(r, 12));
    case 1:
      return deep(r);
    case 2:
      return mutate(r, base).slice(0, int(r, base.length + 1)); // cut anywhere
    case 3:
      return `${randomKey(r)}:${randomBlock(r, 2, 6)}`;
    case 4:
      return `${base}\n---\n${randomBlock(r, 0, 3)}`;
    default:
      return r.next() < 0.5 ? mutate(r, base) : `${mutate(r, base)}${randomKey(r)}:${randomBlock(r, 2, 5)}`;
  }
}

interface Stats {
  calls: number;
  refused: number;
  slowestMs: number;
  totalMs: number;
}

/** Runs `read`; anything but success or a UsageError with a bounded, well-formed report fails. */
function check(stats: Stats, what: string, read: () => unknown): void {
  const started = performance.now();
  let error: unknown;
  try {
    read();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - started;
  stats.calls++;
  stats.totalMs += ms;
  stats.slowestMs = Math.max(stats.slowestMs, ms);
  if (error === undefined) return;
  if (!(error instanceof UsageError))
    throw new Error(`${what}: not a UsageError: ${(error as Error)?.stack ?? JSON.stringify(error)}`);
  stats.refused++;
  expect(error.issues.length, what).toBeGreaterThan(0);
  expect(error.issues.length, what).toBeLessThanOrEqual(MAX_ISSUES + 1);
  for (const issue of error.issues) {
    expect(
      typeof issue.source === 'string' && issue.source.length > 0,
      `${what}: source of ${JSON.stringify(issue)}`,
    ).toBe(true);
    expect(typeof issue.rule === 'string' && issue.rule.length > 0, `${what}: rule of ${JSON.stringify(issue)}`).toBe(
      true,
    );
    expect(typeof issue.path, what).toBe('string');
    const line = issue.line ?? 1;
    expect(Number.isInteger(line) && line > 0, `${what}: line of ${JSON.stringify(issue)}`).toBe(true);
  }
  const lines = error.message.split('\n');
  expect(lines.length, what).toBeLessThanOrEqual(MAX_ISSUES + 1);
  for (const line of lines) {
    expect(line.length, `${what}: ${line.slice(0, 200)}`).toBeLessThan(2000);
    // eslint-disable-next-line no-control-regex -- the very characters that must not reach a terminal
    expect(line, what).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  }
}

function report(name: string, s: Stats): void {
  const all = Math.round(s.totalMs);
  process.stdout.write(
    `${name}: ${s.calls} reads, ${s.refused} refused, ${all} ms in all, slowest ${Math.round(s.slowestMs)} ms\n`,
  );
}

describe('fuzzing the input files', () => {
  // Nothing is printed behind our back: the YAML library warns on stderr, quoting the file, unless told not to.
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  beforeAll(() => void process.on('warning', onWarning));
  afterAll(() => {
    process.off('warning', onWarning);
    expect(warnings).toEqual([]);
  });

  it('chaos-gate.yml: a few hundred random and hostile files, each read or refused cleanly', () => {
    const r = createRandom(SEED);
    const stats: Stats = { calls: 0, refused: 0, slowestMs: 0, totalMs: 0 };
    for (let i = 0; i < 300; i++) {
      const text = generate(r, 'config', i);
      check(stats, `config #${i}`, () => parseConfig(text, 'fuzz.yml', r.next() < 0.2 ? 'staging' : undefined));
    }
    // Sizes at and over the limit, read from disk as the CLI reads them.
    const dir = mkdtempSync(join(tmpdir(), 'cg-fuzz-'));
    for (const bytes of [MAX_INPUT_BYTES - 100, MAX_INPUT_BYTES, MAX_INPUT_BYTES + 1, 4 * MAX_INPUT_BYTES]) {
      const file = join(dir, `c${bytes}.yml`);
      writeFileSync(file, sized(r, bytes));
      check(stats, `config of ${bytes} bytes`, () => loadConfig(file, dir));
    }
    report('config', stats);
    expect(stats.refused).toBeGreaterThan(100);
    expect(stats.calls - stats.refused).toBeGreaterThan(5); // some survive their mutations: the fuzz reaches past the parser
  });

  it('experiment files: a few hundred random and hostile files, and folders of them, each read or refused cleanly', () => {
    const r = createRandom(SEED + 1);
    const stats: Stats = { calls: 0, refused: 0, slowestMs: 0, totalMs: 0 };
    for (let i = 0; i < 300; i++) {
      const text = generate(r, 'experiment', i);
      check(stats, `experiment #${i}`, () => parseExperimentText(text, 'fuzz.yml', REGIONS));
    }
    for (let f = 0; f < 20; f++) {
      const dir = mkdtempSync(join(tmpdir(), 'cg-fuzz-suite-'));
      const files = 1 + int(r, 4);
      for (let i = 0; i < files; i++) {
        const name = `e${i}.yml`;
        if (r.next() < 0.1) mkdirSync(join(dir, name));
        else if (f === 0 && i === 0) writeFileSync(join(dir, name), sized(r, MAX_INPUT_BYTES + 10));
        else writeFileSync(join(dir, name), generate(r, 'experiment', int(r, 10)));
      }
      check(stats, `suite #${f}`, () => loadExperiments(dir, REGIONS));
    }
    report('experiments', stats);
    expect(stats.refused).toBeGreaterThan(100);
  });
});
