import { ms, pct } from '../util/format.ts';
import { normalCdf } from '../analysis/normal.ts';
import type { ExperimentResult } from '../chaos/result.ts';
import type { FailureHistory } from './priors.ts';
import type { AnalysisConfig } from '../plan/rollout.ts';
import { betaMean, betaQuantile, betaVariance } from './beta.ts';
import { correlatedRegions, DEPENDENCY_FAULTS, dependencyGraph, type DependencyGraph } from './dependencies.ts';
import { trueP99Interval } from './latency.ts';
import { errorPooling, type ErrorPrior, type ProfileFit, type StagePrediction } from './model.ts';
import { fixed, prob, sig } from '../util/round.ts';

// The risk score, 0 to 100: the chance that the rollout fails, from six components, each a
// number c in [0, 1] with a weight w in (0, 1] (how much that component alone can make a
// failure certain): score = 100 x (1 - PRODUCT over components of (1 - w x c)), a "noisy OR".
// A component's `points` are its share of the log, ln(1 - w_i c_i) / SUM_j ln(1 - w_j c_j),
// so the points add up to the score. What each c measures, the weights and why:
// docs/prediction.md, "The risk score". The soft components (uncertainty, history,
// experiments) cannot reach the default max_risk on their own; only evidence about THIS
// candidate (limits, degradation) can.

export type ComponentName = 'error_limit' | 'latency_limit' | 'degradation' | 'uncertainty' | 'history' | 'experiments';

export const RISK_WEIGHTS: Readonly<Record<ComponentName, number>> = Object.freeze({
  error_limit: 1,
  latency_limit: 1,
  degradation: 0.5,
  uncertainty: 0.2,
  history: 0.15,
  experiments: 0.15,
});

export const RISK_FORMULA =
  'score = 100 x (1 - PRODUCT(1 - w x c)); ' +
  'w: error_limit 1, latency_limit 1, degradation 0.5, uncertainty 0.2, history 0.15, experiments 0.15';

/** At or below this score (and max_risk) the risk is "low". */
export const LOW_RISK = 20;

export type Metric = 'error_rate' | 'latency_p99_ms' | 'latency_median_ms';

export interface RiskComponent {
  name: ComponentName;
  weight: number;
  /** c in [0, 1]: a probability or a share. */
  value: number;
  /** This component's share of the score. */
  points: number;
  explanation: string;
}

export interface FailurePoint {
  component: ComponentName;
  /** Where it would fail: the region, when there is one to name. */
  region: string | null;
  metric: Metric | null;
  /** The chaos experiment that points here, if any, and the failure class it tests. */
  experiment: string | null;
  failureClass: string | null;
  /** The first stage (0-based) where the breach is most likely, for limit components. */
  stage: number | null;
  points: number;
  explanation: string;
}

export interface RiskAssessment {
  score: number;
  level: 'low' | 'medium' | 'high';
  formula: string;
  components: RiskComponent[];
  failurePoints: FailurePoint[];
}

export interface RiskInput {
  analysis: Pick<AnalysisConfig, 'maxErrorRateIncrease' | 'maxLatencyIncreaseRatio' | 'maxLatencyIncreaseMs'>;
  /** Region order of the rollout: a candidate-wide problem shows first in regions[0]. */
  regions: readonly string[];
  profiles: readonly ProfileFit[];
  prior: ErrorPrior;
  stages: readonly StagePrediction[];
  preflightRegions: readonly string[];
  history: FailureHistory;
  experiments: readonly ExperimentResult[];
  /** The stack's dependency model (predict/dependencies.ts); a region not in it has its own database. */
  dependencies?: DependencyGraph;
  maxRisk: number;
}

/** What a failed experiment of each fault kind says about the service, and the metric it would show in. */
export const FAILURE_CLASSES: Readonly<Record<string, { failureClass: string; metric: Metric }>> = Object.freeze({
  kill: { failureClass: 'crash and restart', metric: 'error_rate' },
  latency: { failureClass: 'slow network and time-outs', metric: 'latency_p99_ms' },
  cpu: { failureClass: 'CPU saturation', metric: 'latency_p99_ms' },
  memory: { failureClass: 'memory pressure', metric: 'error_rate' },
  db_unavailable: { failureClass: 'database dependency', metric: 'error_rate' },
  failure_rate: { failureClass: 'error detection', metric: 'error_rate' },
  partition: { failureClass: 'network partition', metric: 'error_rate' },
});

interface Draft {
  value: number;
  explanation: string;
  points: Omit<FailurePoint, 'points' | 'component'>[];
  /** Relative shares of the component's points among its failure points (default equal). */
  shares?: number[];
}

export function assessRisk(input: RiskInput): RiskAssessment {
  const drafts: Record<ComponentName, Draft> = {
    error_limit: errorLimit(input),
    latency_limit: latencyLimit(input),
    degradation: degradation(input),
    uncertainty: uncertainty(input),
    history: historyComponent(input),
    experiments: experimentsComponent(input),
  };
  const names = Object.keys(RISK_WEIGHTS) as ComponentName[];
  const terms = names.map((n) => Math.min(1, Math.max(0, RISK_WEIGHTS[n] * drafts[n].value)));
  const certain = terms.filter((t) => t >= 1).length;
  const score = certain > 0 ? 100 : 100 * (1 - terms.reduce((p, t) => p * (1 - t), 1));
  const logs = terms.map((t) => (t >= 1 ? 0 : Math.log1p(-t)));
  const logSum = logs.reduce((s, l) => s + l, 0);
  const components: RiskComponent[] = names.map((name, i) => {
    const t = terms[i] as number;
    const points =
      certain > 0 ? (t >= 1 ? 100 / certain : 0) : logSum === 0 ? 0 : (score * (logs[i] as number)) / logSum;
    return {
      name,
      weight: RISK_WEIGHTS[name],
      value: sig(drafts[name].value, 4),
      points: fixed(points, 1),
      explanation: drafts[name].explanation,
    };
  });
  const failurePoints: FailurePoint[] = [];
  for (const c of components) {
    const d = drafts[c.name];
    if (c.points < 0.5 || d.points.length === 0) continue;
    const shares = d.shares ?? d.points.map(() => 1);
    const total = shares.reduce((s, x) => s + x, 0);
    d.points.forEach((p, i) =>
      failurePoints.push({ component: c.name, ...p, points: fixed((c.points * (shares[i] ?? 0)) / total, 1) }),
    );
  }
  failurePoints.sort((a, b) => b.points - a.points);
  const rounded = fixed(score, 1);
  const level = rounded > input.maxRisk ? 'high' : rounded <= Math.min(LOW_RISK, input.maxRisk) ? 'low' : 'medium';
  return { score: rounded, level, formula: RISK_FORMULA, components, failurePoints };
}

const stageName = (s: StagePrediction) => `stage ${s.stage + 1} (${sig(s.weight, 4)}%)`;
const firstRegion = (input: RiskInput) => input.regions[0] ?? null;
const measuredIn = (input: RiskInput) =>
  input.preflightRegions.length > 0 ? `measured in ${input.preflightRegions.join(', ')}` : 'no pre-flight';

/** The stage with the highest value; the first one on ties (the earliest place it would fail). */
function worstStage(
  stages: readonly StagePrediction[],
  value: (s: StagePrediction) => number,
): StagePrediction | undefined {
  let worst: StagePrediction | undefined;
  for (const s of stages) if (worst === undefined || value(s) > value(worst)) worst = s;
  return worst;
}

function errorLimit(input: RiskInput): Draft {
  const s = worstStage(input.stages, (x) => x.breach.errorRate);
  if (!s) return { value: 0, explanation: 'no stage to predict', points: [] };
  const p = s.breach.errorRate;
  const limit =
    s.limits.maxErrorRate === 0 ? 'the limit 0 (any error is red)' : `the limit ${pct(s.limits.maxErrorRate)}`;
  const explanation =
    `P(error rate above ${limit}) = ${prob(p)} at ${stageName(s)}: ` +
    `predicted ${pct(s.errorRate.low)} to ${pct(s.errorRate.high)} (expected ${pct(s.errorRate.expected)}), ` +
    measuredIn(input);
  return {
    value: p,
    explanation,
    points: [
      {
        region: firstRegion(input),
        metric: 'error_rate',
        experiment: null,
        failureClass: null,
        stage: s.stage,
        explanation:
          `the candidate's error rate would breach ${limit} at ${stageName(s)} of ` +
          `${firstRegion(input) ?? 'the first region'} (P = ${prob(p)})`,
      },
    ],
  };
}

function latencyLimit(input: RiskInput): Draft {
  const s = worstStage(input.stages, (x) => x.breach.p99);
  if (!s || s.p99Ms === null)
    return {
      value: 0,
      explanation: 'no latency measured in the pre-flight: the p99 limit is not predicted',
      points: [],
    };
  const p = s.breach.p99;
  const explanation =
    `P(p99 above the limit ${ms(s.limits.maxP99Ms)}) = ${prob(p)} at ${stageName(s)}: ` +
    `predicted p99 ${ms(s.p99Ms.low)} to ${ms(s.p99Ms.high)}, ${measuredIn(input)}`;
  return {
    value: p,
    explanation,
    points: [
      {
        region: firstRegion(input),
        metric: 'latency_p99_ms',
        experiment: null,
        failureClass: null,
        stage: s.stage,
        explanation:
          `the candidate's p99 would breach ${ms(s.limits.maxP99Ms)} at ${stageName(s)} of ` +
          `${firstRegion(input) ?? 'the first region'} (P = ${prob(p)})`,
      },
    ],
  };
}

interface Comparison {
  /** P(candidate worse than stable by more than the tolerance). */
  p: number;
  metric: Metric;
  words: string;
}

/** P(p_c - p_b > tolerance) for Beta posteriors, normal approximation of the difference. */
function errorComparison(
  prior: ErrorPrior,
  c: { count: number; errors: number },
  b: { count: number; errors: number },
  tolerance: number,
  where: string,
): Comparison {
  const [ca, cb, sa, sb] = [
    prior.alpha + c.errors,
    prior.beta + c.count - c.errors,
    prior.alpha + b.errors,
    prior.beta + b.count - b.errors,
  ];
  const diff = betaMean(ca, cb) - betaMean(sa, sb) - tolerance;
  const p = normalCdf(diff / Math.sqrt(betaVariance(ca, cb) + betaVariance(sa, sb)));
  return {
    p,
    metric: 'error_rate',
    words: `error rate ${pct(sig(c.errors / c.count, 3))} vs stable ${pct(sig(b.errors / b.count, 3))} ${where}`,
  };
}

/**
 * Evidence of degradation beyond even odds: 2 P - 1 when P > 1/2, else 0. P(worse by more
 * than the tolerance) is about 1/2 whenever the pre-flight cannot tell, and ignorance is the
 * uncertainty component's to count, not this one's.
 */
export function degradationEvidence(p: number): number {
  return Math.max(0, 2 * p - 1);
}

function degradation(input: RiskInput): Draft {
  const tolerance = input.analysis.maxErrorRateIncrease;
  const ratio = input.analysis.maxLatencyIncreaseRatio;
  const offsetMs = input.analysis.maxLatencyIncreaseMs;
  const comparisons: Comparison[] = [];
  const pooledC = errorPooling(input.profiles, 'canary');
  const pooledB = errorPooling(input.profiles, 'baseline');
  const pooled =
    input.profiles.length > 1 && pooledC.pooled && pooledB.pooled && pooledC.count > 0 && pooledB.count > 0;
  if (pooled)
    comparisons.push(
      errorComparison(input.prior, pooledC, pooledB, tolerance, `over all ${input.profiles.length} profiles`),
    );
  for (const prof of input.profiles) {
    const name = `at ${prof.names.join('/')} (${sig(prof.rps, 4)} rps)`;
    const c = prof.canary;
    const b = prof.baseline;
    if (!pooled && c.count > 0 && b.count > 0) comparisons.push(errorComparison(input.prior, c, b, tolerance, name));
    if (c.latency && b.latency) {
      const sd = Math.sqrt(c.latency.sigma ** 2 / c.latency.m + b.latency.sigma ** 2 / b.latency.m);
      // The judgement's tolerance, (1 + ratio) x stable + offset, on the log scale of the fit.
      const diff = c.latency.mu - Math.log((1 + ratio) * Math.exp(b.latency.mu) + offsetMs);
      const p = sd === 0 ? (diff > 0 ? 1 : 0) : normalCdf(diff / sd);
      comparisons.push({
        p,
        metric: 'latency_median_ms',
        words: `median ${ms(Math.exp(c.latency.mu))} vs stable ${ms(Math.exp(b.latency.mu))} ${name}`,
      });
    }
  }
  if (comparisons.length === 0)
    return { value: 0, explanation: 'no pre-flight: no comparison with the stable version', points: [] };
  const worst = comparisons.reduce((a, c) => (c.p > a.p ? c : a));
  const what =
    worst.metric === 'error_rate'
      ? `error rate worse than stable by more than ${pct(tolerance)}`
      : `median latency slower than stable by more than ${pct(ratio)}`;
  const value = degradationEvidence(worst.p);
  return {
    value,
    explanation: `P(${what}) = ${prob(worst.p)}, evidence beyond even odds ${prob(value)}: ${worst.words}`,
    points: [
      {
        region: input.preflightRegions[0] ?? null,
        metric: worst.metric,
        experiment: null,
        failureClass: null,
        stage: null,
        explanation: `${worst.words}: the judge would pause the rollout (yellow)`,
      },
    ],
  };
}

function uncertainty(input: RiskInput): Draft {
  let best = { value: 0, explanation: 'no stage to predict' };
  for (const s of input.stages) {
    const lo = betaQuantile(0.05, s.model.alpha, s.model.beta);
    const hi = betaQuantile(0.95, s.model.alpha, s.model.beta);
    const scale = Math.max(s.limits.maxErrorRate, 0.01);
    const e = Math.min(1, (hi - lo) / scale);
    const requests = Math.round(s.model.alpha + s.model.beta - input.prior.alpha - input.prior.beta);
    if (e > best.value || best.explanation === 'no stage to predict') {
      best = {
        value: e,
        explanation:
          `the true error rate is known to within ${pct(sig(lo, 3))} to ${pct(sig(hi, 3))} (90%) ` +
          `from ${requests} pre-flight requests (the evidence at ${stageName(s)}'s load), ` +
          `${prob(e)} of the limit ${pct(scale)}`,
      };
    }
    if (s.model.latency) {
      const t = trueP99Interval(s.model.latency);
      const l = Math.min(1, (t.high - t.low) / s.limits.maxP99Ms);
      if (l > best.value)
        best = {
          value: l,
          explanation:
            `the true p99 is known to within ${ms(t.low)} to ${ms(t.high)} (90%) ` +
            `from ${Math.round(s.model.latency.m)} pre-flight latencies (the fit at ${stageName(s)}'s load), ` +
            `${prob(l)} of the limit ${ms(s.limits.maxP99Ms)}`,
        };
    }
  }
  // Not a failure point: uncertainty says how far the other components can be trusted,
  // not where the rollout would fail.
  return { value: best.value, explanation: best.explanation, points: [] };
}

function historyComponent(input: RiskInput): Draft {
  const h = input.history;
  if (h.runs === 0) return { value: 0, explanation: 'no earlier rollout in the history', points: [] };
  const value = h.failed / h.runs;
  const explanation =
    `${h.failed} of the last ${h.runs} rollout(s) ` +
    `were rolled back or failed${h.versions.length > 0 ? ` (${[...new Set(h.versions)].slice(-3).join(', ')})` : ''}`;
  const regions = Object.entries(h.byRegion).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const unplaced = h.failed - regions.reduce((s, [, n]) => s + n, 0);
  const points: Draft['points'] = regions.map(([region, n]) => ({
    region,
    metric: null,
    experiment: null,
    failureClass: null,
    stage: null,
    explanation: `${n} earlier rollout(s) failed in ${region}`,
  }));
  const shares = regions.map(([, n]) => n);
  if (unplaced > 0) {
    points.push({
      region: null,
      metric: null,
      experiment: null,
      failureClass: null,
      stage: null,
      explanation: `${unplaced} earlier rollout(s) failed without a region named`,
    });
    shares.push(unplaced);
  }
  return { value, explanation, points, shares };
}

function experimentsComponent(input: RiskInput): Draft {
  const ran = input.experiments.filter((e) => e.status !== 'ERROR');
  if (ran.length === 0)
    return {
      value: 0,
      explanation:
        input.experiments.length > 0
          ? 'every experiment ERRORed (infrastructure): none counts'
          : 'no chaos experiment ran before the prediction',
      points: [],
    };
  const failed = ran.filter((e) => e.status === 'FAIL');
  const graph = dependencyGraph(input.regions, input.dependencies);
  // Correlated failure: a failed dependency fault counts again in every other region that
  // shares the dependency, as if the experiment had been run, and failed, there too.
  const correlated = failed.map((e) =>
    DEPENDENCY_FAULTS.includes(e.fault.kind) ? correlatedRegions(graph, e.targets) : [],
  );
  const extra = correlated.reduce((s, c) => s + c.length, 0);
  const value = (failed.length + extra) / (ran.length + extra);
  const also = correlated.flatMap((c, i) =>
    c.length === 0
      ? []
      : [
          `${(failed[i] as ExperimentResult).name} also reaches ${c.map((r) => r.region).join(', ')} through ` +
            [...new Set(c.flatMap((r) => r.via))].join(', '),
        ],
  );
  const counted =
    extra > 0
      ? `; correlated failure: ${also.join('; ')}, counted as (${failed.length} + ${extra}) ` +
        `/ (${ran.length} + ${extra})`
      : '';
  const explanation =
    `${failed.length} of ${ran.length} chaos experiment(s) ` +
    `failed${failed.length > 0 ? `: ${failed.map((e) => e.name).join(', ')}` : ''}${counted}`;
  const points: Draft['points'] = [];
  failed.forEach((e, i) => {
    const cls = FAILURE_CLASSES[e.fault.kind] ?? { failureClass: e.fault.kind, metric: 'error_rate' as Metric };
    const missed = e.measurements
      .filter((m) => !m.pass)
      .map((m) => `${m.name} ${m.value === null ? 'not measured' : sig(m.value, 4)} (${m.comparator} ${m.threshold})`);
    const db = DEPENDENCY_FAULTS.includes(e.fault.kind) ? dependencyWords(e.targets, graph) : '';
    const what = `experiment ${e.name} (${e.fault.kind} in ${e.targets.join(', ') || 'no region'}) failed`;
    const base = { metric: cls.metric, experiment: e.name, failureClass: cls.failureClass, stage: null };
    points.push({
      ...base,
      region: e.targets[0] ?? null,
      explanation:
        `${what}: the service is weak at ` +
        `${cls.failureClass}${missed.length > 0 ? `; missed ${missed.join(', ')}` : ''}${db}`,
    });
    for (const r of correlated[i] ?? []) {
      points.push({
        ...base,
        region: r.region,
        explanation:
          `${what}, and ${r.region} shares ${r.via.join(', ')} with ${r.targets.join(', ')}: ` +
          `the same fault takes ${r.region} down with it (correlated failure)`,
      });
    }
  });
  return { value, explanation, points };
}

/** "; db-main is shared by us-west, us-east" for the targets' dependencies, from the dependency model. */
function dependencyWords(targets: readonly string[], graph: DependencyGraph): string {
  const parts: string[] = [];
  for (const t of targets) {
    for (const d of graph[t] ?? []) {
      const users = Object.keys(graph).filter((r) => graph[r]?.includes(d));
      parts.push(users.length > 1 ? `${d} is shared by ${users.join(', ')}` : `${d} serves ${t} alone`);
    }
  }
  return parts.length > 0 ? `; ${parts.join('; ')}` : '';
}
