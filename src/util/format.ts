// Number formatting for the reasons of a judgement: fixed precision so that reasons are
// stable text (simulation output is compared byte for byte).

export function pct(x: number | null): string {
  if (x === null) return 'n/a';
  const v = x * 100;
  return `${Number.isInteger(v) ? v.toFixed(0) : v < 0.1 ? v.toPrecision(2) : v.toFixed(1)}%`;
}

export function ms(x: number | null): string {
  return x === null ? 'n/a' : `${x < 10 ? x.toFixed(1) : x.toFixed(0)} ms`;
}

export function pValue(p: number): string {
  return p === 0 ? '0' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

/** A plain number with at most 6 significant digits: 0.005, not 0.005000000000000001. */
export function num(x: number): string {
  return String(Number(x.toPrecision(6)));
}

export const MIB = 1024 * 1024;

/** Bytes as whole MiB, for messages. */
export function mib(bytes: number): number {
  return Math.round(bytes / MIB);
}
