import { logGamma, normalQuantile, normalSf } from './normal.ts';

// The hypothesis tests behind a judgement. Every test is one-sided, "the canary is worse",
// because a canary that is better than its baseline is never a reason to stop a rollout.

export interface ProportionTest {
  /** Tolerated increase of the canary rate over the baseline rate the test allowed for. */
  margin: number;
  /** z statistic of (canary rate - baseline rate - margin) over its standard error. */
  z: number;
  /** One-sided p-value for "canary error rate > baseline error rate + margin". */
  p: number;
}

/**
 * One-sided two-proportion z-test of H0: canary rate <= baseline rate + margin.
 * With margin 0 it is the textbook pooled test without continuity correction: the p-value
 * of R's `prop.test(c(xc, xb), c(nc, nb), alternative = "greater", correct = FALSE)`.
 * With a margin the two rates differ under H0, so pooling them is wrong; the standard error
 * is then the unpooled (Wald) one, as in the usual non-inferiority test.
 * Zero variance is decided explicitly, not by dividing by zero: when both samples have no
 * errors, or both have nothing but errors, there is no evidence of a difference (z = 0,
 * p = 1). An empty sample is no evidence either.
 */
export function twoProportionTest(
  canaryErrors: number,
  canaryCount: number,
  baselineErrors: number,
  baselineCount: number,
  margin = 0,
): ProportionTest {
  if (canaryCount === 0 || baselineCount === 0) return { margin, z: 0, p: 1 };
  const pc = canaryErrors / canaryCount;
  const pb = baselineErrors / baselineCount;
  const pooled = (canaryErrors + baselineErrors) / (canaryCount + baselineCount);
  const pooledVariance = pooled * (1 - pooled) * (1 / canaryCount + 1 / baselineCount);
  const waldVariance = (pc * (1 - pc)) / canaryCount + (pb * (1 - pb)) / baselineCount;
  // The Wald variance is 0 when each sample is all-or-nothing (0 of 30 vs 30 of 30); the
  // pooled one is then the only estimate there is.
  const variance = margin === 0 || waldVariance === 0 ? pooledVariance : waldVariance;
  const diff = pc - pb - margin;
  if (!(variance > 0)) return { margin, z: 0, p: 1 }; // both all-zero or both all-one: no difference
  const z = diff / Math.sqrt(variance);
  return { margin, z, p: normalSf(z) };
}

export interface MannWhitneyTest {
  /** Tolerated relative increase: the canary values were divided by 1 + margin before ranking. */
  margin: number;
  /** Tolerated absolute increase, in the values' unit: subtracted from every canary value first. */
  offset: number;
  /** U of the canary: pairs (canary, baseline) with canary > baseline, ties counting 1/2. */
  u: number;
  z: number;
  /** One-sided p-value for "canary values tend to be greater than baseline values". */
  p: number;
}

/**
 * Mann-Whitney U (Wilcoxon rank-sum) with mid-ranks for ties, the tie-corrected variance and
 * the normal approximation with a continuity correction of 1/2: the same statistic and p-value
 * as R's `wilcox.test(canary, baseline, alternative = "greater", exact = FALSE, correct = TRUE)`
 * (its W is this U). With an empty sample, or when every value is tied, there is no evidence
 * (p = 1). The sort is O((n+m) log(n+m)).
 * A margin m and an offset a test H0: "canary <= (1 + m) x baseline + a" (a tolerated
 * slowdown) by ranking (canary - a) / (1 + m) against the baseline: R's
 * `wilcox.test((canary - a) / (1 + m), baseline, ...)`.
 */
export function mannWhitneyGreater(
  canary: readonly number[],
  baseline: readonly number[],
  margin = 0,
  offset = 0,
): MannWhitneyTest {
  return mannWhitneyGreaterSorted(Float64Array.from(canary).sort(), Float64Array.from(baseline).sort(), margin, offset);
}

/**
 * mannWhitneyGreater() of samples already sorted ascending (the judge sorts each window
 * once): the ranks come from merging the two, O(n+m), not from sorting their union. Only
 * the tie groups matter to the statistic, and a merge finds the same groups as a sort.
 */
export function mannWhitneyGreaterSorted(
  canary: ArrayLike<number>,
  baseline: ArrayLike<number>,
  margin = 0,
  offset = 0,
): MannWhitneyTest {
  const n1 = canary.length;
  const n2 = baseline.length;
  if (n1 === 0 || n2 === 0) return { margin, offset, u: 0, z: 0, p: 1 };
  const shifted = shiftedSorted(canary, margin, offset);
  const n = n1 + n2;
  let canaryRankSum = 0;
  let tieTerm = 0; // sum over tie groups of t^3 - t
  let i = 0; // next canary value
  let j = 0; // next baseline value
  while (i < n1 || j < n2) {
    const fromCanary = j >= n2 || (i < n1 && (shifted[i] as number) <= (baseline[j] as number));
    const v = fromCanary ? shifted[i] : baseline[j];
    const ranked = i + j;
    const firstCanary = i;
    // The tie group: the value taken and every equal one on both sides (a NaN stands alone).
    if (fromCanary) i++;
    else j++;
    while (i < n1 && shifted[i] === v) i++;
    while (j < n2 && baseline[j] === v) j++;
    const inCanary = i - firstCanary;
    const t = i + j - ranked;
    canaryRankSum += inCanary * (ranked + (t + 1) / 2);
    tieTerm += t * t * t - t;
  }
  const u = canaryRankSum - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { margin, offset, u, z: 0, p: 1 };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { margin, offset, u, z, p: normalSf(z) };
}

/** (v - offset) / (1 + margin) of sorted values, still sorted (re-sorted should a margin <= -1 reverse them). */
function shiftedSorted(sorted: ArrayLike<number>, margin: number, offset: number): number[] {
  const out: number[] = [];
  let ordered = true;
  for (let k = 0; k < sorted.length; k++) {
    out.push(((sorted[k] as number) - offset) / (1 + margin));
    if (k > 0 && (out[k] as number) < (out[k - 1] as number)) ordered = false;
  }
  return ordered ? out : out.sort((a, b) => a - b);
}

/**
 * Exact binomial upper tail P(X >= k) for X ~ Binomial(n, p): R's
 * `pbinom(k - 1, n, p, lower.tail = FALSE)`. Used to ask whether k bad requests out of n
 * prove that the true share of bad requests is above p. Terms are summed in log space from
 * k upwards, so n in the millions neither underflows nor loops long (the sum stops once the
 * terms no longer change it).
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const lnP = Math.log(p);
  const lnQ = Math.log1p(-p);
  const lnChoose = (i: number) => logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1);
  const mode = Math.floor((n + 1) * p);
  if (k <= mode) {
    // Below the mode the upper tail is large; compute it as 1 - lower tail, whose terms fall
    // from k - 1 downwards.
    return 1 - sumTerms(k - 1, -1, 0);
  }
  return Math.min(1, sumTerms(k, 1, n));

  function sumTerms(from: number, dir: 1 | -1, to: number): number {
    let sum = 0;
    for (let i = from; dir > 0 ? i <= to : i >= to; i += dir) {
      const term = Math.exp(lnChoose(i) + i * lnP + (n - i) * lnQ);
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    return sum;
  }
}

const Z95 = -normalQuantile(0.025);

/** The Wilson score interval of k successes in n at 95%: honest at 0 of n and n of n, unlike k/n +- z*se. */
export function wilsonInterval(k: number, n: number, z = Z95): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
