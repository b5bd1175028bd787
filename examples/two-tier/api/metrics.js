// Prometheus metrics written by hand, with the names and labels prom-client users usually
// have (http_requests_total, http_request_duration_seconds with prom-client's default
// buckets, process_start_time_seconds), so the example needs no dependency.
//
// Like prom-client, a series appears with its first observation: there is no
// status_code="500" series until the first 500.

/** prom-client's default histogram buckets, in seconds. */
export const DEFAULT_BUCKETS = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The process's start, as prom-client computes it. */
const PROCESS_START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/** Escapes a label value for the text format: backslash, double quote and newline. */
function escapeLabel(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels) {
  return Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
}

export function createMetrics({ buckets = DEFAULT_BUCKETS } = {}) {
  /** `method route status` -> its counter and histogram. */
  const series = new Map();

  return {
    contentType: CONTENT_TYPE,

    /** One answered request. `route` is the route template ("/api/entries/:id"), never the raw path. */
    observe(method, route, statusCode, seconds) {
      const key = `${method} ${route} ${statusCode}`;
      let s = series.get(key);
      if (!s) {
        s = { labels: { method, route, status_code: String(statusCode) }, count: 0, sum: 0, buckets: buckets.map(() => 0) };
        series.set(key, s);
      }
      s.count += 1;
      s.sum += seconds;
      for (let i = 0; i < buckets.length; i++) if (seconds <= buckets[i]) s.buckets[i] += 1;
    },

    /** The exposition text (format 0.0.4). */
    render() {
      const lines = [
        '# HELP http_requests_total Total number of HTTP requests.',
        '# TYPE http_requests_total counter',
      ];
      for (const s of series.values()) lines.push(`http_requests_total{${labelText(s.labels)}} ${s.count}`);
      lines.push(
        '# HELP http_request_duration_seconds Duration of HTTP requests in seconds.',
        '# TYPE http_request_duration_seconds histogram',
      );
      for (const s of series.values()) {
        const labels = labelText(s.labels);
        buckets.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{le="${le}",${labels}} ${s.buckets[i]}`));
        lines.push(`http_request_duration_seconds_bucket{le="+Inf",${labels}} ${s.count}`);
        lines.push(`http_request_duration_seconds_sum{${labels}} ${s.sum}`);
        lines.push(`http_request_duration_seconds_count{${labels}} ${s.count}`);
      }
      lines.push(
        '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
        '# TYPE process_start_time_seconds gauge',
        `process_start_time_seconds ${PROCESS_START_SECONDS}`,
      );
      return lines.join('\n') + '\n';
    },
  };
}
