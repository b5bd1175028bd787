import type { PhaseTiming } from '../util/phases.ts';
import type { DifferentialResult } from '../analysis/differential.ts';
import type { ControlResult } from '../rollout/control-verdict.ts';
import type { WindowMetrics } from '../analysis/metrics.ts';
import type { Verdict } from '../analysis/judge.ts';
import type { ExperimentResult, ExperimentStatus, Measurement, SeriesPoint, WindowSummary } from '../chaos/result.ts';
import type { AnalysisInterval, RolloutResult, StageRecord, TimelineEntry } from '../rollout/result.ts';
import type { MitigationRecord } from '../rollout/mitigation.ts';
import type { RollbackDecision } from '../rollout/scope.ts';
import type { CheckRecord } from '../analysis/combine.ts';
import type { Verification } from '../rollout/verify.ts';
import type { Finding, GateVerdict, ResolvedGatePolicy } from './verdict.ts';
import { cleanText } from './format.ts';
import type { PredictionReport } from './prediction.ts';
import { readRollout, type RolloutReading, type WaveStatus } from './waves.ts';

// The typed, versioned report every writer renders (report.json, report.html, junit.xml,
// the step summary). Built once by a pure function from the run's results, so that the
// four outputs cannot disagree. camelCase here; report.json is the same object with
// snake_case keys (util/json-text.ts) and schemas/report.schema.json describes that JSON.
//
// Optional inputs become explicit nulls, so the JSON always has the same keys (easier for
// jq and for the schema) and the templates never meet a missing field (strict handlebars).
// Bump REPORT_VERSION on any change that breaks a reader; adding a field does not.
// 2: deployment_gate is the string OPEN/CLOSED (the brief's shape); its details moved to gate.

export const REPORT_VERSION = '2';

export interface EnvironmentInput {
  composeVersion: string | null;
  dockerVersion: string | null;
  node: string;
  injectionMethods: string[];
  notes: string[];
  /** How long each phase of the run took, in order (absent: not measured). */
  phases?: readonly PhaseTiming[];
}

export interface ReportInput {
  /** ISO time the run started; injected (no clock here). */
  runId: string;
  commit: string | null;
  version: string;
  failureRate: number;
  experiments: readonly ExperimentResult[];
  rollout: RolloutResult | null;
  /** The gate's controls before the candidate (rollout/control-verdict.ts); null when none ran. */
  controls?: readonly ControlResult[] | null;
  gate: GateVerdict;
  environment: EnvironmentInput;
  /** The prediction made before the rollout (prediction.ts), when predict.enabled. */
  prediction?: PredictionReport;
}

export interface ReportMeasurement {
  name: string;
  value: number | null;
  threshold: number;
  comparator: '<=' | '>=';
  unit: string;
  pass: boolean;
  detail: string | null;
}

/** The degradation measurements, in the order the flat degradationPercent prefers them. */
const DEGRADATIONS = ['throughput_degradation_percent', 'latency_degradation_percent'] as const;
type DegradationName = (typeof DEGRADATIONS)[number];

/** The brief's flat figures of a scenario: each value beside its threshold, null where there is none. */
interface ScenarioFigures {
  /** The result's recovery time; its threshold when the experiment holds recovery_time_seconds. */
  recoveryTimeSeconds: number | null;
  thresholdSeconds: number | null;
  /** The p99 during the fault (the p99_latency_ms_during measurement, else the during window's). */
  p99LatencyMs: number | null;
  thresholdMs: number | null;
  /** A held degradation measurement: the failing one, else throughput before latency. */
  degradationPercent: number | null;
  thresholdPercent: number | null;
  /** Which measurement degradationPercent is. */
  degradationMeasurement: DegradationName | null;
}

export interface Scenario extends ScenarioFigures {
  name: string;
  status: ExperimentStatus;
  description: string;
  /** Why it could not run (status ERROR); null otherwise. */
  error: string | null;
  fault: { kind: string; method: string; params: Record<string, unknown> };
  targets: string[];
  startedAt: string;
  durationMs: number;
  faultWindow: { fromMs: number; toMs: number };
  measurements: ReportMeasurement[];
  acknowledgedWritesLost: number;
  reverted: boolean;
  /** Facts besides the numbers: a fallback taken, a restart or OOM kill seen. */
  notes: string[];
  /** before, during, after (in that order, those present). */
  windows: WindowSummary[];
  series: SeriesPoint[];
}

export interface RegionWave {
  region: string;
  /** 1-based position in the rollout order. */
  wave: number;
  status: WaveStatus;
  reason: string | null;
  startedAtMs: number | null;
  endedAtMs: number | null;
  promotedAtMs: number | null;
  pausesAtMs: number[];
  stagesPassed: number;
  /** The rollback put this region back on its previous version. */
  rolledBack: boolean;
  /** promoted: left on the candidate; rolled_back: put back on its previous version; untouched: never reached. */
  outcome: RegionOutcomeKind;
  previousVersion: string;
  previousFailureRate: number;
  /** What the region reported at the end; null when it did not answer. */
  finalVersion: string | null;
}

export interface StageReport {
  region: string;
  /** 0-based index in the plan's stages (reports show it 1-based). */
  stage: number;
  weight: number;
  startedAt: string;
  endedAt: string | null;
  /** Milliseconds since the rollout started. */
  startedAtMs: number;
  endedAtMs: number | null;
  analyses: number;
  verdict: Verdict;
  outcome: 'passed' | 'aborted';
  reasons: string[];
  canary: WindowMetrics;
  baseline: WindowMetrics;
  tests: StageRecord['tests'];
  /** Every check of the stage's last analysis (synthetic and Prometheus). */
  checks: CheckRecord[];
  /** Every analysis: the requests since the one before, and its verdict. */
  intervals: AnalysisInterval[];
}

export interface ReportTimelineEntry {
  at: string;
  atMs: number;
  event: string;
  from: string;
  to: string;
  region: string | null;
  stage: number | null;
  detail: string | null;
}

export interface ReportVerification {
  region: string;
  slot: Verification['slot'];
  ok: boolean;
  expectedVersion: string;
  reportedVersion: string | null;
  containerState: string;
  healthChecks: number;
  problem: string | null;
}

export type RegionOutcomeKind = 'promoted' | 'rolled_back' | 'untouched';

/** One abort and its rollback: the decision (rollout/scope.ts), the regions put back, how long. */
export interface ReportRollbackDecision {
  failedRegion: string;
  reason: string;
  decision: RollbackDecision;
  regions: string[];
  durationMs: number;
  ok: boolean;
}

/** rollout/mitigation.ts's record, with the backup time placed on the rollout's clock. */
export interface ReportMitigation {
  region: string;
  backup: { name: string; at: string; atMs: number; rows: number; bytes: number; durationMs: number } | null;
  integrity: NonNullable<MitigationRecord['integrity']> | null;
  restored: boolean;
  restore: {
    durationMs: number;
    rowsRestored: number;
    keptAfterBackup: number;
    /** Rows undone by the restore, per version that wrote them. */
    undone: { version: string; rows: number }[];
    backupRowsChecked: number;
    backupRowsMissing: number;
  } | null;
  preDeployWritesChecked: number;
  preDeployWritesMissing: number;
  acknowledgedReadBack: { checked: number; missing: number };
  candidateWritesAcknowledged: number;
  candidateWritesLostByCandidate: number;
  candidateWritesUndone: number;
  problems: string[];
}

export interface RolloutReport {
  version: string;
  failureRate: number;
  strategy: RolloutResult['strategy'];
  finalState: RolloutResult['finalState'];
  startedAt: string;
  endedAt: string;
  durationMs: number;
  timeToDetectMs: number | null;
  timeToRollbackMs: number | null;
  regions: RegionWave[];
  stages: StageReport[];
  /** Chaos on the candidate beside the baseline, in the order run (analysis/differential.ts). */
  differential: DifferentialResult[];
  timeline: ReportTimelineEntry[];
  rollback: {
    triggered: boolean;
    reason: string | null;
    failedRegion: string | null;
    /** Milliseconds since the rollout started: the abort, and the rollback verified or failed. */
    startedAtMs: number | null;
    endedAtMs: number | null;
    verifications: ReportVerification[];
    problems: string[];
    /** all: every touched region put back; region: only the failing one(s); null: no rollback. */
    scope: 'all' | 'region' | null;
    /** Regions put back on their previous version, and touched regions left on the candidate. */
    regions: string[];
    kept: string[];
    /** One per abort, in order. */
    decisions: ReportRollbackDecision[];
  };
  /** Per rolled-back region: backup, integrity check, restore, writes read back. */
  mitigation: ReportMitigation[];
  traffic: RolloutResult['traffic'];
}

/** The gate's verdict in full; Report.deploymentGate is its status alone. */
export interface ReportGate {
  status: GateVerdict['gate'];
  reasons: string[];
  findings: Finding[];
  policy: ResolvedGatePolicy;
}

export interface Report {
  reportVersion: typeof REPORT_VERSION;
  runId: string;
  commit: string | null;
  version: string;
  failureRate: number;
  overall: GateVerdict['overall'];
  /** A plain string, as the brief's report.json has it: `jq -e '.deployment_gate == "OPEN"'`. */
  deploymentGate: GateVerdict['gate'];
  gate: ReportGate;
  totals: { experiments: number; passed: number; failed: number; errors: number };
  scenarios: Scenario[];
  rollout: RolloutReport | null;
  /** Proof that the checks would catch a bad release and pass a good one; null when none ran. */
  controls: ControlResult[] | null;
  environment: EnvironmentInput;
  prediction: PredictionReport | null;
}

export function buildReport(input: ReportInput): Report {
  const scenarios = input.experiments.map(scenario);
  const report: Report = {
    reportVersion: REPORT_VERSION,
    runId: input.runId,
    commit: input.commit,
    version: input.version,
    failureRate: input.failureRate,
    overall: input.gate.overall,
    deploymentGate: input.gate.gate,
    gate: reportGate(input.gate),
    totals: {
      experiments: scenarios.length,
      passed: scenarios.filter((s) => s.status === 'PASS').length,
      failed: scenarios.filter((s) => s.status === 'FAIL').length,
      errors: scenarios.filter((s) => s.status === 'ERROR').length,
    },
    scenarios,
    rollout: input.rollout ? rolloutReport(input.rollout) : null,
    controls: input.controls ? structuredClone([...input.controls]) : null,
    environment: {
      composeVersion: input.environment.composeVersion,
      dockerVersion: input.environment.dockerVersion,
      node: input.environment.node,
      // The methods the experiments actually used belong here even if the caller forgot one.
      injectionMethods: unique([
        ...input.environment.injectionMethods,
        ...input.experiments.map((e) => e.fault.method),
      ]),
      notes: [...input.environment.notes],
      phases: (input.environment.phases ?? []).map((p) => ({ ...p })),
    },
    prediction: input.prediction ? structuredClone(input.prediction) : null,
  };
  return report;
}

function reportGate(g: GateVerdict): ReportGate {
  return {
    status: g.gate,
    reasons: [...g.reasons],
    findings: g.findings.map((f) => ({ ...f })),
    policy: { ...g.policy, requiredExperiments: [...g.policy.requiredExperiments] },
  };
}

const WINDOW_ORDER = ['before', 'during', 'after'] as const;

function scenario(e: ExperimentResult): Scenario {
  return {
    name: e.name,
    status: e.status,
    ...scenarioFigures(e),
    description: e.description,
    error: e.error === undefined ? null : cleanText(e.error),
    fault: { kind: e.fault.kind, method: e.fault.method, params: { ...e.fault.params } },
    targets: [...e.targets],
    startedAt: e.startedAt,
    durationMs: e.durationMs,
    faultWindow: { ...e.faultWindow },
    measurements: e.measurements.map(measurement),
    acknowledgedWritesLost: e.acknowledgedWritesLost,
    reverted: e.reverted,
    notes: (e.notes ?? []).map(cleanText),
    windows: WINDOW_ORDER.flatMap((w) => e.windows.filter((x) => x.window === w).map((x) => ({ ...x }))),
    series: [...e.series].sort((a, b) => a.atMs - b.atMs).map((p) => ({ ...p })),
  };
}

function scenarioFigures(e: ExperimentResult): ScenarioFigures {
  const held = (name: string) => e.measurements.find((m) => m.name === name);
  const recovery = held('recovery_time_seconds');
  const p99 = held('p99_latency_ms_during');
  const degradation = heldDegradation(e.measurements);
  return {
    recoveryTimeSeconds: e.recoveryTimeSeconds ?? recovery?.value ?? null,
    thresholdSeconds: recovery?.threshold ?? null,
    p99LatencyMs: p99?.value ?? duringP99(e.windows),
    thresholdMs: p99?.threshold ?? null,
    degradationPercent: degradation?.value ?? null,
    thresholdPercent: degradation?.threshold ?? null,
    degradationMeasurement: degradation?.name ?? null,
  };
}

/** One flat field for two measurements: a failing one must show, else a stable choice (throughput first). */
function heldDegradation(ms: readonly Measurement[]): (Measurement & { name: DegradationName }) | undefined {
  const held = DEGRADATIONS.flatMap((name) => ms.filter((m) => m.name === name).map((m) => ({ ...m, name })));
  return held.find((m) => !m.pass) ?? held[0];
}

/** Rounded as measure.ts rounds p99_latency_ms_during, so both sources read alike. */
function duringP99(windows: readonly WindowSummary[]): number | null {
  const p99 = windows.find((w) => w.window === 'during')?.p99Ms ?? null;
  return p99 === null ? null : Number(p99.toFixed(1));
}

function measurement(m: Measurement): ReportMeasurement {
  return {
    name: m.name,
    value: m.value,
    threshold: m.threshold,
    comparator: m.comparator,
    unit: m.unit,
    pass: m.pass,
    detail: m.detail ?? null,
  };
}

function rolloutReport(r: RolloutResult): RolloutReport {
  const reading = readRollout(r);
  const start = Date.parse(r.startedAt);
  const sinceStart = (iso: string) => Math.max(0, Date.parse(iso) - start);
  const waves = regionWaves(r, reading);
  const rolledBack = waves.filter((w) => w.outcome === 'rolled_back').map((w) => w.region);
  return {
    version: r.version,
    failureRate: r.failureRate,
    strategy: r.strategy,
    finalState: r.finalState,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    durationMs: r.durationMs,
    timeToDetectMs: r.timeToDetectMs,
    timeToRollbackMs: r.timeToRollbackMs,
    regions: waves,
    stages: r.stages.map((s) => ({
      region: s.region,
      stage: s.stage,
      weight: s.weight,
      startedAt: s.startedAt,
      endedAt: s.endedAt ?? null,
      startedAtMs: sinceStart(s.startedAt),
      endedAtMs: s.endedAt === undefined ? null : sinceStart(s.endedAt),
      analyses: s.analyses,
      verdict: s.verdict,
      outcome: stageOutcome(s, reading),
      reasons: [...s.reasons],
      canary: { ...s.canary },
      baseline: { ...s.baseline },
      tests: structuredClone(s.tests),
      // Older results (before Prometheus checks) have none.
      checks: (s.checks ?? []).map((c) => ({ ...c })),
      // Older results have no intervals.
      intervals: (s.intervals ?? []).map((i) => ({ ...i, canary: { ...i.canary }, baseline: { ...i.baseline } })),
    })),
    // Older results have none.
    differential: structuredClone(r.differential ?? []),
    timeline: r.timeline.map(timelineEntry),
    rollback: {
      triggered: r.rollback.triggered,
      reason: r.rollback.reason,
      failedRegion: r.rollback.failedRegion,
      startedAtMs: reading.abortedAtMs,
      endedAtMs: reading.rollbackEndedAtMs,
      verifications: r.rollback.verifications.map((v) => ({
        region: v.region,
        slot: v.slot,
        ok: v.ok,
        expectedVersion: v.expectedVersion,
        reportedVersion: v.reportedVersion ?? null,
        containerState: v.containerState,
        healthChecks: v.healthChecks,
        problem: v.problem ?? null,
      })),
      problems: [...r.rollback.problems],
      // Results from before granular rollback lack these; every rollback then was of every touched region.
      scope: r.rollback.scope ?? (r.rollback.triggered ? 'all' : null),
      regions: [...(r.rollback.regions ?? rolledBack)],
      kept: [...(r.rollback.kept ?? [])],
      decisions: (r.rollback.decisions ?? []).map((d) => ({
        failedRegion: d.failedRegion,
        reason: d.reason,
        decision: structuredClone(d.decision),
        regions: [...d.regions],
        durationMs: d.durationMs,
        ok: d.ok,
      })),
    },
    mitigation: (r.mitigation ?? []).map((m) => mitigation(m, start)),
    traffic: { ...r.traffic },
  };
}

function mitigation(m: MitigationRecord, start: number): ReportMitigation {
  return {
    region: m.region,
    backup: m.backup
      ? {
          name: m.backup.name,
          at: new Date(m.backup.at).toISOString(),
          atMs: Math.max(0, m.backup.at - start),
          rows: m.backup.rows,
          bytes: m.backup.bytes,
          durationMs: m.backup.durationMs,
        }
      : null,
    integrity: m.integrity
      ? { ...m.integrity, problems: [...m.integrity.problems], sqlite: [...m.integrity.sqlite] }
      : null,
    restored: m.restored,
    restore: m.restore
      ? {
          durationMs: m.restore.durationMs,
          rowsRestored: m.restore.rowsRestored,
          keptAfterBackup: m.restore.keptAfterBackup,
          // A list, not an object keyed by version: report.json's keys are converted to snake_case,
          // and a version is data.
          undone: Object.entries(m.restore.undone).map(([version, rows]) => ({ version, rows })),
          backupRowsChecked: m.restore.backupRowsChecked,
          backupRowsMissing: m.restore.backupRowsMissing,
        }
      : null,
    preDeployWritesChecked: m.preDeployWritesChecked,
    preDeployWritesMissing: m.preDeployWritesMissing,
    acknowledgedReadBack: { ...m.acknowledgedReadBack },
    candidateWritesAcknowledged: m.candidateWritesAcknowledged,
    candidateWritesLostByCandidate: m.candidateWritesLostByCandidate,
    candidateWritesUndone: m.candidateWritesUndone,
    problems: [...m.problems],
  };
}

function regionWaves(r: RolloutResult, reading: RolloutReading): RegionWave[] {
  return reading.waves.map((w, i) => {
    const outcome = r.regions.find((x) => x.region === w.region);
    const stagesPassed = r.stages.filter((s) => s.region === w.region && stageOutcome(s, reading) === 'passed').length;
    // Results from before granular rollback lack the outcome: a rollback then put back every region it had reached.
    const kind: RegionOutcomeKind =
      outcome?.outcome ?? (w.startedAtMs === null ? 'untouched' : r.rollback.triggered ? 'rolled_back' : 'promoted');
    return {
      region: w.region,
      wave: i + 1,
      status: w.status,
      reason: w.reason,
      startedAtMs: w.startedAtMs,
      endedAtMs: w.endedAtMs,
      promotedAtMs: w.promotedAtMs,
      pausesAtMs: [...w.pausesAtMs],
      stagesPassed,
      rolledBack: kind === 'rolled_back',
      outcome: kind,
      previousVersion: outcome?.previous.version ?? 'unknown',
      previousFailureRate: outcome?.previous.failureRate ?? 0,
      finalVersion: outcome?.finalVersion ?? null,
    };
  });
}

function stageOutcome(s: StageRecord, reading: RolloutReading): 'passed' | 'aborted' {
  const a = reading.abortedStage;
  return a && a.region === s.region && a.stage === s.stage ? 'aborted' : 'passed';
}

function timelineEntry(e: TimelineEntry): ReportTimelineEntry {
  return {
    at: e.at,
    atMs: e.atMs,
    event: e.event,
    from: e.from,
    to: e.to,
    region: e.region ?? null,
    stage: e.stage ?? null,
    detail: e.detail ?? null,
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}
