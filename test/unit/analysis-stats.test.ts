import { describe, expect, it, test } from 'vitest';
import { logGamma, normalCdf, normalQuantile, normalSf } from '../../src/analysis/normal.ts';
import { binomialUpperTail, mannWhitneyGreater, twoProportionTest } from '../../src/analysis/stats.ts';

// Reference values: R's definitions, evaluated with SciPy 1.17.1 (scipy.stats.norm.cdf,
// scipy.stats.binom.sf, scipy.stats.mannwhitneyu(x, y, alternative='greater',
// use_continuity=True, method='asymptotic'), and the pooled z of prop.test typed out) to full
// double precision. The R call each one corresponds to is in the test name or a comment.

describe('normalCdf (Hart / West, absolute error < 1e-14)', () => {
  // pnorm(x) in R / scipy.stats.norm.cdf(x).
  test.each([
    [0, 0.5],
    [1, 0.8413447460685429],
    [-1, 0.15865525393145705],
    [1.96, 0.9750021048517795],
    [-1.96, 0.024997895148220435],
    [1.6448536269514722, 0.95],
    [-3, 0.0013498980316300946],
    [3, 0.9986501019683699],
    [-2.326347874, 0.010000000001088503],
    [-5, 2.866515718791939e-7],
  ])('pnorm(%d) = %d', (x, expected) => {
    expect(Math.abs(normalCdf(x) - expected)).toBeLessThan(1e-14);
  });

  it('keeps relative precision in the far tail', () => {
    // pnorm(-7) = 1.279812543885835e-12, pnorm(-10) = 7.619853024160525e-24
    expect(normalCdf(-7) / 1.279812543885835e-12).toBeCloseTo(1, 7);
    expect(normalCdf(-10) / 7.619853024160525e-24).toBeCloseTo(1, 7);
    expect(normalSf(10) / 7.619853024160525e-24).toBeCloseTo(1, 7);
    expect(normalCdf(-40)).toBe(0);
    expect(normalCdf(40)).toBe(1);
  });

  it('is symmetric', () => {
    for (const x of [0.1, 0.7, 1.3, 2.2, 4.5, 8]) expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 15);
  });
});

describe('normalQuantile (Acklam, one Halley step)', () => {
  it('matches qnorm', () => {
    // R: qnorm(c(0.5, 0.975, 0.99, 0.01, 1e-6, 1e-12))
    const cases: [number, number][] = [
      [0.5, 0],
      [0.975, 1.959963984540054],
      [0.99, 2.326347874040841],
      [0.01, -2.326347874040841],
      [1e-6, -4.753424308822899],
      [1e-12, -7.034483825301131],
    ];
    for (const [p, z] of cases) expect(Math.abs(normalQuantile(p) - z)).toBeLessThan(1e-9);
  });

  it('inverts normalCdf across the line, tails included', () => {
    for (const x of [-8, -5, -2.5, -1, -0.3, 0.2, 1.7, 3.1]) expect(normalQuantile(normalCdf(x))).toBeCloseTo(x, 8);
  });

  it('is infinite at 0 and 1 and refuses what is not a probability', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
    expect(normalQuantile(-0.1)).toBeNaN();
  });
});

describe('logGamma', () => {
  // lgamma(x) in R.
  test.each([
    [1, 0],
    [2, 0],
    [5, Math.log(24)],
    [0.5, 0.5723649429247001],
    [10.5, 13.940625219403763],
    [100, 359.1342053695754],
  ])('lgamma(%d) = %d', (x, expected) => {
    expect(logGamma(x)).toBeCloseTo(expected, 12);
  });
});

describe('binomialUpperTail = pbinom(k - 1, n, p, lower.tail = FALSE)', () => {
  test.each([
    // Worked by hand: 1 - 0.95^10 - 10 * 0.05 * 0.95^9 = 1 - 0.5987369 - 0.3151247 = 0.0861384
    [2, 10, 0.05, 0.08613835589931637],
    [3, 15, 0.05, 0.03620023864272912],
    [5, 15, 0.05, 0.0006146828696831205],
    [6, 30, 0.05, 0.0032824855950018134],
    [10, 100, 0.05, 0.02818829416341614],
    [4, 100, 0.05, 0.7421613408839848],
    [2, 30, 0.01, 0.036147998312240644],
    [70, 1000, 0.05, 0.0034743586988460833],
    [5000, 1_000_000, 0.005, 0.501894779836406],
  ])('P(X >= %d | n=%d, p=%d) = %d', (k, n, p, expected) => {
    expect(binomialUpperTail(k, n, p) / expected).toBeCloseTo(1, 9);
  });

  test.each([
    [0, 10, 0.3, 1],
    [11, 10, 0.3, 0],
    [1, 10, 0, 0],
    [10, 10, 1, 1],
  ])('edge case P(X >= %d | n=%d, p=%d) = %d', (k, n, p, expected) => {
    expect(binomialUpperTail(k, n, p)).toBe(expected);
  });

  it('is exact for 5 of 5 at p = 0.3: 0.3^5', () => {
    expect(binomialUpperTail(5, 5, 0.3)).toBeCloseTo(0.00243, 15);
  });
});

describe('twoProportionTest (pooled, one-sided "canary worse")', () => {
  test.each([
    // prop.test(c(6, 1), c(30, 40), alternative = "greater", correct = FALSE): X-squared = 5.8333 (= z^2), p = 0.007863
    [6, 30, 1, 40, 2.41522945769824, 0.007862649877252671],
    // prop.test(c(15, 10), c(200, 300), alternative = "greater", correct = FALSE): X-squared = 4.386, p = 0.01812
    [15, 200, 10, 300, 2.0942695414584773, 0.018117988003028072],
    // canary better: prop.test(c(3, 5), c(100, 100), alternative = "greater", correct = FALSE): p = 0.7648
    [3, 100, 5, 100, -0.7216878364870324, 0.7647567889706052],
  ])('prop.test(c(%d, %d), c(%d, %d))', (xc, nc, xb, nb, z, p) => {
    const t = twoProportionTest(xc, nc, xb, nb);
    expect(t.z).toBeCloseTo(z, 12);
    expect(t.p).toBeCloseTo(p, 12);
    expect(t.margin).toBe(0);
  });

  test.each([
    ['both without errors', 0, 50, 0, 80],
    ['both all errors', 50, 50, 80, 80],
    ['empty canary', 0, 0, 3, 80],
    ['empty baseline', 3, 50, 0, 0],
  ])('%s: no evidence, z = 0 and p = 1', (_name, xc, nc, xb, nb) => {
    expect(twoProportionTest(xc, nc, xb, nb)).toEqual({ margin: 0, z: 0, p: 1 });
    expect(twoProportionTest(xc, nc, xb, nb, 0.01)).toEqual({ margin: 0.01, z: 0, p: 1 });
  });

  test.each([
    // Wald z = (pc - pb - m) / sqrt(pc(1-pc)/nc + pb(1-pb)/nb), worked with scipy.stats.norm.sf:
    // (0.04 - 0.01 - 0.01) / sqrt(0.0384/1000 + 0.0099/1000) = 2.8778, p = 0.002002
    [40, 1000, 10, 1000, 0.01, 2.8777723153447705, 0.002002470405956781],
    // (0.10 - 0.01 - 0.01) / sqrt(0.09/100 + 0.0099/100) = 2.5311, p = 0.005685
    [10, 100, 1, 100, 0.01, 2.531087988673331, 0.005685465995618158],
  ])('with a tolerated margin: %d/%d vs %d/%d, margin %d', (xc, nc, xb, nb, m, z, p) => {
    const t = twoProportionTest(xc, nc, xb, nb, m);
    expect(t.z).toBeCloseTo(z, 12);
    expect(t.p).toBeCloseTo(p, 12);
  });

  it('falls back to the pooled variance when each sample is all-or-nothing', () => {
    const t = twoProportionTest(30, 30, 0, 30, 0.01);
    expect(Number.isFinite(t.z)).toBe(true);
    expect(t.p).toBeLessThan(1e-10);
  });

  it('a margin makes the same data less conclusive', () => {
    expect(twoProportionTest(4, 100, 1, 100, 0.01).p).toBeGreaterThan(twoProportionTest(4, 100, 1, 100).p);
  });
});

describe('mannWhitneyGreater = wilcox.test(canary, baseline, alternative = "greater", exact = FALSE, correct = TRUE)', () => {
  it('no ties, checked by hand', () => {
    // Pairs with canary > baseline: 12 beats 2, 15 beats 4, 18/21/25/30 beat all 5: U = 26.
    // mean 6*5/2 = 15, variance 6*5*12/12 = 30, z = (26 - 15 - 0.5) / sqrt(30) = 1.91703,
    // p = 1 - pnorm(1.91703) = 0.027617 (R: W = 26, p-value = 0.02762).
    const t = mannWhitneyGreater([12, 15, 18, 21, 25, 30], [10, 11, 13, 14, 16]);
    expect(t.u).toBe(26);
    expect(t.z).toBeCloseTo(10.5 / Math.sqrt(30), 12);
    expect(t.p).toBeCloseTo(0.027617126859031914, 12);
  });

  test.each([
    // wilcox.test(c(1,2,2,3,5,8), c(1,1,2,3), "greater", exact = FALSE, correct = TRUE): W = 17.5, p = 0.1365
    [[1, 2, 2, 3, 5, 8], [1, 1, 2, 3], 17.5, 0.13646882785330322],
    // wilcox.test(c(3,3,3,4,4,5,6,6,7,9), c(1,2,2,3,3,3,4,5,5,6), ...): W = 73.5, p = 0.03829
    [[3, 3, 3, 4, 4, 5, 6, 6, 7, 9], [1, 2, 2, 3, 3, 3, 4, 5, 5, 6], 73.5, 0.038289825361426284],
  ])('with ties: %j vs %j', (canary, baseline, u, p) => {
    const t = mannWhitneyGreater(canary, baseline);
    expect(t.u).toBe(u);
    expect(t.p).toBeCloseTo(p, 12);
  });

  it('tests a tolerated slowdown by ranking canary / (1 + margin)', () => {
    const canary = [22, 24, 26, 30, 33, 35, 41];
    const baseline = [20, 21, 22, 23, 25, 27, 28];
    // wilcox.test(canary, baseline, "greater", exact = FALSE): W = 39.5, p = 0.03181
    expect(mannWhitneyGreater(canary, baseline).p).toBeCloseTo(0.03181372595504246, 12);
    // wilcox.test(canary / 1.1, baseline, ...): W = 33.5, p = 0.1385
    const t = mannWhitneyGreater(canary, baseline, 0.1);
    expect(t).toMatchObject({ margin: 0.1, u: 33.5 });
    expect(t.p).toBeCloseTo(0.13845529708145804, 12);
  });

  it('tests a tolerated absolute slowdown by ranking (canary - offset) / (1 + margin)', () => {
    const canary = [22, 24, 26, 30, 33, 35, 41];
    const baseline = [20, 21, 22, 23, 25, 27, 28];
    // Shifting by 2 then scaling by 1.1 ranks the same values as the test below computes by
    // hand: (canary - 2) / 1.1 = 18.18, 20, 21.82, 25.45, 28.18, 30, 35.45 against the baseline.
    // Pairs with canary > baseline: 0 + 0 (20 ties 20: 1/2) + 2 + 5 + 7 + 7 + 7 = 28.5.
    const t = mannWhitneyGreater(canary, baseline, 0.1, 2);
    expect(t).toMatchObject({ margin: 0.1, offset: 2, u: 28.5 });
    expect(t.p).toBeCloseTo(
      mannWhitneyGreater(
        canary.map((v) => (v - 2) / 1.1),
        baseline,
      ).p,
      12,
    );
    expect(t.p).toBeGreaterThan(mannWhitneyGreater(canary, baseline, 0.1).p);
  });

  it('all values tied or a sample empty: no evidence', () => {
    expect(mannWhitneyGreater([5, 5, 5], [5, 5])).toMatchObject({ z: 0, p: 1 });
    expect(mannWhitneyGreater([], [1, 2])).toEqual({ margin: 0, offset: 0, u: 0, z: 0, p: 1 });
    expect(mannWhitneyGreater([1, 2], [])).toEqual({ margin: 0, offset: 0, u: 0, z: 0, p: 1 });
  });

  it('a canary that is faster gives a large p', () => {
    expect(mannWhitneyGreater([1, 2, 3], [10, 11, 12, 13]).p).toBeGreaterThan(0.95);
  });
});
