import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { parseQueryResponse, type QueryOutcome } from './response.ts';

// Prometheus's HTTP API over undici: an instant query with a time-out per attempt and a
// bounded number of retries for transport failures (Prometheus restarting, a slow answer).
// Query errors Prometheus itself reports (a typo) are answers, not retried.

export interface PrometheusClientOptions {
  url: string;
  timeoutMs: number;
  retries: number;
  retryDelayMs?: number;
}

export async function instantQuery(options: PrometheusClientOptions, query: string): Promise<QueryOutcome> {
  const url = `${options.url.replace(/\/$/, '')}/api/v1/query`;
  let lastFailure = '';
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) await sleep(options.retryDelayMs ?? 250);
    try {
      const res = await request(url, {
        method: 'POST',
        body: new URLSearchParams({ query }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await res.body.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        lastFailure = `HTTP ${res.statusCode}, not JSON: ${text.slice(0, 120)}`;
        if (res.statusCode >= 500) continue;
        return { kind: 'error', errorType: 'bad_response', message: lastFailure };
      }
      // 400/422 carry Prometheus's own error (bad query): final. 5xx: try again.
      if (res.statusCode >= 500 && attempt < options.retries) {
        lastFailure = `HTTP ${res.statusCode}`;
        continue;
      }
      return parseQueryResponse(body);
    } catch (e) {
      lastFailure = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }
  return {
    kind: 'error',
    errorType: 'unreachable',
    message: `Prometheus at ${options.url} did not answer after ${options.retries + 1} attempt(s): ${lastFailure}`,
  };
}
