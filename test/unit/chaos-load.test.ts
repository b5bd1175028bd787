import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, test } from 'vitest';
import { effectKey, EVIDENCE_NAMES, MEASUREMENT_NAMES, thresholdKey } from '../../src/chaos/catalogue.ts';
import { FAULT_KINDS } from '../../src/chaos/experiment.ts';
import { loadExperiments, parseExperimentText, selectExperiments } from '../../src/config/experiment-files.ts';
import { UsageError, type InputIssue } from '../../src/util/errors.ts';
import { parseConfig } from '../../src/config/load.ts';
import { aliasBomb } from './hostile-yaml.ts';

const REGIONS = ['us-west', 'us-east', 'eu-west', 'ap-south'];

const issuesOf = (text: string): InputIssue[] => {
  try {
    parseExperimentText(text, 'x.yml', REGIONS);
  } catch (e) {
    if (e instanceof UsageError) return [...e.issues];
    throw e;
  }
  throw new Error('expected a UsageError');
};

const minimal = (fault: string, extra = '') => `name: e1\ndescription: d\ntarget: us-west\nfault: ${fault}\n${extra}`;

describe('experiment files', () => {
  it('fills every default of a minimal file', () => {
    const e = parseExperimentText(minimal('{ kind: kill }'), 'x.yml', REGIONS);
    expect(e).toMatchObject({
      name: 'e1',
      source: 'x.yml',
      target: { regions: ['us-west'] },
      fault: { kind: 'kill' },
      load: { rps: 40, writeShare: 0.3, readShare: 0.3, otherRegionsRps: 5, timeoutMs: 2000 },
      windows: { beforeSeconds: 5, afterSeconds: 5, recoveryDeadlineSeconds: 30 },
    });
    expect(e.thresholds).toEqual([
      { measurement: 'recovery_time_seconds', comparator: '<=', value: 15 },
      { measurement: 'acknowledged_writes_lost', comparator: '<=', value: 0 },
      { measurement: 'error_rate_after', comparator: '<=', value: 0.01 },
      { measurement: 'other_regions_error_rate_during', comparator: '<=', value: 0.01 },
    ]);
  });

  it('maps every field and lets the file override and add thresholds', () => {
    const e = parseExperimentText(
      [
        'name: lat',
        'description: slow',
        'target: [us-east, eu-west]',
        'fault: { kind: latency, duration_seconds: 4, delay_ms: 200, jitter_ms: 20, method: fault-endpoint }',
        'load: { rps: 10, write_share: 0.5, read_share: 0.1, other_regions_rps: 0, timeout_ms: 500 }',
        'windows: { before_seconds: 2, after_seconds: 3, recovery_deadline_seconds: 4 }',
        'thresholds: { max_p99_latency_ms_during: 50, max_time_to_health_flag_seconds: 2 }',
      ].join('\n'),
      'x.yml',
      REGIONS,
    );
    expect(e.target).toEqual({ regions: ['us-east', 'eu-west'] });
    expect(e.fault).toEqual({
      kind: 'latency',
      durationSeconds: 4,
      delayMs: 200,
      jitterMs: 20,
      method: 'fault-endpoint',
    });
    expect(e.load).toEqual({ rps: 10, writeShare: 0.5, readShare: 0.1, otherRegionsRps: 0, timeoutMs: 500 });
    expect(e.windows).toEqual({ beforeSeconds: 2, afterSeconds: 3, recoveryDeadlineSeconds: 4 });
    const thresholds = Object.fromEntries(e.thresholds.map((t) => [t.measurement, t.value]));
    expect(thresholds.p99_latency_ms_during).toBe(50);
    expect(thresholds.time_to_health_flag_seconds).toBe(2);
    expect(thresholds.timeouts_during).toBe(0); // a default of the kind
    // No traffic to other regions: the blast-radius default is dropped rather than failing for lack of data.
    expect(thresholds.other_regions_error_rate_during).toBeUndefined();
  });

  it('asks the memory and cpu faults for evidence that they took effect, and lets a file replace it', () => {
    const effect = (fault: string, extra = '') => parseExperimentText(minimal(fault, extra), 'x.yml', REGIONS).effect;
    expect(effect('{ kind: memory, duration_seconds: 3, mb: 100 }')).toEqual([
      { evidence: 'memory_held_percent', value: 50 },
      { evidence: 'restarts', value: 1 },
    ]);
    expect(effect('{ kind: cpu, duration_seconds: 3 }')).toEqual([{ evidence: 'cpu_usage_rise_percent', value: 30 }]);
    expect(effect('{ kind: kill }')).toEqual([]);
    // Replaced as a whole: the entries are alternatives, so keeping the defaults beside it would weaken it.
    expect(effect('{ kind: cpu, duration_seconds: 3 }', 'effect: { min_median_latency_rise_ms: 10 }\n')).toEqual([
      { evidence: 'median_latency_rise_ms', value: 10 },
    ]);
    expect(effect('{ kind: kill }', 'effect: { min_restarts: 1 }\n')).toEqual([{ evidence: 'restarts', value: 1 }]);
  });

  it("reads a dependency fault: paused by default, with the kind's own hypothesis (no blast radius: it is shared)", () => {
    const e = parseExperimentText(
      minimal('{ kind: dependency, duration_seconds: 6, service: postgres }'),
      'x.yml',
      REGIONS,
    );
    expect(e.fault).toEqual({ kind: 'dependency', durationSeconds: 6, service: 'postgres', mode: 'pause' });
    expect(e.thresholds.map((t) => `${t.measurement} ${t.comparator} ${t.value}`)).toEqual([
      'recovery_time_seconds <= 15',
      'acknowledged_writes_lost <= 0',
      'error_rate_after <= 0.01',
    ]);
  });

  test.each([
    ['random', { random: true }],
    ['ap-south', { regions: ['ap-south'] }],
    ['[us-west, ap-south]', { regions: ['us-west', 'ap-south'] }],
  ])('target %s', (target, expected) => {
    expect(
      parseExperimentText(
        `name: a\ndescription: d\ntarget: ${target}\nfault: { kind: cpu, duration_seconds: 1 }\n`,
        'x.yml',
        REGIONS,
      ).target,
    ).toEqual(expected);
  });

  test.each([
    ['an unknown top-level field', minimal('{ kind: kill }', 'extra: 1\n'), 5, 'extra', 'unknown field'],
    [
      'a field another kind has',
      minimal('{ kind: kill, duration_seconds: 3 }'),
      4,
      'fault.duration_seconds',
      'unknown field',
    ],
    [
      'an unknown kind',
      minimal('{ kind: explode }'),
      4,
      'fault.kind',
      'must be one of "kill", "latency", "cpu", "memory", "db_unavailable", "failure_rate", "partition", "dependency", got "explode"',
    ],
    [
      'a dependency without its service',
      minimal('{ kind: dependency, duration_seconds: 3 }'),
      4,
      'fault.service',
      'is required (text)',
    ],
    [
      'a dependency named like a flag',
      minimal('{ kind: dependency, duration_seconds: 3, service: --all }'),
      4,
      'fault.service',
      'must be a service of your dependencies file',
    ],
    [
      'an unknown dependency mode',
      minimal('{ kind: dependency, duration_seconds: 3, service: db, mode: kill }'),
      4,
      'fault.mode',
      'must be one of "pause", "stop", "latency", "errors", "http_error", "reset", "timeout", "bandwidth", got "kill"',
    ],
    [
      'a proxy latency without delay',
      minimal('{ kind: dependency, duration_seconds: 3, service: db, mode: latency }'),
      4,
      'fault.delay_ms',
      'is required with mode latency',
    ],
    [
      'a share on a paused dependency',
      minimal('{ kind: dependency, duration_seconds: 3, service: db, share: 0.5 }'),
      4,
      'fault.share',
      'applies only with mode errors, http_error, reset, timeout (mode is pause)',
    ],
    [
      'a delay with http_error',
      minimal('{ kind: dependency, duration_seconds: 3, service: db, mode: http_error, delay_ms: 5 }'),
      4,
      'fault.delay_ms',
      'applies only with mode latency (mode is http_error)',
    ],
    [
      'a status below 500',
      minimal('{ kind: dependency, duration_seconds: 3, service: db, mode: http_error, status: 404 }'),
      4,
      'fault.status',
      'must be at least 500',
    ],
    [
      'a bandwidth without a rate',
      minimal('{ kind: dependency, duration_seconds: 3, service: db, mode: bandwidth }'),
      4,
      'fault.rate_kbps',
      'is required with mode bandwidth',
    ],
    [
      'a dependency jitter above its delay',
      minimal('{ kind: dependency, duration_seconds: 3, service: db, mode: latency, delay_ms: 10, jitter_ms: 20 }'),
      4,
      'fault.jitter_ms',
      'must be at most delay_ms',
    ],
    ['a missing kind', minimal('{ duration_seconds: 3 }'), 4, 'fault.kind', 'is required (one of "kill"'],
    [
      'latency without delay',
      minimal('{ kind: latency, duration_seconds: 3 }'),
      4,
      'fault.delay_ms',
      'is required (a number)',
    ],
    [
      'jitter above delay',
      minimal('{ kind: latency, duration_seconds: 3, delay_ms: 10, jitter_ms: 20 }'),
      4,
      'fault.jitter_ms',
      'must be at most delay_ms',
    ],
    [
      'a fractional delay',
      minimal('{ kind: latency, duration_seconds: 3, delay_ms: 1.5 }'),
      4,
      'fault.delay_ms',
      'must be a whole number',
    ],
    [
      'an unknown latency method',
      minimal('{ kind: latency, duration_seconds: 3, delay_ms: 10, method: tc }'),
      4,
      'fault.method',
      'must be one of "auto", "tc-netem", "fault-endpoint", got "tc"',
    ],
    [
      'a rate above 1',
      minimal('{ kind: failure_rate, duration_seconds: 3, rate: 1.5 }'),
      4,
      'fault.rate',
      'must be at most 1',
    ],
    [
      'a rate of 0',
      minimal('{ kind: failure_rate, duration_seconds: 3, rate: 0 }'),
      4,
      'fault.rate',
      'must be greater than 0',
    ],
    ['memory of 0 MiB', minimal('{ kind: memory, duration_seconds: 3, mb: 0 }'), 4, 'fault.mb', 'must be at least 1'],
    [
      'a negative duration',
      minimal('{ kind: cpu, duration_seconds: -1 }'),
      4,
      'fault.duration_seconds',
      'must be greater than 0',
    ],
    [
      'a duration too long',
      minimal('{ kind: cpu, duration_seconds: 301 }'),
      4,
      'fault.duration_seconds',
      'must be at most 300',
    ],
    [
      'a region the stack lacks',
      'name: a\ndescription: d\ntarget: mars\nfault: { kind: kill }\n',
      3,
      'target',
      '"mars" is not a region of the stack (us-west, us-east, eu-west, ap-south)',
    ],
    [
      'a bad region in a list',
      'name: a\ndescription: d\ntarget:\n  - us-west\n  - pluto\nfault: { kind: kill }\n',
      5,
      'target[1]',
      '"pluto" is not a region of the stack',
    ],
    [
      'a duplicate region',
      'name: a\ndescription: d\ntarget: [us-west, us-west]\nfault: { kind: kill }\n',
      3,
      'target[1]',
      'duplicate region "us-west"',
    ],
    [
      'an empty target list',
      'name: a\ndescription: d\ntarget: []\nfault: { kind: kill }\n',
      3,
      'target',
      'must list at least one region',
    ],
    [
      'a missing target',
      'name: a\ndescription: d\nfault: { kind: kill }\n',
      undefined,
      'target',
      'is required (a region, a list of regions, or "random")',
    ],
    [
      'a bad name',
      'name: Service Kill\ndescription: d\ntarget: random\nfault: { kind: kill }\n',
      1,
      'name',
      'lowercase letters, digits and "-"',
    ],
    [
      'an empty description',
      'name: a\ndescription: "  "\ntarget: random\nfault: { kind: kill }\n',
      2,
      'description',
      'must say what the experiment shows',
    ],
    [
      'shares above 1',
      minimal('{ kind: kill }', 'load: { write_share: 0.7, read_share: 0.5 }\n'),
      5,
      'load.read_share',
      'write_share + read_share must be at most 1',
    ],
    ['zero rps', minimal('{ kind: kill }', 'load: { rps: 0 }\n'), 5, 'load.rps', 'must be greater than 0'],
    [
      'no baseline window',
      minimal('{ kind: kill }', 'windows: { before_seconds: 0 }\n'),
      5,
      'windows.before_seconds',
      'must be at least 1 (the baseline needs data)',
    ],
    [
      'an unknown threshold',
      minimal('{ kind: kill }', 'thresholds:\n  max_recovery_seconds: 3\n'),
      6,
      'thresholds.max_recovery_seconds',
      'unknown threshold (known: max_recovery_time_seconds,',
    ],
    [
      'a ratio threshold above 1',
      minimal('{ kind: kill }', 'thresholds: { max_error_rate_after: 5 }\n'),
      5,
      'thresholds.max_error_rate_after',
      'must be at most 1 (a share)',
    ],
    [
      'a threshold that is text',
      minimal('{ kind: kill }', 'thresholds: { max_recovery_time_seconds: fast }\n'),
      5,
      'thresholds.max_recovery_time_seconds',
      'must be a number, got "fast"',
    ],
    [
      'an unknown evidence',
      minimal('{ kind: cpu, duration_seconds: 3 }', 'effect:\n  min_cpu_seconds: 3\n'),
      6,
      'effect.min_cpu_seconds',
      'unknown evidence (known: min_memory_held_percent, min_restarts, min_cpu_usage_rise_percent, min_median_latency_rise_ms)',
    ],
    [
      'an evidence floor of 0',
      minimal('{ kind: memory, duration_seconds: 3, mb: 10 }', 'effect: { min_restarts: 0 }\n'),
      5,
      'effect.min_restarts',
      'must be greater than 0 (a floor of 0 holds whatever the fault did)',
    ],
    [
      'an empty effect',
      minimal('{ kind: cpu, duration_seconds: 3 }', 'effect: {}\n'),
      5,
      'effect',
      "must name at least one piece of evidence (leave effect out for the fault kind's default)",
    ],
    [
      'memory evidence of a cpu fault',
      minimal('{ kind: cpu, duration_seconds: 3 }', 'effect: { min_memory_held_percent: 50 }\n'),
      5,
      'effect.min_memory_held_percent',
      'can only be measured for a memory fault (fault.kind is cpu)',
    ],
  ])('refuses %s', (_what, text, line, path, rule) => {
    const issue = issuesOf(text).find((i) => i.path === path);
    expect(issue, JSON.stringify(issuesOf(text))).toBeDefined();
    expect(issue?.rule).toContain(rule);
    expect(issue?.source).toBe('x.yml');
    if (line !== undefined) expect(issue?.line).toBe(line);
  });

  it('refuses YAML that does not parse, with its line', () => {
    expect(issuesOf('name: a\nfault: { kind: kill\n')).toEqual([
      expect.objectContaining({ rule: expect.stringContaining('not valid YAML'), line: expect.any(Number) }),
    ]);
  });

  it('refuses a file that is not a mapping', () => {
    expect(issuesOf('- a\n- b\n')[0]?.rule).toContain('must be a mapping');
  });

  it('reports every problem of a file at once', () => {
    expect(
      issuesOf('name: a\ndescription: d\ntarget: mars\nfault: { kind: cpu }\n')
        .map((i) => i.path)
        .sort(),
    ).toEqual(['fault.duration_seconds', 'target']);
  });
});

describe('the suite', () => {
  const e = (name: string, source: string) =>
    parseExperimentText(`name: ${name}\ndescription: d\ntarget: random\nfault: { kind: kill }\n`, source, REGIONS);

  it('refuses duplicate names and unknown --only names', () => {
    const err = (() => {
      try {
        selectExperiments([e('a', 'a.yml'), e('a', 'b.yml')], { only: ['zz'] });
      } catch (x) {
        return x as UsageError;
      }
      throw new Error('expected a UsageError');
    })();
    expect(err.message).toContain('b.yml: name: duplicate experiment name "a" (also in a.yml)');
    expect(err.message).toContain('--only: no experiment named "zz" (experiments: a)');
  });

  it('keeps file order and filters with --only', () => {
    expect(
      selectExperiments([e('b', '1.yml'), e('a', '2.yml'), e('c', '3.yml')], { only: ['c', 'b'] }).map((x) => x.name),
    ).toEqual(['b', 'c']);
  });

  it('loads a folder in file-name order and names every bad file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-load-'));
    writeFileSync(join(dir, '2-b.yml'), 'name: b\ndescription: d\ntarget: random\nfault: { kind: kill }\n');
    writeFileSync(join(dir, '1-a.yaml'), 'name: a\ndescription: d\ntarget: random\nfault: { kind: kill }\n');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    expect(loadExperiments(dir, REGIONS).map((x) => x.name)).toEqual(['a', 'b']);
    writeFileSync(join(dir, '3-c.yml'), 'name: c\ndescription: d\ntarget: random\nfault: { kind: cpu }\n');
    writeFileSync(join(dir, '4-d.yml'), 'name: d\ndescription: d\ntarget: venus\nfault: { kind: kill }\n');
    expect(() => loadExperiments(dir, REGIONS)).toThrow(
      /3-c\.yml:4: fault\.duration_seconds: is required[\s\S]*4-d\.yml:3: target: "venus" is not a region/,
    );
  });

  it('refuses a missing or empty folder', () => {
    expect(() => loadExperiments('/no/such/dir', REGIONS)).toThrow(UsageError);
    const empty = mkdtempSync(join(tmpdir(), 'chaos-empty-'));
    mkdirSync(join(empty, 'sub'));
    expect(() => loadExperiments(empty, REGIONS)).toThrow(/no experiment files/);
  });

  it('accepts the default suite in chaos/', () => {
    const names = loadExperiments(join(import.meta.dirname, '../../chaos'), REGIONS)
      .map((x) => x.name)
      .sort();
    expect(names).toEqual([
      'cpu-spike',
      'database-failure',
      'failure-rate-bump',
      'memory-spike',
      'network-latency',
      'network-partition',
      'service-kill',
    ]);
  });
});

describe('a suite folder that is not only experiment files', () => {
  const valid = 'name: a\ndescription: d\ntarget: random\nfault: { kind: kill }\n';
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-odd-'));
    writeFileSync(join(dir, 'a.yml'), valid);
    return dir;
  };
  const suiteIssues = (dir: string): InputIssue[] => {
    try {
      loadExperiments(dir, REGIONS);
    } catch (e) {
      if (e instanceof UsageError) return [...e.issues];
      throw e;
    }
    throw new Error('expected a UsageError');
  };

  it('refuses a folder named x.yml and a symbolic link to nothing, naming each (both were internal errors)', () => {
    const dir = folder();
    mkdirSync(join(dir, 'x.yml'));
    symlinkSync(join(dir, 'gone.txt'), join(dir, 'dangling.yml'));
    expect(suiteIssues(dir)).toEqual([
      {
        source: join(dir, 'dangling.yml'),
        path: '',
        rule: 'cannot be read: no such file (or a symbolic link to nothing)',
      },
      { source: join(dir, 'x.yml'), path: '', rule: 'is not a regular file (a folder, a device or a pipe?): not read' },
    ]);
  });

  it('refuses a symbolic link out of the folder without quoting what it points at (it printed /etc/passwd)', () => {
    const dir = folder();
    const outside = mkdtempSync(join(tmpdir(), 'chaos-outside-'));
    writeFileSync(join(outside, 'secret.yml'), 'root_password_hash: abc\napi_token: s3cr3t\n');
    symlinkSync(join(outside, 'secret.yml'), join(dir, 'b.yml'));
    const issues = suiteIssues(dir);
    expect(issues).toEqual([
      {
        source: join(dir, 'b.yml'),
        path: '',
        rule: expect.stringContaining('symbolic link that leads out of the experiments folder'),
      },
    ]);
    expect(JSON.stringify(issues)).not.toMatch(/root_password_hash|api_token|secret/);
  });

  it('follows a symbolic link that stays inside the folder', () => {
    const dir = folder();
    writeFileSync(join(dir, 'shared.yaml.txt'), valid.replace('name: a', 'name: b'));
    symlinkSync('shared.yaml.txt', join(dir, 'b.yml'));
    expect(loadExperiments(dir, REGIONS).map((e) => e.name)).toEqual(['a', 'b']);
  });

  it('refuses an alias bomb as bad input, naming the file', () => {
    expect(issuesOf(aliasBomb())).toEqual([
      { source: 'x.yml', path: '', rule: expect.stringContaining('aliases (*name) would expand') },
    ]);
  });

  it('does not quote the content of a file that is no mapping', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n';
    expect(issuesOf(passwd)).toEqual([
      {
        source: 'x.yml',
        path: '',
        rule: 'must be a mapping with name, description, target, fault, load, windows and thresholds',
        line: 1,
      },
    ]);
  });

  it('cuts a long value it quotes', () => {
    const [issue] = issuesOf(`name: a\ndescription: d\ntarget: random\nfault: { kind: "${'k'.repeat(5000)}" }\n`);
    expect(issue?.rule).toMatch(/got "k+"…\(5000 characters\)$/);
    expect(issue?.rule.length).toBeLessThan(200);
  });

  it('refuses too many files before reading them', () => {
    const dir = folder();
    for (let i = 0; i < 100; i++) writeFileSync(join(dir, `e${i}.yml`), valid);
    expect(suiteIssues(dir)).toEqual([
      {
        source: '--experiments',
        path: '',
        rule: `${dir} has 101 experiment files, more than the 100 a suite may have`,
      },
    ]);
  });
});

describe('experiments.only from the configuration file', () => {
  const e = (name: string) =>
    parseExperimentText(
      `name: ${name}\ndescription: d\ntarget: random\nfault: { kind: kill }\n`,
      `${name}.yml`,
      REGIONS,
    );

  it('names the file, the entry and its line of a name the suite lacks (it blamed --only)', () => {
    const config = parseConfig('experiments:\n  only:\n    - a\n    - zz\n', '/repo/chaos-gate.yml');
    const only = config.experiments.only ?? [];
    const origin = config.experiments.onlyOrigin;
    expect(() => selectExperiments([e('a')], { only, ...(origin ? { origin } : {}) })).toThrow(UsageError);
    try {
      selectExperiments([e('a')], { only, ...(origin ? { origin } : {}) });
    } catch (x) {
      expect((x as UsageError).issues).toEqual([
        {
          source: '/repo/chaos-gate.yml',
          path: 'experiments.only[1]',
          rule: 'no experiment named "zz" (experiments: a)',
          line: 4,
        },
      ]);
    }
  });

  it('still names --only when the names came from the command line', () => {
    expect(() => selectExperiments([e('a')], { only: ['zz'] })).toThrow(
      '--only: no experiment named "zz" (experiments: a)',
    );
  });
});

describe('chaos/README.md', () => {
  it('documents every threshold, every piece of evidence and every fault kind the schema accepts', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../chaos/README.md'), 'utf8');
    for (const name of MEASUREMENT_NAMES) expect(readme).toContain(`\`${thresholdKey(name)}\``);
    for (const name of EVIDENCE_NAMES) expect(readme).toContain(`| \`${effectKey(name)}\` |`);
    for (const kind of FAULT_KINDS) expect(readme).toContain(`| \`${kind}\` |`);
  });
});

describe('cpu by method', () => {
  it("is the demo's busy loop by default, held to its CPU use; a cgroup quota keeps 0.1 of a core and is checked by its injector", () => {
    const endpoint = parseExperimentText(minimal('{ kind: cpu, duration_seconds: 5 }'), 'x.yml', REGIONS);
    expect(endpoint.fault).toEqual({ kind: 'cpu', durationSeconds: 5, method: 'fault-endpoint', cpus: 0.1 });
    expect(endpoint.effect).toEqual([{ evidence: 'cpu_usage_rise_percent', value: 30 }]);
    const cgroup = parseExperimentText(
      minimal('{ kind: cpu, duration_seconds: 5, method: cgroup, cpus: 0.05 }'),
      'x.yml',
      REGIONS,
    );
    expect(cgroup.fault).toEqual({ kind: 'cpu', durationSeconds: 5, method: 'cgroup', cpus: 0.05 });
    expect(cgroup.effect).toEqual([]);
  });

  it.each([
    [
      'cpus without the cgroup method',
      '{ kind: cpu, duration_seconds: 5, cpus: 0.5 }',
      'fault.cpus',
      'applies only with method: cgroup',
    ],
    [
      'a share below a CFS quota of 1 ms',
      '{ kind: cpu, duration_seconds: 5, method: cgroup, cpus: 0.001 }',
      'fault.cpus',
      'must be at least 0.01 (a CFS quota of 1 ms in 100 ms)',
    ],
    [
      'an unknown method',
      '{ kind: cpu, duration_seconds: 5, method: busy }',
      'fault.method',
      expect.stringContaining('"fault-endpoint"'),
    ],
  ])('refuses %s', (_what, fault, path, rule) => {
    expect(issuesOf(minimal(fault))).toEqual([expect.objectContaining({ path, rule })]);
  });
});
