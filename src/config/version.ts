import { UsageError } from '../util/errors.ts';

// A version becomes a Docker env value and an HTML/label value; a plain tag keeps it inert.
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const VERSION_RULE =
  'must be a plain tag: a letter or digit, then up to 127 of letters, digits, ".", "_" or "-"';

export function isVersion(value: string): boolean {
  return VERSION_PATTERN.test(value);
}

/** Returns the version or throws a UsageError naming where it came from. */
export function parseVersion(value: string, source: string, path = 'version'): string {
  if (!isVersion(value)) {
    throw new UsageError([{ source, path, rule: `${JSON.stringify(value)} ${VERSION_RULE}` }]);
  }
  return value;
}

export const FAILURE_RATE_RULE = 'must be a decimal number between 0.0 and 1.0';

/** Parses a failure rate given as text (CLI flag, env) strictly: "1.5", "abc", "" are refused. */
export function parseFailureRate(value: string, source: string, path = 'failure-rate'): number {
  const trimmed = value.trim();
  const n = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError([{ source, path, rule: `${JSON.stringify(value)} ${FAILURE_RATE_RULE}` }]);
  }
  return n;
}
