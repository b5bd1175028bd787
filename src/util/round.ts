// Rounding for JSON-ready output: a prediction is compared byte for byte between runs with
// the same seed, and 0.1 + 0.2 should print as 0.3, not 0.30000000000000004.

/** x with at most `digits` significant digits (6 by default). */
export function sig(x: number, digits = 6): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}

/** x with at most `digits` decimals. */
export function fixed(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A probability for a person: "12.6%", "<0.01%", ">99.99%". */
export function prob(p: number): string {
  if (p <= 0) return '0%';
  if (p >= 1) return '100%';
  if (p < 1e-4) return '<0.01%';
  if (p > 1 - 1e-4) return '>99.99%';
  return `${Number((p * 100).toPrecision(3))}%`;
}
