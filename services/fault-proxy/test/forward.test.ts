import { Agent, createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { deadPort, get, httpUpstream, listen, startProxy, tcpUpstream, TcpClient, track } from './helpers.ts';

// No toxic: the proxy must be invisible, whatever the protocol.

const agents: Agent[] = [];
afterEach(() => {
  for (const a of agents.splice(0)) a.destroy();
});
function keepAlive(): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

describe('transparent HTTP', () => {
  test('keeps status, reason, headers and body, and streams a large POST body', async () => {
    const up = await httpUpstream();
    const h = await startProxy([{ name: 'api', upstream_port: up.port }]);
    const res = await get(`http://127.0.0.1:${h.port()}/hello?status=201&n=5`);
    const seen = [res.status, res.statusMessage, res.headers['x-upstream-header'], res.body];
    expect(seen).toEqual([201, 'Fine Indeed', 'kept', 'xxxxx']);
    const big = Buffer.alloc(1024 * 1024, 'b');
    const posted = await get(`http://127.0.0.1:${h.port()}/orders`, { method: 'POST', body: big });
    expect(posted.body).toBe(`POST /orders ${big.length} ${big.toString()}`);
  });

  test('keeps one client connection alive and pools the upstream one', async () => {
    const up = await httpUpstream();
    const h = await startProxy([{ name: 'api', upstream_port: up.port }]);
    const agent = keepAlive();
    for (let i = 0; i < 5; i++) {
      const put = i % 2 === 1;
      const init = { agent, method: put ? 'PUT' : 'GET', ...(put ? { body: `body ${i}` } : {}) };
      const res = await get(`http://127.0.0.1:${h.port()}/?n=${i}`, init);
      expect(res.body).toBe(put ? `PUT /?n=${i} 6 body ${i}` : 'x'.repeat(i));
    }
    expect(h.proxy.routes()[0]).toMatchObject({ connections: 1, requests: 5, errors_upstream: 0 });
    expect(up.connections).toBe(1);
  });

  test('answers 502 with x-chaos-gate-proxy when the upstream is unreachable, and counts it', async () => {
    const h = await startProxy([{ name: 'api', upstream_port: await deadPort() }]);
    const res = await get(`http://127.0.0.1:${h.port()}/`);
    expect([res.status, res.headers['x-chaos-gate-proxy']]).toEqual([502, 'upstream unreachable']);
    expect(res.body).toMatch(/"error":"upstream 127\.0\.0\.1:\d+ unreachable: ECONNREFUSED"/);
    expect(h.proxy.routes()[0]).toMatchObject({ connections: 1, requests: 1, errors_upstream: 1 });
  });

  test('a dependency with several ports: each route goes to its own upstream', async () => {
    const [a, b] = [await httpUpstream(), await httpUpstream()];
    const h = await startProxy([
      { name: 'api', upstream_port: a.port },
      { name: 'api', upstream_port: b.port },
    ]);
    await get(`http://127.0.0.1:${h.port(0)}/`);
    await get(`http://127.0.0.1:${h.port(1)}/`);
    await get(`http://127.0.0.1:${h.port(1)}/`);
    expect([a.requests, b.requests]).toEqual([1, 2]);
  });
});

describe('HTTP upgrade (WebSocket)', () => {
  test('passes the handshake on, then pipes bytes both ways; a reset toxic reaches the open link', async () => {
    const upstream = track(createServer());
    upstream.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      const head = ['HTTP/1.1 101 Switching Protocols', `Upgrade: ${req.headers.upgrade}`, 'Connection: Upgrade'];
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      socket.pipe(socket);
    });
    const h = await startProxy([{ name: 'ws', upstream_port: await listen(upstream) }]);
    const client = new TcpClient(h.port());
    client.socket.write('GET /chat HTTP/1.1\r\nHost: ws\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    await client.receive('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo');
    client.socket.write('frame-1');
    await client.receive('frame-1');
    const toxic = h.toxics.add({ route: 'ws', kind: 'reset', share: 1, duration_ms: 60_000 });
    await client.closed;
    expect([client.error?.code, toxic.affected, h.proxy.routes()[0]?.requests]).toEqual(['ECONNRESET', 1, 1]);
  });
});

describe('transparent TCP', () => {
  test('pipes a client-speaks-first protocol both ways at once', async () => {
    const h = await startProxy([{ name: 'db', upstream_port: await tcpUpstream() }]);
    const client = new TcpClient(h.port());
    client.socket.write('\u0000\u0000\u0000\u0008startup');
    await client.receive('startup');
    client.socket.write('PING\r\n');
    await client.receive('PING\r\n');
    client.socket.end();
    await client.closed;
    expect(h.proxy.routes()[0]).toMatchObject({ connections: 1, requests: 0, errors_upstream: 0 });
  });

  test('connects a silent client to a server that speaks first (MySQL, SMTP)', async () => {
    const h = await startProxy([{ name: 'mail', upstream_port: await tcpUpstream('220 ready\r\n') }]);
    const client = new TcpClient(h.port());
    await client.receive('220 ready\r\n');
    client.socket.write('HELO me\r\n');
    await client.receive('HELO me\r\n');
    expect(client.received).toBe('220 ready\r\nHELO me\r\n');
  });

  test('an HTTP request line split over two writes is still HTTP', async () => {
    const up = await httpUpstream();
    const h = await startProxy([{ name: 'api', upstream_port: up.port }]);
    const client = new TcpClient(h.port());
    client.socket.write('GE');
    await new Promise((resolve) => setImmediate(resolve));
    client.socket.write('T /?n=3 HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.receive('xxx');
    expect(h.proxy.routes()[0]?.requests).toBe(1);
  });

  test('resets the client when the upstream cannot be reached, and counts it', async () => {
    const h = await startProxy([{ name: 'db', upstream_port: await deadPort() }]);
    const client = new TcpClient(h.port());
    client.socket.write('hello');
    await client.closed;
    expect(client.error?.code).toBe('ECONNRESET');
    expect(h.proxy.routes()[0]).toMatchObject({ connections: 1, errors_upstream: 1 });
  });
});
