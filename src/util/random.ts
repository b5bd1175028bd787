// A small seeded pseudo-random generator, so that a simulation is a pure function of its
// seed: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, passes
// PractRand), its state filled from the seed by splitmix32. Math.random is never used.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRandom(seed: number): Random {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a whole number, got ${seed}`);
  // Fold seeds beyond 32 bits in, so 1 and 2**32 + 1 differ.
  const mix = splitmix32((seed >>> 0) ^ Math.floor(seed / 2 ** 32));
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // discard the first outputs, as the author recommends
  return {
    next,
    normal() {
      const u = 1 - next(); // (0, 1]: log(0) impossible
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
  };
}

/**
 * A Gamma(shape, 1) variate for shape >= 1: Marsaglia and Tsang's squeeze method (2000),
 * one normal and one or two uniforms per draw, almost never a retry.
 */
export function gammaVariate(random: Random, shape: number): number {
  if (!(shape >= 1)) throw new RangeError(`gamma shape must be at least 1, got ${shape}`);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = random.normal();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = 1 - random.next(); // (0, 1]
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** z of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;

/**
 * A lognormal latency sampler fitted to a median and a p99: ln X ~ N(ln median, sigma) with
 * sigma = ln(p99 / median) / z(0.99). Equal median and p99 give a constant.
 */
export function lognormal(random: Random, medianMs: number, p99Ms: number): () => number {
  const mu = Math.log(medianMs);
  const sigma = Math.log(p99Ms / medianMs) / Z99;
  return () => Math.exp(mu + sigma * random.normal());
}
