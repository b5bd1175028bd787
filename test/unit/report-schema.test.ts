import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { toJsonText } from '../../src/util/json-text.ts';
import { cpuSpike, erroredExperiment, memorySpike, serviceKill } from '../fixtures/report/experiments.ts';
import { ALL_RUNS, differentialRun, hostileDifferentialRun, reportOf } from '../fixtures/report/runs.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';

// Every report the fixtures produce must validate against the published schema, and the
// schema must actually constrain: broken reports are rejected.

const schema = JSON.parse(readFileSync(new URL('../../schemas/report.schema.json', import.meta.url), 'utf8'));
// strict: the schema itself must use no unknown keyword or ambiguous type.
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(schema);

// report.json as a reader gets it: plain JSON, indexed freely in the breakers below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const jsonOf = (report: unknown): Json => JSON.parse(toJsonText(report));
const errorsOf = (value: unknown) =>
  validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

describe('schemas/report.schema.json', () => {
  it.each(Object.entries(ALL_RUNS))('accepts the report of %s', (_name, run) => {
    expect(errorsOf(jsonOf(reportOf(run())))).toEqual([]);
  });

  it('accepts a FAILED rollout and a rolling one', () => {
    const failed = reportOf({
      version: 'v3',
      failureRate: 0.8,
      experiments: [],
      rollout: rolloutFixture({ failAt: { region: 'us-west', stage: 0 }, rollbackFails: true }),
    });
    const rolling = reportOf({
      version: 'v2',
      failureRate: 0,
      experiments: [],
      rollout: rolloutFixture({ strategy: 'rolling' }),
    });
    expect(errorsOf(jsonOf(failed))).toEqual([]);
    expect(errorsOf(jsonOf(rolling))).toEqual([]);
  });

  it("accepts the brief's flat figures of every kind: degradations, a p99 from the window, none at all", () => {
    const experiments = [cpuSpike(), serviceKill(), memorySpike(), erroredExperiment('network-partition', 'boom')];
    const r = jsonOf(reportOf({ version: 'v2', failureRate: 0, experiments, rollout: null }));
    expect(errorsOf(r)).toEqual([]);
    expect(r.scenarios[0]).toMatchObject({ degradation_percent: 12.5, threshold_percent: 20, p99_latency_ms: 420.4 });
  });

  const NOT_A_GATE = /\/deployment_gate must be equal to one of the allowed values/;
  const broken: [string, (r: Json) => void, RegExp][] = [
    ['a missing deployment_gate', (r) => delete r.deployment_gate, /must have required property 'deployment_gate'/],
    ['a deployment_gate outside OPEN/CLOSED', (r) => (r.deployment_gate = 'AJAR'), NOT_A_GATE],
    ['deployment_gate as report_version 1 wrote it', (r) => (r.deployment_gate = r.gate), NOT_A_GATE],
    ['a missing gate', (r) => delete r.gate, /must have required property 'gate'/],
    [
      'a gate status outside OPEN/CLOSED',
      (r) => (r.gate.status = 'AJAR'),
      /\/gate\/status must be equal to one of the allowed values/,
    ],
    ['report_version 1', (r) => (r.report_version = '1'), /\/report_version must be equal to constant/],
    ['an unknown top-level key', (r) => (r.extra = true), /must NOT have additional properties/],
    ['a scenario status that is not PASS/FAIL/ERROR', (r) => (r.scenarios[0].status = 'OK'), /\/scenarios\/0\/status/],
    [
      'a scenario without recovery_time_seconds',
      (r) => delete r.scenarios[0].recovery_time_seconds,
      /must have required property 'recovery_time_seconds'/,
    ],
    [
      'a scenario without p99_latency_ms',
      (r) => delete r.scenarios[0].p99_latency_ms,
      /must have required property 'p99_latency_ms'/,
    ],
    [
      'a threshold_percent as text',
      (r) => (r.scenarios[0].threshold_percent = '20'),
      /\/scenarios\/0\/threshold_percent must be number,null/,
    ],
    [
      'an unknown degradation measurement',
      (r) => (r.scenarios[0].degradation_measurement = 'p99'),
      /\/scenarios\/0\/degradation_measurement must be equal to one of the allowed values/,
    ],
    [
      'a measurement value as text',
      (r) => (r.scenarios[0].measurements[0].value = '6.4'),
      /\/scenarios\/0\/measurements\/0\/value must be number,null/,
    ],
    ['a failure rate above 1', (r) => (r.failure_rate = 80), /\/failure_rate must be <= 1/],
    ['a run_id that is not an ISO time', (r) => (r.run_id = 'yesterday'), /\/run_id must match pattern/],
    [
      'camelCase keys (the model, not report.json)',
      (r) => (r.scenarios[0].recoveryTimeSeconds = 1),
      /must NOT have additional properties/,
    ],
    ['a rollout final state that does not exist', (r) => (r.rollout.final_state = 'DONE'), /\/rollout\/final_state/],
    [
      'a wave without its status',
      (r) => delete r.rollout.regions[0].status,
      /\/rollout\/regions\/0 must have required property 'status'/,
    ],
    ['empty gate reasons', (r) => (r.gate.reasons = []), /\/gate\/reasons must NOT have fewer than 1 items/],
  ];

  it.each(broken)('rejects %s', (_what, breakIt, message) => {
    const r = jsonOf(reportOf(ALL_RUNS.failingRun()));
    expect(errorsOf(r)).toEqual([]);
    breakIt(r);
    expect(errorsOf(r).join('\n')).toMatch(message);
  });
});

describe('the prediction in report.json', () => {
  const broken: [string, (r: Json) => void, RegExp][] = [
    ['a risk score above 100', (r) => (r.prediction.risk.score = 101), /\/prediction\/risk\/score must be <= 100/],
    [
      'an unknown action',
      (r) => (r.prediction.action.action = 'maybe'),
      /\/prediction\/action\/action must be equal to one of the allowed values/,
    ],
    [
      'a stage range without its high end',
      (r) => delete r.prediction.stages[0].error_rate.high,
      /\/prediction\/stages\/0\/error_rate must have required property 'high'/,
    ],
    [
      'an observed value outside below/inside/above/unknown',
      (r) => (r.prediction.stages[0].observed[0].error_rate.position = 'near'),
      /\/prediction\/stages\/0\/observed\/0\/error_rate\/position/,
    ],
    ['a missing history trend', (r) => delete r.prediction.history.trends, /must have required property 'trends'/],
    [
      'a calibration that narrowed a range',
      (r) => (r.prediction.stages[0].observed[0].calibration.p99_factor = 0.5),
      /\/prediction\/stages\/0\/observed\/0\/calibration.*must be >= 1/,
    ],
  ];

  it('carries the calibration by the baseline beside each stage, none at 100%, and reads a report without it', () => {
    const r = jsonOf(reportOf(ALL_RUNS.predictedRun()));
    expect(r.prediction.stages[0].observed[0].calibration).toMatchObject({
      baseline_requests: 160,
      latency_basis: 'median',
      p99_factor: 1,
      error_rate_shift: 0,
    });
    expect(r.prediction.stages[4].observed[0].calibration).toMatchObject({ baseline_requests: 0, latency_basis: null });
    for (const s of r.prediction.stages) for (const o of s.observed) delete o.calibration;
    expect(errorsOf(r)).toEqual([]);
  });

  it('carries the risk, the ranges and each stage observed beside them', () => {
    const r = jsonOf(reportOf(ALL_RUNS.predictedRun()));
    expect(r.prediction.risk.formula).toMatch(/1 - PRODUCT/);
    expect(r.prediction.stages.map((s: Json) => s.weight)).toEqual([1, 5, 25, 50, 100]);
    expect(r.prediction.stages[0].observed.length).toBeGreaterThan(0);
    expect(r.prediction.history.trends.runs).toBe(6);
  });

  it.each(broken)('rejects %s', (_what, breakIt, message) => {
    const r = jsonOf(reportOf(ALL_RUNS.predictedRun()));
    expect(errorsOf(r)).toEqual([]);
    breakIt(r);
    expect(errorsOf(r).join('\n')).toMatch(message);
  });
});

describe('differential runs (chaos on the candidate) in report.json', () => {
  it('carries every run, each verdict, both sides in snake_case, and validates', () => {
    const r = jsonOf(reportOf(differentialRun()));
    expect(errorsOf(r)).toEqual([]);
    expect(r.rollout.differential.map((d: Json) => [d.experiment, d.region, d.stage, d.verdict])).toEqual([
      ['service-kill', 'us-east', 1, 'pass'],
      ['db-outage', 'us-east', 1, 'regression'],
      ['network-latency', 'us-east', 1, 'could_not_run'],
    ]);
    expect(r.rollout.differential[1]).toMatchObject({
      started_at: '2026-11-22T01:05:31.000Z',
      duration_ms: 21_000,
      fault: { kind: 'dependency-stop', method: 'docker-stop', params: { service: 'db', duration_s: 5 } },
      candidate: {
        requests: 240,
        errors: 44,
        p99_ms: 5012,
        recovery_seconds: null,
        writes_acknowledged: 22,
        writes_lost: 1,
        restarts: 0,
      },
      baseline: { recovery_seconds: 0.5, writes_lost: 0, effect: '1 of 236 requests failed' },
    });
    expect(r.rollout.differential[2].candidate.effect).toBeNull();
  });

  it('accepts hostile text in a run, and a rollout without any run', () => {
    expect(errorsOf(jsonOf(reportOf(hostileDifferentialRun())))).toEqual([]);
    expect(jsonOf(reportOf(ALL_RUNS.passingRun())).rollout.differential).toEqual([]);
  });

  it('accepts a report written before differential runs existed (a field added within report 2)', () => {
    const old = jsonOf(reportOf(differentialRun()));
    delete old.rollout.differential;
    expect(errorsOf(old)).toEqual([]);
  });

  // A RegExp from text: '/' needs no escape there.
  const RUN0 = '/rollout/differential/0';
  const broken: [string, (r: Json) => void, RegExp][] = [
    [
      'a verdict outside pass/regression/could_not_run',
      (r) => (r.rollout.differential[0].verdict = 'fail'),
      new RegExp(`${RUN0}/verdict must be equal to one of the allowed values`),
    ],
    [
      'a verdict in capitals, as the HTML shows it',
      (r) => (r.rollout.differential[1].verdict = 'REGRESSION'),
      /\/rollout\/differential\/1\/verdict must be equal to one of the allowed values/,
    ],
    [
      'a run without its headline',
      (r) => delete r.rollout.differential[0].headline,
      new RegExp(`${RUN0} must have required property 'headline'`),
    ],
    [
      'an unknown key in a run',
      (r) => (r.rollout.differential[0].startedAt = r.rollout.differential[0].started_at),
      new RegExp(`${RUN0} must NOT have additional properties`),
    ],
    [
      'a fault without its method',
      (r) => delete r.rollout.differential[0].fault.method,
      new RegExp(`${RUN0}/fault must have required property 'method'`),
    ],
    [
      'a side without writes_lost',
      (r) => delete r.rollout.differential[0].candidate.writes_lost,
      new RegExp(`${RUN0}/candidate must have required property 'writes_lost'`),
    ],
    [
      'an error rate as a percentage',
      (r) => (r.rollout.differential[0].baseline.error_rate = 2.1),
      new RegExp(`${RUN0}/baseline/error_rate must be <= 1`),
    ],
    [
      'restarts as a fraction',
      (r) => (r.rollout.differential[0].baseline.restarts = 0.5),
      new RegExp(`${RUN0}/baseline/restarts must be integer,null`),
    ],
    ['a negative stage', (r) => (r.rollout.differential[0].stage = -1), new RegExp(`${RUN0}/stage must be >= 0`)],
  ];

  it.each(broken)('rejects %s', (_what, breakIt, message) => {
    const r = jsonOf(reportOf(differentialRun()));
    expect(errorsOf(r)).toEqual([]);
    breakIt(r);
    expect(errorsOf(r).join('\n')).toMatch(message);
  });
});
