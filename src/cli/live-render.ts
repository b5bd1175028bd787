// The live status line of a run on a terminal: one line redrawn in place below the
// permanent log (current step, elapsed time, the step's last info line). Pure: the writer
// (live.ts) owns the clock, the timer and the stream.

export interface LiveState {
  /** The step in progress; undefined before the first. */
  step: string | undefined;
  /** The last info line of that step. */
  info: string | undefined;
  elapsedMs: number;
  stepElapsedMs: number;
  /** Counts the ticks, for the spinner. */
  frame: number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * At most `columns - 1` characters: a line that reaches the last column can wrap, and a
 * wrapped line is no longer erased by the next redraw.
 */
export function renderLiveLine(state: LiveState, columns: number): string {
  const parts = [`${FRAMES[state.frame % FRAMES.length] ?? ''} ${seconds(state.elapsedMs)}`];
  if (state.step !== undefined) parts.push(`${oneLine(state.step)} (${seconds(state.stepElapsedMs)})`);
  if (state.info !== undefined) parts.push(oneLine(state.info));
  return fit(parts.join(' · '), columns - 1);
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/** A newline or an escape sequence in a message would break the redraw. */
function oneLine(text: string): string {
  return text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

function fit(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return width <= 0
    ? ''
    : `${chars
        .slice(0, width - 1)
        .join('')
        .trimEnd()}…`;
}
