import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from '../config/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { PrometheusPlan } from '../config/prometheus.ts';
import { serviceTemplates } from '../prometheus/service-templates.ts';
import type { RolloutPlan } from '../rollout/plan.ts';
import { baselineImage, candidateImage, type BuiltImage } from '../stack/service-images.ts';
import { fetchJson } from '../stack/probe.ts';
import { regionUrl, type ImageDeployment, type ImageRef, type StackTarget, type UserServiceTarget } from '../stack/target.ts';
import type { BaselinePlan, ServicePlan } from '../target/service.ts';
import { userWorkload, type Workload } from '../traffic/workload.ts';
import type { PhaseTimer } from '../util/phases.ts';
import type { Progress } from '../util/progress.ts';

// A user's service, made ready to run: the candidate and the baseline images built (or
// found, or pulled), each named by a version label, and the stack target that runs them.
// The label of the candidate is --version when given, else its short commit; the baseline's
// is its own short commit (or its image's tag), so the two never share a name.

export interface PreparedService {
  target: StackTarget;
  candidate: ImageDeployment;
  baseline: ImageDeployment;
  builds: { candidate: BuiltImage; baseline: BuiltImage };
  notes: string[];
}

/** A failure rate is the demo's knob: with a user's service it would be silently meaningless. */
export function refuseDemoKnobs(config: LoadedConfig, failureRate: number | undefined): void {
  if (!config.service || failureRate === undefined) return;
  throw new UsageError([{ source: '--failure-rate', path: '', rule: `is the demo service's knob; ${config.file ?? 'the configuration'} gates your own service (service:), whose candidate is your build: leave it out` }]);
}

/** The demo has no commit to name its candidate by: its version label must be given. */
export function requireDemoVersion(config: LoadedConfig, version: string | undefined): void {
  if (config.service || version !== undefined) return;
  throw new UsageError([{ source: '--version', path: '', rule: 'is required for the demo service: the candidate version to roll out' }]);
}

/** What a run deploys and how it is judged: the demo's, or a user's service's once built. */
export interface RunTarget {
  target: StackTarget;
  version: string;
  /** The requests the traffic sends; undefined: the demo's. */
  workload: Workload | undefined;
  rolloutPlan: RolloutPlan;
  prometheus: PrometheusPlan;
  /** The candidate's image for a user's service. */
  candidateImage: ImageRef | undefined;
  notes: string[];
}

export async function runTarget(
  config: LoadedConfig, request: { version: string | undefined; cwd: string; skipped: number }, demo: StackTarget,
  deps: { timer: PhaseTimer; progress: Progress },
): Promise<RunTarget> {
  const { service, baseline } = config;
  if (!service || !baseline) {
    return { target: demo, version: request.version ?? '', workload: undefined, rolloutPlan: config.rollout, prometheus: config.prometheus, candidateImage: undefined, notes: [] };
  }
  const prepared = await deps.timer.time('build', () => prepareService(service, baseline, { version: request.version, configFile: config.file, cwd: request.cwd }, demo, deps.progress));
  const judged = serviceJudgement(config.rollout, config.prometheus, service);
  const notes = [...prepared.notes, ...(judged.note ? [judged.note] : [])];
  if (request.skipped > 0) notes.push(`chaos suite not run: experiments on your own service need faults injected from outside it (issue 12); ${request.skipped} experiment(s) skipped`);
  return {
    target: prepared.target, version: prepared.candidate.version, workload: userWorkload(service),
    rolloutPlan: judged.plan, prometheus: judged.prometheus, candidateImage: prepared.candidate.image, notes,
  };
}

/** The label a built image goes by: a short commit, else the tag of a pulled image. */
export function imageLabel(image: BuiltImage, fallback: string): string {
  if (image.commit) return image.commit.slice(0, 12);
  const tag = /:([A-Za-z0-9_.-]+)$/.exec(image.ref.split('@')[0] ?? '')?.[1];
  return tag ?? fallback;
}

/** Candidate and baseline labels; equal ones (the same commit built twice) are told apart. */
export function versionLabels(candidate: BuiltImage, baseline: BuiltImage, requested: string | undefined): { candidate: string; baseline: string } {
  const c = requested ?? imageLabel(candidate, 'candidate');
  const b = imageLabel(baseline, 'baseline');
  return { candidate: c, baseline: b === c ? `${b}-baseline` : b };
}

/** The rollout judged without Prometheus (synthetic traffic alone). */
export function withoutPrometheus(plan: RolloutPlan): RolloutPlan {
  const sources = plan.analysis.sources.filter((s) => s !== 'prometheus');
  return { ...plan, analysis: { ...plan.analysis, sources: sources.length > 0 ? sources : ['synthetic'] } };
}

export interface ServiceJudgement {
  plan: RolloutPlan;
  prometheus: PrometheusPlan;
  note: string | undefined;
}

/**
 * How a user's service is judged. The built-in Prometheus checks take its own metric names
 * (prometheus.metrics) and select its containers by region and slot; a query the user wrote
 * is theirs already. Without service.metrics there is nothing to query: synthetic traffic alone.
 */
export function serviceJudgement(plan: RolloutPlan, prometheus: PrometheusPlan, service: ServicePlan): ServiceJudgement {
  if (!plan.analysis.sources.includes('prometheus') || prometheus.checks.length === 0) return { plan, prometheus, note: undefined };
  if (!service.metrics) {
    return { plan: withoutPrometheus(plan), prometheus, note: 'rollout judged from the synthetic traffic alone: service.metrics is not given, so Prometheus has nothing of your service to check' };
  }
  const templates = serviceTemplates(prometheus.metrics);
  const checks = prometheus.checks.map((c) => {
    const template = c.builtin === undefined ? undefined : templates[c.builtin];
    return template === undefined ? c : { ...c, template };
  });
  const m = prometheus.metrics;
  return {
    plan,
    prometheus: { ...prometheus, checks },
    note: `Prometheus checks on your metrics: ${checks.map((c) => c.name).join(', ')} (${m.requestsMetric}, ${m.durationMetric}_bucket, status label ${m.statusLabel}, selected by region and slot)`,
  };
}

/**
 * Whether the service serves its metrics where service.metrics says: Prometheus cannot say
 * so itself (a failed scrape is only `up == 0`), so the report does.
 */
export async function metricsNote(target: StackTarget, fetch: typeof fetchJson = fetchJson): Promise<string | undefined> {
  const path = target.service?.plan.metrics?.path;
  const first = target.regions[0];
  if (!path || !first) return undefined;
  const url = `${regionUrl(target, first)}${path}`;
  const answer = await fetch(url, 2000);
  if (answer?.status === 200) return undefined;
  return `service.metrics: ${url} answered ${answer ? `HTTP ${answer.status}` : 'nothing'}: Prometheus has no metrics of your service, so the rollout is judged from the synthetic traffic alone`;
}

export function serviceTarget(base: StackTarget, service: UserServiceTarget): StackTarget {
  const { plan } = service;
  return {
    ...base,
    composeFile: join(service.runDir, 'compose.json'),
    healthPath: plan.health.path,
    versionPath: plan.version?.path ?? plan.health.path,
    containerPort: plan.port,
    initialVersion: service.initial.version,
    service,
  };
}

export async function prepareService(
  plan: ServicePlan, baseline: BaselinePlan, request: { version?: string | undefined; configFile: string | undefined; cwd: string },
  base: StackTarget, progress: Progress,
): Promise<PreparedService> {
  progress.step('building the candidate and the baseline');
  const deps = { progress, ...(request.configFile ? { configFile: request.configFile } : {}) };
  const candidateBuild = await candidateImage(plan.source, deps);
  const baselineBuild = await baselineImage(baseline.source, plan.source, deps);
  const labels = versionLabels(candidateBuild, baselineBuild, request.version);
  const candidate: ImageDeployment = { version: labels.candidate, failureRate: 0, image: { ref: candidateBuild.ref, id: candidateBuild.id } };
  const initial: ImageDeployment = { version: labels.baseline, failureRate: 0, image: { ref: baselineBuild.ref, id: baselineBuild.id } };
  const service: UserServiceTarget = {
    plan,
    initial,
    candidate,
    runDir: join(tmpdir(), `${base.project}-service`),
    projectDirectory: plan.dependencies ? dirname(plan.dependencies) : request.configFile ? dirname(request.configFile) : request.cwd,
  };
  const notes = [
    ...buildNotes('candidate', labels.candidate, candidateBuild),
    ...buildNotes('baseline', labels.baseline, baselineBuild),
    ...(plan.metrics ? [] : ['service.metrics not given: the candidate is judged from the synthetic traffic alone']),
  ];
  return { target: serviceTarget(base, service), candidate, baseline: initial, builds: { candidate: candidateBuild, baseline: baselineBuild }, notes };
}

function buildNotes(role: string, label: string, image: BuiltImage): string[] {
  const how = image.reused ? 'reused (its build context did not change)' : `built in ${(image.buildMs / 1000).toFixed(1)} s`;
  return [`${role} ${label}: image ${image.ref} (${image.id.slice(0, 19)}) ${how}`, ...image.notes];
}
