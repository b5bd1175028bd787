import { Agent, STATUS_CODES, createServer, request } from 'node:http';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { TcpLink } from './forward-tcp.ts';
import type { RouteContext } from './route.ts';
import { Shaper } from './shaper.ts';

// HTTP/1.x to the route's upstream, request by request, so faults can act on one request
// (http_error, reset, timeout) while the connection to the client stays the client's.

// Per hop, not per message: the proxy manages its own connections on both sides. A request's
// Transfer-Encoding stays, so Node frames its body as announced (a chunked DELETE too); an
// answer's goes, so Node frames it for this client (an HTTP/1.0 client gets no chunks).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);
const HOP_BY_HOP_ANSWER = new Set([...HOP_BY_HOP, 'transfer-encoding']);
export const INJECTED_BODY = JSON.stringify({ error: 'injected by chaos-gate fault proxy' });

export interface HttpForwarder {
  /** Not listening: accepted, sniffed sockets are handed to it with emit('connection'). */
  server: Server;
  agent: Agent;
}

export function createHttpForwarder(ctx: RouteContext): HttpForwarder {
  const agent = new Agent({ keepAlive: true });
  // Longer than the idle time of most clients' pools, so a client rarely reuses a connection we just closed.
  const options = { keepAliveTimeout: 65_000, requestTimeout: 0 };
  const server = createServer(options, (req, res) => onRequest(ctx, agent, req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => onUpgrade(ctx, req, socket, head));
  return { server, agent };
}

/** rawHeaders (names as the client spelt them) without the hop-by-hop ones. */
function endToEnd(raw: string[], hopByHop = HOP_BY_HOP): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!hopByHop.has((raw[i] as string).toLowerCase())) out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function onRequest(ctx: RouteContext, agent: Agent, req: IncomingMessage, res: ServerResponse): void {
  ctx.stats.requests++;
  const verdict = ctx.toxics.verdict(ctx.route.name, 'http');
  if (verdict.action === 'reset') return void req.socket.resetAndDestroy();
  if (verdict.action === 'timeout') return ctx.holds.hold(verdict.toxic, req.socket);
  if (verdict.action === 'http_error') {
    req.resume();
    const { spec } = verdict.toxic;
    return answerLater(ctx, res, () => injectError(res, spec.kind === 'http_error' ? spec.status : 503));
  }
  forward(ctx, agent, req, res);
}

function injectError(res: ServerResponse, status: number): void {
  const headers = { 'content-type': 'application/json', 'x-chaos-gate-fault': 'http_error' };
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(INJECTED_BODY) }).end(INJECTED_BODY);
}

/** Runs answer after the route's latency, with its bandwidth; nothing if the client left meanwhile. */
function answerLater(ctx: RouteContext, res: ServerResponse, answer: (rateKbps: number | null) => void): void {
  const { delayMs, rateKbps } = ctx.toxics.shaping(ctx.route.name);
  const run = (): void => {
    if (!res.destroyed) answer(rateKbps);
  };
  if (delayMs > 0) ctx.clock.setTimer(delayMs, run);
  else run();
}

function forward(ctx: RouteContext, agent: Agent, req: IncomingMessage, res: ServerResponse): void {
  const { upstream_host: host, upstream_port: port } = ctx.route;
  let clientGone = false;
  let upstream: ClientRequest;
  const send = (retry: boolean): void => {
    const headers = endToEnd(req.rawHeaders);
    upstream = request({ host, port, agent, method: req.method, path: req.url, headers, setHost: !req.headers.host });
    upstream.on('response', (answer) => respond(ctx, answer, res, () => clientGone));
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (clientGone) return;
      // A pooled connection the upstream closed while idle: safe to try once more when no body was sent.
      const stale = upstream.reusedSocket && err.code === 'ECONNRESET';
      if (retry && stale && !hasBody(req) && !res.headersSent) return send(false);
      ctx.stats.errors_upstream++;
      if (res.headersSent) return void res.destroy();
      const body = JSON.stringify({ error: `upstream ${host}:${port} unreachable: ${err.code ?? err.message}` });
      const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      res.writeHead(502, { ...headers, 'x-chaos-gate-proxy': 'upstream unreachable' }).end(body);
    });
    if (hasBody(req)) req.pipe(upstream);
    else upstream.end();
  };
  res.once('close', () => {
    clientGone = !res.writableFinished;
    if (clientGone) upstream.destroy();
  });
  send(true);
}

function respond(ctx: RouteContext, answer: IncomingMessage, res: ServerResponse, clientGone: () => boolean): void {
  const done = (err: Error | null | undefined): void => {
    if (err && !clientGone()) ctx.stats.errors_upstream++;
  };
  answerLater(ctx, res, (rateKbps) => {
    const headers = endToEnd(answer.rawHeaders, HOP_BY_HOP_ANSWER);
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage || undefined, headers);
    if (rateKbps === null) pipeline(answer, res, done);
    else pipeline(answer, new Shaper(ctx.clock, () => ({ delayMs: 0, rateKbps })), res, done);
  });
}

/** An upgrade (WebSocket): the handshake goes upstream as it came, then bytes flow as over TCP. */
function onUpgrade(ctx: RouteContext, req: IncomingMessage, socket: Socket, head: Buffer): void {
  ctx.stats.requests++;
  socket.on('error', () => {});
  const verdict = ctx.toxics.verdict(ctx.route.name, 'http');
  if (verdict.action === 'reset') return void socket.resetAndDestroy();
  if (verdict.action === 'timeout') return ctx.holds.hold(verdict.toxic, socket);
  if (verdict.action === 'http_error') {
    const { spec } = verdict.toxic;
    const status = spec.kind === 'http_error' ? spec.status : 503;
    const lines = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
      'content-type: application/json',
      'x-chaos-gate-fault: http_error',
      `content-length: ${INJECTED_BODY.length}`,
    ];
    return void socket.end(`${lines.join('\r\n')}\r\n\r\n${INJECTED_BODY}`);
  }
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  new TcpLink(ctx, socket, Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
}
