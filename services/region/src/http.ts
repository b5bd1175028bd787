import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions } from 'node:http';

/** An answer decided deep in a handler: the app sends it as JSON with this status. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(typeof body.error === 'string' ? body.error : String(status));
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** The client went away before its body arrived; there is nobody to answer. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
}

export const MAX_BODY_BYTES = 64 * 1024;
/** Nesting of arrays and objects allowed in a body: serialising a deeper one again can overflow the stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * Reads a JSON body of at most `limit` bytes: 413 when larger, 400 when not valid UTF-8 JSON
 * or nested deeper than MAX_JSON_DEPTH.
 */
export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const raw = await readBody(req, limit);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new HttpError(400, { error: 'body must be UTF-8 encoded JSON' });
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, { error: 'body must be valid JSON' });
  }
  if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    const error = `body must not nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep`;
    throw new HttpError(400, { error });
  }
  return body;
}

/**
 * How deep a parsed JSON value nests arrays and objects (a scalar is 0, `{}` is 1), counted
 * only up to limit + 1. Iterative: a body deep enough to overflow a recursion is what it is for.
 */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [v, depth] = pending.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) break;
    for (const child of Object.values(v)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Reads the body to its end even past the limit, keeping only the first `limit` bytes: a
 * client still sending when the server hangs up gets EPIPE instead of the 413.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      ended = true;
      if (size > limit) reject(new HttpError(413, { error: `body must be at most ${limit} bytes` }));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', () => reject(new ClientGoneError('request body aborted')));
    req.on('close', () => {
      if (!ended) reject(new ClientGoneError('connection closed before the body ended'));
    });
  });
}

/** Whole-request deadline (headers and body) when REQUEST_TIMEOUT_MS is not set. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
// Longer than the 4 s undici (fetch) keeps an idle socket, so a client never reuses one we just closed.
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * Node's limits for the region server: a request must arrive whole (headers too) within
 * requestTimeoutMs, else 408 and the connection is closed; Node's default is 300 s.
 */
function serverOptions(requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): ServerOptions {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Node checks those deadlines only this often (30 s by default), so a slow client could stay 30 s longer.
    connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(requestTimeoutMs / 5))),
  };
}

/** The HTTP server of main.ts (and of the tests), with serverOptions' timeouts. */
export function createRegionServer(handler: RequestListener, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Server {
  return createServer(serverOptions(requestTimeoutMs), handler);
}

/** Constant-time check of `Authorization: Bearer <token>`; hashing first hides the length too. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(m?.[1] ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && m !== null;
}
