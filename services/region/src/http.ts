import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** An answer decided deep in a handler: the app sends it as JSON with this status. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(String(body.error ?? status));
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

/** Reads a JSON body of at most `limit` bytes: 413 when larger, 400 when not valid UTF-8 JSON. */
export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const raw = await readBody(req, limit);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new HttpError(400, { error: 'body must be UTF-8 encoded JSON' });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, { error: 'body must be valid JSON' });
  }
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

/** Constant-time check of `Authorization: Bearer <token>`; hashing first hides the length too. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const given = createHash('sha256').update(m?.[1] ?? '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && m !== null;
}
