import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, systemClock, type Clock } from '../util/poll.ts';
import { silentProgress, type Progress } from '../util/progress.ts';
import {
  buildCommand,
  composeEnv,
  downCommand,
  invocation,
  logsCommand,
  removeCommand,
  upCommand,
  type DeploymentMap,
} from './compose-args.ts';
import type { ComposeCli } from './compose-cli.ts';
import { InfraError } from './errors.ts';
import { execWrapper, type ExecResult } from './exec.ts';
import { chooseImages } from './images.ts';
import { parseInspect, type ContainerFacts } from './inspect.ts';
import { probeHealth, probeInfo } from './probe.ts';
import type { ContainerStatus, RegionStatus, Stack, StackStatus, UpResult } from './stack.ts';
import { renderPrometheusConfig, renderServiceCompose } from './service-compose.ts';
import { serviceProbes, type ServiceProbes } from './service-probes.ts';
import {
  DATA_FAULTS,
  REGRESSIONS,
  dependencyServices,
  isProxied,
  knownImages,
  proxyService,
  LABELS,
  prometheusUrl,
  grafanaUrl,
  regionUrl,
  serviceOf,
  type Deployment,
  type RegionTarget,
  type Slot,
  type StackTarget,
  type UserServiceTarget,
} from './target.ts';
import { detectCompose, localImages, requireDocker } from './docker.ts';
import { dockerWardens } from './warden.ts';
import { proxyUrl } from './fault-proxy.ts';

const PROFILES = ['canary', 'grafana'];

export interface ComposeStackOptions {
  progress?: Progress;
  env?: Readonly<Record<string, string | undefined>>;
  clock?: Clock;
  /** How long a service may take to answer after it was started. */
  readyDeadlineMs?: number;
}

export class ComposeStack implements Stack {
  target: StackTarget;
  readonly cli: ComposeCli;
  private readonly progress: Progress;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly clock: Clock;
  private readonly readyDeadlineMs: number;
  private token: string | undefined;
  /**
   * One Compose invocation at a time: Compose v1 lists and inspects the project's containers
   * on every `up`, and two run at once (a parallel rollback, a test resetting four regions)
   * can trip over a container the other is recreating. Waiting for readiness stays parallel.
   */
  private composeQueue: Promise<unknown> = Promise.resolve();
  /** A user's service is verified by identity (service-probes.ts); undefined: the demo. */
  readonly probes: ServiceProbes | undefined;

  private constructor(target: StackTarget, cli: ComposeCli, options: ComposeStackOptions) {
    this.target = target;
    this.cli = cli;
    this.progress = options.progress ?? silentProgress;
    this.env = options.env ?? process.env;
    this.clock = options.clock ?? systemClock;
    this.readyDeadlineMs = options.readyDeadlineMs ?? 120_000;
    const service = target.service;
    this.probes = service ? serviceProbes(this, service.plan, () => knownImages(service)) : undefined;
  }

  /** Checks that a Docker engine answers and finds Compose; throws InfraError otherwise. */
  static async connect(target: StackTarget, options: ComposeStackOptions = {}): Promise<ComposeStack> {
    await requireDocker();
    const cli = await detectCompose();
    const stack = new ComposeStack(target, cli, options);
    stack.target = { ...target, images: chooseImages(target.images, stack.env, new Set()).images };
    return stack;
  }

  async up(): Promise<UpResult> {
    const present = await localImages();
    const choice = chooseImages(this.target.images, this.env, present);
    this.target = { ...this.target, images: choice.images };
    const notes = [...choice.notes];
    for (const note of notes) this.progress.info(note);

    const grafana = this.target.service ? false : await this.ensureGrafanaImage(present);
    if (this.target.service)
      notes.push("Grafana left out: its dashboards are the demo's (a user's service gets Prometheus only)");
    else if (!grafana) {
      const note =
        `Grafana left out: image ${this.target.images.grafana} cannot be had on this machine ` +
        `(its provisioning is checked by tests instead)`;
      notes.push(note);
      this.progress.warn(note);
    }

    const extra = this.target.service ? writeServiceFiles(this.target, this.target.service) : await this.buildDemo();
    await this.removeOtherService();
    // A user's regions always start on the baseline: a stack kept from an earlier run may run
    // an earlier candidate, which would then be judged against itself.
    const deployments = this.target.service ? new Map() : await this.deployments();
    this.token = (await this.existingToken()) ?? randomBytes(24).toString('hex');
    const services = [
      ...this.target.regions.map((r) => r.service),
      'prometheus',
      ...(grafana ? ['grafana'] : []),
      ...extra,
    ];
    this.progress.step(`starting ${services.join(', ')}`);
    await this.compose(upCommand(services), { deployments, timeoutMs: 300_000, what: 'compose up' });

    if (this.target.service) await this.waitForHealthyDependencies(extra);
    // Proxies are asked from here: a Docker HEALTHCHECK would start a Node process in each every few seconds.
    for (const r of this.target.regions) {
      const url = proxyUrl(this.target, r);
      if (url) await this.waitForService(proxyService(r.name), `${url}/healthz`);
    }
    await Promise.all(this.target.regions.map((r) => this.waitForRegion(r, 'stable', undefined)));
    await this.waitForService('prometheus', `${prometheusUrl(this.target)}/-/ready`);
    if (grafana) await this.waitForService('grafana', `${grafanaUrl(this.target)}/api/health`);
    return { notes, grafana };
  }

  /** Builds the demo's region image; a user's images are built before the stack comes up. */
  private async buildDemo(): Promise<string[]> {
    const bundle = join(this.target.projectDir, 'services/region/dist/server.js');
    if (!existsSync(bundle))
      throw new InfraError(`the region service bundle ${bundle} is missing: run 'npm run build'`);
    this.progress.step(`building region image ${this.target.images.region} from ${this.target.images.node}`);
    const first = this.target.regions[0];
    if (!first) throw new InfraError('the stack target has no regions');
    await this.compose(buildCommand(first.service), {
      timeoutMs: 900_000,
      stream: true,
      what: 'build of the region image',
    });
    return [];
  }

  /**
   * The project name is fixed, so containers of the other kind of service (the demo's after a
   * user's run, or the reverse) may be there, with volumes of the same names: start clean.
   */
  private async removeOtherService(): Promise<void> {
    const user = Boolean(this.target.service);
    const other = (await this.containers()).filter(
      (c) => this.owner(c.service) && (c.labels[LABELS.version] !== undefined) !== user,
    );
    if (other.length === 0) return;
    this.progress.step(
      `removing ${other.length} container(s) of another service left in project ${this.target.project}`,
    );
    await this.removeProject();
  }

  /** compose down, and the volumes of the project Compose did not know of. */
  private async removeProject(): Promise<void> {
    await this.compose(downCommand(), { timeoutMs: 180_000, what: 'compose down' });
    // Compose removes the volumes of the files it is given: those of another target (a user's
    // service and its dependencies, brought down by `chaos-gate down`) go by their project label.
    const left = await this.docker([
      'volume',
      'ls',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${this.target.project}`,
    ]);
    const names = left.stdout
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length > 0)
      await this.docker(['volume', 'rm', ...names]).catch((e: unknown) =>
        this.progress.warn(`volumes ${names.join(', ')} not removed: ${e instanceof Error ? e.message : String(e)}`),
      );
  }

  async down(): Promise<void> {
    // Wardens are no Compose services, and one still attached would keep the network alive.
    const wardens = dockerWardens(this.target, this.env);
    for (const w of await wardens.list()) await wardens.remove(w.id);
    this.progress.step(`removing project ${this.target.project} (containers, network, volumes)`);
    await this.removeProject();
  }

  async containers(): Promise<ContainerFacts[]> {
    const ids = await this.docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${this.target.project}`]);
    const list = ids.stdout
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    if (list.length === 0) return [];
    const inspected = await this.docker(['inspect', ...list]);
    return parseInspect(inspected.stdout);
  }

  async deployments(): Promise<Map<string, Partial<Record<Slot, Deployment>>>> {
    const map = new Map<string, Partial<Record<Slot, Deployment>>>();
    for (const c of await this.containers()) {
      const owner = this.owner(c.service);
      const deployment = deploymentOf(c);
      if (!owner || !deployment) continue;
      const slots = map.get(owner.region.name) ?? {};
      slots[owner.slot] = deployment;
      map.set(owner.region.name, slots);
    }
    return map;
  }

  async status(): Promise<StackStatus> {
    const containers = await this.containers();
    const byService = new Map(containers.map((c) => [c.service, c]));
    const regions = await Promise.all(
      this.target.regions.map(async (region): Promise<RegionStatus> => ({
        region: region.name,
        port: region.port,
        stable: await this.containerStatus(byService.get(region.service), region, 'stable'),
        canary: await this.containerStatus(byService.get(region.canaryService), region, 'canary'),
      })),
    );
    const prom = byService.get('prometheus');
    const graf = byService.get('grafana');
    return {
      regions,
      prometheus: {
        state: prom?.state ?? 'absent',
        ready: prom ? await probeHealth(prometheusUrl(this.target), '/-/ready') : false,
      },
      grafana: graf
        ? { state: graf.state, ready: await probeHealth(grafanaUrl(this.target), '/api/health') }
        : undefined,
    };
  }

  async deploy(region: RegionTarget, slot: Slot, deployment: Deployment): Promise<void> {
    // The token the stack already runs with: without it a recreated container would come up
    // with no fault or data-administration endpoint.
    this.token ??= await this.existingToken();
    const deployments = await this.deployments();
    deployments.set(region.name, { ...deployments.get(region.name), [slot]: deployment });
    const service = serviceOf(region, slot);
    await this.compose(upCommand([service], { noDeps: true, recreate: true }), {
      deployments,
      timeoutMs: 180_000,
      what: `deploy of ${service}`,
    });
    await this.waitForRegion(region, slot, deployment.version);
  }

  async removeCanary(region: RegionTarget): Promise<void> {
    await this.compose(removeCommand([region.canaryService]), {
      timeoutMs: 60_000,
      what: `removal of ${region.canaryService}`,
    });
  }

  async logs(service: string, tail: number): Promise<string> {
    // The environment too: a user's rendered file names its images by variable.
    const env = composeEnv(this.target, await this.deployments().catch(() => new Map()));
    const res = await this.run(this.invocationFor(logsCommand(service, tail)), { env, timeoutMs: 30_000 });
    return (res.stdout + res.stderr).trim();
  }

  async faultToken(): Promise<string> {
    if (this.target.service)
      throw new InfraError("a user's service has no fault or data-administration endpoint (those are the demo's)");
    this.token ??= await this.existingToken();
    if (!this.token) throw new InfraError('the stack is not up: no fault token found on its containers');
    return this.token;
  }

  private async existingToken(): Promise<string | undefined> {
    const token = (await this.containers()).map((c) => c.env.FAULT_TOKEN).find((t) => t);
    return token || undefined;
  }

  private owner(service: string): { region: RegionTarget; slot: Slot } | undefined {
    for (const region of this.target.regions) {
      if (region.service === service) return { region, slot: 'stable' };
      if (region.canaryService === service) return { region, slot: 'canary' };
    }
    return undefined;
  }

  private async containerStatus(
    c: ContainerFacts | undefined,
    region: RegionTarget,
    slot: Slot,
  ): Promise<ContainerStatus | undefined> {
    if (!c) return undefined;
    const url = regionUrl(this.target, region, slot);
    // A user's container seen through the demo's target (`chaos-gate status`) shows its label, unverified.
    const label = c.labels[LABELS.version];
    const version =
      c.state !== 'running'
        ? undefined
        : this.probes
          ? await this.probes.version(url, '')
          : (label ?? (await probeInfo(url, this.target.versionPath))?.version);
    return {
      service: c.service,
      slot,
      state: c.state,
      health: c.health,
      restartCount: c.restartCount,
      deployment: deploymentOf(c),
      reportedVersion: version,
    };
  }

  private async waitForRegion(region: RegionTarget, slot: Slot, version: string | undefined): Promise<void> {
    const url = regionUrl(this.target, region, slot);
    const probes = this.probes;
    const ok = await pollUntil(
      async () => {
        if (probes) {
          const identity = await probes.version(url, '');
          const ready =
            identity !== undefined &&
            (version === undefined || identity === version) &&
            (await probes.health(url, this.target.healthPath));
          return ready ? true : undefined;
        }
        const info = await probeInfo(url, this.target.versionPath, 1000);
        return info && info.region === region.name && (version === undefined || info.version === version)
          ? true
          : undefined;
      },
      { deadlineMs: this.readyDeadlineMs, intervalMs: 250, clock: this.clock },
    );
    const path = probes ? this.target.healthPath : this.target.versionPath;
    if (!ok)
      await this.failService(
        serviceOf(region, slot),
        `did not answer on ${url}${path}${version ? ` with version ${version}` : ''} within ` +
          `${this.readyDeadlineMs / 1000} s`,
      );
    this.progress.info(`${serviceOf(region, slot)} answers on ${url}`);
  }

  /**
   * Dependencies with a healthcheck of their own must pass it before the regions are judged:
   * a database still initialising its fresh volume would otherwise fail the baseline.
   */
  private async waitForHealthyDependencies(services: readonly string[]): Promise<void> {
    const checked = (await this.containers()).filter((c) => services.includes(c.service) && c.health !== 'none');
    if (checked.length === 0) return;
    const healthy = await pollUntil(
      async () => {
        const now = await this.containers();
        return checked.every((c) => now.find((x) => x.id === c.id)?.health === 'healthy') ? true : undefined;
      },
      { deadlineMs: this.readyDeadlineMs, intervalMs: 250, clock: this.clock },
    );
    if (!healthy) {
      const now = await this.containers();
      const sick = checked.find((c) => now.find((x) => x.id === c.id)?.health !== 'healthy') as ContainerFacts;
      await this.failService(sick.service, `did not pass its own healthcheck within ${this.readyDeadlineMs / 1000} s`);
    }
    this.progress.info(`${checked.map((c) => c.service).join(', ')} passed their own healthchecks`);
  }

  private async waitForService(service: string, url: string): Promise<void> {
    const ok = await pollUntil(async () => ((await probeHealth(url, '', 1000)) ? true : undefined), {
      deadlineMs: this.readyDeadlineMs,
      intervalMs: 250,
      clock: this.clock,
    });
    if (!ok) await this.failService(service, `did not become ready on ${url} within ${this.readyDeadlineMs / 1000} s`);
    this.progress.info(`${service} answers on ${url}`);
  }

  private async failService(service: string, what: string): Promise<never> {
    const facts = (await this.containers()).find((c) => c.service === service);
    const state = facts
      ? `container ${facts.name}: ${facts.state}, exit code ${facts.exitCode}, ` +
        `restarts ${facts.restartCount}${facts.oomKilled ? ', OOM-killed' : ''}`
      : 'no container';
    const log = await this.logs(service, 20).catch(() => '(no log)');
    throw new InfraError(`${service} ${what}`, [state, 'last log lines:', ...log.split('\n').slice(-20)]);
  }

  private async ensureGrafanaImage(present: ReadonlySet<string>): Promise<boolean> {
    const image = this.target.images.grafana;
    if (present.has(image)) return true;
    this.progress.step(`pulling ${image}`);
    const pulled = await execWrapper.exec('docker', ['pull', image], { timeoutMs: 300_000 });
    return pulled.exitCode === 0;
  }

  private invocationFor(command: string[]) {
    return invocation(this.cli, this.target, PROFILES, command);
  }

  private async compose(
    command: string[],
    options: { deployments?: DeploymentMap; timeoutMs: number; stream?: boolean; what: string },
  ): Promise<ExecResult> {
    const turn = this.composeQueue.then(async () => {
      const deployments = options.deployments ?? (await this.deployments());
      const extra: Record<string, string> = this.token ? { CHAOS_GATE_FAULT_TOKEN: this.token } : {};
      return this.run(this.invocationFor(command), {
        env: composeEnv(this.target, deployments, extra),
        timeoutMs: options.timeoutMs,
        ...(options.stream ? { onLine: (line: string) => this.progress.info(`  ${line}`) } : {}),
      });
    });
    this.composeQueue = turn.catch(() => undefined);
    const res = await turn;
    if (res.exitCode !== 0) {
      throw new InfraError(
        `${options.what} failed (${this.cli.file} ${res.timedOut ? 'timed out' : `exit ${res.exitCode}`})`,
        res.stderr.trim().split('\n').slice(-20),
      );
    }
    return res;
  }

  private async docker(args: string[]): Promise<ExecResult> {
    const res = await execWrapper.exec('docker', args, { timeoutMs: 60_000 });
    if (res.exitCode !== 0)
      throw new InfraError(`docker ${args[0]} failed (exit ${res.exitCode})`, res.stderr.trim().split('\n').slice(-10));
    return res;
  }

  private run(
    inv: { file: string; args: string[] },
    options: { env?: Record<string, string>; timeoutMs: number; onLine?: (line: string) => void },
  ): Promise<ExecResult> {
    return execWrapper.exec(inv.file, inv.args, { cwd: this.target.projectDir, ...options });
  }
}

/** What a container was started with: a user's from its labels, the demo's from its environment. */
function deploymentOf(c: ContainerFacts): Deployment | undefined {
  const label = c.labels[LABELS.version];
  if (label !== undefined)
    return { version: label, failureRate: 0, image: { ref: c.labels[LABELS.image] ?? '', id: c.image } };
  const { env } = c;
  if (env.VERSION === undefined) return undefined;
  const dataFault = DATA_FAULTS.find((f) => f === env.DATA_FAULT);
  const regression = REGRESSIONS.find((r) => r === env.REGRESSION);
  const knobs = { ...(dataFault ? { dataFault } : {}), ...(regression ? { regression } : {}) };
  return { version: env.VERSION, failureRate: Number(env.FAILURE_RATE ?? '0'), ...knobs };
}

/** Writes a user's rendered Compose file and Prometheus configuration; returns its dependencies' services. */
function writeServiceFiles(target: StackTarget, service: UserServiceTarget): string[] {
  mkdirSync(service.runDir, { recursive: true });
  const prometheusFile = join(service.runDir, 'prometheus.yml');
  writeFileSync(prometheusFile, renderPrometheusConfig(target, service.plan));
  writeFileSync(
    target.composeFile,
    `${JSON.stringify(renderServiceCompose(target, service, prometheusFile), null, 2)}\n`,
  );
  const proxies = isProxied(service) ? target.regions.map((r) => proxyService(r.name)) : [];
  return [
    ...dependencyServices(
      service.dependencies,
      target.regions.map((r) => r.name),
    ),
    ...proxies,
  ];
}
