import type { ServicePlan } from '../target/service.ts';
import {
  dependencyService,
  envStem,
  isProxied,
  LABELS,
  PROXY_CONTROL_PORT,
  proxyService,
  type RegionTarget,
  type StackDependency,
  type StackTarget,
  type UserServiceTarget,
} from './target.ts';

// Pure rendering of a user's service into a Compose file and a Prometheus configuration.
// Every region runs the same image under the demo's names and ports (region-<name> on
// 8081-8084, canaries on 9081-9084), each with its own data volume; which image and version
// label a container runs comes from the environment chaos-gate passes (CG_<REGION>_IMAGE,
// _VERSION, and _CANARY_ for the canary), like the demo's VERSION. The output is JSON, which
// both Compose v1 and v2 read as YAML. All services share Compose's default network, so the
// regions reach the services of the user's dependencies file by their names. With the fault
// proxy, a region is only on its own network, where its proxy answers to every dependency's
// name: each call to a dependency crosses the proxy, where faults come from outside.

type ComposeService = Record<string, unknown>;

/** Compose interpolates `$` in every value: what the user wrote must reach the container as written. */
export function escapeDollars(value: string): string {
  return value.replaceAll('$', '$$$$');
}

/** The network a region shares with its own copies of per-region dependencies (or its proxy). */
export function regionNetwork(region: string): string {
  return `cg-${region}`;
}

/** Behind a fault proxy: the network a region's copies of per-region dependencies share. */
function copiesNetwork(region: string): string {
  return `cg-${region}-deps`;
}

type Networks = 'default' | 'own' | 'own-only';

function networksOf(region: string, networks: Networks): object {
  if (networks === 'default') return {};
  return { networks: networks === 'own' ? ['default', regionNetwork(region)] : [regionNetwork(region)] };
}

function regionService(plan: ServicePlan, region: RegionTarget, canary: boolean, networks: Networks): ComposeService {
  const stem = `${envStem(region.name)}${canary ? '_CANARY' : ''}`;
  const volume = plan.data ? { volumes: [`${region.name}-data:${escapeDollars(plan.data.path)}`] } : {};
  return {
    image: `\${${stem}_IMAGE}`,
    ...(canary ? { profiles: ['canary'] } : {}),
    environment: Object.fromEntries(Object.entries(plan.env).map(([k, v]) => [k, escapeDollars(v)])),
    labels: {
      [LABELS.version]: `\${${stem}_VERSION}`,
      [LABELS.image]: `\${${stem}_IMAGE}`,
      'chaos-gate.region': region.name,
    },
    ports: [`127.0.0.1:${canary ? region.canaryPort : region.port}:${plan.port}`],
    restart: 'unless-stopped',
    stop_grace_period: '10s',
    ...volume,
    ...networksOf(region.name, networks),
  };
}

type Copies = {
  services: Record<string, ComposeService>;
  volumes: Record<string, object>;
  networks: Record<string, object>;
};

/**
 * One copy per region of each per-region dependency: on the stack's network (it may call the
 * shared ones) and on its region's own, where it answers to its plain name, so the region's
 * containers reach their copy as they would the single one. Named volumes and depends_on on
 * other per-region services are the region's own too.
 */
export function perRegionCopies(
  target: StackTarget,
  dependencies: readonly StackDependency[],
  proxied = false,
): Copies {
  const out: Copies = { services: {}, volumes: {}, networks: {} };
  const perRegion = dependencies.filter((d) => d.perRegion);
  for (const r of perRegion.length > 0 ? target.regions : []) {
    const network = proxied ? copiesNetwork(r.name) : regionNetwork(r.name);
    out.networks[network] = {};
    for (const d of perRegion) {
      const { build: _build, ...definition } = d.definition ?? {};
      const volumes = Array.isArray(definition.volumes)
        ? definition.volumes.map((v: unknown) => ownVolume(v, r.name, out.volumes))
        : undefined;
      const dependsOn = dependsOnCopies(
        definition.depends_on,
        perRegion.map((p) => p.name),
        r.name,
      );
      out.services[dependencyService(d, r.name)] = {
        ...definition,
        ...(d.image === undefined ? {} : { image: d.image }),
        ...(volumes ? { volumes } : {}),
        ...(dependsOn ? { depends_on: dependsOn } : {}),
        networks: { default: {}, [network]: { aliases: [d.name] } },
      };
    }
  }
  return out;
}

/** A named volume of a copy becomes `<name>-<region>`, declared; a bind mount stays as written. */
function ownVolume(volume: unknown, region: string, declared: Record<string, object>): unknown {
  const rename = (source: string) => {
    declared[`${source}-${region}`] = {};
    return `${source}-${region}`;
  };
  const named = (source: unknown): source is string =>
    typeof source === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source);
  if (typeof volume === 'string') {
    const [source, ...rest] = volume.split(':');
    return rest.length > 0 && named(source) ? [rename(source), ...rest].join(':') : volume;
  }
  if (
    typeof volume === 'object' &&
    volume !== null &&
    (volume as { type?: unknown }).type === 'volume' &&
    named((volume as { source?: unknown }).source)
  ) {
    return { ...volume, source: rename((volume as { source: string }).source) };
  }
  return volume;
}

/** depends_on of a copy: other per-region services become the region's copies of them. */
function dependsOnCopies(dependsOn: unknown, perRegion: readonly string[], region: string): unknown {
  const own = (name: string) => (perRegion.includes(name) ? `${name}-${region}` : name);
  if (Array.isArray(dependsOn)) return dependsOn.map((n: unknown) => (typeof n === 'string' ? own(n) : n));
  if (typeof dependsOn === 'object' && dependsOn !== null)
    return Object.fromEntries(Object.entries(dependsOn).map(([n, v]) => [own(n), v]));
  return undefined;
}

/**
 * The regions, Prometheus, and the image the gate built for each dependency with `build:`:
 * this file comes after the dependencies file, so its `image:` wins and `up --no-build` runs it.
 */
export function renderServiceCompose(
  target: StackTarget,
  service: UserServiceTarget,
  prometheusConfig: string,
): Record<string, unknown> {
  const { plan } = service;
  const proxied = isProxied(service);
  const copies = perRegionCopies(target, service.dependencies, proxied);
  const networks: Record<string, object> = { ...copies.networks };
  if (proxied) for (const r of target.regions) networks[regionNetwork(r.name)] = {};
  const placed: Networks = proxied ? 'own-only' : Object.keys(copies.networks).length > 0 ? 'own' : 'default';
  const services: Record<string, ComposeService> = { ...copies.services };
  for (const d of service.dependencies.filter((x) => !x.perRegion)) {
    // Behind proxies, a name of its own on the stack's network: its plain name is the proxy's on the regions' networks.
    const upstream = proxied ? { networks: { default: { aliases: [upstreamAlias(d.name)] } } } : {};
    if (d.image !== undefined || proxied)
      services[d.name] = { ...(d.image === undefined ? {} : { image: d.image }), ...upstream };
  }
  for (const region of target.regions) {
    services[region.service] = regionService(plan, region, false, placed);
    services[region.canaryService] = regionService(plan, region, true, placed);
    if (proxied) services[proxyService(region.name)] = proxyCompose(service, region);
  }
  services.prometheus = {
    image: target.images.prometheus,
    command: [
      '--config.file=/etc/prometheus/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      '--web.enable-lifecycle',
    ],
    volumes: [`${escapeDollars(prometheusConfig)}:/etc/prometheus/prometheus.yml:ro`],
    ports: [`127.0.0.1:${target.prometheusPort}:9090`],
    restart: 'unless-stopped',
    // Behind proxies the regions are on their own networks only: Prometheus joins each to scrape them.
    ...(proxied ? { networks: ['default', ...target.regions.map((r) => regionNetwork(r.name))] } : {}),
  };
  const volumes = {
    ...(plan.data ? Object.fromEntries(target.regions.map((r) => [`${r.name}-data`, {}])) : {}),
    ...copies.volumes,
  };
  return {
    services,
    ...(Object.keys(volumes).length > 0 ? { volumes } : {}),
    ...(Object.keys(networks).length > 0 ? { networks } : {}),
  };
}

/** What a region's fault proxy forwards: each port of each dependency, to the region's copy of it. */
export function proxyRoutes(
  service: UserServiceTarget,
  region: string,
): { name: string; listen_port: number; upstream_host: string; upstream_port: number }[] {
  return service.dependencies.flatMap((d) =>
    d.ports.map((port) => ({
      name: d.name,
      listen_port: port,
      upstream_host: d.perRegion ? dependencyService(d, region) : upstreamAlias(d.name),
      upstream_port: port,
    })),
  );
}

/**
 * The name a fault proxy reaches a shared dependency by. The proxy answers to the plain name
 * on the region's network; Docker may resolve that name there first, to the proxy itself.
 */
export function upstreamAlias(name: string): string {
  return `cg-upstream-${name}`;
}

/**
 * A region's fault proxy: on the stack's network (the dependencies)
 * and the region's, answering to every dependency's name there.
 */
function proxyCompose(service: UserServiceTarget, region: RegionTarget): ComposeService {
  return {
    image: service.proxyImage,
    environment: {
      CG_PROXY_ROUTES: escapeDollars(JSON.stringify(proxyRoutes(service, region.name))),
      CG_PROXY_CONTROL_PORT: String(PROXY_CONTROL_PORT),
    },
    labels: { 'chaos-gate.region': region.name, 'chaos-gate.role': 'fault-proxy' },
    ports: [`127.0.0.1:${region.proxyPort}:${PROXY_CONTROL_PORT}`],
    restart: 'unless-stopped',
    stop_grace_period: '2s',
    networks: {
      default: {},
      [regionNetwork(region.name)]: { aliases: [...new Set(service.dependencies.map((d) => d.name))] },
    },
  };
}

/**
 * Prometheus scrapes each region's container by its Compose name. The service does not know
 * its region or slot, so the targets carry them (and `up` gets them too). Without
 * metrics.path only Prometheus itself is scraped: the judgement comes from traffic alone.
 */
export function renderPrometheusConfig(target: StackTarget, plan: ServicePlan): string {
  const lines = [
    'global:',
    '  scrape_interval: 2s',
    '  evaluation_interval: 2s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: prometheus',
    '    static_configs:',
    '      - targets: ["localhost:9090"]',
  ];
  if (plan.metrics) {
    for (const [job, canary] of [
      ['regions', false],
      ['region-canaries', true],
    ] as const) {
      lines.push(
        `  - job_name: ${job}`,
        `    metrics_path: ${JSON.stringify(plan.metrics.path)}`,
        '    static_configs:',
      );
      for (const r of target.regions) {
        lines.push(
          `      - targets: ["${canary ? r.canaryService : r.service}:${plan.port}"]`,
          `        labels: { region: ${r.name}, slot: ${canary ? 'canary' : 'stable'} }`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
