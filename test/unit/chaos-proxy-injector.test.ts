import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { proxyInjection } from '../../src/chaos/injectors/proxy.ts';
import type { InjectorContext, TargetContainer } from '../../src/chaos/injectors/injector.ts';
import type { ContainerControl } from '../../src/stack/docker-control.ts';

// The proxy injector against a stand-in of the fault proxy's control API on loopback: one
// fault per proxy (a region's two sides share it), its expiry past the planned end, read
// back before it counts as injected, lifted on revert.

interface FakeProxy {
  url: string;
  calls: string[];
  toxics: Map<string, object>;
  server: Server;
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function fakeProxy(options: { listsNothing?: boolean; http?: boolean } = {}): Promise<FakeProxy> {
  const proxy = { calls: [] as string[], toxics: new Map<string, object>() } as FakeProxy;
  let next = 1;
  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = '';
      req
        .on('data', (d: Buffer) => {
          text += d.toString();
        })
        .on('end', () => resolve(text));
    });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a fake: an error in it is an unhandled rejection, which fails the run
  proxy.server = createServer(async (req, res) => {
    const text = await body(req);
    proxy.calls.push(`${req.method} ${req.url}${text ? ` ${text}` : ''}`);
    const send = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (req.method === 'POST') {
      const toxic = { ...JSON.parse(text), id: next++, affected: 0 };
      proxy.toxics.set(String(toxic.id), toxic);
      return send(201, toxic);
    }
    if (req.method === 'GET' && req.url === '/routes')
      return send(200, { routes: [{ name: 'worker', connections: 4, requests: options.http === false ? 0 : 9 }] });
    if (req.method === 'GET') return send(200, { toxics: options.listsNothing ? [] : [...proxy.toxics.values()] });
    const id = (req.url ?? '').split('/').pop() ?? '';
    const toxic = proxy.toxics.get(id);
    proxy.toxics.delete(id);
    return toxic ? send(200, { ...toxic, affected: 7 }) : send(404, { error: 'no such toxic' });
  });
  servers.push(proxy.server);
  await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
  proxy.url = `http://127.0.0.1:${(proxy.server.address() as { port: number }).port}`;
  return proxy;
}

const target = (region: string) => ({ region }) as TargetContainer;
const fault = {
  kind: 'dependency' as const,
  service: 'worker',
  mode: 'latency' as const,
  durationSeconds: 5,
  delayMs: 300,
  jitterMs: 0,
};

function context(targets: TargetContainer[], urls: Record<string, string | undefined>): InjectorContext {
  return {
    control: {} as ContainerControl,
    token: '',
    targets,
    facts: async () => undefined,
    dependency: async () => undefined,
    proxyUrl: (region) => urls[region.split('/')[0] ?? ''],
  };
}

describe('proxyInjection', () => {
  test('one fault per proxy, expiring 5 s after its planned end; lifted on revert', async () => {
    const west = await fakeProxy();
    const east = await fakeProxy();
    const injection = proxyInjection(
      fault,
      context([target('us-west'), target('us-west/canary'), target('us-east')], {
        'us-west': west.url,
        'us-east': east.url,
      }),
    );
    expect(await injection.guard()).toEqual([]);
    const outcome = await injection.inject();
    expect(outcome).toEqual({
      method: 'fault-proxy-latency',
      notes: ['300 ms slower on the way from us-west to worker', '300 ms slower on the way from us-east to worker'],
    });
    expect(west.calls).toEqual([
      'POST /toxics {"route":"worker","kind":"latency","duration_ms":10000,"delay_ms":300,"jitter_ms":0}',
      'GET /toxics',
    ]);
    await injection.revert();
    await injection.revert();
    expect(west.calls.slice(2)).toEqual(['DELETE /toxics/1']);
    // What each proxy counted when lifted: the fault met calls, whatever the traffic showed.
    expect(injection.evidence?.()).toBe('the fault proxy acted on 14 call(s) to worker');
    expect([west.toxics.size, east.toxics.size]).toEqual([0, 0]);
  });

  test.each([
    [
      true,
      'fault-proxy-http_error',
      '{"route":"worker","kind":"http_error","duration_ms":13000,"status":503,"share":0.5}',
    ],
    [false, 'fault-proxy-reset', '{"route":"worker","kind":"reset","duration_ms":13000,"share":0.5}'],
  ])('errors: a 503 where the way has carried HTTP (%s), else a reset', async (http, method, body) => {
    const west = await fakeProxy({ http });
    const errors = {
      kind: 'dependency' as const,
      service: 'worker',
      mode: 'errors' as const,
      durationSeconds: 8,
      share: 0.5,
    };
    const injection = proxyInjection(errors, context([target('us-west')], { 'us-west': west.url }));
    expect((await injection.inject()).method).toBe(method);
    expect(west.calls[1]).toBe(`POST /toxics ${body}`);
    await injection.revert();
  });

  test('a fault the proxy accepted but does not list is not in place', async () => {
    const west = await fakeProxy({ listsNothing: true });
    const injection = proxyInjection(fault, context([target('us-west')], { 'us-west': west.url }));
    await expect(injection.inject()).rejects.toThrow(
      'the fault proxy of us-west does not list the latency fault it accepted',
    );
    await injection.revert();
    expect(west.toxics.size).toBe(0);
  });

  test('a stack without proxies cannot take the fault, and says why', async () => {
    const injection = proxyInjection(fault, context([target('us-west')], {}));
    await expect(injection.inject()).rejects.toThrow(
      'mode latency needs the fault proxy between us-west and its dependencies',
    );
  });

  test('a proxy that does not answer fails the injection', async () => {
    const injection = proxyInjection(fault, context([target('us-west')], { 'us-west': 'http://127.0.0.1:9' }));
    await expect(injection.inject()).rejects.toThrow();
  });
});
