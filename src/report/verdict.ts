import type { ExperimentResult } from '../chaos/result.ts';
import type { DifferentialResult } from '../analysis/differential.ts';
import type { RolloutResult } from '../rollout/result.ts';
import { cleanText, describeMeasurement, formatDuration, stageLabel } from './format.ts';
import { readRollout } from './waves.ts';

// The deployment gate: every experiment and the rollout are classified, and every
// classification is explained in one line that names the experiment, stage or region and the
// measured value against its threshold (Kayenta-style). Lines that close the gate come
// first, then advisory ones (a failure the policy lets through), then the passes.
//
// Rules (the `gate:` section of chaos-gate.yml, see src/config/gate.ts):
// - an experiment that FAILED or ERRORed closes the gate; with fail_on_experiment off it is
//   advisory instead. A PASS that contradicts a failed measurement counts as a FAIL.
// - a required experiment must have run and passed: missing, FAIL or ERROR closes the gate
//   whatever fail_on_experiment says (that is what "required" means);
// - a ROLLED_BACK or FAILED rollout closes it; with fail_on_rollback off it is advisory;
// - writes acknowledged before the deploy that do not read back after the rollback close it
//   whatever fail_on_rollback says: that policy tolerates a bad candidate, not lost data;
// - with no experiment and no rollout, nothing was checked: closed.
// `overall` is what happened (FAIL when anything failed, even advisory); `gate` is the policy.

/** The policy fields the verdict reads; config's GatePolicy can be passed as it is. */
export interface GatePolicyInput {
  failOnExperiment?: boolean;
  failOnRollback?: boolean;
  /** Experiments that must have run and passed for the gate to open. */
  requiredExperiments?: readonly string[];
}

export interface ResolvedGatePolicy {
  failOnExperiment: boolean;
  failOnRollback: boolean;
  requiredExperiments: string[];
}

export interface Finding {
  text: string;
  /** The experiment the finding is about, when it is about one (the headline ranks those last). */
  experiment?: string;
  /** closes: closes the gate; advisory: a failure the policy lets through; pass: explains a pass. */
  effect: 'closes' | 'advisory' | 'pass';
}

export interface GateVerdict {
  gate: 'OPEN' | 'CLOSED';
  overall: 'PASS' | 'FAIL';
  /** Every finding's text, the ones that close the gate first. */
  reasons: string[];
  /** The same findings with their effect on the gate (the HTML and the summary mark them). */
  findings: Finding[];
  /** The policy the gate was decided under, every default filled in. */
  policy: ResolvedGatePolicy;
}

export function decideGate(
  experiments: readonly ExperimentResult[],
  rollout: RolloutResult | null,
  policy: GatePolicyInput = {},
): GateVerdict {
  const resolved: ResolvedGatePolicy = {
    failOnExperiment: policy.failOnExperiment ?? true,
    failOnRollback: policy.failOnRollback ?? true,
    requiredExperiments: [...(policy.requiredExperiments ?? [])],
  };
  const findings: Finding[] = [];
  if (experiments.length === 0 && rollout === null) {
    findings.push({ effect: 'closes', text: 'nothing was checked: no experiment ran and no rollout was run' });
  }
  for (const name of resolved.requiredExperiments) {
    if (!experiments.some((e) => e.name === name))
      findings.push({ effect: 'closes', text: `required experiment ${quote(name)} did not run` });
  }
  for (const e of experiments) findings.push(experimentFinding(e, resolved));
  if (rollout)
    findings.push(
      rolloutFinding(rollout, resolved),
      ...dataLossFindings(rollout),
      ...rollout.differential.map(differentialFinding),
    );

  const rank = { closes: 0, advisory: 1, pass: 2 } as const;
  // Array.prototype.sort is stable: within an effect the input order stays.
  const sorted = [...findings].sort((a, b) => rank[a.effect] - rank[b.effect]);
  return {
    gate: findings.some((f) => f.effect === 'closes') ? 'CLOSED' : 'OPEN',
    overall: findings.every((f) => f.effect === 'pass') ? 'PASS' : 'FAIL',
    reasons: sorted.map((f) => f.text),
    findings: sorted,
    policy: resolved,
  };
}

/**
 * Chaos on the candidate: a regression already rolled the rollout back (its finding closes);
 * one that could not run closes the gate too, since nothing then shows the candidate resilient.
 */
function differentialFinding(d: DifferentialResult): Finding {
  const subject = `differential ${quote(d.experiment)} in ${d.region} stage ${d.stage + 1}`;
  if (d.verdict === 'pass') return { effect: 'pass', text: `${subject} PASS: ${cleanText(d.headline)}` };
  if (d.verdict === 'regression') return { effect: 'closes', text: `${subject} REGRESSION: ${cleanText(d.headline)}` };
  return {
    effect: 'closes',
    text: `${subject} COULD NOT RUN, so nothing shows the candidate resilient: ${cleanText(d.headline)}`,
  };
}

function experimentFinding(e: ExperimentResult, policy: ResolvedGatePolicy): Finding {
  const subject = `experiment ${quote(e.name)}`;
  const required = policy.requiredExperiments.includes(e.name);
  const effect = (): Finding['effect'] => (policy.failOnExperiment || required ? 'closes' : 'advisory');
  const note = () =>
    policy.failOnExperiment ? '' : required ? ' [required experiment]' : ' [advisory: fail_on_experiment is off]';
  if (e.status === 'ERROR') {
    return {
      experiment: e.name,
      effect: effect(),
      text:
        `${subject} ERROR: it could not run to the end ` +
        `(${e.error === undefined ? 'no reason given' : cleanText(e.error)}), so it checked nothing${note()}`,
    };
  }
  const failed = e.measurements.filter((m) => !m.pass);
  if (e.status === 'PASS' && failed.length === 0) {
    const all = e.measurements.map(describeMeasurement).join('; ');
    return { experiment: e.name, effect: 'pass', text: `${subject} PASS: ${all || 'no measurements recorded'}` };
  }
  const why =
    failed.length > 0 ? failed.map(describeMeasurement).join('; ') : 'status FAIL without a failed measurement';
  const contradiction = e.status === 'PASS' ? ' (reported PASS, but a measurement failed)' : '';
  const passed = e.measurements.length - failed.length;
  const rest = passed > 0 ? `; ${passed} other measurement${passed === 1 ? '' : 's'} passed` : '';
  return { experiment: e.name, effect: effect(), text: `${subject} FAIL${contradiction}: ${why}${rest}${note()}` };
}

function rolloutFinding(r: RolloutResult, policy: ResolvedGatePolicy): Finding {
  const subject = `rollout of ${quote(r.version)}`;
  const reading = readRollout(r);
  if (r.finalState === 'COMPLETED') {
    const promoted = reading.waves.filter((w) => w.status === 'PASSED').map((w) => w.region);
    const counts = new Map<string, number>();
    for (const s of r.stages) counts.set(s.verdict, (counts.get(s.verdict) ?? 0) + 1);
    const verdicts = [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
    const stages =
      r.stages.length > 0 ? `; ${r.stages.length} stage${r.stages.length === 1 ? '' : 's'} passed (${verdicts})` : '';
    return {
      effect: 'pass',
      text:
        `${subject} COMPLETED: ${promoted.length} of ${r.regions.length} regions promoted ` +
        `(${promoted.join(', ')})${stages}`,
    };
  }
  const where = whereItFailed(r, reading);
  const effect = policy.failOnRollback ? 'closes' : 'advisory';
  const advisory = policy.failOnRollback ? '' : ' [advisory: fail_on_rollback is off]';
  const scope = rollbackScope(r);
  const restores = restoreText(r);
  if (r.finalState === 'FAILED') {
    const problems = r.rollback.problems.length > 0 ? r.rollback.problems.join('; ') : 'no problem recorded';
    // Only the data failed: every region is back on its version, so "may still run it" would be false.
    const versionsBack = r.rollback.verifications.length > 0 && r.rollback.verifications.every((v) => v.ok);
    const consequence = versionsBack
      ? `${list(scope.rolledBack)} ${isAre(scope.rolledBack)} back on the previous version, ` +
        `but the data could not be shown safe`
      : 'so regions may still run it';
    const left =
      scope.kept.length > 0
        ? `; ${list(scope.kept)} ${isAre(scope.kept)} still on the candidate (rollback: region)`
        : '';
    return {
      effect,
      text:
        `${subject} FAILED${where}: ${r.rollback.reason ?? 'aborted'}; ` +
        `the rollback could not be verified (${problems}), ${consequence}${left}${restores}${advisory}`,
    };
  }
  // Time to detect exists only for a red verdict (not for an abort by a failed verification).
  const detected = r.timeToDetectMs === null ? '' : `detected in ${formatDuration(r.timeToDetectMs)}, `;
  const back =
    scope.scope === 'region'
      ? `rolled back ${list(scope.rolledBack)} only in ${formatDuration(r.timeToRollbackMs)}, ` +
        `verified on ${scope.rolledBack.length === 1 ? 'its' : 'their'} previous version; ` +
        `${scope.kept.length > 0 ? `${list(scope.kept)} kept on the candidate` : 'no region kept on the candidate'} ` +
        `(rollback: region)`
      : `rolled back in ${formatDuration(r.timeToRollbackMs)}, every touched region verified on its previous version`;
  return {
    effect,
    text: `${subject} ROLLED_BACK${where}: ${r.rollback.reason ?? 'aborted'}; ${detected}${back}${restores}${advisory}`,
  };
}

/**
 * What the rollback put back and left, from the result; results
 * from before granular rollback rolled back every touched region.
 */
function rollbackScope(r: RolloutResult): { scope: 'all' | 'region'; rolledBack: string[]; kept: string[] } {
  const byOutcome = (o: NonNullable<RolloutResult['regions'][number]['outcome']>) =>
    r.regions.filter((x) => x.outcome === o).map((x) => x.region);
  const scope = r.rollback.scope ?? 'all';
  const rolledBack = r.rollback.regions?.length ? r.rollback.regions : byOutcome('rolled_back');
  // A FAILED result records no `kept`; the regions left promoted are what still runs the candidate.
  const kept = r.rollback.kept?.length ? r.rollback.kept : scope === 'region' ? byOutcome('promoted') : [];
  return {
    scope,
    rolledBack: rolledBack.length > 0 ? rolledBack : r.rollback.failedRegion ? [r.rollback.failedRegion] : [],
    kept,
  };
}

/**
 * "; us-east's database restored from its backup (10 candidate
 * writes undone, 2 lost by the candidate itself)" per restore.
 */
function restoreText(r: RolloutResult): string {
  return (r.mitigation ?? [])
    .filter((m) => m.restored)
    .map((m) => {
      const lost =
        m.candidateWritesLostByCandidate > 0
          ? `, ${m.candidateWritesLostByCandidate} lost by the candidate itself`
          : '';
      return (
        `; ${m.region}'s database restored from its backup ` +
        `(${plural(m.candidateWritesUndone, 'candidate write')} undone${lost})`
      );
    })
    .join('');
}

/**
 * Pre-deploy writes that do not read back after the rollback: data acknowledged before the
 * candidate arrived is gone. The rollout's own finding says FAILED; this one names the loss and
 * closes the gate even with fail_on_rollback off.
 */
function dataLossFindings(r: RolloutResult): Finding[] {
  return (r.mitigation ?? []).flatMap((m): Finding[] => {
    const missing = m.preDeployWritesMissing + m.acknowledgedReadBack.missing;
    if (missing === 0) return [];
    const parts = [
      ...(m.preDeployWritesMissing > 0
        ? [`${m.preDeployWritesMissing} of ${m.preDeployWritesChecked} pre-deploy rows missing or changed`]
        : []),
      ...(m.acknowledgedReadBack.missing > 0
        ? [
            `${m.acknowledgedReadBack.missing} of ${m.acknowledgedReadBack.checked} writes acknowledged before the ` +
              `deploy do not read back`,
          ]
        : []),
    ];
    const restored = m.restored ? ' after the restore' : '';
    return [
      {
        effect: 'closes',
        text:
          `rollout of ${quote(r.version)}: data lost in ${m.region}${restored}: ` +
          `${parts.join('; ')} (closes the gate whatever fail_on_rollback says)`,
      },
    ];
  });
}

function list(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? 'no region') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

function isAre(names: readonly string[]): string {
  return names.length === 1 ? 'is' : 'are';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** " in us-west stage 1 (1%)" or " in us-west": where the rollout stopped. */
function whereItFailed(r: RolloutResult, reading: ReturnType<typeof readRollout>): string {
  const at = reading.abortedStage;
  if (at) {
    const record = r.stages.find((s) => s.region === at.region && s.stage === at.stage);
    // The abort reason itself starts with the verdict ("red verdict: ..."), so it is not repeated here.
    return ` in ${at.region} ${stageLabel(at.stage, record?.weight ?? 0)}`;
  }
  const region = r.rollback.failedRegion ?? reading.waves.find((w) => w.status === 'FAILED')?.region;
  return region ? ` in ${region}` : '';
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * The verdict closed for a reason found outside the results (the infrastructure, the prediction), that reason first.
 */
export function closeGate(verdict: GateVerdict, reason: string): GateVerdict {
  return {
    ...verdict,
    gate: 'CLOSED',
    overall: 'FAIL',
    reasons: [reason, ...verdict.reasons],
    findings: [{ text: reason, effect: 'closes' }, ...verdict.findings],
  };
}
