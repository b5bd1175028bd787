import { num } from '../util/format.ts';
import { formatDuration, stageLabel } from './format.ts';
import { niceTicks, round, scaleLinear, type Box, type Tick } from './charts.ts';
import type { RolloutReport } from './model.ts';

// Geometry of the rollout timeline: one lane per region (in wave order) over time since the
// rollout started. Stage blocks are coloured by their verdict; the promotion (candidate
// replaces the stable service, then verification) is a neutral block after the stages; the
// rollback is a band across the lanes it touched, with a marker at the abort.

export interface LaneBlock extends Box {
  kind: 'stage' | 'promotion';
  /** green | yellow | red | inconclusive for stages; "promotion" otherwise. */
  tone: string;
  /** Short text drawn inside when the block is wide enough; "" otherwise. */
  label: string;
  title: string;
}

export interface Lane {
  region: string;
  y: number;
  height: number;
  /** Baseline of the region label (left of the lane). */
  labelY: number;
  status: string;
  rolledBack: boolean;
  blocks: LaneBlock[];
  pauses: { x: number; title: string }[];
  /** "not reached" text position when the wave never started. */
  note: { x: number; text: string } | null;
}

export interface Swimlanes {
  width: number;
  height: number;
  plot: Box;
  lanes: Lane[];
  xTicks: Tick[];
  rollback: (Box & { title: string }) | null;
  abort: { x: number; y1: number; y2: number; title: string } | null;
}

const LAYOUT = { width: 900, left: 170, right: 16, top: 12, lane: 34, gap: 10, bottom: 30 };
const MIN_BLOCK = 3;

/** The time axis and the lanes' positions shared by every part of the chart. */
interface Frame {
  plot: Box;
  height: number;
  tickValues: number[];
  /** Time since the start (ms) to a horizontal position. */
  x: (ms: number) => number;
  /** A block from `from` to `to` (ms), at least MIN_BLOCK wide. */
  span: (from: number, to: number) => { x: number; width: number };
  /** The top of lane `i`. */
  laneY: (i: number) => number;
}

type RegionReport = RolloutReport['regions'][number];

export function swimlanes(rollout: RolloutReport): Swimlanes {
  const frame = frameOf(rollout);
  const { plot, height, tickValues, x } = frame;
  const lanes: Lane[] = rollout.regions.map((w, i) => laneOf(rollout, w, i, frame));
  const rollback = rollbackBand(rollout, frame);
  const abort = abortMarker(rollout, frame);

  return {
    width: LAYOUT.width,
    height,
    plot,
    lanes,
    rollback,
    abort,
    xTicks: tickValues.map((t) => ({ pos: round(x(t * 1000)), label: `${num(t)} s` })),
  };
}

function frameOf(rollout: RolloutReport): Frame {
  const { width, left, right, top, lane, gap, bottom } = LAYOUT;
  const n = Math.max(1, rollout.regions.length);
  const plot: Box = { x: left, y: top, width: width - left - right, height: n * lane + (n - 1) * gap };
  const height = plot.y + plot.height + bottom;
  const ends = [
    rollout.durationMs,
    ...rollout.stages.map((s) => s.endedAtMs ?? s.startedAtMs),
    ...rollout.timeline.map((e) => e.atMs),
  ];
  const tickValues = niceTicks(Math.max(1, ...ends) / 1000, 8);
  const xMax = (tickValues[tickValues.length - 1] ?? 1) * 1000;
  const x = scaleLinear(0, xMax, plot.x, plot.x + plot.width);
  const span = (from: number, to: number) => ({
    x: round(x(from)),
    width: round(Math.max(MIN_BLOCK, x(to) - x(from))),
  });
  const laneY = (i: number) => plot.y + i * (lane + gap);
  return { plot, height, tickValues, x, span, laneY };
}

function laneOf(rollout: RolloutReport, w: RegionReport, i: number, frame: Frame): Lane {
  const { lane } = LAYOUT;
  const { plot, x } = frame;
  const y = frame.laneY(i);
  const promotion = promotionBlock(rollout, w, y, frame);
  const blocks: LaneBlock[] = [...(promotion ? [promotion] : []), ...stageBlocks(rollout, w, y, frame)];
  return {
    region: w.region,
    y,
    height: lane,
    labelY: round(y + lane / 2 + 4),
    status: w.status,
    rolledBack: w.rolledBack,
    blocks,
    pauses: w.pausesAtMs.map((at) => ({
      x: round(x(at)),
      title: `${w.region} paused at ${formatDuration(at)} (yellow verdict)`,
    })),
    note: w.startedAtMs === null ? { x: plot.x + 8, text: 'not reached' } : null,
  };
}

function promotionBlock(rollout: RolloutReport, w: RegionReport, y: number, frame: Frame): LaneBlock | null {
  if (w.promotedAtMs === null) return null;
  const end = w.endedAtMs ?? rollout.durationMs;
  const s = frame.span(w.promotedAtMs, end);
  return {
    kind: 'promotion',
    tone: 'promotion',
    ...s,
    y: round(y + 4),
    height: LAYOUT.lane - 8,
    label: s.width >= 60 ? 'promote' : '',
    title: `${w.region}: promotion and verification, ${formatDuration(end - w.promotedAtMs)}`,
  };
}

function stageBlocks(rollout: RolloutReport, w: RegionReport, y: number, frame: Frame): LaneBlock[] {
  return rollout.stages
    .filter((s) => s.region === w.region)
    .map((st) => {
      const end = st.endedAtMs ?? rollout.durationMs;
      const s = frame.span(st.startedAtMs, end);
      const label = `${num(st.weight)}%`;
      return {
        kind: 'stage',
        tone: st.verdict,
        ...s,
        y: round(y + 4),
        height: LAYOUT.lane - 8,
        label: s.width >= label.length * 7 + 6 ? label : '',
        title:
          `${w.region} ${stageLabel(st.stage, st.weight)}: ${st.verdict}, ${st.outcome}, ` +
          `${formatDuration(end - st.startedAtMs)}, ${st.analyses} analyses`,
      };
    });
}

function rollbackBand(rollout: RolloutReport, frame: Frame): Swimlanes['rollback'] {
  const rb = rollout.rollback;
  const touched = rollout.regions.map((w, i) => ({ w, i })).filter(({ w }) => w.rolledBack);
  if (rb.startedAtMs === null || touched.length === 0) return null;
  const first = frame.laneY(touched[0]?.i ?? 0);
  const last = frame.laneY(touched[touched.length - 1]?.i ?? 0) + LAYOUT.lane;
  const end = rb.endedAtMs ?? rollout.durationMs;
  return {
    ...frame.span(rb.startedAtMs, end),
    y: round(first),
    height: round(last - first),
    title: `rollback of ${touched.map(({ w }) => w.region).join(', ')}: ` + formatDuration(end - rb.startedAtMs),
  };
}

function abortMarker(rollout: RolloutReport, { plot, x }: Frame): Swimlanes['abort'] {
  const rb = rollout.rollback;
  if (rb.startedAtMs === null) return null;
  return {
    x: round(x(rb.startedAtMs)),
    y1: plot.y - 4,
    y2: round(plot.y + plot.height + 4),
    title: `rollback started at ${formatDuration(rb.startedAtMs)}${rb.reason ? `: ${rb.reason}` : ''}`,
  };
}
