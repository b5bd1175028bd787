import { once } from 'node:events';
import { createServer as createHttpServer, request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import { systemClock, type Clock, type Rng } from '../src/clock.ts';
import type { Route } from '../src/config.ts';
import { createControlServer } from '../src/control.ts';
import { FaultProxy } from '../src/proxy.ts';
import { Toxics } from '../src/toxics.ts';

export { ManualClock } from '../../shared/manual-clock.ts';

/** Listens on 127.0.0.1, an ephemeral port; returns the port. */
export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A port nobody listens on right now. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once check() holds, checked on every turn of the event loop; rejects after deadlineMs. */
export async function until(check: () => boolean, deadlineMs = 3000): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`condition not met within ${deadlineMs} ms: ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Closes the server after the test, its open connections too. */
export function track<S extends Server>(server: S): S {
  closers.push(() => {
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    return new Promise((resolve) => server.close(resolve));
  });
  return server;
}

export interface HttpUpstream {
  port: number;
  /** TCP connections the upstream accepted: a keep-alive pool reuses them. */
  connections: number;
  requests: number;
}

/**
 * Answers `x` * n (?n=) after ms (?ms=) with status ?status=; a POST is answered with its
 * method, path, length and body. Every answer carries X-Upstream-Header.
 */
export async function httpUpstream(): Promise<HttpUpstream> {
  const up: HttpUpstream = { port: 0, connections: 0, requests: 0 };
  const server = track(
    createHttpServer((req, res) => {
      up.requests++;
      const url = new URL(req.url ?? '/', 'http://up');
      const chunks: Buffer[] = [];
      req
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => {
          const body = Buffer.concat(chunks);
          const param = (name: string, fallback: number): number => Number(url.searchParams.get(name) ?? fallback);
          const text =
            req.method === 'GET'
              ? 'x'.repeat(param('n', 2))
              : `${req.method} ${req.url} ${body.length} ${body.toString()}`;
          const answer = (): void => {
            res.writeHead(param('status', 200), 'Fine Indeed', { 'X-Upstream-Header': 'kept' }).end(text);
          };
          setTimeout(answer, param('ms', 0));
        });
    }),
  );
  server.on('connection', () => up.connections++);
  up.port = await listen(server);
  return up;
}

/** A TCP echo server; with greeting, it speaks first (like MySQL or SMTP) and then echoes. */
export async function tcpUpstream(greeting?: string): Promise<number> {
  const server = track(
    createServer((socket) => {
      socket.on('error', () => {});
      if (greeting) socket.write(greeting);
      socket.pipe(socket);
    }),
  );
  return listen(server);
}

export interface Harness {
  toxics: Toxics;
  proxy: FaultProxy;
  control: string;
  /** The proxy's listening port of the route at that index. */
  port(index?: number): number;
}

export interface HarnessOptions {
  rng?: Rng;
  clock?: Clock | undefined;
}

/** The proxy and its control API on 127.0.0.1, ephemeral ports; closed after the test. */
export async function startProxy(
  upstreams: Omit<Route, 'listen_port' | 'upstream_host'>[],
  options: HarnessOptions = {},
): Promise<Harness> {
  const routes = upstreams.map((u) => ({ ...u, listen_port: 0, upstream_host: '127.0.0.1' }));
  const clock = options.clock ?? systemClock;
  const toxics = new Toxics(clock, options.rng ?? Math.random);
  const proxy = new FaultProxy(routes, toxics, { host: '127.0.0.1' });
  await proxy.listen();
  const control = createControlServer({ toxics, clock, routes: () => proxy.routes() });
  const controlPort = await listen(control);
  closers.push(
    () => proxy.close(),
    () => void toxics.liftAll(),
  );
  track(control);
  const port = (i = 0): number => proxy.routes()[i]?.listen_port ?? 0;
  return { toxics, proxy, control: `http://127.0.0.1:${controlPort}`, port };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  statusMessage: string;
  body: string;
  ms: number;
}

/** One HTTP request with node:http (so a test can choose the agent); rejects on a socket error. */
export interface RequestInit {
  method?: string;
  body?: string | Buffer;
  /** Default: a fresh connection per request. */
  agent?: Agent;
}

export function get(url: string, init: RequestInit = {}): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', agent: init.agent ?? false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res
        .on('data', (c: Buffer) => chunks.push(c))
        .on('error', reject)
        .on('end', () => {
          const body = Buffer.concat(chunks).toString();
          const { statusCode: status = 0, statusMessage = '', headers } = res;
          resolve({ status, statusMessage, headers, body, ms: performance.now() - t0 });
        });
    });
    req.on('error', reject).on('timeout', () => req.destroy(new Error('test request timed out')));
    req.end(init.body);
  });
}

/** A raw TCP client collecting what it receives. */
export class TcpClient {
  readonly socket: Socket;
  received = '';
  error: NodeJS.ErrnoException | null = null;
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8').on('data', (d: string) => (this.received += d));
    this.socket.on('error', (err) => (this.error = err));
    // Not events.once: that rejects on 'error', and a reset is often what a test waits for.
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /** Resolves (with the time it took) once the text received so far includes text; rejects on close. */
  receive(text: string, deadlineMs = 3000): Promise<number> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const settle = (err?: Error): void => {
        clearTimeout(timer);
        this.socket.off('data', onData).off('close', onClose);
        if (err) reject(err);
        else resolve(performance.now() - t0);
      };
      // Registered after the constructor's listener, so received already holds the chunk.
      const onData = (): void => {
        if (this.received.includes(text)) settle();
      };
      const wanted = JSON.stringify(text);
      const onClose = (): void => settle(new Error(`closed before ${wanted} (${this.error?.code ?? 'no error'})`));
      const timer = setTimeout(() => settle(new Error(`no ${wanted} within ${deadlineMs} ms`)), deadlineMs);
      this.socket.on('data', onData).on('close', onClose);
      if (this.received.includes(text)) settle();
      else if (this.socket.destroyed) onClose();
    });
  }
}
