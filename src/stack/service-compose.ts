import type { ServicePlan } from '../target/service.ts';
import { envStem, LABELS, type RegionTarget, type StackTarget, type UserServiceTarget } from './target.ts';

// Pure rendering of a user's service into a Compose file and a Prometheus configuration.
// Every region runs the same image under the demo's names and ports (region-<name> on
// 8081-8084, canaries on 9081-9084), each with its own data volume; which image and version
// label a container runs comes from the environment chaos-gate passes (CG_<REGION>_IMAGE,
// _VERSION, and _CANARY_ for the canary), like the demo's VERSION. The output is JSON, which
// both Compose v1 and v2 read as YAML. All services share Compose's default network, so the
// regions reach the services of the user's dependencies file by their names.

type ComposeService = Record<string, unknown>;

/** Compose interpolates `$` in every value: what the user wrote must reach the container as written. */
export function escapeDollars(value: string): string {
  return value.replaceAll('$', '$$$$');
}

function regionService(plan: ServicePlan, region: RegionTarget, canary: boolean): ComposeService {
  const stem = `${envStem(region.name)}${canary ? '_CANARY' : ''}`;
  const volume = plan.data ? { volumes: [`${region.name}-data:${escapeDollars(plan.data.path)}`] } : {};
  return {
    image: `\${${stem}_IMAGE}`,
    ...(canary ? { profiles: ['canary'] } : {}),
    environment: Object.fromEntries(Object.entries(plan.env).map(([k, v]) => [k, escapeDollars(v)])),
    labels: { [LABELS.version]: `\${${stem}_VERSION}`, [LABELS.image]: `\${${stem}_IMAGE}`, 'chaos-gate.region': region.name },
    ports: [`127.0.0.1:${canary ? region.canaryPort : region.port}:${plan.port}`],
    restart: 'unless-stopped',
    stop_grace_period: '10s',
    ...volume,
  };
}

/**
 * The regions, Prometheus, and the image the gate built for each dependency with `build:`:
 * this file comes after the dependencies file, so its `image:` wins and `up --no-build` runs it.
 */
export function renderServiceCompose(target: StackTarget, service: UserServiceTarget, prometheusConfig: string): Record<string, unknown> {
  const { plan } = service;
  const services: Record<string, ComposeService> = {};
  for (const d of service.dependencies) if (d.image !== undefined) services[d.name] = { image: d.image };
  for (const region of target.regions) {
    services[region.service] = regionService(plan, region, false);
    services[region.canaryService] = regionService(plan, region, true);
  }
  services.prometheus = {
    image: target.images.prometheus,
    command: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus', '--web.enable-lifecycle'],
    volumes: [`${escapeDollars(prometheusConfig)}:/etc/prometheus/prometheus.yml:ro`],
    ports: [`127.0.0.1:${target.prometheusPort}:9090`],
    restart: 'unless-stopped',
  };
  const volumes = plan.data ? Object.fromEntries(target.regions.map((r) => [`${r.name}-data`, {}])) : {};
  return { services, ...(plan.data ? { volumes } : {}) };
}

/**
 * Prometheus scrapes each region's container by its Compose name. The service does not know
 * its region or slot, so the targets carry them (and `up` gets them too). Without
 * metrics.path only Prometheus itself is scraped: the judgement comes from traffic alone.
 */
export function renderPrometheusConfig(target: StackTarget, plan: ServicePlan): string {
  const lines = ['global:', '  scrape_interval: 2s', '  evaluation_interval: 2s', '  scrape_timeout: 1s', 'scrape_configs:', '  - job_name: prometheus', '    static_configs:', '      - targets: ["localhost:9090"]'];
  if (plan.metrics) {
    for (const [job, canary] of [['regions', false], ['region-canaries', true]] as const) {
      lines.push(`  - job_name: ${job}`, `    metrics_path: ${JSON.stringify(plan.metrics.path)}`, '    static_configs:');
      for (const r of target.regions) {
        lines.push(`      - targets: ["${canary ? r.canaryService : r.service}:${plan.port}"]`, `        labels: { region: ${r.name}, slot: ${canary ? 'canary' : 'stable'} }`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
