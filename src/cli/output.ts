import type { Progress } from '../util/progress.ts';
import {
  bindStop,
  liveStatus,
  nodeTimer,
  type LiveStatus,
  type LiveStream,
  type LiveTimer,
  type ProcessHooks,
} from './live.ts';

export interface LiveOptions {
  /** The terminal the live status line is drawn on; process.stderr by default. */
  stream?: LiveStream & { readonly isTTY?: boolean };
  env?: Readonly<Record<string, string | undefined>>;
  timer?: LiveTimer;
  /** What stop() is bound to while the view is live (exit, SIGINT, SIGTERM); process by default. */
  process?: ProcessHooks;
}

export interface ConsoleProgress extends Progress {
  /** Ends the live view (a no-op without one); permanent lines still print. Idempotent. */
  stop(): void;
}

/** A terminal a person watches: a TTY, not a CI job, and able to redraw a line. */
export function isLiveTerminal(
  stream: { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const ci = env.CI !== undefined && !['', '0', 'false'].includes(env.CI.toLowerCase());
  return stream.isTTY === true && !ci && env.TERM !== 'dumb';
}

/**
 * Console output: one line per step with elapsed seconds, so CI logs show where time went.
 * On a live terminal the same lines print, with a status line below them (live.ts); `write`
 * must print to that terminal (the CLI's stderr writer does).
 */
export function consoleProgress(
  now: () => number = Date.now,
  write?: (line: string) => void,
  options: LiveOptions = {},
): ConsoleProgress {
  const stream = options.stream ?? process.stderr;
  const permanent = write ?? ((line: string) => stream.write(`${line}\n`));
  const start = now();
  const stamp = () => `[${((now() - start) / 1000).toFixed(1).padStart(6)}s]`;
  const live: LiveStatus | undefined = isLiveTerminal(stream, options.env ?? process.env)
    ? liveStatus({ stream, now, timer: options.timer ?? nodeTimer, write: permanent })
    : undefined;
  // Bound on the first line, so a progress that never prints leaves no listener behind.
  let unbind: (() => void) | undefined;
  const stop = () => {
    unbind?.();
    live?.stop();
  };
  const print = (line: string, update?: { step?: string; info?: string }) => {
    if (!live) return permanent(line);
    unbind ??= bindStop(stop, options.process ?? process);
    live.line(line, update);
  };
  return {
    step: (m) => print(`${stamp()} ${m}`, { step: m }),
    info: (m) => print(`${stamp()}   ${m}`, { info: m }),
    warn: (m) => print(`${stamp()} warning: ${m}`),
    stop,
  };
}

/** A plain text table: columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
