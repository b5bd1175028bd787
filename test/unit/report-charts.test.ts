import { describe, expect, it } from 'vitest';
import type { SeriesPoint, WindowSummary } from '../../src/chaos/result.ts';
import {
  errorRateChart,
  latencyBars,
  niceStep,
  niceTicks,
  recoveryChart,
  scaleLinear,
} from '../../src/report/charts.ts';
import { swimlanes } from '../../src/report/swimlanes.ts';
import { failingRun, reportOf } from '../fixtures/report/runs.ts';

const win = (
  window: WindowSummary['window'],
  p50: number | null,
  p95: number | null,
  p99: number | null,
): WindowSummary => ({
  window,
  fromMs: 0,
  toMs: 1000,
  count: 10,
  errors: 0,
  errorRate: 0,
  p50Ms: p50,
  p95Ms: p95,
  p99Ms: p99,
  throughputRps: 10,
});

describe('scales and ticks', () => {
  it('maps linearly, also onto an inverted range (SVG y grows downwards)', () => {
    const y = scaleLinear(0, 100, 200, 0);
    expect([y(0), y(25), y(100)]).toEqual([200, 150, 0]);
    expect(scaleLinear(5, 5, 10, 20)(5)).toBe(10);
  });

  it.each([
    [1, 4, 0.5],
    [7, 4, 2],
    [120, 4, 50],
    [0.05, 4, 0.02],
    [0, 4, 1],
  ])('niceStep(%s, %s) = %s', (max, count, step) => {
    expect(niceStep(max, count)).toBe(step);
  });

  it('ticks start at 0 and end at or above the maximum', () => {
    expect(niceTicks(120, 4)).toEqual([0, 50, 100, 150]);
    expect(niceTicks(0.05, 4)).toEqual([0, 0.02, 0.04, 0.06]);
    expect(niceTicks(100, 4)).toEqual([0, 50, 100]);
    expect(niceTicks(0, 4)).toEqual([0, 1]);
  });
});

describe('latencyBars', () => {
  it('places one bar per window in each percentile group, on a 0..niceMax scale', () => {
    const chart = latencyBars([win('before', 10, 20, 40), win('during', 50, 100, 200), win('after', 10, 20, 40)]);
    expect(chart).not.toBeNull();
    if (!chart) return;
    // Plot: x 48..348, y 30..202 (height 172); y axis 0..200.
    expect(chart.plot).toEqual({ x: 48, y: 30, width: 300, height: 172 });
    expect(chart.yTicks.map((t) => t.label)).toEqual(['0', '50', '100', '150', '200']);
    expect(chart.yTicks.map((t) => t.pos)).toEqual([202, 159, 116, 73, 30]);
    expect(chart.bars).toHaveLength(9);
    // p99 during = 200 ms: the full height; group p99 starts at 48 + 200, bars 24 wide after a 14 margin: 262, 286 (+1 gap).
    const p99During = chart.bars[7];
    expect(p99During).toMatchObject({ window: 'during', x: 287, width: 22, y: 30, height: 172 });
    // p50 before = 10 ms: 172 * 10 / 200 = 8.6 units high, first bar of the first group.
    expect(chart.bars[0]).toMatchObject({ window: 'before', x: 63, y: 193.4, height: 8.6, title: 'p50 before: 10 ms' });
    expect(chart.groups).toEqual([
      { x: 98, label: 'p50' },
      { x: 198, label: 'p95' },
      { x: 298, label: 'p99' },
    ]);
  });

  it('marks a window without latency as n/a instead of a zero bar', () => {
    const chart = latencyBars([win('before', 10, 20, 40), win('during', null, null, null), win('after', 10, 20, 40)]);
    expect(chart?.bars).toHaveLength(6);
    expect(chart?.missing.map((m) => m.title)).toEqual([
      'p50 during: no successful requests',
      'p95 during: no successful requests',
      'p99 during: no successful requests',
    ]);
  });

  it('draws nothing without any latency', () => {
    expect(latencyBars([])).toBeNull();
    expect(latencyBars([win('before', null, null, null)])).toBeNull();
  });
});

describe('errorRateChart', () => {
  const point = (s: number, errorRate: number | null): SeriesPoint => ({
    atMs: s * 1000,
    requests: errorRate === null ? 0 : 10,
    errors: errorRate === null ? 0 : errorRate * 10,
    errorRate,
    p99Ms: null,
  });

  it('draws the line and area per run of measured seconds, breaking at seconds without requests', () => {
    // Plot x 44..348 over 0..10 s (30.4 per s); y 30..202 over 0..100%.
    const chart = errorRateChart(
      [point(0, 0), point(1, 0.5), point(2, 1), point(3, null), point(4, 0), point(5, 0)],
      { fromMs: 1000, toMs: 3000 },
      10_000,
    );
    expect(chart).not.toBeNull();
    if (!chart) return;
    expect(chart.yTicks.map((t) => t.label)).toEqual(['0%', '50%', '100%']);
    expect(chart.xTicks.map((t) => t.label)).toEqual(['0 s', '2 s', '4 s', '6 s', '8 s', '10 s']);
    expect(chart.line).toBe('M44,202L74.4,116L104.8,30M165.6,202L196,202');
    expect(chart.area).toBe('M44,202L44,202L74.4,116L104.8,30L104.8,202ZM165.6,202L165.6,202L196,202L196,202Z');
    expect(chart.fault).toEqual({ x: 74.4, y: 30, width: 60.8, height: 172 });
    expect(chart.points).toHaveLength(5);
    expect(chart.empty).toEqual([{ x: 135.2, width: 30.4, title: '3 s: no requests' }]);
  });

  it('keeps at least 0-5% on the y axis so that a quiet run reads flat', () => {
    const chart = errorRateChart([point(0, 0), point(1, 0.01)], { fromMs: 0, toMs: 1000 }, 2000);
    expect(chart?.yTicks.at(-1)?.label).toBe('6%');
  });

  it('draws nothing without traffic', () => {
    expect(errorRateChart([], { fromMs: 0, toMs: 0 }, 0)).toBeNull();
    expect(errorRateChart([point(0, null)], { fromMs: 0, toMs: 0 }, 1000)).toBeNull();
  });
});

describe('recoveryChart', () => {
  it('draws the bar to the value and the threshold as a line on a shared scale', () => {
    // Scale 0..50 s (max(42.5, 15) * 1.1 = 46.75 -> ticks of 10) over x 16..336 (6.4 per s).
    const chart = recoveryChart(42.5, 15, false);
    expect(chart?.xTicks.map((t) => t.label)).toEqual(['0 s', '10 s', '20 s', '30 s', '40 s', '50 s']);
    expect(chart?.bar).toMatchObject({ x: 16, width: 272, pass: false, label: '42.5 s', labelInside: false });
    expect(chart?.threshold).toEqual({ x: 112, label: 'threshold 15 s' });
  });

  it('puts the value inside the bar when it would run off the chart', () => {
    // 181.8 s on a 0..200 s scale ends at x 306.9; "181.8 s" needs ~49 more units, past 336.
    const chart = recoveryChart(181.8, 10, false);
    expect(chart?.bar?.labelInside).toBe(true);
  });

  it('says so when it did not recover, and draws nothing without value or threshold', () => {
    const chart = recoveryChart(null, 15, false);
    expect(chart?.bar).toBeNull();
    expect(chart?.note).toBe('did not recover within the experiment');
    expect(chart?.threshold?.label).toBe('threshold 15 s');
    expect(recoveryChart(null, null, true)).toBeNull();
  });
});

describe('swimlanes', () => {
  it('lays out one lane per region with stage blocks, a promotion, the rollback band and the abort', () => {
    const rollout = reportOf(failingRun()).rollout;
    if (!rollout) throw new Error('the failing run has a rollout');
    const lanes = swimlanes(rollout);
    // Lanes 34 high with 10 between them, from y 12.
    expect(lanes.lanes.map((l) => [l.region, l.status, l.y])).toEqual([
      ['us-west', 'PASSED', 12],
      ['us-east', 'FAILED', 56],
      ['eu-west', 'NOT_REACHED', 100],
      ['ap-south', 'NOT_REACHED', 144],
    ]);
    // Time axis 0..25 s over x 170..884 (28.56 per s).
    expect(lanes.xTicks.map((t) => t.label)).toEqual(['0 s', '5 s', '10 s', '15 s', '20 s', '25 s']);
    const west = lanes.lanes[0];
    expect(west?.blocks.map((b) => [b.kind, b.tone, b.x, b.width, b.label])).toEqual([
      ['promotion', 'promotion', 558.4, 51.4, ''],
      ['stage', 'green', 207.1, 117.1, '1%'],
      ['stage', 'green', 324.2, 117.1, '25%'],
      ['stage', 'green', 441.3, 117.1, '100%'],
    ]);
    const east = lanes.lanes[1];
    // us-east stage 2 starts at 15.4 + 1.3 + 4.1 = 20.8 s and turns red 1 s later.
    expect(east?.blocks.at(-1)).toMatchObject({ kind: 'stage', tone: 'red', x: 764, width: 28.6 });
    expect(lanes.lanes[2]?.note).toEqual({ x: 178, text: 'not reached' });
    // The band covers the two touched lanes; the abort line crosses all of them.
    // Abort at 21.8 s, rollback verified 1.64 s later.
    expect(lanes.rollback).toMatchObject({ x: 792.6, width: 46.8, y: 12, height: 78 });
    expect(lanes.abort).toMatchObject({ x: 792.6, y1: 8, y2: 182 }); // 4 above and below the lanes (12..178)
  });
});
