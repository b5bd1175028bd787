import { describe, expect, it, test } from 'vitest';
import { buildResult } from '../../src/chaos/build.ts';
import { measurementText, resultLine, tableRow, value } from '../../src/chaos/format.ts';
import { parseExperimentText } from '../../src/config/experiment-files.ts';
import type { Recording } from '../../src/chaos/recording.ts';
import type { ExperimentResult } from '../../src/chaos/result.ts';
import { suiteExitCode } from '../../src/gate/exit.ts';
import type { Observation } from '../../src/analysis/observation.ts';

const JUDGEMENT = { limits: { maxErrorRate: 0.05, maxP99Ms: 500 }, options: { minSamples: 30, alpha: 0.05 } };
const experiment = parseExperimentText(
  'name: kill-it\ndescription: d\ntarget: us-west\nfault: { kind: kill }\nload: { other_regions_rps: 0 }\nthresholds: { max_recovery_time_seconds: 2 }\n',
  'k.yml',
  ['us-west', 'us-east'],
);
const obs = (at: number, status = 200): Observation => ({
  at,
  region: 'us-west',
  version: 'v1',
  cohort: 'baseline',
  route: '/health',
  status,
  latencyMs: 4,
});
const observations = Array.from({ length: 100 }, (_, i) => obs(i * 100, i >= 50 && i < 65 ? 0 : 200));

function recording(recoveredAtMs: number): Recording {
  return {
    kind: 'kill',
    targets: ['us-west'],
    t0: 0,
    injectStart: 4990,
    injectAt: 5000,
    revertAt: recoveredAtMs,
    recoveryDeadline: 25_000,
    afterFrom: recoveredAtMs,
    end: 10_000,
    observations,
    up: [],
    samples: [],
    containers: [],
    crashed: true,
    readBack: { checked: 30, missing: 0, unverified: 0 },
    notes: ['us-west: restarted by its restart policy (restarts 0 -> 1)'],
    probes: [
      { region: 'us-west', at: 5100, latencyMs: 1, ok: false, status: 0 },
      { region: 'us-west', at: recoveredAtMs - 10, latencyMs: 10, ok: true, status: 200 },
    ],
  };
}

const facts = (rec: Recording | undefined, error?: string) => ({
  experiment,
  targets: ['us-west'],
  method: 'host-kill-9',
  notes: ['a note'],
  reverted: true,
  t0: 0,
  end: 10_000,
  observations,
  ...(rec ? { recording: rec } : {}),
  ...(error ? { error } : {}),
});

describe('results', () => {
  it('PASS when every measurement holds, with windows, series and notes', () => {
    const r = buildResult(facts(recording(6500)), JUDGEMENT);
    expect(r.measurements.filter((m) => !m.pass)).toEqual([]);
    expect(r.status).toBe('PASS');
    expect(r.recoveryTimeSeconds).toBe(1.5);
    expect(r.faultWindow).toEqual({ fromMs: 5000, toMs: 6500 });
    expect(r.windows.map((w) => [w.window, w.count])).toEqual([
      ['before', 50],
      ['during', 15],
      ['after', 35],
    ]);
    expect(r.series).toHaveLength(10);
    expect(r.notes).toEqual(['a note']);
    expect(r.fault).toEqual({ kind: 'kill', method: 'host-kill-9', params: {} });
    expect(resultLine(r)).toBe(
      'kill-it: PASS (kill via host-kill-9 on us-west, 10.0 s): recovery 1.5 s, 0 acknowledged writes lost',
    );
  });

  it('FAIL with the measured value when a threshold is missed', () => {
    const r = buildResult(facts(recording(8000)), JUDGEMENT);
    expect(r.status).toBe('FAIL');
    expect(r.measurements.find((m) => m.name === 'recovery_time_seconds')).toMatchObject({
      value: 3,
      threshold: 2,
      pass: false,
    });
    expect(resultLine(r)).toContain('failed recovery_time_seconds 3 s <= 2 s');
    expect(tableRow(r).at(-1)).toBe('recovery_time_seconds 3 s <= 2 s');
  });

  it('ERROR when the fault was never injected', () => {
    const r = buildResult(facts(undefined, 'cannot crash the container: Operation not permitted'), JUDGEMENT);
    expect(r).toMatchObject({
      status: 'ERROR',
      measurements: [],
      windows: [],
      recoveryTimeSeconds: null,
      error: 'cannot crash the container: Operation not permitted',
    });
    expect(resultLine(r)).toBe(
      'kill-it: ERROR (kill via host-kill-9 on us-west, 10.0 s): cannot crash the container: Operation not permitted',
    );
  });
});

test.each([
  [{ value: 0.0123, unit: 'ratio' }, '1.23%'],
  [{ value: 1.5, unit: 's' }, '1.5 s'],
  [{ value: 351.1, unit: 'ms' }, '351.1 ms'],
  [{ value: -2.8, unit: '%' }, '-2.8%'],
  [{ value: 3, unit: 'writes' }, '3'],
  [{ value: null, unit: 's' }, 'n/a'],
])('value(%j) = %s', (m, text) => {
  expect(value(m)).toBe(text);
});

test('measurementText', () => {
  expect(
    measurementText({
      name: 'error_rate_during',
      value: 0.5,
      threshold: 0.01,
      comparator: '<=',
      unit: 'ratio',
      pass: false,
    }),
  ).toBe('error_rate_during 50% <= 1%');
});

describe('exit status of a suite', () => {
  const r = (status: ExperimentResult['status'], reverted = true) => ({ status, reverted }) as ExperimentResult;
  test.each([
    [[r('PASS'), r('PASS')], undefined, 0],
    [[], undefined, 0],
    [[r('PASS'), r('FAIL')], undefined, 1],
    [[r('ERROR')], undefined, 1],
    [[r('FAIL', false)], undefined, 3],
    [[r('PASS')], 'before x: the stack could not be made healthy again', 3],
  ])('%j, infra %j -> %i', (results, infraFailure, code) => {
    expect(suiteExitCode({ results, ...(infraFailure ? { infraFailure } : {}) })).toBe(code);
  });
});
