import { ms, pct, pValue } from '../util/format.ts';
import type { Verdict } from '../analysis/judge.ts';
import type { WindowMetrics } from '../analysis/metrics.ts';
import { twoProportionTest } from '../analysis/stats.ts';
import type { AbortCause } from './machine.ts';
import type { RegionFailurePolicy, RollbackScope } from '../plan/rollout.ts';

// Granular rollback: which regions to put back after an abort. Pure.
//
// `rollback: all` (the default) rolls back every touched region and stops, as before.
// `rollback: region` rolls back only the failing region when the evidence points at that
// region, and then stops or continues (`on_region_failure`). The evidence points at one
// region when ALL of these hold:
//   1. the abort is about the candidate in that region (a red verdict, a spent pause budget,
//      a stage deadline, a failed verification), not an interruption or an infrastructure
//      error, which say nothing about where the candidate fails;
//   2. at least one other region runs the same candidate and is healthy there: its last
//      judgement green and (when promoted) verified;
//   3. no other touched region shows trouble on the candidate (red, yellow, inconclusive,
//      not verified, or no evidence at all: what is not known to be healthy is not healthy);
//   4. when both sides have metrics, the failing region is measurably worse: its candidate
//      error rate significantly above the healthy regions' pooled one (one-sided
//      two-proportion test, p < alpha), or, when the abort was on the p99 limit, its p99
//      above every healthy region's: "its own failures while the others are healthy", not
//      noise.
// Otherwise the decision is `all`, whatever the policy, and the evidence says why. The
// failing region's own stable version is looked at too: when it fails as well, the region
// itself is sick, which is noted (it supports 1-4, it does not replace them).

const REGION_CAUSES: readonly AbortCause[] = ['verdict', 'pause-budget', 'deadline', 'verification'];

export interface RegionEvidence {
  region: string;
  /** failed: the region the abort is about; promoted: runs the candidate alone; canary: runs it beside stable. */
  role: 'failed' | 'promoted' | 'canary';
  /** The candidate's last judgement in the region (its last stage, or a fresh check); null: none. */
  verdict: Verdict | null;
  /** The candidate's traffic in the region over that judgement. */
  candidate?: WindowMetrics;
  /** The stable version's traffic in the same region and window. */
  baseline?: WindowMetrics;
  /** Promoted regions: whether the candidate was verified healthy after the promotion. */
  verified?: boolean;
}

export interface RollbackInput {
  scope: RollbackScope;
  onRegionFailure: RegionFailurePolicy;
  failedRegion: string;
  /** The abort reason, as the state machine holds it. */
  reason: string;
  /** Why the rollout aborted, as the abort was raised (machine.ts). */
  cause: AbortCause;
  /** Regions the rollout touched (RolloutState.touched). */
  touched: readonly string[];
  evidence: readonly RegionEvidence[];
  /** Significance for test 4 (the plan's analysis.alpha). */
  alpha: number;
}

export interface RollbackDecision {
  scope: RollbackScope;
  /** Regions to put back on their previous version. */
  rollBack: string[];
  /** Touched regions that stay on the candidate. */
  keep: string[];
  /** After the rollback: stop the rollout, or go on with the regions not yet touched. */
  then: RegionFailurePolicy;
  /** Whether the evidence singles out the failing region (whatever the policy made of it). */
  pointsAtRegion: boolean;
  /** Every finding, in words, in the order checked. */
  evidence: string[];
  summary: string;
}

function healthy(e: RegionEvidence): boolean {
  return e.verdict === 'green' && e.verified !== false;
}

function describePeer(region: string, e: RegionEvidence): string {
  const verified = e.verified === undefined ? '' : e.verified ? ', verified' : ', NOT verified';
  return `${region} (${e.role}): last verdict ${e.verdict ?? 'none'}${verified}; ${describeMetrics(e.candidate)}`;
}

function describeMetrics(m: WindowMetrics | undefined): string {
  return m ? `error rate ${pct(m.errorRate)} (${m.errors} of ${m.count}), p99 ${ms(m.p99Ms)}` : 'no metrics';
}

export function decideRollback(input: RollbackInput): RollbackDecision {
  const { failedRegion, touched } = input;
  const evidence: string[] = [];
  const { cause } = input;
  const failing = input.evidence.find((e) => e.region === failedRegion);
  const peers = touched.filter((r) => r !== failedRegion);
  const peerEvidence = peers.map((r) => ({ region: r, e: input.evidence.find((x) => x.region === r) }));
  evidence.push(`${failedRegion} aborted (${cause}): ${input.reason}`);
  if (failing?.candidate) evidence.push(`${failedRegion} candidate: ${describeMetrics(failing.candidate)}`);

  let points = true;
  const refuse = (why: string) => {
    points = false;
    evidence.push(why);
  };

  if (!REGION_CAUSES.includes(cause)) refuse(`an abort of cause ${cause} says nothing about where the candidate fails`);
  const healthyPeers = peerEvidence.filter((p) => p.e && healthy(p.e));
  const troubled = peerEvidence.filter((p) => !p.e || !healthy(p.e));
  for (const p of peerEvidence) {
    if (!p.e) evidence.push(`${p.region}: touched, but no evidence of its health on the candidate`);
    else evidence.push(describePeer(p.region, p.e));
  }
  if (peers.length === 0) refuse(`no other region runs the candidate: nothing to compare ${failedRegion} with`);
  else if (healthyPeers.length === 0) refuse('no other region is known to be healthy on the candidate');
  if (troubled.length > 0 && peers.length > 0)
    refuse(
      `the candidate is not known to be healthy in ${troubled.map((p) => p.region).join(', ')} either: ` +
        `the evidence does not single out ${failedRegion}`,
    );

  const peerMetrics = healthyPeers
    .map((p) => p.e?.candidate)
    .filter((m): m is WindowMetrics => m !== undefined && m.count > 0);
  const latencyAbort = /^red verdict: p99 /.test(input.reason);
  if (points && failing?.candidate && failing.candidate.count > 0 && peerMetrics.length > 0) {
    if (latencyAbort) {
      // The abort was on the p99 limit: compare p99s (the error rates may well be equal).
      const own = failing.candidate.p99Ms;
      const others = peerMetrics.map((m) => m.p99Ms).filter((x): x is number => x !== null);
      const worst = others.length > 0 ? Math.max(...others) : null;
      const words = `${failedRegion}'s p99 ${ms(own)} vs at most ${ms(worst)} in the healthy regions`;
      if (own !== null && worst !== null && own > worst) evidence.push(`${words}: slower than every one of them`);
      else refuse(`${words}: not slower than all of them, so the slowness may be the candidate's anywhere`);
    } else {
      const n = peerMetrics.reduce((s, m) => s + m.count, 0);
      const k = peerMetrics.reduce((s, m) => s + m.errors, 0);
      const test = twoProportionTest(failing.candidate.errors, failing.candidate.count, k, n);
      const words =
        `${failedRegion}'s error rate ${pct(failing.candidate.errorRate)} vs ${pct(k / n)} in the healthy regions ` +
        `(z=${test.z.toFixed(2)}, p=${pValue(test.p)})`;
      if (test.p < input.alpha) evidence.push(`${words}: significantly worse`);
      else refuse(`${words}: not significantly worse, so its failures may be the candidate's anywhere`);
    }
  }
  if (failing?.baseline && failing.baseline.count > 0) {
    const b = failing.baseline;
    const sick =
      failing.candidate &&
      b.errorRate !== null &&
      failing.candidate.errorRate !== null &&
      b.errorRate >= failing.candidate.errorRate / 2 &&
      b.errors > 0;
    const note = sick ? ': failing too, the region itself looks sick' : '';
    evidence.push(`${failedRegion} stable version: ${describeMetrics(b)}${note}`);
  }

  if (points) evidence.push(`the evidence points at ${failedRegion} alone`);
  const region = points && input.scope === 'region';
  if (!region && points) evidence.push(`rollback: all rolls back every touched region anyway`);
  const rollBack = region ? [failedRegion] : [...touched];
  const keep = region ? peers : [];
  const then: RegionFailurePolicy = region ? input.onRegionFailure : 'stop';
  const summary = region
    ? `roll back ${failedRegion} only, keep ${keep.join(', ')} on the candidate, ` +
      `then ${then === 'continue' ? 'continue with the remaining regions' : 'stop'}`
    : `roll back every touched region (${touched.join(', ')}) and stop`;
  return { scope: region ? 'region' : 'all', rollBack, keep, then, pointsAtRegion: points, evidence, summary };
}
