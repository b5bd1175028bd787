import { num, pct } from '../util/format.ts';
import type { TrendPoint } from '../history/trends.ts';
import { niceTicks, round, scaleLinear, type Box, type Tick } from './charts.ts';

// The history trend for the report: the risk score of each of the last runs as a bar,
// coloured by the gate's verdict, against the max_risk line. Geometry only, like charts.ts.
// No history gives no chart (null): the page says "no history yet" instead of drawing
// empty axes.

export interface TrendBar extends Box {
  tone: 'pass' | 'fail';
  title: string;
}

export interface RiskTrendChart {
  width: number;
  height: number;
  plot: Box;
  bars: TrendBar[];
  /** Runs without a risk score (prediction off then): a mark where the bar would be. */
  missing: { x: number; y: number; title: string }[];
  threshold: { y: number; label: string };
  xTicks: Tick[];
  yTicks: Tick[];
}

const TREND = { width: 640, height: 180, left: 40, right: 70, top: 16, bottom: 30 };

export function riskTrendChart(points: readonly TrendPoint[], maxRisk: number): RiskTrendChart | null {
  if (points.length === 0) return null;
  const { width, height, left, right, top, bottom } = TREND;
  const plot: Box = { x: left, y: top, width: width - left - right, height: height - top - bottom };
  const yTicks = niceTicks(100, 4);
  const y = scaleLinear(0, 100, plot.y + plot.height, plot.y);
  const slot = plot.width / points.length;
  const barWidth = round(Math.max(2, Math.min(28, slot * 0.7)));
  const base = plot.y + plot.height;
  const bars: TrendBar[] = [];
  const missing: RiskTrendChart['missing'] = [];
  points.forEach((p, i) => {
    const cx = plot.x + slot * (i + 0.5);
    const about =
      `${p.version} (${p.runId}): gate ${p.verdict}, ` +
      `rollout ${p.rollout}${p.accuracy === null ? '' : `, ${pct(p.accuracy)} of stages inside the predicted ranges`}`;
    if (p.riskScore === null) {
      missing.push({ x: round(cx), y: round(base - 4), title: `${about}; no risk score` });
      return;
    }
    // A score of 0 still gets a sliver, so that a run is visibly there.
    const h = Math.max(1.5, base - y(p.riskScore));
    bars.push({
      x: round(cx - barWidth / 2),
      y: round(base - h),
      width: barWidth,
      height: round(h),
      tone: p.verdict === 'OPEN' ? 'pass' : 'fail',
      title: `risk ${num(p.riskScore)}: ${about}`,
    });
  });
  // At most about 10 labels along the axis, always the first and the last run.
  const every = Math.max(1, Math.ceil(points.length / 10));
  const xTicks = points.flatMap((_, i) =>
    i % every === 0 || i === points.length - 1 ? [{ pos: round(plot.x + slot * (i + 0.5)), label: `#${i + 1}` }] : [],
  );
  return {
    width,
    height,
    plot,
    bars,
    missing,
    threshold: { y: round(y(Math.min(100, Math.max(0, maxRisk)))), label: `max ${num(maxRisk)}` },
    xTicks,
    yTicks: yTicks.map((t) => ({ pos: round(y(t)), label: num(t) })),
  };
}
