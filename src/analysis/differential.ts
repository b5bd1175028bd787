import { ms, num, pct, pValue } from '../util/format.ts';
import { successLatencies, summarize, type WindowMetrics } from './metrics.ts';
import type { Observation } from './observation.ts';
import { mannWhitneyGreater, twoProportionTest } from './stats.ts';

// Differential chaos: the same fault hits the candidate and the baseline of one region at the
// same time, and the candidate is judged against the baseline under it, with the canary
// analysis's statistics, plus recovery and lost writes. Pure: the runner (chaos/differential.ts)
// measures, this decides, and every rule that applies adds a reason.
//
// 1. COULD NOT RUN when the fault showed on neither side (no restart, no failed request, the
//    median not up by EFFECT_LATENCY_MS) or neither side served again by the deadline.
// 2. REGRESSION when the candidate never served again while the baseline did.
// 3. COULD NOT RUN when a side has fewer than min_samples judged requests.
// 4. REGRESSION when the candidate crashed more often than the baseline under the same fault
//    (its container restarted more times: an OOM kill under a memory limit, a crash loop), or
//    is worse beyond its tolerance: recovery slower by more than
//    the tolerated seconds; errors (one-sided two-proportion test, H0 "candidate <= baseline +
//    tolerance") and latency (Mann-Whitney U, H0 "candidate <= (1 + ratio) x baseline + ms"),
//    both at p < alpha; more acknowledged writes lost.
// 5. PASS otherwise.
// Errors and latency are judged apart on the requests sent while the fault was held and on
// those sent once the side served again, each at alpha / 2, never on the outage between:
// two containers killed at once come back a second apart on a busy host, and mixed into one
// window that second alone would be a significant difference in errors (the later side has
// fewer requests after its recovery). How long a side was down is the recovery rule's.

export interface DifferentialTolerance {
  alpha: number;
  minSamples: number;
  maxErrorRateIncrease: number;
  maxLatencyIncreaseRatio: number;
  maxLatencyIncreaseMs: number;
  maxRecoveryIncreaseSeconds: number;
}

/** What one side (candidate or baseline) went through, as the runner measured it. */
export interface SideFacts {
  /** Its requests in the before window. */
  before: readonly Observation[];
  /** Its requests from the fault's start to the end of the after window. */
  during: readonly Observation[];
  /** Of those, the ones sent while the fault was held (none for a crash). */
  held: readonly Observation[];
  /** And the ones sent once it served again. */
  after: readonly Observation[];
  /** From the fault's end (a kill: the kill) until it served again; null: not by the deadline. */
  recoverySeconds: number | null;
  writesAcknowledged: number;
  writesLost: number;
  /** Restarts of its container by the restart policy; null: not known. */
  restarts: number | null;
}

export interface SideSummary {
  /** The judged requests: held and after (SideFacts). */
  requests: number;
  errors: number;
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  recoverySeconds: number | null;
  writesAcknowledged: number;
  writesLost: number;
  restarts: number | null;
  /** How the fault showed on this side; null: it did not. */
  effect: string | null;
}

export type DifferentialVerdict = 'pass' | 'regression' | 'could_not_run';

export interface DifferentialJudgement {
  verdict: DifferentialVerdict;
  /** The line that names the fault and both sides' numbers (the gate's reason when it closes). */
  headline: string;
  reasons: string[];
  candidate: SideSummary;
  baseline: SideSummary;
}

/** A median this much slower during the fault than before is evidence the fault took effect. */
export const EFFECT_LATENCY_MS = 50;

export const DEFAULT_DIFFERENTIAL_TOLERANCE: Omit<DifferentialTolerance, 'alpha' | 'minSamples'> = {
  maxErrorRateIncrease: 0.05,
  maxLatencyIncreaseRatio: 0.5,
  maxLatencyIncreaseMs: 50,
  maxRecoveryIncreaseSeconds: 3,
};

/** How the fault showed on a side, from its whole window since the fault began (`during`). */
function effectOf(side: SideFacts, during: WindowMetrics): string | null {
  if (side.restarts !== null && side.restarts > 0) return `restarted ${side.restarts}x`;
  if (during.errors > 0) return `${during.errors} of ${during.count} requests failed`;
  const before = summarize(side.before).p50Ms;
  if (before !== null && during.p50Ms !== null && during.p50Ms - before >= EFFECT_LATENCY_MS)
    return `median ${ms(before)} -> ${ms(during.p50Ms)}`;
  return null;
}

export function summarizeSide(side: SideFacts): SideSummary {
  const m = summarize([...side.held, ...side.after]);
  return {
    requests: m.count,
    errors: m.errors,
    errorRate: m.errorRate,
    p50Ms: m.p50Ms,
    p99Ms: m.p99Ms,
    recoverySeconds: side.recoverySeconds,
    writesAcknowledged: side.writesAcknowledged,
    writesLost: side.writesLost,
    restarts: side.restarts,
    effect: effectOf(side, summarize(side.during)),
  };
}

const seconds = (s: number | null): string => (s === null ? 'never' : `${s.toFixed(1)} s`);
const sideText = (s: SideSummary): string =>
  `${pct(s.errorRate)} of requests failed (n=${s.requests}), served again after ${seconds(s.recoverySeconds)}`;

/**
 * Why the run says nothing about the candidate; undefined: it can be
 * judged. `evidence`: the fault seen acting where it is injected.
 */
function cannotJudge(c: SideSummary, b: SideSummary, evidence: string | undefined): string | undefined {
  if (c.effect === null && b.effect === null && evidence === undefined)
    return (
      `the fault had no measurable effect on either side (no restart, no failed request, ` +
      `the median not ${EFFECT_LATENCY_MS} ms slower)`
    );
  if (c.recoverySeconds === null && b.recoverySeconds === null)
    return 'neither side served again by the recovery deadline';
  return undefined;
}

/** The candidate restarted more often than the baseline: a crash the baseline did not have. */
function moreCrashes(c: SideSummary, b: SideSummary): string | undefined {
  if (c.restarts === null || b.restarts === null || c.restarts <= b.restarts) return undefined;
  const times = (n: number) => `${n} time${n === 1 ? '' : 's'}`;
  return `the candidate crashed: its container was restarted ${times(c.restarts)}, the baseline's ${times(b.restarts)}`;
}

const tooFew = (c: SideSummary, b: SideSummary, minSamples: number): string | undefined =>
  c.requests < minSamples || b.requests < minSamples
    ? `not enough requests: candidate ${c.requests}, baseline ${b.requests} (needs ${minSamples} each)`
    : undefined;

const WINDOWS = [
  { key: 'held', label: 'while the fault was held' },
  { key: 'after', label: 'once serving again' },
] as const;

/** Errors and latency of one window, candidate against baseline, each test at alpha / 2. */
function compareWindow(
  c: readonly Observation[],
  b: readonly Observation[],
  tol: DifferentialTolerance,
): { bad: boolean; text: string }[] {
  const alpha = tol.alpha / WINDOWS.length;
  const cm = summarize(c);
  const bm = summarize(b);
  const errors = twoProportionTest(cm.errors, cm.count, bm.errors, bm.count, tol.maxErrorRateIncrease);
  const latency = mannWhitneyGreater(
    successLatencies(c),
    successLatencies(b),
    tol.maxLatencyIncreaseRatio,
    tol.maxLatencyIncreaseMs,
  );
  return [
    {
      bad: errors.p < alpha,
      text:
        `the candidate failed ${pct(cm.errorRate)} of requests (n=${cm.count}), ` +
        `the baseline ${pct(bm.errorRate)} (n=${bm.count}): p=${pValue(errors.p)}, ` +
        `tolerated +${pct(tol.maxErrorRateIncrease)}`,
    },
    {
      bad: latency.p < alpha,
      text:
        `median latency ${ms(cm.p50Ms)} against ${ms(bm.p50Ms)} (Mann-Whitney p=${pValue(latency.p)}, ` +
        `tolerated +${pct(tol.maxLatencyIncreaseRatio)} + ${num(tol.maxLatencyIncreaseMs)} ms)`,
    },
  ];
}

/**
 * `evidence`: what the injector saw of the fault acting (a fault proxy's count of the calls it
 * delayed or failed); a service that shrugs such a fault off on both sides is then judged, not
 * "could not run".
 */
export function judgeDifferential(
  fault: string,
  candidate: SideFacts,
  baseline: SideFacts,
  tol: DifferentialTolerance,
  evidence?: string,
): DifferentialJudgement {
  const c = summarizeSide(candidate);
  const b = summarizeSide(baseline);
  const sides = { candidate: c, baseline: b };
  const cannot = (why: string): DifferentialJudgement => ({
    verdict: 'could_not_run',
    headline: `under ${fault}: could not judge the candidate: ${why}`,
    reasons: [why],
    ...sides,
  });
  const why = cannotJudge(c, b, evidence);
  if (why) return cannot(why);
  if (c.recoverySeconds === null) {
    const never =
      `the candidate did not serve again within the recovery deadline, ` +
      `the baseline did after ${seconds(b.recoverySeconds)}`;
    return { verdict: 'regression', headline: `under ${fault}, ${never}`, reasons: [never], ...sides };
  }
  const few = tooFew(c, b, tol.minSamples);
  if (few) return cannot(few);

  const worse: string[] = [];
  const fine: string[] = [];
  const crashes = moreCrashes(c, b);
  if (crashes) worse.push(crashes);
  const slower = b.recoverySeconds !== null && c.recoverySeconds - b.recoverySeconds > tol.maxRecoveryIncreaseSeconds;
  const recoveryText =
    `the candidate served again after ${seconds(c.recoverySeconds)}, ` +
    `the baseline after ${seconds(b.recoverySeconds)} (tolerated +${num(tol.maxRecoveryIncreaseSeconds)} s)`;
  (slower ? worse : fine).push(recoveryText);

  for (const window of WINDOWS) {
    const [cw, bw] = [candidate[window.key], baseline[window.key]];
    if (cw.length < tol.minSamples || bw.length < tol.minSamples) continue;
    for (const { bad, text } of compareWindow(cw, bw, tol)) (bad ? worse : fine).push(`${window.label}: ${text}`);
  }

  const writesText =
    `acknowledged writes lost: candidate ${c.writesLost} of ${c.writesAcknowledged}, ` +
    `baseline ${b.writesLost} of ${b.writesAcknowledged}`;
  (c.writesLost > b.writesLost ? worse : fine).push(writesText);
  if (c.effect === null && b.effect === null && evidence !== undefined)
    fine.push(`neither side showed the fault in its traffic, where it acted: ${evidence}`);

  if (worse.length > 0)
    return {
      verdict: 'regression',
      headline: `under ${fault}, ${worse[0] ?? ''}`,
      reasons: [...worse, ...fine],
      ...sides,
    };
  return {
    verdict: 'pass',
    headline: `under ${fault} the candidate did as well as the baseline: ${sideText(c)}; baseline ${sideText(b)}`,
    reasons: fine,
    ...sides,
  };
}

/** One differential run as the report shows it. */
export interface DifferentialResult {
  experiment: string;
  region: string;
  /** 0-based index of the canary stage it ran in. */
  stage: number;
  fault: { kind: string; params: Record<string, unknown>; method: string; description: string };
  startedAt: string;
  durationMs: number;
  verdict: DifferentialVerdict;
  headline: string;
  reasons: string[];
  candidate: SideSummary;
  baseline: SideSummary;
  notes: string[];
}
