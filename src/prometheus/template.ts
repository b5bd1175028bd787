import type { InputIssue } from '../util/errors.ts';

// Metric templates in PromQL, Flagger's MetricTemplate in spirit: a query with placeholders
// that a check resolves for the region and version under judgement. Values are inserted as
// the contents of a double-quoted PromQL string, so they are escaped for that context; a
// label value can never end the string and inject PromQL.

// slot: "canary" while a canary is judged, "stable" in the pre-flight. A user's service does not
// label its series with our version, so its checks select the container by region and slot
// (labels its Prometheus targets carry: stack/service-compose.ts); the demo's prometheus.yml
// sets slot too.
export const PLACEHOLDERS = ['region', 'version', 'interval', 'canary_version', 'baseline_version', 'slot'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type TemplateValues = Record<Placeholder, string>;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Escapes a value for the inside of a PromQL double-quoted string. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Placeholders a template uses that we do not know, as input issues (for config validation). */
export function unknownPlaceholders(template: string, source: string, path: string): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? '';
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      issues.push({
        source,
        path,
        rule: `unknown placeholder {{ ${name} }} (known: ${PLACEHOLDERS.map((p) => `{{ ${p} }}`).join(', ')})`,
      });
    }
  }
  return issues;
}

/** `interval` is a PromQL duration and goes in unquoted, so it must be one. */
export const DURATION = /^\d+(ms|s|m|h)$/;

export function render(template: string, values: TemplateValues): string {
  if (!DURATION.test(values.interval))
    throw new RangeError(`interval ${JSON.stringify(values.interval)} is not a PromQL duration`);
  return template.replace(PLACEHOLDER, (_all, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) throw new RangeError(`unknown placeholder {{ ${name} }}`);
    return name === 'interval' ? values.interval : escapeLabelValue(values[name as Placeholder]);
  });
}

/** Built-in templates, shipped with the project. No traffic gives an empty result or NaN: "no data". */
export const BUILTIN_TEMPLATES: Readonly<Record<string, string>> = {
  // Errors come from service_errors_total, which the service initialises at 0: a status="503"
  // series of http_requests_total only appears with the first error, and rate() needs two
  // samples of a series, so a ratio built on it reads 0 errors for the first scrapes of a
  // failing canary. No requests at all (empty denominator) is still no data.
  error_rate:
    'sum(rate(service_errors_total{region="{{ region }}",version="{{ version }}"}[{{ interval }}]))' +
    ' / sum(rate(http_requests_total{region="{{ region }}",version="{{ version }}",route!="/metrics"}' +
    '[{{ interval }}]))',
  latency_p50_seconds: quantile(0.5),
  latency_p95_seconds: quantile(0.95),
  latency_p99_seconds: quantile(0.99),
  request_rate:
    'sum(rate(http_requests_total{region="{{ region }}",version="{{ version }}",route!="/metrics"}[{{ interval }}]))',
};

function quantile(q: number): string {
  return (
    `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket` +
    `{region="{{ region }}",version="{{ version }}",route!="/metrics"}[{{ interval }}])))`
  );
}
