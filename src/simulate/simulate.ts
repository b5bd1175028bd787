import type { Observation } from '../analysis/observation.ts';
import type { Judgement, Verdict } from '../analysis/judge.ts';
import {
  currentRegion,
  initialState,
  isTerminal,
  transition,
  type RolloutEvent,
  type RolloutState,
} from '../rollout/machine.ts';
import { stageCount, stageRates, type RolloutPlan } from '../plan/rollout.ts';
import { step } from '../rollout/step.ts';
import { createRandom } from '../util/random.ts';
import { metricsJson, round, testsJson, type SimulationResult, type StageJson, type TransitionJson } from './result.ts';
import type { SimulationScenario } from './scenario.ts';
import { cohortStream, simulateHealth } from './traffic.ts';
import { timeToDetect as measureTimeToDetect } from '../rollout/detect.ts';

// A seeded, deterministic rollout on a virtual clock. It drives the same state machine with
// the same step() (judge -> decide -> transition) a live controller uses, feeding it simulated
// observations instead of real ones; deploys and health checks are modelled (below). The
// result is a pure function of (plan, scenario, seed): same inputs, byte-identical JSON.

/** Virtual time to start or replace a container. */
export const SIM_DEPLOY_MS = 1000;
/** Health probe interval, as rollout/verify.ts probes live. */
export const SIM_HEALTH_INTERVAL_MS = 250;
/** A stage analysed this often has run away (the stage deadline should have ended it). */
const MAX_ANALYSES_PER_STAGE = 100_000;

export function simulate(plan: RolloutPlan, scenario: SimulationScenario, seed: number): SimulationResult {
  const random = createRandom(seed);
  const p: RolloutPlan =
    scenario.requestsPerSecond === undefined ? plan : { ...plan, trafficRps: scenario.requestsPerSecond };
  const { baseline, canary } = scenario;
  const health = (model: typeof baseline) =>
    simulateHealth(
      random,
      model,
      p.health.consecutiveSuccesses,
      p.health.deadlineSeconds * 1000,
      SIM_HEALTH_INTERVAL_MS,
    );

  let state: RolloutState = initialState(p.regions, stageCount(p));
  let now = 0;
  let requests = 0;
  let canaryRequests = 0;
  let probes = 0;
  let stagesCompleted = 0;
  let abortAt: number | null = null;
  let timeToDetect: number | null = null;
  let timeToRollback: number | null = null;
  const versions: Record<string, string> = Object.fromEntries(p.regions.map((r) => [r, baseline.version]));
  const unverified: string[] = [];
  const stages: StageJson[] = [];
  const timeline: TransitionJson[] = [];

  const record = (from: RolloutState, event: RolloutEvent, to: RolloutState) => {
    const entry: TransitionJson = {
      at_ms: round(now, 0),
      event: event.type,
      from: from.kind,
      to: to.kind,
      region: currentRegion(to) ?? null,
      stage: to.kind === 'CANARY' || to.kind === 'PAUSED' ? to.stage : null,
    };
    if ('reason' in event) entry.reason = event.reason;
    timeline.push(entry);
    if (event.type === 'ABORT') abortAt = now;
  };
  const send = (event: RolloutEvent) => {
    const next = transition(state, event);
    record(state, event, next);
    state = next;
  };

  const runStage = (s: Extract<RolloutState, { kind: 'CANARY' }>) => {
    const region = p.regions[s.region] as string;
    if (s.stage === 0) now += SIM_DEPLOY_MS; // the canary container starts beside the stable one
    const rates = stageRates(p, s.stage);
    const canaryStream = cohortStream(random, region, 'canary', canary, rates.canary, now);
    const baselineStream = cohortStream(random, region, 'baseline', baseline, rates.baseline, now);
    const canaryObs: Observation[] = [];
    const baselineObs: Observation[] = [];
    const counts: Record<Verdict, number> = { green: 0, yellow: 0, red: 0, inconclusive: 0 };
    const startedAt = now;
    let timing = { startedAt, pausedMs: 0 };
    let next = now + p.analysis.intervalSeconds * 1000;
    let firstPauseAt: number | null = null;
    for (let analyses = 1; analyses <= MAX_ANALYSES_PER_STAGE; analyses++) {
      const c = canaryStream.fill(now, next, canaryObs);
      requests += c + baselineStream.fill(now, next, baselineObs);
      canaryRequests += c;
      now = next;
      const r = step({ plan: p, state, timing, now, canary: canaryObs, baseline: baselineObs });
      counts[r.judgement.verdict]++;
      if (r.event) record(state, r.event, r.state);
      if (r.event?.type === 'PAUSE' && firstPauseAt === null) firstPauseAt = now;
      state = r.state;
      timing = r.timing;
      if (r.event?.type === 'STAGE_PASSED' || r.event?.type === 'ABORT') {
        const passed = r.event.type === 'STAGE_PASSED';
        if (passed) stagesCompleted++;
        else timeToDetect = measureTimeToDetect({ judgement: r.judgement, firstPauseAt, windowStart: startedAt, now });
        stages.push(
          stageJson(
            region,
            s.stage,
            p.stages[s.stage]?.weight ?? 0,
            startedAt,
            now,
            passed,
            analyses,
            counts,
            r.judgement,
          ),
        );
        return;
      }
      next = now + r.decision.nextAnalysisInMs;
    }
    throw new Error(`simulation: stage ${s.stage} of ${region} did not end after ${MAX_ANALYSES_PER_STAGE} analyses`);
  };

  const promote = (s: Extract<RolloutState, { kind: 'PROMOTED' }>) => {
    const region = p.regions[s.region] as string;
    now += SIM_DEPLOY_MS; // the candidate replaces the stable container
    versions[region] = canary.version;
    const h = health(canary);
    probes += h.probes;
    now += h.durationMs;
    send(
      h.ok
        ? { type: 'NEXT_REGION' }
        : {
            type: 'ABORT',
            reason: `${region}: ${healthProblem(p)} after promoting ${canary.version}`,
            cause: 'verification',
          },
    );
  };

  const rollBack = () => {
    // Every touched region in parallel, as the live rollback does: the slowest one decides.
    let slowest = 0;
    for (const region of state.touched) {
      versions[region] = baseline.version;
      const h = health(baseline);
      probes += h.probes;
      slowest = Math.max(slowest, SIM_DEPLOY_MS + h.durationMs);
      if (!h.ok) unverified.push(region);
    }
    now += slowest;
    timeToRollback = abortAt === null ? null : now - abortAt;
    send(
      unverified.length === 0
        ? { type: 'ROLLBACK_VERIFIED' }
        : {
            type: 'ROLLBACK_FAILED',
            reason: `${unverified.join(', ')}: ${healthProblem(p)} after rolling back to ${baseline.version}`,
          },
    );
  };

  send({ type: 'START' });
  while (!isTerminal(state)) {
    if (state.kind === 'CANARY') runStage(state);
    else if (state.kind === 'PROMOTED') promote(state);
    else if (state.kind === 'ROLLING_BACK') rollBack();
    else throw new Error(`simulation: unexpected state ${state.kind}`);
  }

  const final = state;
  const aborted = final.kind === 'ROLLED_BACK' || final.kind === 'FAILED';
  return {
    seed,
    strategy: p.strategy,
    final_state: final.kind,
    stages_completed: stagesCompleted,
    rollback_triggered: aborted,
    rollback_reason: final.kind === 'ROLLED_BACK' ? final.reason : final.kind === 'FAILED' ? final.abortReason : null,
    failed_region: aborted ? (currentRegion(final) ?? null) : null,
    time_to_detect_ms: timeToDetect === null ? null : round(timeToDetect, 0),
    time_to_rollback_ms: timeToRollback === null ? null : round(timeToRollback, 0),
    duration_ms: round(now, 0),
    requests_used: requests,
    canary_requests: canaryRequests,
    health_probes: probes,
    final_versions: versions,
    unverified_regions: unverified,
    stages,
    timeline,
  };
}

function healthProblem(p: RolloutPlan): string {
  return `/health did not pass ${p.health.consecutiveSuccesses} times in a row within ${p.health.deadlineSeconds} s`;
}

function stageJson(
  region: string,
  stage: number,
  weight: number,
  startedAt: number,
  endedAt: number,
  passed: boolean,
  analyses: number,
  counts: Record<Verdict, number>,
  j: Judgement,
): StageJson {
  return {
    region,
    stage,
    weight,
    started_at_ms: round(startedAt, 0),
    ended_at_ms: round(endedAt, 0),
    outcome: passed ? 'passed' : 'aborted',
    analyses,
    verdict_counts: { ...counts },
    verdict: j.verdict,
    reasons: j.reasons,
    canary: metricsJson(j.canary),
    baseline: metricsJson(j.baseline),
    tests: testsJson(j),
  };
}
