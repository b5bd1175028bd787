import { describe, expect, test } from 'vitest';
import { controlPlan } from '../../src/gate/controls.ts';
import { controlFindings, judgeControl, type ControlOutcome } from '../../src/rollout/control-verdict.ts';
import { toRolloutPlan } from '../../src/config/rollout.ts';
import { controlsIssues, toGatePolicy } from '../../src/config/gate.ts';

// The controls' verdicts (pure) and the rollout a control runs.

const base: ControlOutcome = {
  name: 'known-bad',
  region: 'us-west',
  version: 'v1',
  finalState: 'ROLLED_BACK',
  rollbackReason: 'red verdict: error rate 100%',
  abortCause: 'verdict',
  rollbackProblems: [],
  durationMs: 7000,
  timeToDetectMs: 1000,
  timeToRollbackMs: 3200,
  sabotage: { method: 'docker-network-disconnect', tookEffect: true, detail: 'region-us-west-canary on no network' },
  fire: { method: 'host-kill-9', tookEffect: true, detail: 'region-us-west crashed (SIGKILL) as the rollback began' },
  writes: { checked: 12, missing: 0, unverified: 0 },
};

describe('judgeControl', () => {
  test.each<[string, Partial<ControlOutcome>, string, RegExp]>([
    [
      'a caught bad release, rolled back under fire',
      {},
      'pass',
      /^caught after 1\.0 s and rolled back, verified, in 3\.2 s while region-us-west crashed .*; 12 acknowledged write\(s\) read back$/,
    ],
    [
      'a bad release promoted',
      { finalState: 'COMPLETED' },
      'fail',
      /^the checks would not have caught a bad release: a canary cut off from its network in us-west was promoted$/,
    ],
    [
      'a rollback that failed under fire',
      { finalState: 'FAILED', rollbackProblems: ['us-west: not healthy within 30 s'] },
      'fail',
      /^the rollback did not hold under fire: us-west: not healthy within 30 s$/,
    ],
    [
      'writes lost by the rollback',
      { writes: { checked: 12, missing: 2, unverified: 1 } },
      'fail',
      /lost acknowledged writes: 2 missing and 1 unreadable of 12$/,
    ],
    [
      'a canary that could not be cut off',
      {
        sabotage: { method: 'docker-network-disconnect', tookEffect: false, detail: 'still on default' },
        finalState: 'COMPLETED',
      },
      'could_not_run',
      /could not be made bad: still on default$/,
    ],
    [
      'a canary never cut off (its deploy failed first)',
      { sabotage: undefined, rollbackReason: 'infrastructure: canary not ready' },
      'could_not_run',
      /could not be made bad: it was never cut off \(its deploy failed first\)$/,
    ],
    [
      'a crash that did not take effect',
      { fire: { method: 'host-kill-9', tookEffect: false, detail: 'never restarted' } },
      'could_not_run',
      /^rollback under fire could not run: never restarted$/,
    ],
  ])('known-bad: %s', (_what, change, verdict, reason) => {
    const r = judgeControl({ ...base, ...change });
    expect(r.verdict).toBe(verdict);
    expect(r.reason).toMatch(reason);
  });

  test.each<[ControlOutcome['finalState'], string]>([
    ['COMPLETED', 'pass'],
    ['ROLLED_BACK', 'fail'],
    ['FAILED', 'fail'],
  ])('known-good %s: %s', (finalState, verdict) => {
    const r = judgeControl({
      ...base,
      name: 'known-good',
      finalState,
      rollbackReason: finalState === 'COMPLETED' ? null : 'red verdict: p99 900 ms',
    });
    expect(r.verdict).toBe(verdict);
    if (verdict === 'fail')
      expect(r.reason).toBe(
        `the checks would have blocked a good release: the baseline as its own canary in us-west was ${finalState.toLowerCase().replace('_', ' ')} (red verdict: p99 900 ms)`,
      );
  });

  test('known-good stopped by the stack or a signal says nothing about the checks', () => {
    const stopped = [
      ['infrastructure: region-us-west-canary did not become ready', 'infrastructure'],
      ['interrupted: SIGINT', 'interrupted'],
    ] as const;
    for (const [reason, abortCause] of stopped) {
      expect(
        judgeControl({ ...base, name: 'known-good', finalState: 'ROLLED_BACK', rollbackReason: reason, abortCause })
          .verdict,
      ).toBe('could_not_run');
    }
    // The cause decides, not the words of the reason.
    expect(
      judgeControl({
        ...base,
        name: 'known-good',
        finalState: 'ROLLED_BACK',
        rollbackReason: 'infrastructure: looks like it',
        abortCause: 'verdict',
      }).verdict,
    ).toBe('fail');
  });

  test('every control that did not pass is a reason to close the gate', () => {
    const results = [
      judgeControl(base),
      judgeControl({ ...base, finalState: 'COMPLETED' }),
      judgeControl({ ...base, fire: { method: 'x', tookEffect: false, detail: 'no' } }),
    ];
    expect(controlFindings(results)).toEqual([
      'control known-bad: the checks would not have caught a bad release: a canary cut off from its network in us-west was promoted',
      'control known-bad could not run: rollback under fire could not run: no',
    ]);
  });
});

describe('controlPlan', () => {
  test('one region, the first canary stage of the plan, everything rolled back on failure', () => {
    const plan = toRolloutPlan(
      {
        regions: ['us-east', 'us-west'],
        strategy: 'rolling',
        rollback: 'region',
        stages: [{ weight: 20 }, { weight: 100 }],
      },
      'c.yml',
    );
    const control = controlPlan(plan, 'us-west');
    expect([control.regions, control.strategy, control.rollback, control.stages]).toEqual([
      ['us-west'],
      'canary',
      'all',
      [plan.stages[0]],
    ]);
    expect(control.analysis).toBe(plan.analysis);
  });
});

describe('gate.controls', () => {
  test('on by default, in the first region, with rollback under fire', () => {
    expect(toGatePolicy(undefined, 'c.yml').controls).toEqual({
      enabled: true,
      region: undefined,
      rollbackUnderFire: true,
    });
    expect(
      toGatePolicy({ controls: { enabled: false, region: 'eu-west', rollback_under_fire: false } }, 'c.yml').controls,
    ).toEqual({ enabled: false, region: 'eu-west', rollbackUnderFire: false });
  });

  test.each([
    [{ controls: { enabled: 'yes' } }, 'gate.controls.enabled'],
    [{ controls: { speed: 1 } }, 'gate.controls'],
  ])('%j is refused at %s', (input, path) => {
    expect(() => toGatePolicy(input, 'c.yml')).toThrow(path);
  });

  test('a region outside the rollout is refused; off, it is not checked', () => {
    expect(controlsIssues({ enabled: true, region: 'mars', rollbackUnderFire: true }, ['us-west'], 'c.yml')).toEqual([
      { source: 'c.yml', path: 'gate.controls.region', rule: '"mars" must be one of rollout.regions (us-west)' },
    ]);
    expect(controlsIssues({ enabled: false, region: 'mars', rollbackUnderFire: true }, ['us-west'], 'c.yml')).toEqual(
      [],
    );
  });
});
