import { Transform, type TransformCallback } from 'node:stream';
import type { Clock } from './clock.ts';
import type { Shaping } from './toxics.ts';

// Delays and throttles a byte stream (upstream -> client). Chunks leave in arrival order from
// one FIFO with a single timer, so two chunks never overtake each other whatever their delays.

/** Bytes held back before the writer is told to wait: upstream then stops being read. */
const HIGH_WATER = 1024 * 1024;
/** A throttled chunk is cut into slices of this much time, so the rate is smooth, not bursty. */
const SLICE_MS = 50;
// Timers may fire a hair early against Date.now(); within this, a chunk is due.
const SLACK_MS = 1;

interface Queued {
  at: number;
  chunk: Buffer;
}

export class Shaper extends Transform {
  readonly #clock: Clock;
  readonly #shape: () => Shaping;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  /** When the last queued byte leaves: a later chunk never leaves before it. */
  #lastAt = 0;
  #cancelTimer: (() => void) | null = null;
  #waitingWrite: TransformCallback | null = null;
  #waitingFlush: TransformCallback | null = null;

  /** shape is asked once per chunk, so a toxic added or lifted mid-stream takes effect at once. */
  constructor(clock: Clock, shape: () => Shaping) {
    super();
    this.#clock = clock;
    this.#shape = shape;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const { delayMs, rateKbps } = this.#shape();
    if (delayMs === 0 && rateKbps === null && this.#queue.length === 0) {
      // The common case, no toxic: straight through, no timer.
      this.push(chunk);
      callback();
      return;
    }
    const now = this.#clock.now();
    let at = Math.max(now + delayMs, this.#lastAt);
    if (rateKbps === null) {
      this.#enqueue(at, chunk);
    } else {
      const bytesPerMs = (rateKbps * 1024) / 1000;
      const slice = Math.max(1, Math.floor(bytesPerMs * SLICE_MS));
      for (let offset = 0; offset < chunk.length; offset += slice) {
        const part = chunk.subarray(offset, offset + slice);
        at += part.length / bytesPerMs;
        this.#enqueue(at, part);
      }
    }
    this.#lastAt = at;
    this.#schedule();
    if (this.#queuedBytes < HIGH_WATER) callback();
    else this.#waitingWrite = callback;
  }

  override _flush(callback: TransformCallback): void {
    if (this.#queue.length === 0) callback();
    else this.#waitingFlush = callback;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancelTimer?.();
    this.#queue = [];
    callback(error);
  }

  #enqueue(at: number, chunk: Buffer): void {
    this.#queue.push({ at, chunk });
    this.#queuedBytes += chunk.length;
  }

  #schedule(): void {
    const head = this.#queue[0];
    if (!head || this.#cancelTimer) return;
    this.#cancelTimer = this.#clock.setTimer(Math.max(0, Math.ceil(head.at - this.#clock.now())), () => {
      this.#cancelTimer = null;
      this.#release();
    });
  }

  #release(): void {
    const now = this.#clock.now() + SLACK_MS;
    while (this.#queue[0] && this.#queue[0].at <= now) {
      const { chunk } = this.#queue.shift() as Queued;
      this.#queuedBytes -= chunk.length;
      this.push(chunk);
    }
    if (this.#waitingWrite && this.#queuedBytes < HIGH_WATER) {
      const callback = this.#waitingWrite;
      this.#waitingWrite = null;
      callback();
    }
    if (this.#queue.length > 0) return this.#schedule();
    const flushed = this.#waitingFlush;
    this.#waitingFlush = null;
    flushed?.();
  }
}
