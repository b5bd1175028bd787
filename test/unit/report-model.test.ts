import { describe, expect, it } from 'vitest';
import { toJsonText } from '../../src/util/json-text.ts';
import { buildReport, REPORT_VERSION } from '../../src/report/model.ts';
import { decideGate } from '../../src/report/verdict.ts';
import { readRollout } from '../../src/report/waves.ts';
import { predictionFixture } from '../fixtures/report/prediction.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';
import {
  ENVIRONMENT,
  errorRun,
  failingRun,
  nothingRun,
  passingRun,
  regionRollbackRun,
  reportOf,
  zeroExperimentsRun,
} from '../fixtures/report/runs.ts';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('buildReport', () => {
  it('builds a passing run: gate, totals, scenarios with flattened recovery, a completed rollout', () => {
    const r = reportOf(passingRun());
    expect(r.reportVersion).toBe(REPORT_VERSION);
    expect(r).toMatchObject({ runId: '2026-11-22T01:00:00.000Z', version: 'v2', failureRate: 0, overall: 'PASS' });
    expect(r).toMatchObject({ deploymentGate: 'OPEN', gate: { status: 'OPEN' } });
    expect(r.totals).toEqual({ experiments: 3, passed: 3, failed: 0, errors: 0 });
    const kill = r.scenarios[0];
    expect(kill).toMatchObject({
      name: 'service-kill',
      status: 'PASS',
      recoveryTimeSeconds: 6.4,
      thresholdSeconds: 15,
      acknowledgedWritesLost: 0,
      error: null,
    });
    expect(kill?.fault).toEqual({
      kind: 'kill',
      method: 'host-kill-9',
      params: { signal: 'SIGKILL', restartPolicy: 'unless-stopped' },
    });
    expect(kill?.windows.map((w) => w.window)).toEqual(['before', 'during', 'after']);
    expect(kill?.measurements[0]).toEqual({
      name: 'recovery_time_seconds',
      value: 6.4,
      threshold: 15,
      comparator: '<=',
      unit: 's',
      pass: true,
      detail: null,
    });
    expect(r.rollout?.finalState).toBe('COMPLETED');
    expect(r.rollout?.regions.map((w) => [w.region, w.status, w.stagesPassed, w.rolledBack, w.finalVersion])).toEqual([
      ['us-west', 'PASSED', 5, false, 'v2'],
      ['us-east', 'PASSED', 5, false, 'v2'],
      ['eu-west', 'PASSED', 5, false, 'v2'],
      ['ap-south', 'PASSED', 5, false, 'v2'],
    ]);
    expect(r.rollout?.regions[2]?.pausesAtMs).toHaveLength(1);
    expect(r.rollout?.stages.every((s) => s.outcome === 'passed')).toBe(true);
  });

  it('marks only the regions a region-only rollback put back as rolled back', () => {
    const ro = reportOf(regionRollbackRun()).rollout;
    expect(ro?.regions.map((w) => [w.region, w.status, w.outcome, w.rolledBack])).toEqual([
      ['us-west', 'PASSED', 'promoted', false],
      ['us-east', 'PASSED', 'promoted', false],
      ['eu-west', 'FAILED', 'rolled_back', true],
      ['ap-south', 'NOT_REACHED', 'untouched', false],
    ]);
    expect(ro?.rollback).toMatchObject({ scope: 'region', regions: ['eu-west'], kept: ['us-west', 'us-east'] });
  });

  it('fills the rollback scope and outcomes of a result written before granular rollback', () => {
    const r = rolloutFixture({ failAt: { region: 'us-east', stage: 1 } });
    for (const k of ['scope', 'regions', 'kept', 'decisions'] as const) delete r.rollback[k];
    for (const x of r.regions) delete x.outcome;
    const ro = reportOf({ version: 'v2', failureRate: 0, experiments: [], rollout: r }).rollout;
    expect(ro?.regions.map((w) => w.outcome)).toEqual(['rolled_back', 'rolled_back', 'untouched', 'untouched']);
    expect(ro?.rollback).toMatchObject({ scope: 'all', regions: ['us-west', 'us-east'], kept: [], decisions: [] });
    expect(ro?.mitigation).toEqual([]);
    const done = rolloutFixture();
    delete done.rollback.scope;
    for (const x of done.regions) delete x.outcome;
    const completed = reportOf({ version: 'v2', failureRate: 0, experiments: [], rollout: done }).rollout;
    expect(completed?.rollback.scope).toBeNull();
    expect(completed?.regions.every((w) => w.outcome === 'promoted')).toBe(true);
  });

  it('builds a failed run: the failed wave, the aborted stage, the regions rolled back and the untouched ones', () => {
    const r = reportOf(failingRun());
    expect(r).toMatchObject({ overall: 'FAIL', deploymentGate: 'CLOSED', gate: { status: 'CLOSED' } });
    expect(r.totals).toEqual({ experiments: 2, passed: 1, failed: 1, errors: 0 });
    expect(r.scenarios[0]).toMatchObject({ status: 'FAIL', recoveryTimeSeconds: 42.5, thresholdSeconds: 15 });
    const ro = r.rollout;
    expect(ro?.finalState).toBe('ROLLED_BACK');
    expect(ro?.regions.map((w) => [w.region, w.status, w.rolledBack, w.stagesPassed])).toEqual([
      ['us-west', 'PASSED', true, 3],
      ['us-east', 'FAILED', true, 1],
      ['eu-west', 'NOT_REACHED', false, 0],
      ['ap-south', 'NOT_REACHED', false, 0],
    ]);
    expect(ro?.regions[1]?.reason).toMatch(/^red verdict: error rate 80%/);
    const aborted = ro?.stages.filter((s) => s.outcome === 'aborted');
    expect(aborted?.map((s) => [s.region, s.stage, s.verdict])).toEqual([['us-east', 1, 'red']]);
    expect(ro?.rollback).toMatchObject({ triggered: true, failedRegion: 'us-east' });
    expect(ro?.rollback.startedAtMs).not.toBeNull();
    expect((ro?.rollback.endedAtMs ?? 0) - (ro?.rollback.startedAtMs ?? 0)).toBe(ro?.timeToRollbackMs);
    // Stage times are relative to the rollout's start.
    expect(ro?.stages[0]?.startedAtMs).toBe(1300);
    expect(ro?.stages[0]?.endedAtMs).toBe(5400);
  });

  it('builds a run with an ERROR experiment: error kept (cleaned), nothing measured', () => {
    const r = reportOf(errorRun());
    const e = r.scenarios[1];
    expect(e).toMatchObject({
      status: 'ERROR',
      recoveryTimeSeconds: null,
      thresholdSeconds: null,
      measurements: [],
      windows: [],
      series: [],
    });
    expect(e?.error).toBe(
      'docker network disconnect failed: Error response from daemon: network chaos-gate_db not found',
    );
    expect(r.totals.errors).toBe(1);
    expect(r.rollout).toBeNull();
    expect(r.deploymentGate).toBe('CLOSED');
  });

  it('builds runs with zero experiments, with and without a rollout', () => {
    const only = reportOf(zeroExperimentsRun());
    expect(only.scenarios).toEqual([]);
    expect(only.totals).toEqual({ experiments: 0, passed: 0, failed: 0, errors: 0 });
    expect(only.deploymentGate).toBe('OPEN');
    const none = reportOf(nothingRun());
    expect(none).toMatchObject({ commit: null, rollout: null, deploymentGate: 'CLOSED' });
    expect(none.gate).toMatchObject({ status: 'CLOSED' });
    expect(none.gate.reasons).toEqual(['nothing was checked: no experiment ran and no rollout was run']);
  });

  it('adds the injection methods the experiments used to the environment, once each', () => {
    const r = reportOf(errorRun());
    expect(r.environment.injectionMethods).toEqual(['host-kill-9', 'fault-endpoint', 'docker-network-disconnect']);
    expect(r.environment).toMatchObject({
      composeVersion: ENVIRONMENT.composeVersion,
      dockerVersion: ENVIRONMENT.dockerVersion,
      node: ENVIRONMENT.node,
    });
  });

  it('has a null prediction unless one is given, and copies it when given', () => {
    const run = passingRun();
    const base = {
      runId: 'x',
      commit: null,
      version: 'v2',
      failureRate: 0,
      experiments: run.experiments,
      rollout: null,
      gate: decideGate(run.experiments, null),
      environment: ENVIRONMENT,
    };
    expect(buildReport(base).prediction).toBeNull();
    const prediction = predictionFixture();
    const report = buildReport({ ...base, prediction });
    expect(report.prediction).toEqual(prediction);
    expect(report.prediction).not.toBe(prediction);
  });

  it('is pure: frozen inputs, the same report twice, and nothing shared with the input', () => {
    const run = deepFreeze(failingRun());
    const gate = deepFreeze(decideGate(run.experiments, run.rollout));
    const input = deepFreeze({
      runId: '2026-11-22T01:00:00.000Z',
      commit: 'abc',
      version: run.version,
      failureRate: run.failureRate,
      experiments: run.experiments,
      rollout: run.rollout,
      gate,
      environment: deepFreeze({ ...ENVIRONMENT }),
    });
    const a = buildReport(input);
    const b = buildReport(input);
    expect(a).toEqual(b);
    a.scenarios[0]?.measurements.pop();
    a.gate.reasons.push('x');
    expect(b.scenarios[0]?.measurements).toHaveLength(2);
    expect(b.gate.reasons).not.toContain('x');
  });

  it('serialises with snake_case keys (report.json) in a stable order', () => {
    const json = JSON.parse(toJsonText(reportOf(failingRun())));
    expect(Object.keys(json)).toEqual([
      'report_version',
      'run_id',
      'commit',
      'version',
      'failure_rate',
      'overall',
      'deployment_gate',
      'gate',
      'totals',
      'scenarios',
      'rollout',
      'controls',
      'environment',
      'prediction',
    ]);
    expect(json.scenarios[0]).toHaveProperty('recovery_time_seconds', 42.5);
    expect(json.scenarios[0]).toHaveProperty('threshold_seconds', 15);
    expect(json.rollout).toHaveProperty('time_to_detect_ms', 939);
    expect(json.rollout).toHaveProperty('time_to_rollback_ms', 1640);
    expect(json.gate.policy).toEqual({ fail_on_experiment: true, fail_on_rollback: true, required_experiments: [] });
  });
});

describe('readRollout', () => {
  it('reads a rolling rollout aborted by its post-replacement judgement as a failed stage', () => {
    const r = rolloutFixture({ strategy: 'rolling' });
    // A rolling rollout aborts from PROMOTED after judging the replaced region red.
    r.finalState = 'ROLLED_BACK';
    r.stages = [{ ...stage(r, 'us-west'), verdict: 'red' }];
    r.timeline = [
      { at: r.startedAt, atMs: 0, event: 'START', from: 'PENDING', to: 'PROMOTED', region: 'us-west' },
      {
        at: r.startedAt,
        atMs: 6000,
        event: 'ABORT',
        from: 'PROMOTED',
        to: 'ROLLING_BACK',
        region: 'us-west',
        detail: 'red verdict: x',
      },
      {
        at: r.startedAt,
        atMs: 8000,
        event: 'ROLLBACK_VERIFIED',
        from: 'ROLLING_BACK',
        to: 'ROLLED_BACK',
        region: 'us-west',
      },
    ];
    const reading = readRollout(r);
    expect(reading.abortedStage).toEqual({ region: 'us-west', stage: 0 });
    expect(reading.waves[0]).toMatchObject({
      status: 'FAILED',
      promotedAtMs: 0,
      startedAtMs: 0,
      endedAtMs: 6000,
      reason: 'red verdict: x',
    });
    expect(reading.rollbackEndedAtMs).toBe(8000);
  });

  it('does not blame a passed stage when the abort came from a failed verification after promotion', () => {
    const r = rolloutFixture({ weights: [1, 100] });
    const promoted = r.timeline.findIndex((e) => e.to === 'PROMOTED');
    r.timeline = [
      ...r.timeline.slice(0, promoted + 1),
      {
        at: r.startedAt,
        atMs: 12000,
        event: 'ABORT',
        from: 'PROMOTED',
        to: 'ROLLING_BACK',
        region: 'us-west',
        detail: 'us-west not verified on v2: container exited',
      },
    ];
    r.stages = r.stages.filter((s) => s.region === 'us-west');
    const reading = readRollout(r);
    expect(reading.abortedStage).toBeNull();
    expect(reading.waves.map((w) => w.status)).toEqual(['FAILED', 'NOT_REACHED', 'NOT_REACHED', 'NOT_REACHED']);
  });

  it('treats a region entered but never concluded (a truncated timeline) as failed', () => {
    const r = rolloutFixture({ weights: [1, 100] });
    r.timeline = r.timeline.slice(0, 1);
    expect(readRollout(r).waves[0]).toMatchObject({ status: 'FAILED', reason: 'the wave did not finish' });
  });
});

function stage(r: ReturnType<typeof rolloutFixture>, region: string) {
  const s = rolloutFixture().stages[0];
  if (!s) throw new Error('fixture has no stage');
  return { ...s, region, stage: 0, weight: 100, startedAt: r.startedAt, endedAt: r.endedAt };
}
