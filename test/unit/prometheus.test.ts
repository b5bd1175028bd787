import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, test } from 'vitest';
import { combineJudgement, type CheckRecord } from '../../src/analysis/combine.ts';
import { judge } from '../../src/analysis/judge.ts';
import type { Observation } from '../../src/analysis/observation.ts';
import { UsageError } from '../../src/util/errors.ts';
import { parseConfig } from '../../src/config/load.ts';
import { toPrometheusPlan } from '../../src/prometheus/config.ts';
import { evaluateCheck, type CheckSpec } from '../../src/prometheus/checks.ts';
import { instantQuery } from '../../src/prometheus/client.ts';
import { parseQueryResponse } from '../../src/prometheus/response.ts';
import { BUILTIN_TEMPLATES, escapeLabelValue, render, unknownPlaceholders } from '../../src/prometheus/template.ts';

const values = {
  region: 'us-west',
  version: 'v3',
  canary_version: 'v3',
  baseline_version: 'v2',
  interval: '10s',
  slot: 'canary',
};

describe('templates', () => {
  it('fills every placeholder, with or without spaces', () => {
    expect(
      render(
        'x{region="{{ region }}",version="{{version}}"}[{{ interval }}] {{ baseline_version }}/{{canary_version}}',
        values,
      ),
    ).toBe('x{region="us-west",version="v3"}[10s] v2/v3');
  });

  test.each([
    ['plain', 'plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['line\nbreak', 'line\\nbreak'],
    ['"} or vector(1) #', '\\"} or vector(1) #'],
  ])('escapes %j for a PromQL string', (raw, escaped) => {
    expect(escapeLabelValue(raw)).toBe(escaped);
    expect(render('{v="{{ version }}"}', { ...values, version: raw })).toBe(`{v="${escaped}"}`);
  });

  it('refuses an interval that is not a PromQL duration (it goes in unquoted)', () => {
    expect(() => render('[{{ interval }}]', { ...values, interval: '10s]) or vector(1' })).toThrow(
      /not a PromQL duration/,
    );
  });

  it('reports unknown placeholders', () => {
    expect(unknownPlaceholders('{{ region }} {{ regoin }}', 'f.yml', 'prometheus.checks[0].query')).toEqual([
      expect.objectContaining({
        path: 'prometheus.checks[0].query',
        rule: expect.stringContaining('unknown placeholder {{ regoin }}'),
      }),
    ]);
  });

  it('ships error rate and p50/p95/p99 templates that use only exported metrics', () => {
    expect(Object.keys(BUILTIN_TEMPLATES)).toEqual(
      expect.arrayContaining(['error_rate', 'latency_p50_seconds', 'latency_p95_seconds', 'latency_p99_seconds']),
    );
    for (const t of Object.values(BUILTIN_TEMPLATES)) {
      for (const m of t.match(/[a-z_]+(?=\{)/g) ?? []) {
        expect(['service_errors_total', 'http_requests_total', 'http_request_duration_seconds_bucket']).toContain(m);
      }
    }
  });
});

describe('responses', () => {
  const vector = (...vs: string[]) => ({
    status: 'success',
    data: { resultType: 'vector', result: vs.map((v) => ({ metric: {}, value: [1700000000, v] })) },
  });
  test.each([
    ['a one-series vector', vector('0.25'), { kind: 'value', value: 0.25, series: 1 }],
    [
      'a scalar',
      { status: 'success', data: { resultType: 'scalar', result: [1700000000, '3'] } },
      { kind: 'value', value: 3, series: 1 },
    ],
    ['an empty vector', vector(), { kind: 'no_data', why: 'the query returned no series' }],
    ['NaN', vector('NaN'), { kind: 'no_data', why: expect.stringContaining('NaN') }],
    ['+Inf', vector('+Inf'), { kind: 'value', value: Infinity, series: 1 }],
    [
      'two series',
      vector('1', '2'),
      { kind: 'error', errorType: 'bad_data', message: expect.stringContaining('2 series') },
    ],
    [
      'a range vector',
      { status: 'success', data: { resultType: 'matrix', result: [] } },
      { kind: 'error', errorType: 'bad_data', message: expect.stringContaining('range vector') },
    ],
    [
      'an error',
      { status: 'error', errorType: 'bad_data', error: 'parse error at char 5' },
      { kind: 'error', errorType: 'bad_data', message: 'parse error at char 5' },
    ],
    ['garbage', 'nonsense', { kind: 'error', errorType: 'unknown', message: expect.any(String) }],
  ])('%s', (_name, body, expected) => {
    expect(parseQueryResponse(body)).toEqual(expected);
  });
});

describe('checks', () => {
  const spec: CheckSpec = { name: 'error-rate', template: 't', max: 0.05, onNoData: 'wait' };
  it('is green inside the range and red outside, with the value in the reason', () => {
    expect(evaluateCheck(spec, 'q', { kind: 'value', value: 0.01, series: 1 })).toMatchObject({
      verdict: 'green',
      value: 0.01,
      query: 'q',
      max: 0.05,
      min: null,
    });
    const red = evaluateCheck(spec, 'q', { kind: 'value', value: 0.8, series: 1 });
    expect(red).toMatchObject({ verdict: 'red', value: 0.8 });
    expect(red.reason).toContain('0.8');
    expect(
      evaluateCheck({ ...spec, min: 0.1, max: undefined }, 'q', { kind: 'value', value: 0.05, series: 1 }).verdict,
    ).toBe('red');
  });
  it('never passes on no data: inconclusive with wait, ignored with ignore', () => {
    expect(evaluateCheck(spec, 'q', { kind: 'no_data', why: 'empty' })).toMatchObject({
      verdict: 'inconclusive',
      value: null,
    });
    expect(evaluateCheck({ ...spec, onNoData: 'ignore' }, 'q', { kind: 'no_data', why: 'empty' })).toMatchObject({
      verdict: 'ignored',
      value: null,
    });
  });
  it('a failed query is inconclusive, not red: the candidate did not cause it', () => {
    expect(evaluateCheck(spec, 'q', { kind: 'error', errorType: 'unreachable', message: 'down' }).verdict).toBe(
      'inconclusive',
    );
  });
});

describe('judgement from two sources', () => {
  const limits = { maxErrorRate: 0.05, maxP99Ms: 500 };
  const obs = (n: number, status: number, cohort: 'canary' | 'baseline'): Observation[] =>
    Array.from({ length: n }, (_, i) => ({
      at: 1000 + i,
      region: 'us-west',
      version: cohort === 'canary' ? 'v3' : 'v2',
      cohort,
      route: '/health',
      status,
      latencyMs: 5 + (i % 7),
    }));
  const healthy = judge(obs(60, 200, 'canary'), obs(60, 200, 'baseline'), limits, { minSamples: 30, alpha: 0.05 });
  const promRed: CheckRecord = {
    source: 'prometheus',
    name: 'error-rate',
    query: 'q',
    value: 0.8,
    min: null,
    max: 0.05,
    samples: 1,
    verdict: 'red',
    reason: 'error-rate = 0.8 is outside',
  };
  const promNoData: CheckRecord = { ...promRed, value: null, verdict: 'inconclusive', reason: 'no data' };

  it('is red when Prometheus alone sees the failure, with its reason first', () => {
    expect(healthy.verdict).toBe('green');
    const j = combineJudgement(healthy, limits, [promRed], ['synthetic', 'prometheus'], obs(60, 200, 'canary'));
    expect(j.verdict).toBe('red');
    expect(j.reasons[0]).toContain('error-rate = 0.8');
    expect(j.checks.map((c) => `${c.source}:${c.name}:${c.verdict}`)).toEqual([
      'synthetic:error_rate:green',
      'synthetic:latency_p99_ms:green',
      'prometheus:error-rate:red',
    ]);
  });
  it('cannot pass while a Prometheus check has no data', () => {
    expect(combineJudgement(healthy, limits, [promNoData], ['synthetic', 'prometheus'], []).verdict).toBe(
      'inconclusive',
    );
  });
  it('ignores a source left out, but records it', () => {
    const j = combineJudgement(healthy, limits, [promRed], ['synthetic'], []);
    expect(j.verdict).toBe('green');
    expect(j.checks).toHaveLength(3);
  });
  it('with Prometheus alone, the synthetic red does not count and evidence starts at the first failed canary request', () => {
    const failing = [...obs(5, 200, 'canary'), ...obs(40, 503, 'canary').map((o) => ({ ...o, at: o.at + 100 }))];
    const synthetic = judge(failing, obs(60, 200, 'baseline'), limits, { minSamples: 30, alpha: 0.05 });
    expect(synthetic.verdict).toBe('red');
    const green: CheckRecord = { ...promRed, value: 0.01, verdict: 'green', reason: 'inside' };
    expect(combineJudgement(synthetic, limits, [green], ['prometheus'], failing).verdict).toBe('green');
    const red = combineJudgement(synthetic, limits, [promRed], ['prometheus'], failing);
    expect(red.evidenceSince).toBe(1100);
  });
});

describe('the prometheus: section', () => {
  it('defaults to error rate and p99 checks that match the rollout limits', () => {
    const plan = toPrometheusPlan(undefined, 'x');
    expect(plan.checks.map((c) => [c.name, c.max, c.onNoData])).toEqual([
      ['error-rate', 0.05, 'wait'],
      ['latency-p99', 0.5, 'wait'],
    ]);
    expect(plan.interval).toBe('10s');
  });

  test.each([
    [{ checks: [{ name: 'a', max: 1 }] }, 'prometheus.checks[0]: give exactly one of template'],
    [{ checks: [{ name: 'a', template: 'error_rate', query: 'up', max: 1 }] }, 'give exactly one of template'],
    [{ checks: [{ name: 'a', template: 'error_rate' }] }, 'give min, max or both'],
    [
      { checks: [{ name: 'a', template: 'error_rate', min: 2, max: 1 }] },
      'prometheus.checks[0].min: must not be greater than max (1)',
    ],
    [{ checks: [{ name: 'a', template: 'nope', max: 1 }] }, 'prometheus.checks[0].template'],
    [{ checks: [{ name: 'a', query: 'x{r="{{ regoin }}"}', max: 1 }] }, 'unknown placeholder {{ regoin }}'],
    [
      {
        checks: [
          { name: 'a', query: 'up', max: 1 },
          { name: 'a', query: 'up', max: 2 },
        ],
      },
      'duplicate check name "a"',
    ],
    [{ interval: '10 seconds' }, 'prometheus.interval: must be a PromQL duration'],
    [{ url: 'ftp://x' }, 'prometheus.url'],
    [{ on_no_data: 'pass' }, 'prometheus.on_no_data'],
    [{ retries: -1 }, 'prometheus.retries: must be 0 or more'],
    [{ extra: 1 }, 'prometheus.extra: unknown field'],
  ])('%j is refused: %s', (input, message) => {
    expect(() => toPrometheusPlan(input, 'x')).toThrow(UsageError);
    expect(() => toPrometheusPlan(input, 'x')).toThrow(message);
  });

  it('names the line of a bad check in chaos-gate.yml', () => {
    const text =
      'rollout:\n  strategy: canary\nprometheus:\n  checks:\n    - name: ok\n      template: error_rate\n      max: 0.1\n    - name: bad\n      template: error_rate\n      min: 3\n      max: 1\n';
    let err: unknown;
    try {
      parseConfig(text, 'chaos-gate.yml');
    } catch (e) {
      err = e;
    }
    expect((err as UsageError).issues).toEqual([
      expect.objectContaining({ source: 'chaos-gate.yml', path: 'prometheus.checks[1].min', line: 10 }),
    ]);
  });
});

describe('the client', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function fake(answers: ((res: ServerResponse) => void)[]): Promise<{ url: string; calls: string[] }> {
    const calls: string[] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls.push(new URLSearchParams(body).get('query') ?? '');
        (answers[calls.length - 1] ?? answers[answers.length - 1])!(res);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
  }
  const json = (status: number, body: unknown) => (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('posts the query and reads the value', async () => {
    const f = await fake([
      json(200, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.5'] }] } }),
    ]);
    await expect(instantQuery({ url: f.url, timeoutMs: 1000, retries: 0 }, 'sum(up)')).resolves.toEqual({
      kind: 'value',
      value: 0.5,
      series: 1,
    });
    expect(f.calls).toEqual(['sum(up)']);
  });
  it('retries a 5xx, then answers', async () => {
    const f = await fake([
      json(503, { status: 'error' }),
      json(200, { status: 'success', data: { resultType: 'scalar', result: [1, '2'] } }),
    ]);
    await expect(
      instantQuery({ url: f.url, timeoutMs: 1000, retries: 2, retryDelayMs: 1 }, 'q'),
    ).resolves.toMatchObject({ kind: 'value', value: 2 });
    expect(f.calls).toHaveLength(2);
  });
  it("does not retry Prometheus's own error for a bad query", async () => {
    const f = await fake([json(400, { status: 'error', errorType: 'bad_data', error: 'parse error' })]);
    await expect(instantQuery({ url: f.url, timeoutMs: 1000, retries: 3, retryDelayMs: 1 }, 'q{')).resolves.toEqual({
      kind: 'error',
      errorType: 'bad_data',
      message: 'parse error',
    });
    expect(f.calls).toHaveLength(1);
  });
  it('gives up after its retries when nothing answers in time', async () => {
    const f = await fake([
      () => {
        /* never answers */
      },
    ]);
    const outcome = await instantQuery({ url: f.url, timeoutMs: 100, retries: 1, retryDelayMs: 1 }, 'q');
    expect(outcome).toMatchObject({ kind: 'error', errorType: 'unreachable' });
    expect(f.calls).toHaveLength(2);
  });
});
