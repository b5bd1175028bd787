import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { leaking } from '../src/leak.ts';

describe('REGRESSION=memory-growth', () => {
  test('is read from the environment', () => {
    const env = { VERSION: 'v2', REGION: 'us-west', REGRESSION: 'memory-growth' };
    expect(parseConfig(env)).toMatchObject({ ok: true, config: { regression: 'memory-growth' } });
  });

  test('every API request keeps its bytes for good, up to the cap, probes none, and all are served', () => {
    const served: string[] = [];
    const handler = leaking((req) => void served.push(req.url ?? ''), 1024, 3 * 1024);
    const urls = ['/health', '/metrics', '/api/orders', '/api/orders/1', '/api/orders', '/api/orders/2'];
    for (const url of urls.slice(0, 3)) handler({ url } as IncomingMessage, {} as ServerResponse);
    expect(handler.kept()).toBe(1024);
    for (const url of urls.slice(3)) handler({ url } as IncomingMessage, {} as ServerResponse);
    expect(served).toEqual(urls);
    expect(handler.kept()).toBe(3 * 1024);
  });
});
