import { describe, expect, it } from 'vitest';
import type { WindowMetrics } from '../../src/analysis/metrics.ts';
import type { AbortCause } from '../../src/rollout/machine.ts';
import { decideRollback } from '../../src/rollout/scope.ts';
import { regionEvidence } from '../../src/rollout/evidence.ts';
import type { StageRecord } from '../../src/rollout/result.ts';

// The evidence the controller hands decideRollback after an abort, built from its stage records.
function metrics(count: number, errors: number): WindowMetrics {
  return {
    count,
    errors,
    errorRate: count === 0 ? null : errors / count,
    p50Ms: 10,
    p95Ms: 20,
    p99Ms: 30,
  };
}

function stage(region: string, index: number, verdict: StageRecord['verdict'], canary: WindowMetrics): StageRecord {
  return {
    region,
    stage: index,
    weight: index === 0 ? 1 : 100,
    startedAt: '',
    analyses: 3,
    verdict,
    reasons: [],
    canary,
    baseline: metrics(100, 0),
    tests: {} as StageRecord['tests'],
    checks: [],
  };
}

const stages = [
  stage('us-west', 0, 'green', metrics(60, 0)),
  stage('us-west', 1, 'green', metrics(160, 1)),
  stage('us-east', 0, 'red', metrics(40, 40)),
];

describe('regionEvidence', () => {
  it("takes each touched region's last stage; a verified promoted peer is marked so", () => {
    const e = regionEvidence(['us-west', 'us-east'], 'us-east', stages, new Set(['us-west']));
    expect(e).toEqual([
      {
        region: 'us-west',
        role: 'promoted',
        verdict: 'green',
        candidate: stages[1]!.canary,
        baseline: stages[1]!.baseline,
        verified: true,
      },
      {
        region: 'us-east',
        role: 'failed',
        verdict: 'red',
        candidate: stages[2]!.canary,
        baseline: stages[2]!.baseline,
      },
    ]);
  });

  it('a touched region without a stage record has no evidence: verdict null', () => {
    expect(regionEvidence(['us-west'], 'us-west', [], new Set())).toEqual([
      { region: 'us-west', role: 'failed', verdict: null },
    ]);
  });
});

describe('with decideRollback', () => {
  const decide = (
    scope: 'all' | 'region',
    reason = 'red verdict: error rate 100% above 5%',
    cause: AbortCause = 'verdict',
  ) =>
    decideRollback({
      scope,
      onRegionFailure: 'continue',
      failedRegion: 'us-east',
      reason,
      cause,
      touched: ['us-west', 'us-east'],
      evidence: regionEvidence(['us-west', 'us-east'], 'us-east', stages, new Set(['us-west'])),
      alpha: 0.05,
    });

  it('rollback: region and a failure of us-east alone: only us-east, us-west kept, then continue', () => {
    expect(decide('region')).toMatchObject({
      scope: 'region',
      rollBack: ['us-east'],
      keep: ['us-west'],
      then: 'continue',
      pointsAtRegion: true,
    });
  });

  it('rollback: all rolls back both on the same evidence', () => {
    expect(decide('all')).toMatchObject({
      scope: 'all',
      rollBack: ['us-west', 'us-east'],
      then: 'stop',
      pointsAtRegion: true,
    });
  });

  it('an interruption says nothing about the region: all', () => {
    expect(decide('region', 'interrupted: SIGINT', 'interrupted')).toMatchObject({
      scope: 'all',
      pointsAtRegion: false,
    });
  });
});
