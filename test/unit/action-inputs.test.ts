import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { restoreHistoryFile, saveHistoryFile, type CacheApi } from '../../src/action/history-cache.ts';
import { BLANK_RULE, gateRequestOf, readInputs } from '../../src/action/inputs.ts';
import { parseCommand } from '../../src/cli/args.ts';
import { UsageError } from '../../src/util/errors.ts';
import { issuesOf } from './usage-issues.ts';

const getter = (values: Record<string, string>) => (name: string) => values[name] ?? '';

test('defaults for everything but the version', () => {
  expect(readInputs(getter({ version: 'v2' }))).toEqual({
    version: 'v2',
    failureRate: undefined,
    config: undefined,
    experiments: undefined,
    environment: undefined,
    reportDir: 'reports',
    seed: 1,
    failOnClosedGate: true,
    keepStack: false,
    historyCache: true,
  });
});

test.each([
  [{ version: 'v3', 'failure-rate': '0.8' }, { failureRate: 0.8 }],
  [{ version: 'v3', experiments: 'service-kill, cpu-spike' }, { experiments: ['service-kill', 'cpu-spike'] }],
  [{ version: 'v3', experiments: 'none' }, { experiments: [] }],
  [
    { version: 'v3', 'fail-on-closed-gate': 'false', 'keep-stack': 'TRUE' },
    { failOnClosedGate: false, keepStack: true },
  ],
  [{ version: 'v3', 'history-cache': 'false' }, { historyCache: false }],
  [
    { version: 'v3', environment: 'staging', config: 'ci/chaos-gate.yml', 'report-dir': 'out', seed: '42' },
    { environment: 'staging', config: 'ci/chaos-gate.yml', reportDir: 'out', seed: 42 },
  ],
])('%j', (values, expected) => {
  expect(readInputs(getter(values))).toMatchObject(expected);
});

test('every bad input is reported at once, each naming its input', () => {
  let err: unknown;
  try {
    readInputs(
      getter({
        version: 'v2 && curl x',
        'failure-rate': '1.5',
        'keep-stack': 'maybe',
        experiments: 'Kill!',
        seed: '-1',
        'history-cache': 'sometimes',
      }),
    );
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  const sources = (err as UsageError).issues.map((i) => i.source);
  expect(sources).toEqual([
    'input version',
    'input failure-rate',
    'input experiments',
    'input seed',
    'input keep-stack',
    'input history-cache',
  ]);
  expect((err as UsageError).message).toContain('must be a plain tag');
});

test("the version is optional here: a user's service defaults to its commit, the demo's gate requires it", () => {
  expect(readInputs(getter({})).version).toBeUndefined();
});

describe('the history cache', () => {
  const env = { GITHUB_RUN_ID: '4711', GITHUB_RUN_ATTEMPT: '2' };
  const logged = () => {
    const lines: string[] = [];
    return {
      lines,
      log: {
        info: (m: string) => void lines.push(`info: ${m}`),
        warning: (m: string) => void lines.push(`warning: ${m}`),
      },
    };
  };
  const fake = (over: Partial<CacheApi> = {}) => {
    const calls: unknown[][] = [];
    const api: CacheApi = {
      isFeatureAvailable: () => true,
      restoreCache: async (...args) => {
        calls.push(['restore', ...args]);
        return 'chaos-gate-history-4700-1';
      },
      saveCache: async (...args) => {
        calls.push(['save', ...args]);
        return 1;
      },
      ...over,
    };
    return { api, calls };
  };

  test('restores the newest entry by prefix and saves under this run and attempt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-cache-'));
    const file = join(dir, 'history.jsonl');
    const { api, calls } = fake();
    const { log } = logged();
    expect(await restoreHistoryFile(file, api, env, log)).toBe('chaos-gate-history-4700-1');
    writeFileSync(file, '{}\n');
    expect(await saveHistoryFile(file, api, env, log)).toBe(true);
    expect(calls).toEqual([
      ['restore', [file], 'chaos-gate-history-4711-2', ['chaos-gate-history-']],
      ['save', [file], 'chaos-gate-history-4711-2'],
    ]);
  });

  test('a miss, a failure or no cache service is a warning or a note, never an error', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cg-cache-')), 'history.jsonl');
    const { lines, log } = logged();
    expect(await restoreHistoryFile(file, fake({ restoreCache: async () => undefined }).api, env, log)).toBeUndefined();
    expect(
      await restoreHistoryFile(
        file,
        fake({
          restoreCache: async () => {
            throw new Error('503');
          },
        }).api,
        env,
        log,
      ),
    ).toBeUndefined();
    expect(await restoreHistoryFile(file, fake({ isFeatureAvailable: () => false }).api, env, log)).toBeUndefined();
    expect(await saveHistoryFile(file, fake().api, env, log)).toBe(false); // nothing written
    writeFileSync(file, '{}\n');
    expect(
      await saveHistoryFile(
        file,
        fake({
          saveCache: async () => {
            throw new Error('reserved');
          },
        }).api,
        env,
        log,
      ),
    ).toBe(false);
    expect(lines.map((l) => l.split(':')[0])).toEqual(['info', 'warning', 'warning', 'info', 'warning']);
    expect(lines[1]).toContain('503');
  });

  // GitHub's local-action stubs @actions/cache with restoreCache and saveCache only (issue 16).
  test('a client without isFeatureAvailable is tried; a probe that throws is a warning', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cg-cache-')), 'history.jsonl');
    const { lines, log } = logged();
    const { api, calls } = fake();
    delete api.isFeatureAvailable;
    expect(await restoreHistoryFile(file, api, env, log)).toBe('chaos-gate-history-4700-1');
    const throwing = fake({
      isFeatureAvailable: () => {
        throw new Error('no token');
      },
    }).api;
    expect(await restoreHistoryFile(file, throwing, env, log)).toBeUndefined();
    writeFileSync(file, '{}\n');
    expect(await saveHistoryFile(file, api, env, log)).toBe(true);
    expect(await saveHistoryFile(file, throwing, env, log)).toBe(false);
    expect(calls.map((c) => c[0])).toEqual(['restore', 'save']);
    expect(lines.filter((l) => l.startsWith('warning'))).toEqual([
      expect.stringContaining('restoring from the cache failed (no token)'),
      expect.stringContaining('saving to the cache failed (no token)'),
    ]);
  });
});

test('action.yml declares exactly the inputs the Action reads, and the prediction outputs', () => {
  const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
  };
  const asked = new Set<string>();
  readInputs((name) => {
    asked.add(name);
    return name === 'version' ? 'v2' : '';
  });
  expect(Object.keys(action.inputs).sort()).toEqual([...asked].sort());
  expect(Object.keys(action.outputs)).toEqual(expect.arrayContaining(['risk-score', 'prediction-action']));
});

describe("experiments: the same rule as the CLI's --only (issue 15)", () => {
  test.each([',', 'a,,b', 'service-kill,', ' , ', 'Kill!'])('%j is refused, never read as the whole suite', (text) => {
    const [issue, ...more] = issuesOf(() => readInputs(getter({ version: 'v2', experiments: text })));
    expect(more).toEqual([]);
    expect(issue?.source).toBe('input experiments');
    // The CLI refuses the same text with the same rule; only the source differs.
    const [cli] = issuesOf(() => parseCommand(['gate', 'v2', '--only', text]));
    expect(cli?.source).toBe('--only');
    expect(issue?.rule).toBe(cli?.rule);
  });

  test('names are trimmed and deduplicated as on the CLI', () => {
    const { experiments } = readInputs(getter({ version: 'v2', experiments: ' cpu-spike , service-kill,cpu-spike ' }));
    expect(experiments).toEqual(['cpu-spike', 'service-kill']);
  });
});

describe('blank inputs: "" is the default, whitespace alone is refused', () => {
  const optional = [
    'failure-rate',
    'config',
    'experiments',
    'environment',
    'report-dir',
    'seed',
    'fail-on-closed-gate',
    'keep-stack',
    'history-cache',
  ];

  test.each(optional)('%s: only whitespace is refused, naming the input', (name) => {
    const issues = issuesOf(() => readInputs(getter({ version: 'v2', [name]: ' \n ' })));
    expect(issues).toEqual([{ source: `input ${name}`, path: '', rule: BLANK_RULE }]);
  });

  test('every input set to "" (left out, or forwarded empty) gives the defaults', () => {
    const empty = Object.fromEntries(optional.map((name) => [name, '']));
    expect(readInputs(getter({ version: 'v2', ...empty }))).toEqual(readInputs(getter({ version: 'v2' })));
  });

  test('a version of only whitespace is refused as blank', () => {
    expect(() => readInputs(getter({ version: '  ' }))).toThrow('input version: is only whitespace');
  });
});

test('the request for the pipeline carries every input, the experiments as its selection', () => {
  const inputs = readInputs(
    getter({
      version: 'v3',
      'failure-rate': '0.2',
      config: 'ci.yml',
      experiments: 'none',
      environment: 'staging',
      'report-dir': 'out',
      seed: '7',
      'keep-stack': 'true',
    }),
  );
  expect(gateRequestOf(inputs, '/ws')).toEqual({
    version: 'v3',
    failureRate: 0.2,
    config: 'ci.yml',
    environment: 'staging',
    reportDir: 'out',
    only: [],
    seed: 7,
    keepStack: true,
    cwd: '/ws',
  });
});
