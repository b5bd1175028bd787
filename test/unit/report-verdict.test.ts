import { describe, expect, it } from 'vitest';
import { decideGate } from '../../src/report/verdict.ts';
import { erroredExperiment, memorySpike, networkLatency, serviceKill } from '../fixtures/report/experiments.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';
import { dataLossRun, regionRollbackRun, restoreRun } from '../fixtures/report/runs.ts';

describe('decideGate', () => {
  it('opens when every experiment passed and the rollout completed, explaining each', () => {
    const v = decideGate(
      [serviceKill(), networkLatency()],
      rolloutFixture({ weights: [1, 100], pauseAt: { region: 'us-east', stage: 0 } }),
    );
    expect(v.gate).toBe('OPEN');
    expect(v.overall).toBe('PASS');
    expect(v.reasons).toEqual([
      'experiment "service-kill" PASS: recovery_time_seconds 6.4 s meets the threshold <= 15 s; acknowledged_writes_lost 0 meets the threshold <= 0',
      'experiment "network-latency" PASS: recovery_time_seconds 1.2 s meets the threshold <= 5 s; acknowledged_writes_lost 0 meets the threshold <= 0; p99_latency_ms_during 398 ms meets the threshold <= 1000 ms',
      'rollout of "v2" COMPLETED: 4 of 4 regions promoted (us-west, us-east, eu-west, ap-south); 8 stages passed (8 green)',
    ]);
    expect(v.findings.every((f) => f.effect === 'pass')).toBe(true);
    expect(v.policy).toEqual({ failOnExperiment: true, failOnRollback: true, requiredExperiments: [] });
  });

  it('closes on a failed experiment, naming the measurement, its value and threshold', () => {
    const v = decideGate([networkLatency(), serviceKill({ recoverySeconds: 42.5 })], null);
    expect(v.gate).toBe('CLOSED');
    expect(v.overall).toBe('FAIL');
    // Closing reasons come first, whatever the input order.
    expect(v.reasons[0]).toBe(
      'experiment "service-kill" FAIL: recovery_time_seconds 42.5 s breaks the threshold <= 15 s; 1 other measurement passed',
    );
    expect(v.findings.map((f) => f.effect)).toEqual(['closes', 'pass']);
  });

  it('says when a value could not be measured', () => {
    const v = decideGate([serviceKill({ recoverySeconds: null })], null);
    expect(v.reasons[0]).toBe(
      'experiment "service-kill" FAIL: recovery_time_seconds could not be measured (threshold <= 15 s); 1 other measurement passed',
    );
  });

  it('does not trust a PASS that contradicts a failed measurement', () => {
    const e = serviceKill({ recoverySeconds: 20, status: 'PASS' });
    const v = decideGate([e], null);
    expect(v.gate).toBe('CLOSED');
    expect(v.reasons[0]).toMatch(
      /^experiment "service-kill" FAIL \(reported PASS, but a measurement failed\): recovery_time_seconds 20 s breaks/,
    );
  });

  it('closes on an ERROR experiment, with its error (ANSI codes removed)', () => {
    const v = decideGate([erroredExperiment('network-partition', '\u001b[31mnetwork not found\u001b[0m')], null);
    expect(v.gate).toBe('CLOSED');
    expect(v.reasons).toEqual([
      'experiment "network-partition" ERROR: it could not run to the end (network not found), so it checked nothing',
    ]);
  });

  it('makes failed and errored experiments advisory with fail_on_experiment off', () => {
    const v = decideGate(
      [serviceKill({ recoverySeconds: 42.5 }), erroredExperiment('network-partition', 'boom')],
      null,
      { failOnExperiment: false },
    );
    expect(v.gate).toBe('OPEN');
    expect(v.overall).toBe('FAIL');
    expect(v.findings.map((f) => f.effect)).toEqual(['advisory', 'advisory']);
    expect(v.reasons[0]).toMatch(/\[advisory: fail_on_experiment is off\]$/);
  });

  it('closes when a required experiment did not run, or did not pass even with fail_on_experiment off', () => {
    const missing = decideGate([serviceKill()], null, { requiredExperiments: ['network-partition'] });
    expect(missing.gate).toBe('CLOSED');
    expect(missing.reasons[0]).toBe('required experiment "network-partition" did not run');

    const failed = decideGate([serviceKill({ recoverySeconds: 42.5 }), memorySpike({ recoverySeconds: 99 })], null, {
      failOnExperiment: false,
      requiredExperiments: ['service-kill'],
    });
    expect(failed.gate).toBe('CLOSED');
    expect(failed.findings.map((f) => f.effect)).toEqual(['closes', 'advisory']);
    expect(failed.reasons[0]).toMatch(/^experiment "service-kill" FAIL: .*\[required experiment\]$/);
  });

  it("accepts the config module's GatePolicy as it is (readonly list, extra fields)", () => {
    const policy = Object.freeze({
      failOnExperiment: true,
      failOnRollback: true,
      requiredExperiments: Object.freeze(['service-kill']),
      rolloutAfterFailedExperiments: true,
    });
    expect(decideGate([serviceKill()], null, policy).gate).toBe('OPEN');
  });

  it('closes on a rolled-back rollout, naming region, stage, measured value, limit and timings', () => {
    const v = decideGate(
      [],
      rolloutFixture({ version: 'v3', failureRate: 0.8, failAt: { region: 'us-east', stage: 1 } }),
    );
    expect(v.gate).toBe('CLOSED');
    expect(v.reasons).toEqual([
      'rollout of "v3" ROLLED_BACK in us-east stage 2 (25%): red verdict: error rate 80% (12 of 15) is above the limit 5% (binomial p=9.6e-14 < 0.005); detected in 939 ms, rolled back in 1.6 s, every touched region verified on its previous version',
    ]);
  });

  it('closes on a FAILED rollout (rollback not verified), listing the problems', () => {
    const v = decideGate(
      [],
      rolloutFixture({ version: 'v3', failureRate: 0.8, failAt: { region: 'us-west', stage: 0 }, rollbackFails: true }),
    );
    expect(v.gate).toBe('CLOSED');
    expect(v.reasons[0]).toBe(
      'rollout of "v3" FAILED in us-west stage 1 (1%): red verdict: error rate 80% (12 of 15) is above the limit 5% (binomial p=9.6e-14 < 0.005); the rollback could not be verified (us-west: reports v3, expected v1), so regions may still run it',
    );
  });

  it('makes a rollback advisory with fail_on_rollback off', () => {
    const v = decideGate([serviceKill()], rolloutFixture({ failAt: { region: 'us-west', stage: 0 } }), {
      failOnRollback: false,
    });
    expect(v.gate).toBe('OPEN');
    expect(v.overall).toBe('FAIL');
    expect(v.reasons[0]).toMatch(
      /^rollout of "v2" ROLLED_BACK in us-west stage 1 \(1%\): .*\[advisory: fail_on_rollback is off\]$/,
    );
  });

  it('closes when nothing was checked', () => {
    const v = decideGate([], null);
    expect(v).toMatchObject({
      gate: 'CLOSED',
      overall: 'FAIL',
      reasons: ['nothing was checked: no experiment ran and no rollout was run'],
    });
  });

  it('is pure: the same input gives the same verdict and the input is not changed', () => {
    const experiments = [serviceKill({ recoverySeconds: 42.5 }), networkLatency()];
    const rollout = rolloutFixture({ failAt: { region: 'eu-west', stage: 2 } });
    const before = JSON.stringify({ experiments, rollout });
    expect(decideGate(experiments, rollout)).toEqual(decideGate(experiments, rollout));
    expect(JSON.stringify({ experiments, rollout })).toBe(before);
  });

  it('names the region rolled back and the regions kept on the candidate after a region-only rollback', () => {
    const run = regionRollbackRun();
    const v = decideGate(run.experiments, run.rollout);
    expect(v.gate).toBe('CLOSED');
    expect(v.reasons).toEqual([
      'rollout of "v4" ROLLED_BACK in eu-west stage 2 (25%): red verdict: error rate 80% (12 of 15) is above the limit 5% (binomial p=9.6e-14 < 0.005); detected in 939 ms, rolled back eu-west only in 1.6 s, verified on its previous version; us-west and us-east kept on the candidate (rollback: region)',
    ]);
    expect(v.reasons[0]).not.toContain('every touched region');
  });

  it('takes the regions from the outcomes when the rollback lists none', () => {
    const r = rolloutFixture({ failAt: { region: 'eu-west', stage: 0 }, rollbackScope: 'region' });
    delete r.rollback.regions;
    delete r.rollback.kept;
    expect(decideGate([], r).reasons[0]).toMatch(
      /rolled back eu-west only in 1\.6 s, verified on its previous version; us-west and us-east kept on the candidate \(rollback: region\)$/,
    );
  });

  it('keeps the every-region wording for a result written before granular rollback', () => {
    const r = rolloutFixture({ version: 'v3', failureRate: 0.8, failAt: { region: 'us-east', stage: 1 } });
    for (const k of ['scope', 'regions', 'kept', 'decisions'] as const) delete r.rollback[k];
    for (const x of r.regions) delete x.outcome;
    expect(decideGate([], r).reasons[0]).toMatch(
      /detected in 939 ms, rolled back in 1\.6 s, every touched region verified on its previous version$/,
    );
  });

  it('mentions a database restore and the candidate writes it undid', () => {
    const run = restoreRun();
    const v = decideGate(run.experiments, run.rollout);
    expect(v.reasons).toEqual([
      'rollout of "v5" ROLLED_BACK in us-east stage 2 (25%): red verdict: error rate 80% (12 of 15) is above the limit 5% (binomial p=9.6e-14 < 0.005); detected in 939 ms, rolled back in 1.6 s, every touched region verified on its previous version; us-east\'s database restored from its backup (10 candidate writes undone, 2 lost by the candidate itself)',
    ]);
  });

  it('says nothing of a restore when the databases checked out', () => {
    const run = regionRollbackRun();
    expect(decideGate(run.experiments, run.rollout).reasons[0]).not.toMatch(/database|restored/);
  });

  it('closes on pre-deploy writes missing after the rollback, even with fail_on_rollback off', () => {
    const run = dataLossRun();
    const strict = decideGate(run.experiments, run.rollout);
    expect(strict.findings.map((f) => f.effect)).toEqual(['closes', 'closes']);
    expect(strict.reasons[0]).toBe(
      'rollout of "v6" FAILED in eu-west stage 1 (1%): red verdict: error rate 80% (12 of 15) is above the limit 5% (binomial p=9.6e-14 < 0.005); the rollback could not be verified (eu-west: on v1, but its data: 3 write(s) acknowledged before the deploy do not read back), eu-west is back on the previous version, but the data could not be shown safe; us-west and us-east are still on the candidate (rollback: region); eu-west\'s database restored from its backup (10 candidate writes undone, 2 lost by the candidate itself)',
    );
    expect(strict.reasons[1]).toBe(
      'rollout of "v6": data lost in eu-west after the restore: 3 of 118 pre-deploy rows missing or changed (closes the gate whatever fail_on_rollback says)',
    );

    const lenient = decideGate(run.experiments, run.rollout, { failOnRollback: false });
    expect(lenient.gate).toBe('CLOSED');
    expect(lenient.findings).toEqual([
      { effect: 'closes', text: strict.reasons[1] },
      { effect: 'advisory', text: `${strict.reasons[0]} [advisory: fail_on_rollback is off]` },
    ]);
  });

  it('closes on writes acknowledged before the deploy that do not read back, restore or not', () => {
    const r = rolloutFixture({ failAt: { region: 'us-east', stage: 0 }, mitigation: 'clean' });
    const m = r.mitigation?.[0];
    if (!m) throw new Error('fixture has no mitigation');
    m.acknowledgedReadBack = { checked: 64, missing: 2 };
    const v = decideGate([], r, { failOnRollback: false });
    expect(v.gate).toBe('CLOSED');
    expect(v.reasons[0]).toBe(
      'rollout of "v2": data lost in us-west: 2 of 64 writes acknowledged before the deploy do not read back (closes the gate whatever fail_on_rollback says)',
    );
  });
});
