import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { renderLiveLine, type LiveState } from '../../src/cli/live-render.ts';
import { bindStop, liveStatus, type LiveTimer, type ProcessHooks } from '../../src/cli/live.ts';
import { consoleProgress, isLiveTerminal } from '../../src/cli/output.ts';

const state = (over: Partial<LiveState> = {}): LiveState => ({
  step: undefined,
  info: undefined,
  elapsedMs: 0,
  stepElapsedMs: 0,
  frame: 0,
  ...over,
});

describe('renderLiveLine (pure)', () => {
  it.each([
    ['before the first step', state({ elapsedMs: 250 }), 80, '⠋ 0.3s'],
    [
      'a step',
      state({ step: 'stack up', elapsedMs: 12_340, stepElapsedMs: 4_200, frame: 1 }),
      80,
      '⠙ 12.3s · stack up (4.2s)',
    ],
    [
      'a step and its last info line',
      state({ step: 'chaos suite', info: 'service-kill: PASS', elapsedMs: 61_000, stepElapsedMs: 1_000, frame: 12 }),
      80,
      '⠹ 61.0s · chaos suite (1.0s) · service-kill: PASS',
    ],
    [
      'control characters flattened',
      state({ step: 'a\nb\tc', info: '\u001b[31mred\r' }),
      80,
      '⠋ 0.0s · a b c (0.0s) · [31mred',
    ],
    [
      'cut below the terminal width',
      state({ step: 'rollout of v2 over us-west, us-east', info: 'stage 1' }),
      30,
      '⠋ 0.0s · rollout of v2 over…',
    ],
    ['a very narrow terminal', state({ step: 'x' }), 1, ''],
  ])('%s', (_what, s, columns, expected) => {
    const line = renderLiveLine(s, columns);
    expect(line).toBe(expected);
    expect(Array.from(line).length).toBeLessThan(Math.max(columns, 1));
  });
});

function fakeTerminal(columns = 80) {
  const chunks: string[] = [];
  return { chunks, stream: { columns, isTTY: true, write: (c: string) => chunks.push(c) } };
}
function fakeTimer() {
  const handle = { unref: vi.fn() };
  let tick: (() => void) | undefined;
  const timer: LiveTimer = {
    setInterval: vi.fn((fn: () => void) => {
      tick = fn;
      return handle;
    }),
    clearInterval: vi.fn(() => {
      tick = undefined;
    }),
  };
  return { timer, handle, tick: () => tick?.(), running: () => tick !== undefined };
}
/** What a terminal shows after these chunks: \r, \n and "erase line" (ESC [2K) applied. */
function screen(chunks: readonly string[]): string {
  const text = chunks.join('');
  const lines = [''];
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const last = lines.length - 1;
    if (text.startsWith('\x1b[2K', i)) {
      lines[last] = '';
      i += 3;
    } else if (text[i] === '\r') col = 0;
    else if (text[i] === '\n') {
      lines.push('');
      col = 0;
    } else {
      const line = lines[last] ?? '';
      lines[last] = line.slice(0, col).padEnd(col) + text[i] + line.slice(col + 1);
      col++;
    }
  }
  return lines.join('\n');
}

describe('liveStatus (the ticking writer)', () => {
  it('redraws the status line on every tick and clears it before each permanent line', () => {
    let t = 1000;
    const { chunks, stream } = fakeTerminal();
    const { timer, handle, tick } = fakeTimer();
    const live = liveStatus({ stream, now: () => t, timer });
    expect(timer.setInterval).not.toHaveBeenCalled(); // nothing ticks before the first line
    live.line('[   0.0s] stack up', { step: 'stack up' });
    expect(handle.unref).toHaveBeenCalled();
    expect(chunks).toEqual(['[   0.0s] stack up\n', '\r\x1b[2K⠋ 0.0s · stack up (0.0s)']);
    t = 3500;
    tick();
    expect(chunks.at(-1)).toBe('\r\x1b[2K⠙ 2.5s · stack up (2.5s)');
    live.line('[   2.5s]   region-us-west healthy', { info: 'region-us-west healthy' });
    expect(chunks.slice(-3)).toEqual([
      '\r\x1b[2K',
      '[   2.5s]   region-us-west healthy\n',
      '\r\x1b[2K⠙ 2.5s · stack up (2.5s) · region-us-west healthy',
    ]);
    live.line('[   2.5s] baseline', { step: 'baseline' });
    expect(chunks.at(-1)).toBe('\r\x1b[2K⠙ 2.5s · baseline (0.0s)'); // a new step drops the old info line
    expect(timer.setInterval).toHaveBeenCalledTimes(1);
  });

  it('a terminal that does not give its width (columns 0) is taken as 80 wide', () => {
    const { chunks, stream } = fakeTerminal(0);
    liveStatus({ stream, now: () => 0, timer: fakeTimer().timer }).line('a', { step: 'a' });
    expect(chunks.at(-1)).toBe('\r\x1b[2K⠋ 0.0s · a (0.0s)');
  });

  it('stop() clears the status line, ends the interval, and later lines print plain', () => {
    const { chunks, stream } = fakeTerminal();
    const { timer, tick, running } = fakeTimer();
    const live = liveStatus({ stream, now: () => 0, timer });
    live.line('a', { step: 'a' });
    live.stop();
    live.stop();
    expect(running()).toBe(false);
    expect(timer.clearInterval).toHaveBeenCalledTimes(1);
    expect(chunks.at(-1)).toBe('\r\x1b[2K');
    tick();
    live.line('b');
    expect(chunks.slice(-2)).toEqual(['\r\x1b[2K', 'b\n']);
  });
});

describe('consoleProgress', () => {
  const drive = (p: ReturnType<typeof consoleProgress>, clock: { t: number }) => {
    p.step('stack up');
    clock.t += 1500;
    p.info('region-us-west healthy');
    clock.t += 20_000;
    p.warn('slow');
    p.step('baseline');
  };
  const LOG = '[   0.0s] stack up\n[   1.5s]   region-us-west healthy\n[  21.5s] warning: slow\n[  21.5s] baseline\n';

  it.each([
    ['not a TTY', { isTTY: false }, {}],
    ['a TTY in CI', { isTTY: true }, { CI: 'true' }],
    ['a dumb terminal', { isTTY: true }, { TERM: 'dumb' }],
  ])('%s: only the permanent lines, no escape codes', (_what, tty, env) => {
    const clock = { t: 0 };
    const chunks: string[] = [];
    const p = consoleProgress(() => clock.t, undefined, {
      stream: { ...tty, write: (c: string) => chunks.push(c) },
      env,
      timer: fakeTimer().timer,
    });
    drive(p, clock);
    expect(chunks.join('')).toBe(LOG);
  });

  it('on a terminal: the same permanent log, with a live status line, bound to the process until stopped', () => {
    const clock = { t: 0 };
    const { chunks, stream } = fakeTerminal();
    const timer = fakeTimer();
    const proc = fakeProcess();
    const p = consoleProgress(() => clock.t, undefined, { stream, env: {}, timer: timer.timer, process: proc });
    expect(proc.listenerCount('SIGINT')).toBe(0); // nothing bound before the first line
    drive(p, clock);
    expect(screen(chunks)).toBe(`${LOG}⠋ 21.5s · baseline (0.0s)`);
    expect(proc.listenerCount('SIGINT')).toBe(1);
    p.stop();
    expect(screen(chunks)).toBe(LOG);
    expect(timer.running()).toBe(false);
    expect(proc.listenerCount('SIGINT')).toBe(0);
    expect(proc.listenerCount('exit')).toBe(0);
  });

  it('an injected line writer gets the permanent lines; the status line goes to the terminal', () => {
    const lines: string[] = [];
    const { chunks, stream } = fakeTerminal();
    const p = consoleProgress(
      () => 0,
      (l) => lines.push(l),
      { stream, env: {}, timer: fakeTimer().timer, process: fakeProcess() },
    );
    p.step('stack up');
    expect(lines).toEqual(['[   0.0s] stack up']);
    expect(chunks).toEqual(['\r\x1b[2K⠋ 0.0s · stack up (0.0s)']);
    p.stop();
  });

  it('isLiveTerminal: a TTY outside CI', () => {
    expect(isLiveTerminal({ isTTY: true }, {})).toBe(true);
    expect(isLiveTerminal({ isTTY: true }, { CI: 'false' })).toBe(true);
    expect(isLiveTerminal({ isTTY: true }, { CI: '1' })).toBe(false);
    expect(isLiveTerminal({}, {})).toBe(false);
  });
});

function fakeProcess() {
  return Object.assign(new EventEmitter(), { pid: 4242, kill: vi.fn() }) as EventEmitter &
    ProcessHooks & { kill: ReturnType<typeof vi.fn> };
}

describe('bindStop', () => {
  it('stops on exit', () => {
    const proc = fakeProcess();
    const stop = vi.fn();
    bindStop(stop, proc);
    proc.emit('exit');
    expect(stop).toHaveBeenCalledTimes(1);
  });

  it("stops on SIGINT before the command's own handler runs, and leaves the signal to it", () => {
    const proc = fakeProcess();
    const order: string[] = [];
    proc.on('SIGINT', () => order.push('command cleans up'));
    bindStop(() => order.push('status line cleared'), proc);
    proc.emit('SIGINT', 'SIGINT');
    expect(order).toEqual(['status line cleared', 'command cleans up']);
    expect(proc.kill).not.toHaveBeenCalled();
    expect(proc.listenerCount('SIGINT')).toBe(1);
  });

  it('raises the signal again when no one else listens, so the process still ends', () => {
    const proc = fakeProcess();
    const stop = vi.fn();
    bindStop(stop, proc);
    proc.emit('SIGTERM', 'SIGTERM');
    expect(stop).toHaveBeenCalledTimes(1);
    expect(proc.kill).toHaveBeenCalledWith(4242, 'SIGTERM');
  });

  it('unbinding removes every listener', () => {
    const proc = fakeProcess();
    bindStop(vi.fn(), proc)();
    expect(['exit', 'SIGINT', 'SIGTERM'].map((e) => proc.listenerCount(e))).toEqual([0, 0, 0]);
  });
});
