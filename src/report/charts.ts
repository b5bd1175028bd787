import { num, pct } from '../util/format.ts';
import type { SeriesPoint, WindowSummary } from '../chaos/result.ts';
import { formatValue } from './format.ts';

// Geometry of the report's charts: scales, ticks, bars and paths as plain numbers and
// strings. The templates only place what these functions compute, so every coordinate is
// testable without a browser. Coordinates are SVG user units rounded to 0.1.

export interface Tick {
  /** Position along the axis (x for an x axis, y for a y axis). */
  pos: number;
  label: string;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const round = (v: number): number => Math.round(v * 10) / 10;

/** Maps [d0, d1] linearly onto [r0, r1]; a zero-width domain maps everything to r0. */
export function scaleLinear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0;
  return (v) => (span === 0 ? r0 : r0 + ((v - d0) / span) * (r1 - r0));
}

/** A step of 1, 2 or 5 times a power of ten that cuts [0, max] into about `count` parts. */
export function niceStep(max: number, count: number): number {
  if (!(max > 0)) return 1;
  const raw = max / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * power;
}

/** Tick values from 0 up to the first multiple of the step at or above max (at least one step). */
export function niceTicks(max: number, count = 4): number[] {
  const step = niceStep(max, count);
  const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** The plot's far edges, which the templates need for axes and grid lines. */
export function edges<T extends { plot: Box }>(chart: T) {
  return {
    ...chart,
    right: round(chart.plot.x + chart.plot.width),
    bottom: round(chart.plot.y + chart.plot.height),
    tickEnd: round(chart.plot.y + chart.plot.height + 4),
  };
}

/** Rough width of a label in the charts' 11-unit font, to decide where it fits. */
export function textWidth(text: string): number {
  return text.length * 6.2;
}

// ---------------------------------------------------------------- latency: grouped bars

export const WINDOWS = ['before', 'during', 'after'] as const;
export type WindowName = (typeof WINDOWS)[number];
const PERCENTILES = [
  { key: 'p50Ms', label: 'p50' },
  { key: 'p95Ms', label: 'p95' },
  { key: 'p99Ms', label: 'p99' },
] as const;

export interface Bar extends Box {
  window: WindowName;
  /** Tooltip / label text. */
  title: string;
}

export interface BarChart {
  width: number;
  height: number;
  plot: Box;
  bars: Bar[];
  /** Percentiles with no value in a window: an "n/a" note where the bar would be. */
  missing: { x: number; y: number; title: string }[];
  groups: { x: number; label: string }[];
  yTicks: Tick[];
  legend: { x: number; window: WindowName; label: string }[];
}

const LATENCY = { width: 360, height: 230, left: 48, right: 12, top: 30, bottom: 28 };

/** p50/p95/p99 grouped by percentile, one bar per window; null when there is no latency at all. */
export function latencyBars(windows: readonly WindowSummary[]): BarChart | null {
  const values = windows.flatMap((w) => PERCENTILES.map((p) => w[p.key])).filter((v): v is number => v !== null);
  if (values.length === 0) return null;
  const { width, height, left, right, top, bottom } = LATENCY;
  const plot: Box = { x: left, y: top, width: width - left - right, height: height - top - bottom };
  const ticks = niceTicks(Math.max(...values), 4);
  const yMax = ticks[ticks.length - 1] ?? 1;
  const y = scaleLinear(0, yMax, plot.y + plot.height, plot.y);
  const groupWidth = plot.width / PERCENTILES.length;
  const barWidth = (groupWidth * 0.72) / WINDOWS.length;
  const bars: Bar[] = [];
  const missing: BarChart['missing'] = [];
  PERCENTILES.forEach((p, g) => {
    const x0 = plot.x + g * groupWidth + groupWidth * 0.14;
    WINDOWS.forEach((name, i) => {
      const x = x0 + i * barWidth;
      const value = windows.find((w) => w.window === name)?.[p.key] ?? null;
      if (value === null) {
        missing.push({
          x: round(x + barWidth / 2),
          y: round(plot.y + plot.height - 4),
          title: `${p.label} ${name}: no successful requests`,
        });
        return;
      }
      const top = y(value);
      // A 0 ms bar still gets a hairline so that "measured, and tiny" differs from "missing".
      const h = Math.max(1, plot.y + plot.height - top);
      bars.push({
        window: name,
        x: round(x + 1),
        width: round(barWidth - 2),
        y: round(plot.y + plot.height - h),
        height: round(h),
        title: `${p.label} ${name}: ${formatValue(value, 'ms')}`,
      });
    });
  });
  return {
    width,
    height,
    plot,
    bars,
    missing,
    groups: PERCENTILES.map((p, g) => ({ x: round(plot.x + (g + 0.5) * groupWidth), label: p.label })),
    yTicks: ticks.map((t) => ({ pos: round(y(t)), label: num(t) })),
    legend: WINDOWS.map((w, i) => ({ x: left + i * 80, window: w, label: w })),
  };
}

// ---------------------------------------------------------------- error rate over time

export interface LineChart {
  width: number;
  height: number;
  plot: Box;
  /** Filled area under the line, one closed sub-path per run of measured seconds. */
  area: string;
  line: string;
  /** Seconds with traffic, as dots (a single measured second has no line to show). */
  points: { x: number; y: number; title: string }[];
  /** Seconds without any request, marked on the time axis (the line breaks there). */
  empty: { x: number; width: number; title: string }[];
  fault: Box | null;
  xTicks: Tick[];
  yTicks: Tick[];
}

const RATE = { width: 360, height: 230, left: 44, right: 12, top: 30, bottom: 28 };

/**
 * Error rate per one-second bucket (plotted at the bucket's start) against time since the
 * experiment started, the fault window shaded. Seconds without requests (errorRate null)
 * break the line instead of pretending to be 0%. The y axis spans at least 0-5% so that a
 * healthy run reads as flat rather than as noise blown up to full height.
 */
export function errorRateChart(
  series: readonly SeriesPoint[],
  faultWindow: { fromMs: number; toMs: number },
  durationMs: number,
): LineChart | null {
  const measured = series.filter((p) => p.errorRate !== null);
  if (measured.length === 0) return null;
  const { width, height, left, right, top, bottom } = RATE;
  const plot: Box = { x: left, y: top, width: width - left - right, height: height - top - bottom };
  const lastMs = Math.max(durationMs, faultWindow.toMs, ...series.map((p) => p.atMs + 1000));
  const xTickValues = niceTicks(lastMs / 1000, 6);
  const xMax = (xTickValues[xTickValues.length - 1] ?? 1) * 1000;
  const x = scaleLinear(0, xMax, plot.x, plot.x + plot.width);
  const yTickValues = niceTicks(Math.max(0.05, ...measured.map((p) => p.errorRate as number)), 4);
  const yMax = yTickValues[yTickValues.length - 1] ?? 1;
  const y = scaleLinear(0, yMax, plot.y + plot.height, plot.y);
  const base = round(plot.y + plot.height);

  const runs: { x: number; y: number }[][] = [];
  let run: { x: number; y: number }[] = [];
  for (const p of [...series].sort((a, b) => a.atMs - b.atMs)) {
    if (p.errorRate === null) {
      if (run.length > 0) runs.push(run);
      run = [];
      continue;
    }
    run.push({ x: round(x(p.atMs)), y: round(y(p.errorRate)) });
  }
  if (run.length > 0) runs.push(run);
  const line = runs.map((r) => r.map((pt, i) => `${i === 0 ? 'M' : 'L'}${pt.x},${pt.y}`).join('')).join('');
  const area = runs
    .map((r) => `M${r[0]?.x},${base}${r.map((pt) => `L${pt.x},${pt.y}`).join('')}L${r[r.length - 1]?.x},${base}Z`)
    .join('');

  const from = Math.max(0, Math.min(faultWindow.fromMs, xMax));
  const to = Math.max(from, Math.min(faultWindow.toMs, xMax));
  const fault =
    faultWindow.toMs > faultWindow.fromMs
      ? { x: round(x(from)), y: plot.y, width: round(Math.max(1, x(to) - x(from))), height: plot.height }
      : null;
  return {
    width,
    height,
    plot,
    area,
    line,
    fault,
    points: measured.map((p) => ({
      x: round(x(p.atMs)),
      y: round(y(p.errorRate as number)),
      title: `${num(p.atMs / 1000)} s: ${pct(p.errorRate)} errors (${p.errors} of ${p.requests})`,
    })),
    empty: series
      .filter((p) => p.errorRate === null)
      .map((p) => ({
        x: round(x(p.atMs)),
        width: round(Math.max(1, x(p.atMs + 1000) - x(p.atMs))),
        title: `${num(p.atMs / 1000)} s: no requests`,
      })),
    xTicks: xTickValues.map((t) => ({ pos: round(x(t * 1000)), label: `${num(t)} s` })),
    yTicks: yTickValues.map((t) => ({ pos: round(y(t)), label: pct(t) })),
  };
}

// ---------------------------------------------------------------- recovery vs threshold

export interface ThresholdBar {
  width: number;
  height: number;
  plot: Box;
  /** null when the value was not measured (did not recover). */
  bar:
    | (Box & { pass: boolean; label: string; title: string; labelX: number; labelY: number; labelInside: boolean })
    | null;
  threshold: { x: number; label: string } | null;
  note: string | null;
  xTicks: Tick[];
}

const RECOVERY = { width: 360, height: 150, left: 16, right: 24, top: 44, bottom: 30 };

/**
 * A horizontal bar of the recovery time with the threshold as a vertical line. pass is
 * taken from the measurement (the comparator lives there), not re-derived here.
 */
export function recoveryChart(
  seconds: number | null,
  thresholdSeconds: number | null,
  pass: boolean,
): ThresholdBar | null {
  if (seconds === null && thresholdSeconds === null) return null;
  const { width, height, left, right, top, bottom } = RECOVERY;
  const plot: Box = { x: left, y: top, width: width - left - right, height: height - top - bottom };
  const ticks = niceTicks(Math.max(seconds ?? 0, thresholdSeconds ?? 0) * 1.1, 5);
  const xMax = ticks[ticks.length - 1] ?? 1;
  const x = scaleLinear(0, xMax, plot.x, plot.x + plot.width);
  const barHeight = plot.height * 0.6;
  const bar =
    seconds === null
      ? null
      : (() => {
          const width = round(Math.max(1, x(seconds) - plot.x));
          const label = formatValue(seconds, 's');
          // The value sits right of the bar's end, or inside it when there is no room left.
          const inside = plot.x + width + 6 + textWidth(label) > plot.x + plot.width;
          const y0 = round(plot.y + (plot.height - barHeight) / 2);
          return {
            x: plot.x,
            y: y0,
            width,
            height: round(barHeight),
            pass,
            label,
            title: `recovered in ${label}`,
            labelX: round(inside ? plot.x + width - 6 : plot.x + width + 6),
            labelY: round(y0 + barHeight / 2 + 4),
            labelInside: inside,
          };
        })();
  return {
    width,
    height,
    plot,
    bar,
    threshold:
      thresholdSeconds === null
        ? null
        : { x: round(x(thresholdSeconds)), label: `threshold ${formatValue(thresholdSeconds, 's')}` },
    note: seconds === null ? 'did not recover within the experiment' : null,
    xTicks: ticks.map((t) => ({ pos: round(x(t)), label: `${num(t)} s` })),
  };
}
