import { z } from 'zod';
import { BUILTIN_TEMPLATES, DURATION, unknownPlaceholders } from './template.ts';
import type { CheckSpec } from './checks.ts';
import { METRIC_PRESETS, type MetricNames } from './service-templates.ts';
import { quote } from '../util/shown.ts';
import { UsageError } from '../util/errors.ts';
import { zodIssues } from '../util/issues.ts';
import { MAX_SHOWN_CHARS } from '../util/limits.ts';
import { deepFreeze } from '../util/freeze.ts';

// The `prometheus:` section: checks judged from what the stack's own Prometheus sees,
// alongside the synthetic traffic (rollout.analysis.sources picks which judge). Every field
// and its default: README.md, "Configuration reference". retries covers transport failures
// only (a bad query is final); on_no_data: wait makes no data inconclusive, never a pass.
//
// Placeholders: {{ region }}, {{ version }} (the version judged: the canary's),
// {{ canary_version }}, {{ baseline_version }}, {{ interval }}, {{ slot }} (canary or stable).
//
// url names this machine (localhost, 127.0.0.0/8, [::1]) or the stack's own Prometheus
// service unless allow_remote is true: the gate runs in CI, often beside internal services,
// and a configuration file from a pull request must not be able to send its requests there.

const noData = z.enum(['wait', 'ignore']);

const checkSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1 to 63 of letters, digits, ".", "_" or "-"'),
    template: z.enum(Object.keys(BUILTIN_TEMPLATES) as [string, ...string[]]).optional(),
    query: z.string().min(1, 'must not be empty').max(4000, 'must be at most 4000 characters').optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    on_no_data: noData.optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.template === undefined) === (c.query === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give exactly one of template (a built-in) or query (your PromQL)',
      });
    if (c.min === undefined && c.max === undefined)
      ctx.addIssue({ code: 'custom', path: [], message: 'give min, max or both: the range the value must stay in' });
    if (c.min !== undefined && c.max !== undefined && c.min > c.max)
      ctx.addIssue({ code: 'custom', path: ['min'], message: `must not be greater than max (${c.max})` });
  });

/** The stack's Compose service names a Prometheus URL may use (from inside the stack's network). */
const STACK_HOSTS: readonly string[] = ['prometheus'];

/** Whether a URL's hostname (as new URL() writes it) is this machine or the stack's Prometheus. */
export function isLocalHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return (
    h === 'localhost' ||
    h === '[::1]' ||
    STACK_HOSTS.includes(h) ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(h)
  );
}

function remoteRule(hostname: string): string {
  return (
    "must point at this machine (localhost, 127.0.0.0/8, [::1]) or the stack's Prometheus " +
    `(${STACK_HOSTS.join(', ')}), got host ${quote(hostname, MAX_SHOWN_CHARS)}: a gate in CI must not be ` +
    'steered into other networks by a configuration file; ' +
    'set prometheus.allow_remote: true to query a Prometheus elsewhere'
  );
}

/** The hostname of an http(s) URL; undefined for anything else (the url rule refuses that). */
function hostnameOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.hostname : undefined;
  } catch {
    return undefined;
  }
}

const promName = (what: string, pattern: RegExp) =>
  z.string().regex(pattern, `must be a Prometheus ${what} name`).optional();
const metricsSchema = z.strictObject({
  preset: z.enum(['prom-client', 'micrometer']).default('prom-client'),
  requests_metric: promName('metric', /^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/),
  duration_metric: promName('metric', /^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/),
  status_label: promName('label', /^[a-zA-Z_][a-zA-Z0-9_]{0,199}$/),
});

export const prometheusSchema = z
  .strictObject({
    metrics: metricsSchema.default({ preset: 'prom-client' }),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    allow_remote: z.boolean().default(false),
    timeout_ms: z
      .number()
      .int('must be a whole number')
      .min(100, 'must be at least 100')
      .max(60_000, 'must be at most 60000')
      .default(2000),
    retries: z
      .number()
      .int('must be a whole number')
      .min(0, 'must be 0 or more')
      .max(10, 'must be at most 10')
      .default(2),
    interval: z.string().regex(DURATION, 'must be a PromQL duration such as 10s or 1m').default('10s'),
    on_no_data: noData.default('wait'),
    preflight_seconds: z.number().gt(0, 'must be greater than 0').max(600, 'must be at most 600').default(20),
    checks: z
      .array(checkSchema)
      .max(50, 'must list at most 50 checks (each is a query to Prometheus at every analysis)')
      .default([
        { name: 'error-rate', template: 'error_rate', max: 0.05 },
        { name: 'latency-p99', template: 'latency_p99_seconds', max: 0.5 },
      ]),
  })
  .superRefine((p, ctx) => {
    const host = p.url === undefined || p.allow_remote ? undefined : hostnameOf(p.url);
    if (host !== undefined && !isLocalHost(host)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: remoteRule(host) });
    }
  });

export interface PrometheusPlan {
  /** undefined: the stack's own Prometheus. */
  url: string | undefined;
  timeoutMs: number;
  retries: number;
  interval: string;
  preflightSeconds: number;
  checks: readonly CheckSpec[];
  /** A user's service's metric names for the built-in checks (prometheus.metrics). */
  metrics: MetricNames;
}

export function toPrometheusPlan(input: unknown, source: string): PrometheusPlan {
  const parsed = prometheusSchema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new UsageError(zodIssues(parsed.error, source, 'prometheus'));
  const p = parsed.data;
  const names = new Set<string>();
  const issues = p.checks.flatMap((c, i) => {
    const dup = names.has(c.name)
      ? [{ source, path: `prometheus.checks[${i}].name`, rule: `duplicate check name "${c.name}"` }]
      : [];
    names.add(c.name);
    return [...dup, ...(c.query ? unknownPlaceholders(c.query, source, `prometheus.checks[${i}].query`) : [])];
  });
  if (issues.length > 0) throw new UsageError(issues);
  return deepFreeze({
    url: p.url,
    timeoutMs: p.timeout_ms,
    retries: p.retries,
    interval: p.interval,
    preflightSeconds: p.preflight_seconds,
    metrics: metricNames(p.metrics),
    checks: p.checks.map((c): CheckSpec => ({
      name: c.name,
      template: c.query ?? BUILTIN_TEMPLATES[c.template as string] ?? '',
      ...(c.template === undefined ? {} : { builtin: c.template }),
      ...(c.min === undefined ? {} : { min: c.min }),
      ...(c.max === undefined ? {} : { max: c.max }),
      onNoData: c.on_no_data ?? p.on_no_data,
    })),
  });
}

function metricNames(m: z.infer<typeof metricsSchema>): MetricNames {
  const preset = METRIC_PRESETS[m.preset];
  return {
    requestsMetric: m.requests_metric ?? preset.requestsMetric,
    durationMetric: m.duration_metric ?? preset.durationMetric,
    statusLabel: m.status_label ?? preset.statusLabel,
  };
}
