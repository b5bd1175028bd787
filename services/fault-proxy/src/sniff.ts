import type { Socket } from 'node:net';
import type { Clock } from './clock.ts';

// Tells HTTP/1.x from any other protocol by the first bytes a client sends.

export type Protocol = 'http' | 'tcp';

/** How long a client may stay silent before it is taken for a server-speaks-first protocol. */
export const SNIFF_MS = 150;
/** A request line longer than this is not worth waiting for: forward the bytes as TCP. */
const MAX_HEAD = 8 * 1024;
const REQUEST_LINE = /^[A-Z]{1,20} [^\s]+ HTTP\/1\./;
// Every proper prefix of a request line: more bytes could still make it HTTP.
const PREFIX = /^(?:[A-Z]{0,20}|[A-Z]{1,20} [^\s]*|[A-Z]{1,20} [^\s]+ (?:H(?:T(?:T(?:P(?:\/(?:1)?)?)?)?)?)?)$/;

/** 'more': the bytes so far could start a request line or not; wait for more. Pure. */
export function classify(head: Buffer): Protocol | 'more' {
  // latin1 maps each byte to one character, so binary protocols cannot fake a match.
  const text = head.subarray(0, 64 + MAX_HEAD).toString('latin1');
  if (REQUEST_LINE.test(text)) return 'http';
  if (head.length < MAX_HEAD && PREFIX.test(text)) return 'more';
  return 'tcp';
}

export interface Sniffed {
  protocol: Protocol;
  /** The bytes read while deciding; the caller forwards them first. */
  head: Buffer;
}

/**
 * Reads until classify decides, the client half-closes, or waitMs passes (then 'tcp': the
 * server is expected to speak first). Leaves the socket paused. null: the client went away.
 */
export function sniff(socket: Socket, clock: Clock, waitMs = SNIFF_MS): Promise<Sniffed | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (protocol: Protocol | null): void => {
      if (settled) return;
      settled = true;
      cancel();
      socket.off('data', onData).off('end', onEnd).off('close', onClose);
      socket.pause();
      resolve(protocol === null ? null : { protocol, head: Buffer.concat(chunks) });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      const verdict = classify(Buffer.concat(chunks));
      if (verdict !== 'more') done(verdict);
    };
    const onEnd = (): void => done('tcp');
    const onClose = (): void => done(null);
    // Timers run before pending reads: after a stall the bytes may be waiting already, so the
    // verdict waits for the reads of this turn of the loop (setImmediate runs after them).
    const cancel = clock.setTimer(waitMs, () => setImmediate(() => done('tcp')));
    socket.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}
