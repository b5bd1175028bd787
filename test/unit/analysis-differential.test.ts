import { describe, expect, it, test } from 'vitest';
import { judgeDifferential, type DifferentialTolerance, type SideFacts } from '../../src/analysis/differential.ts';
import { servingAgain, servingAgainAfterCrash } from '../../src/analysis/recovery.ts';
import { makeWindow, type WindowSpec } from './observations.ts';

const TOL: DifferentialTolerance = {
  alpha: 0.05,
  minSamples: 30,
  maxErrorRateIncrease: 0.05,
  maxLatencyIncreaseRatio: 0.5,
  maxLatencyIncreaseMs: 50,
  maxRecoveryIncreaseSeconds: 3,
};

function side(cohort: 'canary' | 'baseline', during: WindowSpec, facts: Partial<SideFacts> = {}): SideFacts {
  const window = makeWindow(cohort, { start: 10_000, ...during });
  return {
    before: makeWindow(cohort, { n: 40 }),
    during: window,
    held: window,
    after: [],
    recoverySeconds: 0.5,
    writesAcknowledged: 20,
    writesLost: 0,
    restarts: 1,
    ...facts,
  };
}

describe('judgeDifferential', () => {
  it("passes a candidate that fails under the fault as the baseline does, and says both sides' numbers", () => {
    const j = judgeDifferential(
      'a crash',
      side('canary', { n: 80, errors: 6 }),
      side('baseline', { n: 80, errors: 5 }),
      TOL,
    );
    expect(j.verdict).toBe('pass');
    expect(j.headline).toContain(
      'under a crash the candidate did as well as the baseline: 7.5% of requests failed (n=80)',
    );
    expect(j.candidate.effect).toBe('restarted 1x');
  });

  it('finds a candidate that fails far more requests under the same fault, with the test behind it', () => {
    const j = judgeDifferential(
      'the database unavailable for 5 s',
      side('canary', { n: 240, errors: 44 }),
      side('baseline', { n: 236, errors: 1 }),
      TOL,
    );
    expect(j.verdict).toBe('regression');
    expect(j.headline).toMatch(
      /^under the database unavailable for 5 s, while the fault was held: the candidate failed 18\.3% of requests \(n=240\), the baseline 0\.4% \(n=236\): p=\S+, tolerated \+5%$/,
    );
  });

  test.each([
    [
      'slower recovery beyond the tolerance',
      { recoverySeconds: 10.4 },
      'the candidate served again after 10.4 s, the baseline after 0.5 s',
    ],
    [
      'no recovery at all while the baseline recovered',
      { recoverySeconds: null, held: [] },
      'the candidate did not serve again within the recovery deadline, the baseline did after 0.5 s',
    ],
    ['an acknowledged write lost', { writesLost: 1 }, 'acknowledged writes lost: candidate 1 of 20, baseline 0 of 20'],
  ])('a regression: %s', (_what, facts, reason) => {
    const j = judgeDifferential(
      'a crash',
      side('canary', { n: 80, errors: 5 }, facts),
      side('baseline', { n: 80, errors: 5 }),
      TOL,
    );
    expect(j.verdict).toBe('regression');
    expect(j.headline).toContain(reason);
  });

  it('judges errors apart while the fault was held and once serving again, never on the outage between', () => {
    const held = makeWindow('canary', { start: 10_000, n: 40, errors: 40 });
    const after = makeWindow('canary', { start: 20_000, n: 40 });
    const outage = makeWindow('canary', { start: 15_000, n: 40, errors: 40 });
    const c = side('canary', { n: 0 }, { during: [...held, ...outage, ...after], held, after, recoverySeconds: 2.4 });
    const b = side(
      'baseline',
      { n: 0 },
      {
        during: [...held, ...after],
        held: makeWindow('baseline', { start: 10_000, n: 40, errors: 38 }),
        after: makeWindow('baseline', { start: 20_000, n: 60 }),
      },
    );
    const j = judgeDifferential('worker frozen', c, b, TOL);
    expect(j.verdict, j.reasons.join('\n')).toBe('pass');
    expect([j.candidate.requests, j.candidate.errors]).toEqual([80, 40]);
    expect(j.reasons).toContainEqual(
      expect.stringMatching(
        /^while the fault was held: the candidate failed 100% of requests \(n=40\), the baseline 95% \(n=40\): p=0\.\d+, tolerated \+5%$/,
      ),
    );
  });

  it('finds a candidate that keeps failing once it served again, while the baseline does not', () => {
    const held = makeWindow('canary', { start: 10_000, n: 40, errors: 40 });
    const c = side(
      'canary',
      { n: 0 },
      { during: held, held, after: makeWindow('canary', { start: 20_000, n: 60, errors: 12 }) },
    );
    const b = side(
      'baseline',
      { n: 0 },
      {
        during: held,
        held: makeWindow('baseline', { start: 10_000, n: 40, errors: 40 }),
        after: makeWindow('baseline', { start: 20_000, n: 60 }),
      },
    );
    const j = judgeDifferential('worker frozen', c, b, TOL);
    expect(j.verdict).toBe('regression');
    expect(j.headline).toMatch(
      /^under worker frozen, once serving again: the candidate failed 20% of requests \(n=60\), the baseline 0% \(n=60\): p=/,
    );
  });

  it('tolerates a recovery slower by less than the tolerance', () => {
    const j = judgeDifferential(
      'a crash',
      side('canary', { n: 80, errors: 5 }, { recoverySeconds: 3.4 }),
      side('baseline', { n: 80, errors: 5 }),
      TOL,
    );
    expect(j.verdict).toBe('pass');
  });

  it('finds a candidate that crashed under the fault while the baseline did not, however fast it came back', () => {
    const j = judgeDifferential(
      'a memory limit of its own memory + 48 MiB for 15 s',
      side('canary', { n: 400, errors: 10 }, { restarts: 1 }),
      side('baseline', { n: 400 }, { restarts: 0 }),
      TOL,
    );
    expect(j.verdict).toBe('regression');
    expect(j.headline).toBe(
      'under a memory limit of its own memory + 48 MiB for 15 s, ' +
        "the candidate crashed: its container was restarted 1 time, the baseline's 0 times",
    );
    // Both sides crashed once by design (a kill): no crash of the candidate's own.
    const kill = judgeDifferential('a crash', side('canary', { n: 80 }), side('baseline', { n: 80 }), TOL);
    expect(kill.verdict).toBe('pass');
    const loop = judgeDifferential(
      'a crash',
      side('canary', { n: 80 }, { restarts: 3 }),
      side('baseline', { n: 80 }),
      TOL,
    );
    expect(loop.reasons[0]).toBe("the candidate crashed: its container was restarted 3 times, the baseline's 1 time");
  });

  it('finds a candidate much slower under the fault (Mann-Whitney against the tolerated ratio)', () => {
    const j = judgeDifferential(
      'latency 300 ms for 5 s',
      side('canary', { n: 80, latency: () => 900 }, { restarts: 0 }),
      side('baseline', { n: 80, latency: () => 320 }, { restarts: 0 }),
      TOL,
    );
    expect(j.verdict).toBe('regression');
    expect(j.headline).toContain('median latency 900 ms against 320 ms');
  });

  test.each([
    [
      'no effect on either side',
      { n: 80 },
      { n: 80 },
      { restarts: 0 },
      'the fault had no measurable effect on either side',
    ],
    [
      'too few requests',
      { n: 10, errors: 1 },
      { n: 80, errors: 1 },
      {},
      'not enough requests: candidate 10, baseline 80 (needs 30 each)',
    ],
    [
      'neither side served again',
      { n: 80, errors: 80 },
      { n: 80, errors: 80 },
      { recoverySeconds: null },
      'neither side served again by the recovery deadline',
    ],
  ])('could not run: %s, never a verdict on the candidate', (_what, c, b, facts, reason) => {
    const j = judgeDifferential('a crash', side('canary', c, facts), side('baseline', b, facts), TOL);
    expect(j.verdict).toBe('could_not_run');
    expect(j.reasons).toEqual([expect.stringContaining(reason)]);
  });

  it('counts a median slowed by the fault as its effect', () => {
    const j = judgeDifferential(
      'latency 300 ms for 5 s',
      side('canary', { n: 80, latency: () => 330 }, { restarts: 0 }),
      side('baseline', { n: 80, latency: () => 320 }, { restarts: 0 }),
      TOL,
    );
    expect(j.verdict).toBe('pass');
    expect(j.baseline.effect).toBe('median 20 ms -> 320 ms');
  });
});

describe('recovery read from traffic', () => {
  const win = (errorAt: (i: number) => boolean) => makeWindow('canary', { n: 50, errorAt, latency: () => 10 });

  it('serving again is the first of five successes in a row', () => {
    expect(
      servingAgain(
        win((i) => i < 10 || i === 12),
        0,
        10_000,
      ),
    ).toBe(1310);
  });

  it('after a crash the outage starts at the first failure, not at a success that slipped in', () => {
    const w = win((i) => i >= 6 && i < 20);
    expect(servingAgain(w, 0, 10_000)).toBe(10);
    expect(servingAgainAfterCrash(w, 0, 10_000)).toBe(2010);
  });

  it('is null when the deadline comes first, and the kill itself when nothing ever failed', () => {
    expect(
      servingAgainAfterCrash(
        win((i) => i >= 2),
        0,
        10_000,
      ),
    ).toBeNull();
    expect(
      servingAgainAfterCrash(
        win(() => false),
        500,
        10_000,
      ),
    ).toBe(500);
  });
});

describe("judgeDifferential with the injector's own evidence", () => {
  // Both sides shrug the fault off (no error, the median unmoved): without evidence from where
  // it was injected that is "could not run"; with it, both sides are judged.
  const calm = (): SideFacts => {
    const obs = Array.from({ length: 60 }, (_, i) => ({
      region: 'us-west',
      cohort: 'canary' as const,
      version: 'v',
      at: i * 100,
      status: 200,
      latencyMs: 5,
      ok: true,
    }));
    return {
      before: obs,
      during: obs,
      held: obs,
      after: obs,
      recoverySeconds: 0.1,
      writesAcknowledged: 0,
      writesLost: 0,
      restarts: 0,
    } as unknown as SideFacts;
  };
  const tol = {
    alpha: 0.05,
    minSamples: 30,
    maxErrorRateIncrease: 0.05,
    maxLatencyIncreaseRatio: 0.5,
    maxLatencyIncreaseMs: 50,
    maxRecoveryIncreaseSeconds: 3,
  };

  it('could not run without it, passes with it and says why', () => {
    expect(judgeDifferential('calls to worker slower', calm(), calm(), tol).verdict).toBe('could_not_run');
    const j = judgeDifferential(
      'calls to worker slower',
      calm(),
      calm(),
      tol,
      'the fault proxy acted on 57 call(s) to worker',
    );
    expect(j.verdict).toBe('pass');
    expect(j.reasons).toContain(
      'neither side showed the fault in its traffic, where it acted: the fault proxy acted on 57 call(s) to worker',
    );
  });
});
