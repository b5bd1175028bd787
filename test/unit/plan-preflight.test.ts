import { describe, expect, it, test } from 'vitest';
import { defaultRolloutPlan, toRolloutPlan } from '../../src/config/rollout.ts';
import { planPreflight, preflightIssues, redPower, seconds } from '../../src/plan/preflight.ts';

const plan = (rollout: Record<string, unknown>) => toRolloutPlan(rollout, 'p.yml');

/**
 * The error-limit test by brute force, independent of analysis/stats.ts: the smallest n whose
 * floor(effect x n) errors give P(X >= k | n, limit) < alpha / 10, the tail summed from the pmf.
 */
function bruteRedRequests(limit: number, effect: number, alpha: number): number {
  for (let n = 1; n < 20_000; n++) {
    const k = Math.floor(effect * n + 1e-9);
    if (k / n <= limit) continue;
    let pmf = (1 - limit) ** n;
    let lower = 0;
    for (let i = 0; i < k; i++) {
      lower += pmf;
      pmf *= ((n - i) / (i + 1)) * (limit / (1 - limit));
    }
    if (1 - lower < alpha / 10) return n;
  }
  throw new Error('not found');
}

describe('the default plan, by hand', () => {
  const p = planPreflight(defaultRolloutPlan());
  // 40 rps split by weight; a cohort below 2 x 30 / 4 s = 15 rps is topped up to 15 (at 100%
  // the baseline too: a reference beside the candidate).
  test.each([
    [0, 1, 15, 39.6, 2, 60, 158.4],
    [1, 5, 15, 38, 2, 60, 152],
    [2, 25, 15, 30, 2, 60, 120],
    [3, 50, 20, 20, 1.5, 80, 80],
    [4, 100, 40, 15, 0.75, 160, 60],
  ])('stage %i (%i%%): %d / %d request/s', (i, weight, canary, baseline, toCanary, bakeCanary, bakeBaseline) => {
    const s = p.stages[i];
    expect(s?.weight).toBe(weight);
    expect(s?.rates.canary).toBeCloseTo(canary, 9);
    expect(s?.rates.baseline).toBeCloseTo(baseline, 9);
    expect(s?.secondsToNeeds.canary).toBeCloseTo(toCanary, 9);
    expect(s?.bakeGives.canary).toBeCloseTo(bakeCanary, 9);
    expect(s?.bakeGives.baseline).toBeCloseTo(bakeBaseline, 9);
    // Samples come within the bake, and the bake runs from the stage's start: it passes at 4 s.
    expect(s?.passSeconds).toBe(4);
    expect(s?.worstSeconds).toBe(30);
    expect(s?.verdictInTime).toBe(true);
    expect(s?.pauseRoom).toBe(true); // 4 s bake + 10 s pause budget <= 30 s
    expect(s?.needs).toEqual({ canary: 30, baseline: 30 });
    expect(s?.compared).toBe(true);
    expect(s?.red.effect).toBeCloseTo(0.1, 12);
    expect(s?.red.requests).toBe(180);
    expect(s?.red.seconds).toBeCloseTo(180 / canary, 9);
  });

  it('red at twice max_error_rate: 180 canary requests, as a brute-force search finds', () => {
    expect(bruteRedRequests(0.05, 0.1, 0.05)).toBe(180);
  });

  it('worst cases: five 30 s deadlines and a 30 s verification per region, a 30 s parallel rollback', () => {
    expect(p.regions.map((r) => r.region)).toEqual(['us-west', 'us-east', 'eu-west', 'ap-south']);
    expect(p.regions.every((r) => r.promoteSeconds === 5 * 30 + 30 && r.rollbackSeconds === 30)).toBe(true);
    expect(p.promoteAllSeconds).toBe(4 * 180);
    expect(p.worstSeconds).toBe(4 * 180 + 30);
    expect(p.greenSeconds).toBe(4 * 5 * 4);
    expect(preflightIssues(p, defaultRolloutPlan(), 'p.yml')).toEqual([]);
  });
});

describe('redPower', () => {
  test.each([
    [0.05, 0.05],
    [0.01, 0.05],
    [0.1, 0.01],
    [0.2, 0.05],
    [0.3, 0.05],
    [0.02, 0.1],
    [0.005, 0.05],
    [0.45, 0.2],
  ])('max_error_rate %d at alpha %d matches the brute force', (limit, alpha) => {
    expect(redPower(limit, alpha, 10).requests).toBe(bruteRedRequests(limit, 2 * limit, alpha));
  });

  test.each([
    [0, 'any error is red already'],
    [1, 'a limit of 1 is never breached'],
  ])('max_error_rate %d: no figure (%s)', (limit) => {
    expect(redPower(limit, 0.05, 10)).toMatchObject({ requests: null, seconds: null });
  });

  it('caps the effect at 1: every request an error', () => {
    const r = redPower(0.6, 0.05, 10);
    expect(r.effect).toBe(1);
    // 0.6^n < 0.005 first at n = 11.
    expect(r.requests).toBe(11);
    expect(r.seconds).toBeCloseTo(1.1, 9);
  });
});

describe('a plan that cannot reach a verdict', () => {
  test.each([
    // traffic_rps, min_samples, stage deadline, refused
    [1, 30, 30, true], // 30 s to min_samples: the stage is aborted at 30 s
    [1, 29, 30, false],
    [1, 30, 31, false],
    [0.5, 30, 59, true],
    [2, 100, 40, true],
  ])('traffic_rps %d, min_samples %d, deadline %d s: refused %s', (rps, minSamples, deadline, refused) => {
    const p = plan({ traffic_rps: rps, analysis: { min_samples: minSamples, stage_deadline_seconds: deadline } });
    const issues = preflightIssues(planPreflight(p), p, 'p.yml');
    expect(issues.length).toBe(refused ? 1 : 0);
    expect(planPreflight(p).stages.every((s) => s.verdictInTime === !refused)).toBe(true);
  });

  it('names rollout.traffic_rps once, with the numbers', () => {
    const p = plan({ traffic_rps: 1 });
    const pf = planPreflight(p);
    expect(pf.stages.map((s) => s.passSeconds)).toEqual([null, null, null, null, null]);
    expect(pf.greenSeconds).toBeNull();
    expect(preflightIssues(pf, p, 'p.yml')).toEqual([
      {
        source: 'p.yml',
        path: 'rollout.traffic_rps',
        rule:
          'no stage could be judged: a verdict needs 30 canary requests (analysis.min_samples), 30 s at 1 ' +
          'request/s, and a stage is aborted at analysis.stage_deadline_seconds 30: traffic_rps must be more ' +
          'than 1 (or lower min_samples, or a longer stage deadline)',
      },
    ]);
  });

  it('shows weak power without refusing it', () => {
    // 180 requests for red at 15 rps is 12 s, over the 4 s bake: shown, not an issue.
    const p = plan({ bake_seconds: 2, analysis: { stage_deadline_seconds: 5, pause_budget_seconds: 10 } });
    const pf = planPreflight(p);
    expect(pf.stages[0]?.red.requests).toBeGreaterThan(pf.stages[0]?.bakeGives.canary ?? Infinity);
    expect(pf.stages[0]?.pauseRoom).toBe(false); // 2 s bake + 10 s budget > 5 s
    expect(preflightIssues(pf, p, 'p.yml')).toEqual([]);
  });
});

describe('the timings follow the controller', () => {
  it('an inconclusive stage is analysed every interval: it passes at the first analysis after min_samples', () => {
    // 10 rps (the 15 rps floor capped at traffic_rps): 30 requests take 3 s, the 5 s analysis sees them.
    const p = plan({ traffic_rps: 10, analysis: { interval_seconds: 5 } });
    expect(planPreflight(p).stages.map((s) => s.passSeconds)).toEqual([5, 5, 5, 5, 5]);
  });

  it('a rolling plan: one step at the whole traffic, a baseline window, two verifications', () => {
    const p = plan({ strategy: 'rolling' });
    const pf = planPreflight(p);
    expect(pf.stages).toHaveLength(1);
    expect(pf.stages[0]).toMatchObject({
      stage: 4,
      weight: 100,
      rates: { canary: 40, baseline: 40 },
      needs: { canary: 30, baseline: 30 },
      secondsToNeeds: { canary: 0.75, baseline: 0.75 },
      bakeGives: { canary: 160, baseline: 160 },
      passSeconds: 4,
      worstSeconds: 30,
      compared: true,
    });
    // 4 s baseline window + 30 s replacement verified + 30 s bake at worst + 30 s verified again.
    expect(pf.regions[0]?.promoteSeconds).toBe(94);
    expect(pf.worstSeconds).toBe(4 * 94 + 30);
  });

  it('a rolling step whose baseline window is too short is judged on the limits only', () => {
    const pf = planPreflight(plan({ strategy: 'rolling', traffic_rps: 5 }));
    // 30 baseline requests at 5 rps take 6 s, the window is the 4 s bake.
    expect(pf.stages[0]).toMatchObject({ compared: false, verdictInTime: true, passSeconds: 6 });
  });

  it('a rolling plan that cannot reach a verdict names traffic_rps', () => {
    const p = plan({ strategy: 'rolling', traffic_rps: 1 });
    const [issue] = preflightIssues(planPreflight(p), p, 'p.yml');
    expect(issue?.path).toBe('rollout.traffic_rps');
    expect(issue?.rule).toMatch(/^the rolling step could never be judged: .*30 s at 1 request\/s/);
  });

  it('a single 100% stage keeps a baseline beside it to compare with (the floor, 15 request/s)', () => {
    const pf = planPreflight(plan({ stages: [{ weight: 100 }] }));
    expect(pf.stages[0]).toMatchObject({
      rates: { canary: 40, baseline: 15 },
      needs: { canary: 30, baseline: 30 },
      compared: true,
      passSeconds: 4,
    });
    expect(pf.regions[0]?.promoteSeconds).toBe(60);
  });

  it('with on_region_failure: continue every region can fail at its end and be rolled back', () => {
    const pf = planPreflight(plan({ rollback: 'region', on_region_failure: 'continue' }));
    expect(pf.worstSeconds).toBe(4 * (180 + 30));
  });
});

test.each([
  [0.7576, '0.758 s'],
  [30, '30 s'],
  [119.4, '119 s'],
  [180, '3 min'],
  [376, '6 min 16 s'],
])('seconds(%d) is %s', (s, text) => {
  expect(seconds(s)).toBe(text);
});
