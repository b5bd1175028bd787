// The built-in checks for a user's service, on its own metric names. Its series carry no
// version of ours: they are selected by the region and slot labels of its Prometheus target.
// Presets name the defaults of the two common clients; each name can be set on its own.
//   prom-client (Node, with the usual HTTP middleware): http_requests_total and
//     http_request_duration_seconds, status in `status_code`;
//   Micrometer (Spring Boot): http_server_requests_seconds (_count, _bucket), status in `status`.

export interface MetricNames {
  /** A counter of requests, with the status as a label. */
  requestsMetric: string;
  /** A histogram of request durations in seconds (its _bucket series). */
  durationMetric: string;
  statusLabel: string;
}

export const METRIC_PRESETS: Readonly<Record<'prom-client' | 'micrometer', MetricNames>> = {
  'prom-client': {
    requestsMetric: 'http_requests_total',
    durationMetric: 'http_request_duration_seconds',
    statusLabel: 'status_code',
  },
  micrometer: {
    requestsMetric: 'http_server_requests_seconds_count',
    durationMetric: 'http_server_requests_seconds',
    statusLabel: 'status',
  },
};

const SELECTOR = 'region="{{ region }}",slot="{{ slot }}"';

/**
 * The same names as BUILTIN_TEMPLATES (template.ts). A 5xx series appears only with the first
 * 5xx, so its absence is 0 errors (`or vector(0)`); no requests at all is still no data.
 */
export function serviceTemplates(names: MetricNames): Readonly<Record<string, string>> {
  const requests = (extra: string) => `sum(rate(${names.requestsMetric}{${SELECTOR}${extra}}[{{ interval }}]))`;
  const quantile = (q: number) =>
    `histogram_quantile(${q}, sum by (le) (rate(${names.durationMetric}_bucket{${SELECTOR}}[{{ interval }}])))`;
  return {
    error_rate: `(${requests(`,${names.statusLabel}=~"5.."`)} or vector(0)) / ${requests('')}`,
    latency_p50_seconds: quantile(0.5),
    latency_p95_seconds: quantile(0.95),
    latency_p99_seconds: quantile(0.99),
    request_rate: requests(''),
  };
}
