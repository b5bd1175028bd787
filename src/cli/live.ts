import { renderLiveLine, type LiveState } from './live-render.ts';

// The terminal side of the progress: permanent lines are printed exactly as in a CI log,
// and a status line below them is redrawn on a timer (cleared before each permanent line,
// so it never lands in the log). Stream and timer are injected so tests use fakes.

export interface LiveStream {
  write(chunk: string): unknown;
  /** 0 or undefined where the terminal does not say (a pty under `script`): 80 then. */
  readonly columns?: number | undefined;
}

export interface TimerHandle {
  unref?(): unknown;
}

export interface LiveTimer {
  setInterval(tick: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

export const nodeTimer: LiveTimer = {
  setInterval: (tick, ms) => setInterval(tick, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface LiveStatus {
  /** Prints a permanent line; `update` is what the status line shows from now on. */
  line(text: string, update?: { step?: string; info?: string }): void;
  /** Clears the status line and ends the ticking; later lines are printed plain. Idempotent. */
  stop(): void;
}

const CLEAR = '\r\x1b[2K';

export interface LiveStatusOptions {
  /** The terminal: the status line is drawn here. */
  stream: LiveStream;
  now: () => number;
  timer: LiveTimer;
  /** Prints a permanent line to the same terminal; by default stream.write(line + newline). */
  write?: (line: string) => void;
  intervalMs?: number;
}

export function liveStatus(options: LiveStatusOptions): LiveStatus {
  const { stream, now, timer } = options;
  const write = options.write ?? ((line: string) => stream.write(`${line}\n`));
  const start = now();
  let step: string | undefined;
  let info: string | undefined;
  let stepStart = start;
  let frame = 0;
  let shown = false;
  let stopped = false;
  let handle: TimerHandle | undefined;

  const clear = () => {
    if (shown) stream.write(CLEAR);
    shown = false;
  };
  const draw = () => {
    const at = now();
    const state: LiveState = { step, info, elapsedMs: at - start, stepElapsedMs: at - stepStart, frame };
    stream.write(`${CLEAR}${renderLiveLine(state, stream.columns || 80)}`);
    shown = true;
  };
  const tick = () => {
    frame++;
    draw();
  };

  return {
    line(text, update) {
      if (stopped) return write(text);
      clear();
      write(text);
      if (update?.step !== undefined) {
        step = update.step;
        info = undefined;
        stepStart = now();
      }
      if (update?.info !== undefined) info = update.info;
      draw();
      if (handle === undefined) {
        handle = timer.setInterval(tick, options.intervalMs ?? 100);
        // The status line must never be what keeps the process alive.
        handle.unref?.();
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (handle !== undefined) timer.clearInterval(handle);
      clear();
    },
  };
}

/** The parts of `process` that stop() is bound to; tests pass an EventEmitter. */
export interface ProcessHooks {
  readonly pid: number;
  once(event: 'exit', listener: () => void): unknown;
  prependListener(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'exit' | NodeJS.Signals, listener: (() => void) | ((signal: NodeJS.Signals) => void)): unknown;
  listenerCount(event: NodeJS.Signals): number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Stops the status line when the process exits or gets SIGINT/SIGTERM, before anyone else
 * prints about it. Returns the unbinding. A signal listener alone would keep the process
 * from dying, so when no other listener is left the signal is raised again.
 */
export function bindStop(stop: () => void, proc: ProcessHooks = process): () => void {
  const onExit = () => stop();
  const onSignal = (signal: NodeJS.Signals) => {
    unbind();
    stop();
    if (proc.listenerCount(signal) === 0) proc.kill(proc.pid, signal);
  };
  const unbind = () => {
    proc.off('exit', onExit);
    for (const s of SIGNALS) proc.off(s, onSignal);
  };
  proc.once('exit', onExit);
  for (const s of SIGNALS) proc.prependListener(s, onSignal);
  return unbind;
}
