import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Agent } from 'undici';
import { basename, dirname, join } from 'node:path';
import { formatHopErrors } from '../analysis/metrics.ts';
import { UsageError } from '../util/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { PrometheusPlan } from '../prometheus/config.ts';
import { serviceTemplates } from '../prometheus/service-templates.ts';
import {
  composeDependencyGraph,
  describeHops,
  type ComposeDependency,
  type DependencyGraph,
} from '../predict/dependencies.ts';
import type { RolloutPlan } from '../plan/rollout.ts';
import type { StageRecord } from '../rollout/result.ts';
import {
  baselineImage,
  candidateImage,
  dependencyImage,
  imagePorts,
  proxyImage,
  type BuiltImage,
} from '../stack/service-images.ts';
import { fetchJson } from '../stack/probe.ts';
import {
  PROXY_CONTROL_PORT,
  regionUrl,
  type ImageDeployment,
  type ImageRef,
  type StackDependency,
  type StackTarget,
  type UserServiceTarget,
} from '../stack/target.ts';
import type { BaselinePlan, DependencyService, ProbeSpec, ServicePlan } from '../target/service.ts';
import { exchange, parseIdField, render, userWorkload, type Answer, type Workload } from '../traffic/workload.ts';
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
export function refuseDemoKnobs(config: LoadedConfig, failureRate: number | undefined, regression?: string): void {
  if (!config.service) return;
  const given = [
    ...(failureRate === undefined ? [] : ['--failure-rate']),
    ...(regression === undefined ? [] : ['--regression']),
  ];
  if (given.length === 0) return;
  const rule =
    `is the demo service's knob; ${config.file ?? 'the configuration'} gates your own service (service:), ` +
    'whose candidate is your build: leave it out';
  throw new UsageError(given.map((source) => ({ source, path: '', rule })));
}

/** The demo has no commit to name its candidate by: its version label must be given. */
export function requireDemoVersion(config: LoadedConfig, version: string | undefined): void {
  if (config.service || version !== undefined) return;
  throw new UsageError([
    { source: '--version', path: '', rule: 'is required for the demo service: the candidate version to roll out' },
  ]);
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
  config: LoadedConfig,
  request: { version: string | undefined; cwd: string },
  demo: StackTarget,
  deps: { timer: PhaseTimer; progress: Progress },
): Promise<RunTarget> {
  const { service, baseline } = config;
  if (!service || !baseline) {
    return {
      target: demo,
      version: request.version ?? '',
      workload: undefined,
      rolloutPlan: config.rollout,
      prometheus: config.prometheus,
      candidateImage: undefined,
      notes: [],
    };
  }
  const prepared = await deps.timer.time('build', () =>
    prepareService(
      service,
      baseline,
      { version: request.version, configFile: config.file, cwd: request.cwd, dependencies: config.dependencies },
      demo,
      deps.progress,
    ),
  );
  const judged = serviceJudgement(config.rollout, config.prometheus, service);
  const notes = [
    ...prepared.notes,
    ...dependencyNotes(service, prepared.target.service?.dependencies ?? []),
    ...(judged.note ? [judged.note] : []),
  ];
  return {
    target: prepared.target,
    version: prepared.candidate.version,
    workload: userWorkload(service),
    rolloutPlan: judged.plan,
    prometheus: judged.prometheus,
    candidateImage: prepared.candidate.image,
    notes,
  };
}

/** The hops from the dependencies file, and whether errors will name theirs. */
export function dependencyNotes(plan: ServicePlan, dependencies: readonly ComposeDependency[]): string[] {
  const notes: string[] = [];
  if (plan.dependencies && dependencies.length > 0) {
    const own = dependencies.filter((d) => d.perRegion).map((d) => d.name);
    const shares =
      own.length > 0
        ? `one per region: ${own.join(', ')}; the others started once per stack, shared by every region`
        : 'started once per stack: every region shares them';
    notes.push(
      `dependency graph from ${basename(plan.dependencies)}: ${describeHops(dependencies).join('; ')} (${shares})`,
    );
  }
  if (plan.attribution)
    notes.push(`errors are attributed to the hop named in the ${plan.attribution.header} header of each failed answer`);
  else if (dependencies.length > 0)
    notes.push('service.attribution not given: an error cannot be traced to the hop it came from');
  return notes;
}

/** "errors by hop during the rollout: canary api 24 (100%); baseline none", when the service names hops. */
export function attributionNote(
  plan: ServicePlan | undefined,
  stages: readonly Pick<StageRecord, 'canary' | 'baseline'>[],
): string | undefined {
  if (!plan?.attribution) return undefined;
  const side = (cohort: 'canary' | 'baseline'): string => {
    const counts = new Map<string, number>();
    for (const s of stages)
      for (const h of s[cohort].errorsByHop ?? []) counts.set(h.hop, (counts.get(h.hop) ?? 0) + h.errors);
    if (counts.size === 0) return `${cohort} none`;
    const hops = [...counts].map(([hop, errors]) => ({ hop, errors })).sort((a, b) => b.errors - a.errors);
    return `${cohort} ${formatHopErrors(hops)}`;
  };
  return `errors by hop during the rollout (${plan.attribution.header}): ${side('canary')}; ${side('baseline')}`;
}

/** What the pre-flight needs of a user's service: its candidate image, its requests, its dependency graph. */
export function predictionService(
  target: StackTarget,
  run: Pick<RunTarget, 'candidateImage' | 'workload'>,
  regions: readonly string[],
): { image: ImageRef; workload: Workload; dependencies: DependencyGraph } | undefined {
  if (!target.service || !run.candidateImage || !run.workload) return undefined;
  return {
    image: run.candidateImage,
    workload: run.workload,
    dependencies: composeDependencyGraph(regions, target.service.dependencies),
  };
}

/** The label a built image goes by: a short commit, else the tag of a pulled image. */
export function imageLabel(image: BuiltImage, fallback: string): string {
  if (image.commit) return image.commit.slice(0, 12);
  const tag = /:([A-Za-z0-9_.-]+)$/.exec(image.ref.split('@')[0] ?? '')?.[1];
  return tag ?? fallback;
}

/** Candidate and baseline labels; equal ones (the same commit built twice) are told apart. */
export function versionLabels(
  candidate: BuiltImage,
  baseline: BuiltImage,
  requested: string | undefined,
): { candidate: string; baseline: string } {
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
export function serviceJudgement(
  plan: RolloutPlan,
  prometheus: PrometheusPlan,
  service: ServicePlan,
): ServiceJudgement {
  if (!plan.analysis.sources.includes('prometheus') || prometheus.checks.length === 0)
    return { plan, prometheus, note: undefined };
  if (!service.metrics) {
    return {
      plan: withoutPrometheus(plan),
      prometheus,
      note:
        'rollout judged from the synthetic traffic alone: service.metrics is not given, ' +
        'so Prometheus has nothing of your service to check',
    };
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
    note:
      `Prometheus checks on your metrics: ${checks.map((c) => c.name).join(', ')} ` +
      `(${m.requestsMetric}, ${m.durationMetric}_bucket, status label ${m.statusLabel}, selected by region and slot)`,
  };
}

/**
 * The rule a probe write's answer breaks, if any: an expected status without the id field
 * means every write would go unread, and the data-loss check would silently check nothing.
 * Another status says nothing about the field (the baseline judges the service). Pure.
 */
export function probeIdProblem(probe: ProbeSpec, answer: Answer): string | undefined {
  if (!probe.write.expectStatus.includes(answer.status) || parseIdField(answer.text, probe.write.id) !== undefined)
    return undefined;
  const shown = JSON.stringify(answer.text.slice(0, 200));
  const { method, path, id } = probe.write;
  const at = `has no id at ${JSON.stringify(id)} (a text or a number)`;
  return `the answer to ${method} ${path} (HTTP ${answer.status}) ${at}: ${shown}`;
}

/** One probe write to the first region before any traffic: a wrong `id` field is the user's to fix (exit 2). */
export async function checkProbe(target: StackTarget, file: string | undefined): Promise<void> {
  const probe = target.service?.plan.probe;
  const first = target.regions[0];
  if (!probe || !first) return;
  const agent = new Agent();
  try {
    const answer = await exchange(agent, regionUrl(target, first), render(probe.write, { uuid: randomUUID() }), 5000);
    const rule = probeIdProblem(probe, answer);
    if (rule) throw new UsageError([{ source: file ?? 'chaos-gate.yml', path: 'service.probe.write.id', rule }]);
  } finally {
    await agent.close();
  }
}

/**
 * Whether the service serves its metrics where service.metrics says: Prometheus cannot say
 * so itself (a failed scrape is only `up == 0`), so the report does.
 */
export async function metricsNote(
  target: StackTarget,
  fetch: typeof fetchJson = fetchJson,
): Promise<string | undefined> {
  const path = target.service?.plan.metrics?.path;
  const first = target.regions[0];
  if (!path || !first) return undefined;
  const url = `${regionUrl(target, first)}${path}`;
  const answer = await fetch(url, 2000);
  if (answer?.status === 200) return undefined;
  const answered = answer ? `HTTP ${answer.status}` : 'nothing';
  return (
    `service.metrics: ${url} answered ${answered}: Prometheus has no metrics of your service, ` +
    'so the rollout is judged from the synthetic traffic alone'
  );
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
  plan: ServicePlan,
  baseline: BaselinePlan,
  request: {
    version?: string | undefined;
    configFile: string | undefined;
    cwd: string;
    dependencies: readonly DependencyService[];
  },
  base: StackTarget,
  progress: Progress,
): Promise<PreparedService> {
  progress.step('building the candidate and the baseline');
  const deps = { progress, ...(request.configFile ? { configFile: request.configFile } : {}) };
  const candidateBuild = await candidateImage(plan.source, deps);
  const baselineBuild = await baselineImage(baseline.source, plan.source, deps);
  const dependencies = await prepareDependencies(plan.dependencies, request.dependencies, progress);
  const proxy = dependencies.services.length > 0 ? await proxyImage(base.projectDir, deps) : undefined;
  const labels = versionLabels(candidateBuild, baselineBuild, request.version);
  const candidate: ImageDeployment = {
    version: labels.candidate,
    failureRate: 0,
    image: { ref: candidateBuild.ref, id: candidateBuild.id },
  };
  const initial: ImageDeployment = {
    version: labels.baseline,
    failureRate: 0,
    image: { ref: baselineBuild.ref, id: baselineBuild.id },
  };
  const service: UserServiceTarget = {
    plan,
    initial,
    candidate,
    runDir: join(tmpdir(), `${base.project}-service`),
    projectDirectory: plan.dependencies
      ? dirname(plan.dependencies)
      : request.configFile
        ? dirname(request.configFile)
        : request.cwd,
    dependencies: dependencies.services,
    ...(proxy ? { proxyImage: proxy.ref } : {}),
  };
  const notes = [
    ...dependencies.notes,
    ...(proxy ? buildNotes('fault proxy', 'services/fault-proxy', proxy) : []),
    ...buildNotes('candidate', labels.candidate, candidateBuild),
    ...buildNotes('baseline', labels.baseline, baselineBuild),
    ...(plan.metrics ? [] : ['service.metrics not given: the candidate is judged from the synthetic traffic alone']),
  ];
  return {
    target: serviceTarget(base, service),
    candidate,
    baseline: initial,
    builds: { candidate: candidateBuild, baseline: baselineBuild },
    notes,
  };
}

/**
 * The dependencies file's services (read with the configuration), each one with `build:` built
 * (or reused) like the candidate.
 */
async function prepareDependencies(
  file: string | undefined,
  read: readonly DependencyService[],
  progress: Progress,
): Promise<{ services: StackDependency[]; notes: string[] }> {
  if (file === undefined) return { services: [], notes: [] };
  const services: StackDependency[] = [];
  const notes: string[] = [];
  for (const d of read) {
    const built = d.build ? await dependencyImage({ name: d.name, build: d.build }, file, { progress }) : undefined;
    if (built) notes.push(...buildNotes(`dependency ${d.name}`, built.ref, built));
    const image = built?.ref ?? d.image;
    const ports = [
      ...new Set([...d.ports, ...(image === undefined ? [] : await imagePorts(image, { progress }))]),
    ].sort((a, b) => a - b);
    if (ports.length === 0) throw new UsageError([{ source: file, path: `services.${d.name}`, rule: NO_PORTS_RULE }]);
    services.push({
      name: d.name,
      image: built?.ref,
      dependsOn: d.dependsOn,
      perRegion: d.perRegion,
      definition: d.definition,
      ports,
    });
  }
  const clash = portClash(services);
  if (clash) throw new UsageError([{ source: file, path: `services.${clash.name}`, rule: clash.rule }]);
  return { services, notes };
}

/**
 * A region's fault proxy listens on every dependency's ports at one address: each port once,
 * and never its own control port.
 */
export function portClash(
  services: readonly Pick<StackDependency, 'name' | 'ports'>[],
): { name: string; rule: string } | undefined {
  const owner = new Map<number, string>();
  for (const s of services) {
    for (const port of s.ports) {
      if (port === PROXY_CONTROL_PORT)
        return {
          name: s.name,
          rule:
            `listens on ${port}, the port of the fault proxy's control API: ` +
            'each region reaches its dependencies through one proxy',
        };
      const other = owner.get(port);
      if (other !== undefined)
        return {
          name: s.name,
          rule:
            `listens on ${port}, like ${other}: each region reaches its dependencies through one proxy, ` +
            'where a port can lead to one of them only',
        };
      owner.set(port, s.name);
    }
  }
  return undefined;
}

const NO_PORTS_RULE =
  'must say the TCP port(s) it listens on (`expose: [5432]`): each region reaches it through a fault proxy ' +
  'that listens on them, and neither this file nor its image (EXPOSE) names one';

function buildNotes(role: string, label: string, image: BuiltImage): string[] {
  const how = image.reused
    ? 'reused (its build context did not change)'
    : `built in ${(image.buildMs / 1000).toFixed(1)} s`;
  return [`${role} ${label}: image ${image.ref} (${image.id.slice(0, 19)}) ${how}`, ...image.notes];
}
