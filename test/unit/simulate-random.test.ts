import { describe, expect, it } from 'vitest';
import { createRandom, gammaVariate, lognormal } from '../../src/util/random.ts';

describe('createRandom', () => {
  it('is a pure function of the seed', () => {
    const a = createRandom(123);
    const b = createRandom(123);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(createRandom(124).next()).not.toBe(createRandom(123).next());
    expect(createRandom(1).next()).not.toBe(createRandom(2 ** 32 + 1).next());
  });

  it('draws uniformly from [0, 1)', () => {
    const r = createRandom(9);
    const n = 100_000;
    const buckets = new Array<number>(10).fill(0);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
      buckets[Math.floor(x * 10)]!++;
    }
    expect(outside).toBe(0);
    expect(sum / n).toBeCloseTo(0.5, 2);
    // Each decile holds 10% +- 0.5% (about 5 standard deviations).
    for (const b of buckets) expect(Math.abs(b / n - 0.1)).toBeLessThan(0.005);
  });

  it('draws standard normals', () => {
    const r = createRandom(5);
    const xs = Array.from({ length: 100_000 }, () => r.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });

  it('refuses a seed that is not a whole number', () => {
    expect(() => createRandom(1.5)).toThrow(RangeError);
  });
});

describe('lognormal', () => {
  it('has the median and p99 it was fitted to', () => {
    const sample = lognormal(createRandom(77), 20, 80);
    const xs = Array.from({ length: 200_000 }, sample).sort((a, b) => a - b);
    expect(xs[100_000]! / 20).toBeCloseTo(1, 1);
    expect(xs[198_000]! / 80).toBeCloseTo(1, 1);
  });

  it('is constant when the median equals the p99', () => {
    const sample = lognormal(createRandom(1), 30, 30);
    expect(sample()).toBeCloseTo(30, 10);
  });
});

describe('gammaVariate (Marsaglia-Tsang)', () => {
  it('has the mean and variance of Gamma(shape, 1), both equal to the shape', () => {
    for (const shape of [1, 3.5, 40, 990]) {
      const r = createRandom(Math.round(shape * 17));
      const n = 40_000;
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const x = gammaVariate(r, shape);
        sum += x;
        sq += x * x;
      }
      const mean = sum / n;
      const variance = sq / n - mean * mean;
      // Standard error of the mean: sqrt(shape / n); 5 of them.
      expect(Math.abs(mean - shape)).toBeLessThan(5 * Math.sqrt(shape / n));
      expect(variance / shape).toBeGreaterThan(0.95);
      expect(variance / shape).toBeLessThan(1.05);
    }
  });

  it('refuses a shape below 1', () => {
    expect(() => gammaVariate(createRandom(1), 0.5)).toThrow(/at least 1/);
  });
});
