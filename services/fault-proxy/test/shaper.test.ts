import { describe, expect, test } from 'vitest';
import { Shaper } from '../src/shaper.ts';
import type { Shaping } from '../src/toxics.ts';
import { ManualClock } from './helpers.ts';

interface Probe {
  clock: ManualClock;
  /** What came out, and at which (manual) time. */
  out: { at: number; text: string }[];
  stream: Shaper;
  /** What the shaper is told on each chunk; tests change it mid-stream. */
  shape: Shaping;
}

function shaper(shape: Shaping): Probe {
  const clock = new ManualClock(0);
  const out: { at: number; text: string }[] = [];
  const stream = new Shaper(clock, () => shape);
  stream.on('data', (chunk: Buffer) => out.push({ at: clock.now(), text: chunk.toString() }));
  return { clock, out, stream, shape };
}

// Readable 'data' events are emitted on a later tick than the push.
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Shaper', () => {
  test('without shaping passes chunks straight through', async () => {
    const s = shaper({ delayMs: 0, rateKbps: null });
    s.stream.write('a');
    s.stream.write('b');
    await tick();
    expect(s.out.map((o) => o.text).join('')).toBe('ab');
    expect(s.clock.pending).toBe(0);
  });

  test('delays every chunk by the delay from its own arrival', async () => {
    const s = shaper({ delayMs: 100, rateKbps: null });
    s.stream.write('a');
    s.clock.advance(30);
    s.stream.write('b');
    s.clock.advance(99 - 30);
    await tick();
    expect(s.out).toEqual([]);
    s.clock.advance(1);
    await tick();
    s.clock.advance(30);
    await tick();
    expect(s.out).toEqual([
      { at: 100, text: 'a' },
      { at: 130, text: 'b' },
    ]);
  });

  test('keeps the order when the delay shrinks mid-stream', async () => {
    const s = shaper({ delayMs: 500, rateKbps: null });
    s.stream.write('first');
    s.shape.delayMs = 0;
    s.stream.write('second');
    s.clock.advance(500);
    await tick();
    expect(s.out.map((o) => o.text)).toEqual(['first', 'second']);
    expect(s.out.map((o) => o.at)).toEqual([500, 500]);
  });

  test('throttles to the rate, in slices', async () => {
    const s = shaper({ delayMs: 0, rateKbps: 1 });
    s.stream.write(Buffer.alloc(2048, 'z'));
    s.clock.advance(1999);
    await tick();
    const early = s.out.reduce((n, o) => n + o.text.length, 0);
    s.clock.advance(1);
    await tick();
    expect(early).toBeGreaterThan(1800);
    expect(early).toBeLessThan(2048);
    expect(s.out.reduce((n, o) => n + o.text.length, 0)).toBe(2048);
  });

  test('ends only after the last delayed chunk left', async () => {
    const s = shaper({ delayMs: 100, rateKbps: null });
    let ended = false;
    s.stream.on('end', () => (ended = true));
    s.stream.end('last');
    await tick();
    expect(ended).toBe(false);
    s.clock.advance(100);
    await tick();
    await tick();
    expect(ended).toBe(true);
    expect(s.out.map((o) => o.text)).toEqual(['last']);
  });
});
