import { describe, expect, it, test } from 'vitest';
import type { WindowMetrics } from '../../src/analysis/metrics.ts';
import { decideRollback, type RegionEvidence, type RollbackInput } from '../../src/rollout/scope.ts';

const m = (errors: number, count: number, p99Ms = 80): WindowMetrics => ({
  count,
  errors,
  errorRate: errors / count,
  p50Ms: 20,
  p95Ms: 50,
  p99Ms,
});
const promoted = (region: string, errors = 2, count = 400): RegionEvidence => ({
  region,
  role: 'promoted',
  verdict: 'green',
  verified: true,
  candidate: m(errors, count),
  baseline: m(0, 0),
});
const failing: RegionEvidence = {
  region: 'eu-west',
  role: 'failed',
  verdict: 'red',
  candidate: m(30, 60),
  baseline: m(1, 200),
};

const input = (over: Partial<RollbackInput> = {}): RollbackInput => ({
  scope: 'region',
  onRegionFailure: 'continue',
  failedRegion: 'eu-west',
  reason: 'red verdict: error rate 50.0% (30 of 60) is above the limit 5% (binomial p=1.2e-20 < 0.005)',
  cause: 'verdict',
  touched: ['us-west', 'us-east', 'eu-west'],
  evidence: [promoted('us-west'), promoted('us-east'), failing],
  alpha: 0.05,
  ...over,
});

describe('granular rollback', () => {
  it('rollback: region rolls back only the failing region when the others are healthy on the same candidate', () => {
    const d = decideRollback(input());
    expect(d).toMatchObject({
      scope: 'region',
      rollBack: ['eu-west'],
      keep: ['us-west', 'us-east'],
      then: 'continue',
      pointsAtRegion: true,
    });
    expect(d.summary).toBe(
      'roll back eu-west only, keep us-west, us-east on the candidate, then continue with the remaining regions',
    );
    expect(d.evidence).toContain(
      'us-west (promoted): last verdict green, verified; error rate 0.5% (2 of 400), p99 80 ms',
    );
    expect(
      d.evidence.some((e) =>
        /^eu-west's error rate 50% vs 0\.5% in the healthy regions \(z=.*\): significantly worse$/.test(e),
      ),
    ).toBe(true);
    expect(d.evidence.at(-1)).toBe('the evidence points at eu-west alone');
  });

  it('... and stops when on_region_failure is stop', () => {
    expect(decideRollback(input({ onRegionFailure: 'stop' }))).toMatchObject({
      scope: 'region',
      rollBack: ['eu-west'],
      then: 'stop',
    });
  });

  it('rollback: all (the default) rolls back every touched region, recording that the evidence pointed at one', () => {
    const d = decideRollback(input({ scope: 'all' }));
    expect(d).toMatchObject({
      scope: 'all',
      rollBack: ['us-west', 'us-east', 'eu-west'],
      keep: [],
      then: 'stop',
      pointsAtRegion: true,
    });
    expect(d.evidence.at(-1)).toBe('rollback: all rolls back every touched region anyway');
  });

  it('the first region failing has nothing to compare with: all', () => {
    const d = decideRollback(
      input({ failedRegion: 'us-west', touched: ['us-west'], evidence: [{ ...failing, region: 'us-west' }] }),
    );
    expect(d).toMatchObject({ scope: 'all', rollBack: ['us-west'], pointsAtRegion: false });
    expect(d.evidence).toContain('no other region runs the candidate: nothing to compare us-west with');
  });

  it('another region in trouble too: all', () => {
    const d = decideRollback(
      input({ evidence: [promoted('us-west'), { ...promoted('us-east'), verdict: 'yellow' }, failing] }),
    );
    expect(d).toMatchObject({ scope: 'all', pointsAtRegion: false });
    expect(d.evidence).toContain(
      'the candidate is not known to be healthy in us-east either: the evidence does not single out eu-west',
    );
  });

  it('a touched region without evidence is not known to be healthy: all', () => {
    const d = decideRollback(input({ evidence: [promoted('us-west'), failing] }));
    expect(d.scope).toBe('all');
    expect(d.evidence).toContain('us-east: touched, but no evidence of its health on the candidate');
  });

  it('a promoted region that failed its verification is not healthy', () => {
    expect(
      decideRollback(input({ evidence: [promoted('us-west'), { ...promoted('us-east'), verified: false }, failing] }))
        .scope,
    ).toBe('all');
  });

  it('interruptions, infrastructure errors and resilience regressions say nothing about a region: all', () => {
    for (const [reason, cause] of [
      ['interrupted: SIGINT', 'interrupted'],
      ['infrastructure: docker: not running', 'infrastructure'],
      ['resilience regression: under a crash, ...', 'resilience'],
    ] as const) {
      const d = decideRollback(input({ reason, cause }));
      expect(d.scope).toBe('all');
      expect(d.evidence).toContain(`an abort of cause ${cause} says nothing about where the candidate fails`);
    }
  });

  it("not significantly worse than the healthy regions: its failures may be the candidate's anywhere", () => {
    const d = decideRollback(
      input({
        evidence: [promoted('us-west', 1, 60), promoted('us-east', 2, 60), { ...failing, candidate: m(3, 60) }],
      }),
    );
    expect(d.scope).toBe('all');
    expect(d.evidence.some((e) => /not significantly worse/.test(e))).toBe(true);
  });

  it('a p99 abort compares p99s', () => {
    const reason =
      'red verdict: p99 900 ms: 9 of 60 successful requests slower than 500 ms, more than 1% (binomial p=1e-9 < 0.005)';
    const slow = { ...failing, candidate: m(0, 60, 900) };
    expect(decideRollback(input({ reason, evidence: [promoted('us-west'), promoted('us-east'), slow] })).scope).toBe(
      'region',
    );
    const everywhere = [{ ...promoted('us-west'), candidate: m(0, 400, 950) }, promoted('us-east'), slow];
    expect(decideRollback(input({ reason, evidence: everywhere })).scope).toBe('all');
  });

  it("notes when the failing region's stable version fails too (a sick region)", () => {
    const d = decideRollback(
      input({ evidence: [promoted('us-west'), promoted('us-east'), { ...failing, baseline: m(50, 200) }] }),
    );
    expect(d.evidence).toContain(
      'eu-west stable version: error rate 25% (50 of 200), p99 80 ms: failing too, the region itself looks sick',
    );
  });
});

describe('abort causes, as the abort was raised', () => {
  test.each([
    ['verdict', 'region'],
    ['pause-budget', 'region'],
    ['deadline', 'region'],
    ['verification', 'region'],
    ['resilience', 'all'],
    ['infrastructure', 'all'],
    ['interrupted', 'all'],
    ['other', 'all'],
  ] as const)('%s -> %s', (cause, scope) => {
    expect(decideRollback(input({ cause, reason: 'whatever the words say' })).scope).toBe(scope);
  });
});
