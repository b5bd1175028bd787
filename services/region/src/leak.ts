import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

// REGRESSION=memory-growth: a resilience regression written into the code. Every API request
// keeps LEAK_BYTES alive for good (a cache with no eviction), so the process grows with its load:
// clean traffic never sees it, a memory limit does (the process is OOM-killed and restarted).
// Probes and scrapes (/health, /metrics) keep nothing, so an idle candidate stays small.

/** What each request keeps: at 20 requests a second, 10 MiB a second. */
export const LEAK_BYTES = 512 * 1024;
/** Where it stops growing, so a long run cannot take the host down with it. */
export const LEAK_CAP_BYTES = 1024 * 1024 * 1024;

/** The handler, keeping `bytes` (touched, so resident) per API request up to `cap`; `kept` tells how much. */
export function leaking(handler: RequestListener, bytes = LEAK_BYTES, cap = LEAK_CAP_BYTES) {
  const kept: Buffer[] = [];
  let total = 0;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/api/') && total + bytes <= cap) {
      kept.push(Buffer.alloc(bytes, 1));
      total += bytes;
    }
    return handler(req, res);
  };
  return Object.assign(listener, { kept: () => total });
}
