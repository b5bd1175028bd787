import { request } from 'undici';

// HTTP probes of a region: what version it says it runs, and whether /health passes.

export interface RegionInfo {
  status: string;
  version: string;
  region: string;
  failureRate?: number;
}

export async function fetchJson(
  url: string,
  timeoutMs: number,
): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = await res.body.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.statusCode, body };
  } catch {
    return undefined;
  }
}

export async function probeInfo(baseUrl: string, path = '/', timeoutMs = 2000): Promise<RegionInfo | undefined> {
  const res = await fetchJson(baseUrl + path, timeoutMs);
  if (!res || res.status !== 200 || typeof res.body !== 'object' || res.body === null) return undefined;
  const b = res.body as Record<string, unknown>;
  if (typeof b.version !== 'string' || typeof b.region !== 'string') return undefined;
  return {
    status: typeof b.status === 'string' || typeof b.status === 'number' ? String(b.status) : '',
    version: b.version,
    region: b.region,
    ...(typeof b.failure_rate === 'number' ? { failureRate: b.failure_rate } : {}),
  };
}

export async function probeHealth(baseUrl: string, path = '/health', timeoutMs = 2000): Promise<boolean> {
  const res = await fetchJson(baseUrl + path, timeoutMs);
  return res?.status === 200;
}
