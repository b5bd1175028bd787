import { logGamma } from '../analysis/normal.ts';

// The Beta and Beta-Binomial distributions the error-rate model needs. Pure numerics, no
// randomness: the error-rate ranges are exact quantiles, not Monte Carlo estimates, so they
// do not move with the seed.

export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

export function betaMean(a: number, b: number): number {
  return a / (a + b);
}

export function betaVariance(a: number, b: number): number {
  const s = a + b;
  return (a * b) / (s * s * (s + 1));
}

/**
 * Regularized incomplete beta I_x(a, b) = P(p <= x) for p ~ Beta(a, b): the continued
 * fraction of Numerical Recipes (betai/betacf, modified Lentz), evaluated on the side of the
 * mean where it converges fast.
 */
export function betaCdf(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`Beta(${a}, ${b}): both parameters must be > 0`);
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return Math.min(1, (Math.exp(lnFront) * continuedFraction(x, a, b)) / a);
  return Math.max(0, 1 - (Math.exp(lnFront) * continuedFraction(1 - x, b, a)) / b);
}

function continuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  // Convergence takes O(sqrt(max(a, b))) terms; the posterior of 10^6 requests needs ~1000.
  for (let m = 1; m <= 100_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The q-quantile of Beta(a, b), by bisection on the CDF (monotone, so it cannot miss). */
export function betaQuantile(q: number, a: number, b: number): number {
  if (q <= 0) return 0;
  if (q >= 1) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (betaCdf(mid, a, b) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** log P(X = k) for X ~ BetaBinomial(n, a, b). */
export function betaBinomialLogPmf(k: number, n: number, a: number, b: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  const lnChoose = logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
  return lnChoose + logBeta(k + a, n - k + b) - logBeta(a, b);
}

/** P(X <= k) for X ~ BetaBinomial(n, a, b). */
export function betaBinomialCdf(k: number, n: number, a: number, b: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += Math.exp(betaBinomialLogPmf(i, n, a, b));
  return Math.min(1, sum);
}

/**
 * Quantiles of X ~ BetaBinomial(n, a, b): for each q the smallest k with P(X <= k) >= q
 * (the same convention as R's qbinom and scipy's ppf). `qs` ascending. The pmf is summed
 * from 0 upwards and the loop stops at the last quantile asked for, so a low error rate
 * costs a few terms whatever n is.
 */
export function betaBinomialQuantiles(n: number, a: number, b: number, qs: readonly number[]): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a whole number >= 0, got ${n}`);
  const out: number[] = [];
  let cdf = 0;
  let next = 0;
  // A relative slack for the rounding of a long sum: a cdf of 0.95 - 1e-12 is 0.95.
  const EPS = 1e-12;
  for (let k = 0; k <= n && next < qs.length; k++) {
    cdf += Math.exp(betaBinomialLogPmf(k, n, a, b));
    while (next < qs.length && cdf >= (qs[next] as number) - EPS) {
      out.push(k);
      next++;
    }
  }
  while (out.length < qs.length) out.push(n);
  return out;
}

/**
 * Regularized lower incomplete gamma P(a, x) (Numerical Recipes gammp: the series below
 * a + 1, the continued fraction above).
 */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const lnFront = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 100_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, sum * Math.exp(lnFront));
  }
  const TINY = 1e-300;
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.max(0, 1 - Math.exp(lnFront) * h);
}

/** P(X > x) for X ~ chi-square with df degrees of freedom. */
export function chiSquareSf(x: number, df: number): number {
  return 1 - gammaP(df / 2, x / 2);
}

/**
 * Pearson's chi-square test of homogeneity of k error rates (errors e_i of n_i), the p-value
 * of R's `prop.test(e, n, correct = FALSE)$p.value`. No evidence (p = 1) with fewer than two
 * non-empty groups, or when every request failed or none did.
 */
export function homogeneityTest(groups: readonly { errors: number; count: number }[]): {
  chi2: number;
  df: number;
  p: number;
} {
  const gs = groups.filter((g) => g.count > 0);
  const n = gs.reduce((s, g) => s + g.count, 0);
  const e = gs.reduce((s, g) => s + g.errors, 0);
  if (gs.length < 2 || e === 0 || e === n) return { chi2: 0, df: Math.max(0, gs.length - 1), p: 1 };
  const rate = e / n;
  let chi2 = 0;
  for (const g of gs) {
    const expErr = g.count * rate;
    const expOk = g.count * (1 - rate);
    chi2 += (g.errors - expErr) ** 2 / expErr + (g.count - g.errors - expOk) ** 2 / expOk;
  }
  const df = gs.length - 1;
  return { chi2, df, p: chiSquareSf(chi2, df) };
}
