import type { Judgement, StageLimits, Verdict } from './judge.ts';
import { isError, type Observation } from './observation.ts';

// The judgement from two sources: the synthetic traffic's own observations (judge.ts) and
// the Prometheus checks. Pure. A stage is red when EITHER source is red, cannot pass while
// either is inconclusive, and is yellow when the synthetic comparison is. With one source
// left out, the other alone decides; the left-out one is still recorded.

export type JudgementSource = 'synthetic' | 'prometheus';

/** One check's result in a stage: what every report shows. */
export interface CheckRecord {
  source: 'synthetic' | 'prometheus';
  name: string;
  /** The resolved query (Prometheus) or the statistic (synthetic). */
  query: string;
  value: number | null;
  min: number | null;
  max: number | null;
  /** Requests (synthetic) or series (Prometheus) the value rests on. */
  samples: number;
  verdict: Verdict | 'ignored';
  reason: string;
}

export interface CombinedJudgement extends Judgement {
  checks: CheckRecord[];
  sources: JudgementSource[];
}

const RANK: Record<Verdict, number> = { green: 0, yellow: 1, inconclusive: 2, red: 3 };

export function syntheticChecks(j: Judgement, limits: StageLimits): CheckRecord[] {
  const verdictOf = (breached: boolean, p: number): Verdict =>
    j.verdict === 'red' && breached ? 'red' : breached && p < 0.05 ? 'yellow' : 'green';
  return [
    {
      source: 'synthetic',
      name: 'error_rate',
      query: 'errors / requests of the canary cohort',
      value: j.canary.errorRate,
      min: null,
      max: limits.maxErrorRate,
      samples: j.canary.count,
      verdict: j.canary.count === 0 ? 'inconclusive' : verdictOf(j.tests.errorLimit.breached, j.tests.errorLimit.p),
      reason: j.reasons.find((r) => r.startsWith('error rate')) ?? '',
    },
    {
      source: 'synthetic',
      name: 'latency_p99_ms',
      query: 'nearest-rank p99 of successful canary requests',
      value: j.canary.p99Ms,
      min: null,
      max: limits.maxP99Ms,
      samples: j.tests.latencyLimit.total,
      verdict:
        j.tests.latencyLimit.total === 0
          ? 'inconclusive'
          : verdictOf(j.tests.latencyLimit.breached, j.tests.latencyLimit.p),
      reason: j.reasons.find((r) => r.startsWith('p99')) ?? '',
    },
  ];
}

/**
 * `canary` is the stage's canary observations: when only Prometheus saw the failure, the
 * evidence starts at the first failed canary request the traffic recorded, the moment the
 * candidate observably started failing.
 */
export function combineJudgement(
  synthetic: Judgement,
  limits: StageLimits,
  prometheus: readonly CheckRecord[],
  sources: readonly JudgementSource[],
  canary: readonly Observation[],
): CombinedJudgement {
  const useSynthetic = sources.includes('synthetic');
  const usePrometheus = sources.includes('prometheus');
  const checks = [...syntheticChecks(synthetic, limits), ...prometheus];
  const counted = prometheus.filter((c) => usePrometheus && c.verdict !== 'ignored');
  const promVerdict = counted.reduce<Verdict>(
    (worst, c) => (RANK[c.verdict as Verdict] > RANK[worst] ? (c.verdict as Verdict) : worst),
    'green',
  );
  const promReasons = counted.filter((c) => c.verdict !== 'green').map((c) => c.reason);

  let verdict: Verdict;
  let reasons: string[];
  if (useSynthetic && usePrometheus) {
    verdict = RANK[promVerdict] > RANK[synthetic.verdict] ? promVerdict : synthetic.verdict;
    reasons =
      promVerdict === 'red' && synthetic.verdict !== 'red'
        ? [...promReasons, ...synthetic.reasons]
        : [...synthetic.reasons, ...promReasons];
  } else if (usePrometheus) {
    verdict = counted.length === 0 ? 'inconclusive' : promVerdict;
    reasons =
      counted.length === 0
        ? ['no Prometheus check is configured, and the synthetic judgement is left out']
        : promReasons.length > 0
          ? promReasons
          : counted.map((c) => c.reason);
  } else {
    verdict = synthetic.verdict;
    reasons = synthetic.reasons;
  }
  let evidenceSince = synthetic.evidenceSince;
  if (verdict === 'red' && (evidenceSince === null || !useSynthetic || synthetic.verdict !== 'red')) {
    evidenceSince = canary.find((o) => isError(o))?.at ?? canary[0]?.at ?? null;
  }
  return { ...synthetic, verdict, reasons, evidenceSince, checks, sources: [...sources] };
}
