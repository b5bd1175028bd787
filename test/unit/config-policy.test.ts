import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issuesOf } from './usage-issues.ts';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import { HISTORY_FILE_RULE } from '../../src/predict/config.ts';
import { isLocalHost } from '../../src/prometheus/config.ts';

// Where a configuration file may point the gate: Prometheus on this machine or in the stack
// (unless allow_remote), the history file inside the workspace. A config file comes with a
// pull request; it must not turn the gate in CI into a probe of internal networks or a
// writer of files elsewhere on the runner.

describe('prometheus.url', () => {
  it.each([
    'http://127.0.0.1:9090',
    'http://localhost:9090/',
    'https://127.8.9.10',
    'http://[::1]:9090',
    'http://prometheus:9090',
    'http://2130706433:9090',
    'http://[::ffff:127.0.0.1]:9090',
  ])('accepts %s: this machine or the stack', (url) => {
    expect(parseConfig(`prometheus:\n  url: ${url}\n`, 'f.yml').prometheus.url).toBe(url);
  });

  it.each([
    ['http://10.0.0.5:9090', '"10.0.0.5"'],
    ['http://169.254.169.254/latest/meta-data', '"169.254.169.254"'],
    ['http://prometheus.internal.example:9090', '"prometheus.internal.example"'],
    ['http://localhost.evil.example:9090', '"localhost.evil.example"'],
    ['http://0.0.0.0:9090', '"0.0.0.0"'],
  ])('refuses %s without allow_remote, naming the host and the way out', (url, host) => {
    expect(issuesOf(() => parseConfig(`gate: {}\nprometheus:\n  url: ${url}\n`, 'f.yml'))).toEqual([
      {
        source: 'f.yml',
        path: 'prometheus.url',
        line: 3,
        rule:
          "must point at this machine (localhost, 127.0.0.0/8, [::1]) or the stack's Prometheus (prometheus), " +
          `got host ${host}: ` +
          'a gate in CI must not be steered into other networks by a configuration file; ' +
          'set prometheus.allow_remote: true to query a Prometheus elsewhere',
      },
    ]);
  });

  it('accepts a remote Prometheus with allow_remote: true, also set by an environment', () => {
    const remote = 'prometheus:\n  url: http://10.0.0.5:9090\n  allow_remote: true\n';
    expect(parseConfig(remote, 'f.yml').prometheus.url).toBe('http://10.0.0.5:9090');
    const text =
      'prometheus:\n  allow_remote: true\nenvironments:\n  prod:\n    prometheus: { url: "https://prom.example" }\n';
    expect(parseConfig(text, 'f.yml', 'prod').prometheus.url).toBe('https://prom.example');
  });

  it('isLocalHost reads hostnames as new URL() writes them', () => {
    expect(['LOCALHOST', '127.0.0.1', '[::1]', '[::2]', '128.0.0.1'].map(isLocalHost)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});

describe('predict.history.file', () => {
  const config = (file: string) => `predict:\n  history:\n    file: ${JSON.stringify(file)}\n`;

  it.each(['../../home/runner/.bashrc', '..', 'a/../../b', '/etc/cron.d/x'])(
    'refuses %j checked on its own',
    (file) => {
      expect(issuesOf(() => parseConfig(config(file), 'f.yml'))).toEqual([
        { source: 'f.yml', path: 'predict.history.file', rule: HISTORY_FILE_RULE, line: 3 },
      ]);
    },
  );

  it.each(['.chaos-gate/history.jsonl', 'a/../h.jsonl', './h.jsonl'])('accepts %j', (file) => {
    expect(parseConfig(config(file), 'f.yml').predict.history.file).toBe(file);
  });

  it("allows an absolute path inside the working directory or the config file's folder, nothing else", () => {
    const work = mkdtempSync(join(tmpdir(), 'cg-work-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'cg-elsewhere-'));
    mkdirSync(join(elsewhere, 'ci'));
    const file = join(elsewhere, 'ci', 'chaos-gate.yml');
    writeFileSync(file, config(join(elsewhere, 'ci', 'h.jsonl')));
    expect(loadConfig(file, work).predict.history.file).toBe(join(elsewhere, 'ci', 'h.jsonl'));
    writeFileSync(file, config(join(work, 'sub', 'h.jsonl')));
    expect(loadConfig(file, work).predict.history.file).toBe(join(work, 'sub', 'h.jsonl'));
    writeFileSync(file, config(join(elsewhere, 'h.jsonl')));
    expect(issuesOf(() => loadConfig(file, work))).toEqual([
      { source: file, path: 'predict.history.file', rule: HISTORY_FILE_RULE, line: 3 },
    ]);
    writeFileSync(file, config('../../x.jsonl'));
    expect(issuesOf(() => loadConfig(file, work))[0]?.path).toBe('predict.history.file');
  });

  it('refuses control characters in the path', () => {
    expect(issuesOf(() => parseConfig(config('h\u001b.jsonl'), 'f.yml'))[0]).toMatchObject({
      path: 'predict.history.file',
      rule: 'must not contain control characters',
    });
  });
});
