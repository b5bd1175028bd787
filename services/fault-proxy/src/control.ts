import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Clock } from './clock.ts';
import type { RouteJson } from './proxy.ts';
import { parseToxicSpec } from './spec.ts';
import { toxicJson, type Toxics } from './toxics.ts';

// The control API the gate drives: JSON in, JSON out, every refusal naming its reason.

export const MAX_CONTROL_BODY = 16 * 1024;

export interface ControlDeps {
  toxics: Toxics;
  /** The toxic table's clock, for expires_in_ms. */
  clock: Clock;
  routes(): RouteJson[];
}

class Refusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The whole body as JSON; read to its end even past the limit, so the client gets the 400, not EPIPE. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_CONTROL_BODY) chunks.push(chunk);
  }
  if (size > MAX_CONTROL_BODY) throw new Refusal(400, `body must be at most ${MAX_CONTROL_BODY} bytes`);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))) as unknown;
  } catch {
    throw new Refusal(400, 'body must be valid UTF-8 JSON');
  }
}

const ALLOWED: Record<string, string[]> = {
  '/healthz': ['GET'],
  '/routes': ['GET'],
  '/toxics': ['GET', 'POST', 'DELETE'],
};

async function handle(deps: ControlDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://control').pathname;
  const one = /^\/toxics\/([^/]+)$/.exec(path);
  const allowed = one ? ['DELETE'] : ALLOWED[path];
  if (!allowed) throw new Refusal(404, `no such endpoint: ${path}`);
  const method = req.method ?? 'GET';
  if (!allowed.includes(method)) {
    res.setHeader('allow', allowed.join(', '));
    throw new Refusal(405, `${method} is not allowed on ${path}; use ${allowed.join(' or ')}`);
  }
  const now = deps.clock.now();
  if (one) {
    const toxic = /^\d{1,15}$/.test(one[1] as string) ? deps.toxics.lift(Number(one[1])) : undefined;
    if (!toxic) throw new Refusal(404, `no active toxic with id ${JSON.stringify(one[1])}`);
    return send(res, 200, toxicJson(toxic, now));
  }
  if (path === '/healthz') return send(res, 200, { ok: true });
  if (path === '/routes') return send(res, 200, { routes: deps.routes() });
  if (method === 'GET') return send(res, 200, { toxics: deps.toxics.list().map((t) => toxicJson(t, now)) });
  if (method === 'DELETE') return send(res, 200, { lifted: deps.toxics.liftAll() });
  const parsed = parseToxicSpec(
    await readJson(req),
    deps.routes().map((r) => r.name),
  );
  if (!parsed.ok) throw new Refusal(400, parsed.error);
  send(res, 201, toxicJson(deps.toxics.add(parsed.spec), deps.clock.now()));
}

export function createControlServer(deps: ControlDeps): Server {
  return createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      if (err instanceof Refusal) return send(res, err.status, { error: err.message });
      send(res, 500, { error: `internal error: ${String(err)}` });
    });
  });
}
