// POST /toxics body -> ToxicSpec, with the field and the rule named in every refusal. Pure.

export const KINDS = ['latency', 'http_error', 'reset', 'timeout', 'bandwidth'] as const;
export type ToxicKind = (typeof KINDS)[number];

interface Common {
  route: string;
  duration_ms: number;
}
export type ToxicSpec = Common &
  (
    | { kind: 'latency'; delay_ms: number; jitter_ms: number }
    | { kind: 'http_error'; status: number; share: number; first_n?: number }
    | { kind: 'reset'; share: number }
    | { kind: 'timeout'; share: number }
    | { kind: 'bandwidth'; rate_kbps: number }
  );

export type SpecResult = { ok: true; spec: ToxicSpec } | { ok: false; error: string };

interface Rule {
  min: number;
  max: number;
  integer: boolean;
  /** Used when the field is absent; undefined with optional: the field stays absent. */
  default?: number;
  optional?: boolean;
}

export const MAX_DURATION_MS = 600_000;
const SHARE: Rule = { min: 0, max: 1, integer: false, default: 1 };
const RULES: Record<ToxicKind, Record<string, Rule>> = {
  latency: {
    delay_ms: { min: 0, max: 60_000, integer: true },
    jitter_ms: { min: 0, max: 60_000, integer: true, default: 0 },
  },
  http_error: {
    status: { min: 500, max: 599, integer: true, default: 503 },
    share: SHARE,
    first_n: { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true, optional: true },
  },
  reset: { share: SHARE },
  timeout: { share: SHARE },
  bandwidth: { rate_kbps: { min: 1, max: 1_000_000, integer: true } },
};
const DURATION: Rule = { min: 1, max: MAX_DURATION_MS, integer: true };

function isKind(value: unknown): value is ToxicKind {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}

function describe(rule: Rule): string {
  const what = rule.integer ? 'an integer' : 'a number';
  if (rule.max === Number.MAX_SAFE_INTEGER) return `${what} of at least ${rule.min}`;
  return `${what} between ${rule.min} and ${rule.max}`;
}

/** The value of one numeric field, or the refusal naming it. */
function field(body: Record<string, unknown>, key: string, rule: Rule): number | undefined | { error: string } {
  const v = body[key];
  if (v === undefined && (rule.default !== undefined || rule.optional)) return rule.default;
  if (v === undefined) return { error: `"${key}" is required: ${describe(rule)}` };
  const inRange = typeof v === 'number' && Number.isFinite(v) && v >= rule.min && v <= rule.max;
  return inRange && (!rule.integer || Number.isInteger(v)) ? v : { error: `"${key}" must be ${describe(rule)}` };
}

/** Validates a POST /toxics body against the proxy's route names. */
export function parseToxicSpec(body: unknown, routeNames: readonly string[]): SpecResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'body must be a JSON object' };
  }
  const b = body as Record<string, unknown>;
  if (!isKind(b.kind)) return { ok: false, error: `"kind" must be one of ${KINDS.join(', ')}` };
  const names = [...new Set(routeNames)];
  if (typeof b.route !== 'string' || !names.includes(b.route)) {
    return { ok: false, error: `"route" must be the name of a route: one of ${names.join(', ')}` };
  }
  const rules: Record<string, Rule> = { duration_ms: DURATION, ...RULES[b.kind] };
  // Unknown fields are refused so a misspelt parameter is not silently ignored.
  for (const key of Object.keys(b)) {
    if (key !== 'kind' && key !== 'route' && !Object.hasOwn(rules, key)) {
      const fields = Object.keys(rules).join(', ');
      return { ok: false, error: `"${key}" is not a field of a ${b.kind} toxic (fields: ${fields})` };
    }
  }
  const spec: Record<string, unknown> = { route: b.route, kind: b.kind };
  for (const [key, rule] of Object.entries(rules)) {
    const v = field(b, key, rule);
    if (typeof v === 'object') return { ok: false, error: v.error };
    if (v !== undefined) spec[key] = v;
  }
  return { ok: true, spec: spec as unknown as ToxicSpec };
}
