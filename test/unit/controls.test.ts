import { describe, expect, test } from 'vitest';
import { controlPlan } from '../../src/gate/controls.ts';
import {
  controlFindings,
  judgeControl,
  latencyControlDelayMs,
  latencyEffect,
  type ControlOutcome,
} from '../../src/rollout/control-verdict.ts';
import { toRolloutPlan } from '../../src/config/rollout.ts';
import { controlsIssues, toGatePolicy } from '../../src/config/gate.ts';
import { renderHtml } from '../../src/report/html.ts';
import { renderJunit } from '../../src/report/junit.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { passingRun, reportOf } from '../fixtures/report/runs.ts';

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
      /^the known-bad canary could not be made bad: its fault was never injected \(its deploy failed first\)$/,
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

describe('known-bad-latency', () => {
  const slow: ControlOutcome = {
    ...base,
    name: 'known-bad-latency',
    sabotage: { method: 'tc-netem', tookEffect: true, detail: 'region-us-west-canary slowed by 100 ms (tc-netem)' },
  };
  delete slow.fire;
  delete slow.writes;

  test.each<[string, Partial<ControlOutcome>, string, RegExp]>([
    ['caught and rolled back', {}, 'pass', /^caught after 1\.0 s and rolled back, verified, in 3\.2 s$/],
    [
      'promoted',
      { finalState: 'COMPLETED' },
      'fail',
      /^the checks would not have caught a bad release: a canary slowed by the latency fault in us-west was promoted$/,
    ],
    [
      'a delay that did not show in the traffic',
      { sabotage: { method: 'fault-endpoint', tookEffect: false, detail: 'the delay did not show' } },
      'could_not_run',
      /^the known-bad-latency canary could not be made bad: the delay did not show$/,
    ],
    [
      'no method on this host (no netem, no fault endpoint)',
      {
        sabotage: { method: 'tc-netem', tookEffect: false, unavailable: true, detail: 'no way to slow it: no netem' },
        finalState: 'ROLLED_BACK',
        abortCause: 'interrupted',
      },
      'skipped',
      /^known-bad-latency not run: no way to slow it: no netem$/,
    ],
  ])('%s', (_what, change, verdict, reason) => {
    const r = judgeControl({ ...slow, ...change });
    expect(r.verdict).toBe(verdict);
    expect(r.reason).toMatch(reason);
  });

  test('a skipped control does not close the gate; one that could not run does', () => {
    const skipped = judgeControl({
      ...slow,
      sabotage: { method: 'x', tookEffect: false, unavailable: true, detail: 'none' },
    });
    const failed = judgeControl({ ...slow, sabotage: { method: 'x', tookEffect: false, detail: 'refused' } });
    expect(controlFindings([skipped, failed])).toEqual([
      'control known-bad-latency could not run: the known-bad-latency canary could not be made bad: refused',
    ]);
  });

  test.each([
    [500, 100],
    [100, 50],
    [40, 50],
    [5000, 200],
  ])('with a p99 limit of %i ms the control adds %i ms', (limit, delay) => {
    expect(latencyControlDelayMs(limit)).toBe(delay);
  });

  test.each<[string, number | null, number, number | null, number, boolean, RegExp]>([
    [
      'a delay that showed',
      104.2,
      40,
      3.1,
      40,
      true,
      /a median of 104\.2 ms \(n=40\), the baseline in a median of 3\.1 ms/,
    ],
    ['less than half the delay', 45, 40, 3, 40, false, /the delay did not show$/],
    ['too few canary requests', 104, 4, 3, 40, false, /too few requests to see the delay$/],
    ['no timed canary answer', null, 0, 3, 40, false, /no timed answers \(0\)/],
  ])('latencyEffect: %s', (_what, c, cn, b, bn, took, detail) => {
    const e = latencyEffect(100, { count: cn, p50Ms: c }, { count: bn, p50Ms: b });
    expect(e.tookEffect).toBe(took);
    expect(e.detail).toMatch(detail);
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

describe('controls in the reports', () => {
  const results = [
    judgeControl({ ...base, name: 'known-good', finalState: 'COMPLETED', rollbackReason: null, abortCause: null }),
    judgeControl(base),
    judgeControl({
      ...base,
      name: 'known-bad-latency',
      sabotage: { method: 'tc-netem', tookEffect: false, unavailable: true, detail: 'no netem here' },
    }),
  ];
  const report = () => ({ ...reportOf(passingRun()), controls: results });

  test('junit.xml: a skipped control is a <skipped/> case, not a failure or an error', () => {
    const xml = renderJunit(report());
    expect(xml).toContain('<testsuite name="controls" tests="3" failures="0" errors="0" skipped="1"');
    expect(xml).toMatch(
      /control known-bad-latency in us-west[^]*<skipped message="known-bad-latency not run: no netem here"/,
    );
  });

  test('summary.md and report.html name every control and its verdict', () => {
    const summary = renderSummary(report());
    expect(summary).toContain('| known-bad-latency | us-west | ⏭️ skipped |');
    expect(renderHtml(report())).toMatch(/tone-skipped[^]*known-bad-latency not run: no netem here/);
  });
});
