import { isMap, type Document, type LineCounter } from 'yaml';
import type { InputIssue } from '../util/errors.ts';
import { pathKey } from '../util/issues.ts';

// The line of an issue's field path in the file it came from. A field the file does not
// write (a default) has no line of its own: the line is then that of a written field the
// rule is about (a stage deadline left at its default is too short for the bake_seconds
// that is written), else of the nearest parent that is written.

/** "rollout.stages[2].weight" -> ["rollout", "stages", 2, "weight"]. */
export function segments(path: string): (string | number)[] {
  return path.match(/[^.[\]]+/g)?.map((s) => (/^\d+$/.test(s) ? Number(s) : s)) ?? [];
}

/** The line of a field path like "rollout.stages[2].weight", else of a `related` path, else of its nearest parent. */
export function withLine(
  issue: InputIssue,
  doc: Document,
  lines: LineCounter,
  related: readonly string[] = [],
): InputIssue {
  const parts = segments(issue.path);
  for (const candidate of [parts, ...related.map(segments)]) {
    const line = lineOf(candidate, doc, lines);
    if (line !== undefined) return { ...issue, line };
  }
  for (let n = parts.length - 1; n > 0; n--) {
    const line = lineOf(parts.slice(0, n), doc, lines);
    if (line !== undefined) return { ...issue, line };
  }
  return issue;
}

/** A problem with a value the chosen environment set points at the environment's line. */
export function locate(
  issue: InputIssue,
  doc: Document,
  lines: LineCounter,
  environment: string | undefined,
): InputIssue {
  if (environment !== undefined && issue.path && environmentSets(doc, environment, issue.path)) {
    return withLine({ ...issue, path: `environments.${pathKey(environment)}.${issue.path}` }, doc, lines);
  }
  return withLine(issue, doc, lines);
}

/** Whether environment `name` writes the field `path` itself. */
export function environmentSets(doc: Document, name: string, path: string): boolean {
  return doc.getIn(['environments', name, ...segments(path)], true) !== undefined;
}

function lineOf(parts: readonly (string | number)[], doc: Document, lines: LineCounter): number | undefined {
  if (parts.length === 0) return undefined;
  // The key's line names the field (and is where an unknown field is); a list item has none.
  const parent = doc.getIn(parts.slice(0, -1), true);
  const last = parts[parts.length - 1];
  if (isMap(parent)) {
    const pair =
      parent.items.find((p) => keyOf(p.key) === last) ??
      (shownDifferently(last) ? parent.items.find((p) => pathKey(String(keyOf(p.key))) === last) : undefined);
    const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (keyRange) return lines.linePos(keyRange[0]).line;
  }
  const node = doc.getIn(parts, true) as { range?: [number, number, number] } | undefined;
  const pos = node && typeof node === 'object' && node.range ? node.range[0] : undefined;
  return pos === undefined ? undefined : lines.linePos(pos).line;
}

function keyOf(key: unknown): unknown {
  return (key as { value?: unknown } | null)?.value;
}

/** A path part that pathKey() escaped or cut: only then compare keys in their shown form. */
function shownDifferently(part: string | number | undefined): part is string {
  return typeof part === 'string' && (part.includes('\\u{') || part.includes('…('));
}

/** Fields whose line tells where a problem reported at `path` comes from, when `path` is not written. */
export function relatedPaths(path: string, data: Readonly<Record<string, unknown>>): string[] {
  const bakes = bakePaths(data.rollout);
  if (path === 'rollout.analysis.stage_deadline_seconds') return bakes;
  if (path === 'rollout.traffic_rps' || path === 'simulation.requests_per_second') {
    return [
      'rollout.analysis.stage_deadline_seconds',
      ...bakes,
      'rollout.analysis.interval_seconds',
      'rollout.stages',
      // A traffic_rps too low for min_samples by the deadline (plan/preflight.ts).
      'rollout.analysis.min_samples',
    ];
  }
  if (path === 'rollout.analysis.interval_seconds') return ['rollout.analysis.stage_deadline_seconds'];
  const cohort = /^simulation\.(baseline|canary)\.latency\.p99_ms$/.exec(path)?.[1];
  if (cohort) {
    const base = 'simulation.baseline.latency';
    return [`simulation.${cohort}.latency.median_ms`, `${base}.p99_ms`, `${base}.median_ms`];
  }
  return [];
}

/** The written bake_seconds of the rollout, longest first: the stage's own, then the default. */
function bakePaths(rollout: unknown): string[] {
  const r = (rollout ?? {}) as { stages?: unknown };
  const stages = Array.isArray(r.stages) ? (r.stages as unknown[]) : [];
  const own = stages
    .map((s, i) => ({ i, bake: (s as { bake_seconds?: unknown } | null)?.bake_seconds }))
    .filter((s): s is { i: number; bake: number } => typeof s.bake === 'number')
    .sort((a, b) => b.bake - a.bake)
    .map((s) => `rollout.stages[${s.i}].bake_seconds`);
  return [...own, 'rollout.bake_seconds'];
}
