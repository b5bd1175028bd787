import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { defaultRegionTargets } from '../../src/stack/target.ts';
import { checkPromQL, seriesFromContract, type MetricContract } from './promql-names.ts';

// Grafana cannot run on the development and CI machines, and Prometheus only runs inside the
// stack, so the observability files are checked here by reading them: Prometheus scrapes
// exactly the region services, Grafana finds its datasource and dashboards where Compose
// mounts them, and every dashboard query names only metrics and labels the service exports.

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const readYaml = (path: string): unknown => parseYaml(read(path), { merge: true });

// Where docker-compose.yml must mount the observability files in the containers. The
// Grafana provider's options.path and the datasource URL are written against these.
const GRAFANA_DASHBOARDS_MOUNT = '/var/lib/grafana/dashboards';
const GRAFANA_PROVISIONING_MOUNT = '/etc/grafana/provisioning';
const PROMETHEUS_CONFIG_MOUNT = '/etc/prometheus/prometheus.yml';
const SERVICE_PORT = 8080;
const PROMETHEUS_SERVICE = 'prometheus';
const PROMETHEUS_PORT = 9090;

/** The region service's metrics (the contract services/region exports on /metrics). */
const CONTRACT: Record<string, MetricContract> = {
  service_up: { type: 'gauge', labels: ['version', 'region'] },
  service_info: { type: 'gauge', labels: ['version', 'region'] },
  http_requests_total: { type: 'counter', labels: ['region', 'version', 'method', 'route', 'status'] },
  http_request_duration_seconds: { type: 'histogram', labels: ['region', 'version', 'route'] },
  service_errors_total: { type: 'counter', labels: ['region', 'version'] },
  db_operation_duration_seconds: { type: 'histogram', labels: ['region', 'version', 'operation'] },
};
/** Series Prometheus itself writes for every scrape target. */
const SCRAPE_SERIES = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
];

const regions = defaultRegionTargets();

// ---------------------------------------------------------------------------------------
// File shapes (only the fields the checks read)

interface StaticConfig {
  targets: string[];
  labels?: Record<string, string>;
}
interface ScrapeConfig {
  job_name: string;
  honor_labels?: boolean;
  metrics_path?: string;
  scrape_interval?: string;
  static_configs?: StaticConfig[];
}
interface PrometheusConfig {
  global?: { scrape_interval?: string; evaluation_interval?: string; scrape_timeout?: string };
  scrape_configs?: ScrapeConfig[];
}
interface Target {
  expr?: string;
  refId?: string;
  datasource?: { uid?: string; type?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  collapsed?: boolean;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string; type?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  refresh?: string;
  time?: { from: string; to: string };
  panels?: Panel[];
}
interface ComposeService {
  image?: string;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
}

const prom = readYaml('observability/prometheus.yml') as PrometheusConfig;
const datasources = readYaml('observability/grafana/provisioning/datasources/prometheus.yml') as {
  apiVersion?: number;
  datasources?: Record<string, unknown>[];
};
const providers = readYaml('observability/grafana/provisioning/dashboards/provider.yml') as {
  apiVersion?: number;
  providers?: { type?: string; options?: { path?: string } }[];
};
const dashboard = JSON.parse(read('observability/grafana/dashboards/chaos-gate.json')) as Dashboard;
const compose = readYaml('docker-compose.yml') as { services?: Record<string, ComposeService> };

const job = (name: string): ScrapeConfig => {
  const found = prom.scrape_configs?.find((j) => j.job_name === name);
  if (!found) throw new Error(`prometheus.yml has no job "${name}"`);
  return found;
};

/** Every panel, rows' nested panels included. */
const allPanels = (panels: Panel[] = dashboard.panels ?? []): Panel[] =>
  panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const queryPanels = allPanels().filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title ?? `#${p.id}`, expr: t.expr ?? '' })),
);

/** Labels every region series carries besides its own: job, instance, and the scrape target's labels. */
const targetLabels = new Set([
  'job',
  'instance',
  ...['regions', 'region-canaries'].flatMap((j) =>
    (job(j).static_configs ?? []).flatMap((c) => Object.keys(c.labels ?? {})),
  ),
]);
const known = seriesFromContract(CONTRACT, targetLabels);
for (const name of SCRAPE_SERIES) known.set(name, new Set(targetLabels));

/** Seconds in a Prometheus duration such as "2s", "1m30s" or "500ms". */
function seconds(duration: string | undefined): number {
  if (!duration || !/^(?:\d+(?:ms|[smhdwy]))+$/.test(duration)) throw new Error(`not a duration: ${String(duration)}`);
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  let total = 0;
  for (const [, n, u] of duration.matchAll(/(\d+)(ms|[smhdwy])/g)) total += Number(n) * (unit[u as string] ?? NaN);
  return total;
}

/** Compose's short volume syntax "source:target[:mode]". */
function mounts(service: ComposeService | undefined): { source: string; target: string }[] {
  return (service?.volumes ?? []).map((v) => {
    const [source = '', target = ''] = v.split(':');
    return { source: source.replace(/^\.\//, ''), target };
  });
}

/** The container port of a Compose "host-ip:host-port:container-port" mapping. */
const containerPorts = (service: ComposeService | undefined) =>
  (service?.ports ?? []).map((p) => Number(String(p).split(':').at(-1)));

function findPromtool(): string | undefined {
  const candidates = [
    join(root, '.cache/prometheus/usr/bin/promtool'),
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, 'promtool')),
  ];
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return statSync(c).isFile();
    } catch {
      return false;
    }
  });
}
const promtool = findPromtool();
const NO_PROMTOOL =
  'promtool not found in .cache/prometheus or on PATH (npm test fetches it: apt-get download prometheus && dpkg -x prometheus_*.deb .cache/prometheus)';
const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------

describe('observability/prometheus.yml', () => {
  it('scrapes often enough for short canary stages', () => {
    const g = prom.global ?? {};
    expect(seconds(g.scrape_interval)).toBeLessThanOrEqual(5);
    expect(seconds(g.evaluation_interval)).toBeLessThanOrEqual(5);
    expect(seconds(g.scrape_timeout)).toBeLessThan(seconds(g.scrape_interval));
    for (const j of prom.scrape_configs ?? []) {
      if (j.scrape_interval) expect(seconds(j.scrape_interval), j.job_name).toBeLessThanOrEqual(5);
    }
  });

  it('has unique job names, one of them Prometheus itself', () => {
    const names = (prom.scrape_configs ?? []).map((j) => j.job_name);
    expect(new Set(names).size).toBe(names.length);
    expect(job('prometheus').static_configs?.flatMap((c) => c.targets)).toEqual([`localhost:${PROMETHEUS_PORT}`]);
  });

  it.each([
    ['regions', 'stable', (r: (typeof regions)[number]) => r.service],
    ['region-canaries', 'canary', (r: (typeof regions)[number]) => r.canaryService],
  ] as const)(
    'job %s scrapes each %s region service by its Compose name on port 8080, labelled with its region',
    (name, slot, service) => {
      const j = job(name);
      // The service labels its own series with region and version; those must win.
      expect(j.honor_labels).toBe(true);
      expect(j.metrics_path ?? '/metrics').toBe('/metrics');
      const targets = (j.static_configs ?? []).flatMap((c) =>
        c.targets.map((t) => ({ target: t, labels: c.labels ?? {} })),
      );
      expect(targets).toEqual(
        regions.map((r) => ({ target: `${service(r)}:${SERVICE_PORT}`, labels: { region: r.name, slot } })),
      );
    },
  );

  it('scrapes nothing but the region services (stable and canary) and itself', () => {
    const all = (prom.scrape_configs ?? []).flatMap((j) => (j.static_configs ?? []).flatMap((c) => c.targets)).sort();
    const expected = [
      ...regions.flatMap((r) => [r.service, r.canaryService]).map((s) => `${s}:${SERVICE_PORT}`),
      `localhost:${PROMETHEUS_PORT}`,
    ].sort();
    expect(all).toEqual(expected);
  });

  it('passes promtool check config', async (ctx) => {
    ctx.skip(!promtool, NO_PROMTOOL);
    const { stdout } = await execFileAsync(
      promtool as string,
      ['check', 'config', join(root, 'observability/prometheus.yml')],
      { timeout: 30_000 },
    );
    expect(stdout).toContain('SUCCESS');
  });
});

describe('docker-compose.yml agrees with the observability files', () => {
  const services = compose.services ?? {};

  it('runs every scraped region service with the service port exposed to its network', () => {
    for (const r of regions) {
      for (const name of [r.service, r.canaryService]) {
        expect(services[name], name).toBeDefined();
        expect(containerPorts(services[name]), name).toContain(SERVICE_PORT);
      }
    }
  });

  it('mounts the Prometheus config where Prometheus reads it, and serves on 9090', () => {
    const p = services[PROMETHEUS_SERVICE];
    expect(p).toBeDefined();
    expect(mounts(p)).toContainEqual({ source: 'observability/prometheus.yml', target: PROMETHEUS_CONFIG_MOUNT });
    const configFlag = (p?.command ?? []).find((c) => c.startsWith('--config.file='));
    expect(configFlag === undefined || configFlag === `--config.file=${PROMETHEUS_CONFIG_MOUNT}`).toBe(true);
    const listen = (p?.command ?? []).find((c) => c.startsWith('--web.listen-address='));
    expect(listen === undefined || listen.endsWith(`:${PROMETHEUS_PORT}`)).toBe(true);
    expect(containerPorts(p)).toContain(PROMETHEUS_PORT);
  });

  it('mounts Grafana provisioning at /etc/grafana/provisioning and the dashboards at /var/lib/grafana/dashboards', () => {
    const g = mounts(services.grafana);
    expect(g).toContainEqual({ source: 'observability/grafana/provisioning', target: GRAFANA_PROVISIONING_MOUNT });
    expect(g).toContainEqual({ source: 'observability/grafana/dashboards', target: GRAFANA_DASHBOARDS_MOUNT });
    for (const { source } of [...g, ...mounts(services[PROMETHEUS_SERVICE])]) {
      if (source.startsWith('observability/')) expect(existsSync(join(root, source)), source).toBe(true);
    }
  });
});

describe('Grafana provisioning', () => {
  it('has one default Prometheus datasource, uid prometheus, at the prometheus service on 9090', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    const ds = datasources.datasources?.[0] ?? {};
    expect(ds).toMatchObject({
      name: 'Prometheus',
      uid: 'prometheus',
      type: 'prometheus',
      access: 'proxy',
      isDefault: true,
    });
    const url = new URL(String(ds.url));
    expect(url.protocol).toBe('http:');
    expect(url.hostname).toBe(PROMETHEUS_SERVICE);
    expect(Number(url.port)).toBe(PROMETHEUS_PORT);
  });

  it('loads dashboards from the folder Compose mounts them at', () => {
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toHaveLength(1);
    expect(providers.providers?.[0]).toMatchObject({ type: 'file', options: { path: GRAFANA_DASHBOARDS_MOUNT } });
    // Grafana finds the provisioning files under these subfolders of the mount.
    expect(existsSync(join(root, 'observability/grafana/provisioning/datasources'))).toBe(true);
    expect(existsSync(join(root, 'observability/grafana/provisioning/dashboards'))).toBe(true);
  });
});

describe('observability/grafana/dashboards/chaos-gate.json', () => {
  it('is the Chaos Gate dashboard, refreshing every 5s over the last 15 minutes', () => {
    expect(dashboard).toMatchObject({
      uid: 'chaos-gate',
      title: 'Chaos Gate',
      refresh: '5s',
      time: { from: 'now-15m', to: 'now' },
    });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
  });

  it('gives every panel a unique id and a grid position inside the 24-column grid, without overlaps', () => {
    const panels = allPanels();
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      const g = p.gridPos;
      expect(g, p.title).toBeDefined();
      if (!g) continue;
      expect(
        [g.x, g.y, g.w, g.h].every((n) => Number.isInteger(n) && n >= 0),
        p.title,
      ).toBe(true);
      expect(g.w, p.title).toBeGreaterThan(0);
      expect(g.h, p.title).toBeGreaterThan(0);
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
    }
    const boxes = panels.flatMap((p) => (p.gridPos ? [{ title: p.title, ...p.gridPos }] : []));
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  it('queries the prometheus datasource (uid prometheus) in every panel and target', () => {
    expect(queryPanels.length).toBeGreaterThan(0);
    for (const p of queryPanels) {
      expect(p.datasource?.uid, p.title).toBe('prometheus');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets ?? []) {
        expect(t.datasource?.uid ?? p.datasource?.uid, p.title).toBe('prometheus');
        expect(t.expr?.trim(), p.title).toBeTruthy();
      }
    }
  });

  it.each(exprs)('$panel: $expr names only exported metrics and their labels', ({ expr }) => {
    expect(checkPromQL(expr, known).problems).toEqual([]);
  });

  it('shows every metric the service exports', () => {
    const used = new Set(exprs.flatMap(({ expr }) => checkPromQL(expr, known).metrics));
    for (const [name, m] of Object.entries(CONTRACT)) {
      const series = m.type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
      expect(
        series.some((s) => used.has(s)),
        name,
      ).toBe(true);
    }
  });

  it('has the overview panels', () => {
    const byTitle = (title: string) => {
      const p = queryPanels.find((x) => x.title === title);
      if (!p) throw new Error(`no panel "${title}"`);
      return (p.targets ?? []).map((t) => (t.expr ?? '').replace(/\s+/g, ' '));
    };
    expect(queryPanels.find((p) => p.title === 'Service up')?.type).toBe('stat');
    expect(byTitle('Service up').join()).toMatch(/\bservice_up\b/);
    expect(byTitle('Version per region').join()).toMatch(/service_info/);
    expect(byTitle('Version per region').join()).toMatch(/by \([^)]*\bversion\b/);
    expect(byTitle('Request rate')).toEqual(['sum by (region) (rate(http_requests_total[30s]))']);
    expect(byTitle('Error rate')[0]).toMatch(/status=~"5\.\."/);
    expect(byTitle('Latency p50/p95/p99').map((e) => /^histogram_quantile\(([\d.]+),/.exec(e)?.[1])).toEqual([
      '0.5',
      '0.95',
      '0.99',
    ]);
    expect(byTitle('DB operation p99').join()).toMatch(
      /histogram_quantile\(0\.99, .*db_operation_duration_seconds_bucket/,
    );
  });

  it('compares canary against baseline by version in every region, below the "Canary vs baseline" row', () => {
    const row = allPanels().find((p) => p.type === 'row' && p.title === 'Canary vs baseline');
    expect(row).toBeDefined();
    const below = queryPanels.filter((p) => (p.gridPos?.y ?? -1) > (row?.gridPos?.y ?? Infinity));
    for (const r of regions) {
      const inRegion = below.filter((p) => (p.targets ?? []).every((t) => t.expr?.includes(`region="${r.name}"`)));
      const errors = inRegion.filter((p) =>
        p.targets?.some((t) =>
          /sum by \(version\) \(rate\(http_requests_total\{[^}]*status=~"5\.\."/.test(t.expr ?? ''),
        ),
      );
      const p99 = inRegion.filter((p) =>
        p.targets?.some((t) =>
          /histogram_quantile\(0\.99, sum by \(version, le\) \(rate\(http_request_duration_seconds_bucket\{/.test(
            t.expr ?? '',
          ),
        ),
      );
      expect(errors, `${r.name} error rate by version`).toHaveLength(1);
      expect(p99, `${r.name} p99 by version`).toHaveLength(1);
    }
  });

  it("parses with Prometheus' own PromQL parser (promtool check rules)", async (ctx) => {
    ctx.skip(!promtool, NO_PROMTOOL);
    const dir = mkdtempSync(join(tmpdir(), 'chaos-gate-promql-'));
    try {
      const file = join(dir, 'dashboard-rules.yml');
      const rules = exprs.map(({ expr }, i) => ({ record: `chaos_gate:dashboard_expr_${i}`, expr }));
      writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboard', rules }] }));
      const { stdout } = await execFileAsync(promtool as string, ['check', 'rules', file], { timeout: 30_000 });
      expect(stdout).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the PromQL name checker', () => {
  it.each([
    ['unknown metric', 'sum by (region) (rate(http_request_total[30s]))', 'unknown metric "http_request_total"'],
    [
      'unknown label in by',
      'sum by (zone) (rate(http_requests_total[30s]))',
      'label "zone" in sum by (...) is not a label of http_requests_total',
    ],
    [
      'label of another metric',
      'sum by (operation) (rate(http_request_duration_seconds_count[30s]))',
      'label "operation"',
    ],
    [
      'unknown label in a matcher',
      'rate(http_requests_total{stauts="500"}[1m])',
      'label "stauts" in {...} is not a label of http_requests_total',
    ],
    ['le on a counter', 'sum by (le) (rate(service_errors_total[1m]))', 'label "le"'],
    ['by after the body', 'sum(rate(http_requests_total[1m])) by (zone)', 'label "zone"'],
    [
      'quantile without le',
      'histogram_quantile(0.99, sum by (region) (rate(http_request_duration_seconds_bucket[30s])))',
      'drops "le"',
    ],
    [
      'quantile of a non-bucket',
      'histogram_quantile(0.99, rate(http_request_duration_seconds_sum[30s]))',
      "needs a histogram's _bucket series",
    ],
    [
      'the histogram name itself',
      'rate(http_request_duration_seconds[1m])',
      'unknown metric "http_request_duration_seconds"',
    ],
    ['unknown function', 'rat(http_requests_total[1m])', 'unknown function "rat"'],
    ['missing parenthesis', 'sum(rate(http_requests_total[1m])', 'missing )'],
    ['selector without a name', '{region="us-west"}', 'selector without a metric name'],
    ['on() with a missing label', 'service_up * on (route) service_info', 'label "route" in on (...)'],
  ])('catches %s', (_what, expr, problem) => {
    const { problems } = checkPromQL(expr, known);
    expect(problems.join('\n')).toContain(problem);
  });

  it.each([
    [
      'sum(rate(http_requests_total{region="us-west", status=~"5.."}[5m])) by (region, version)',
      ['http_requests_total'],
    ],
    [
      'histogram_quantile(0.9, sum without (route) (rate(http_request_duration_seconds_bucket[1m] offset 5m)))',
      ['http_request_duration_seconds_bucket'],
    ],
    ['max_over_time(service_up{job="regions"}[5m:30s]) or up{slot="canary"}', ['service_up', 'up']],
    ['service_up * on (region) group_left (version) service_info', ['service_up', 'service_info']],
    ['{__name__="service_errors_total", region!="eu-west"}', ['service_errors_total']],
    [
      'rate(db_operation_duration_seconds_sum[1m]) / rate(db_operation_duration_seconds_count[1m]) > bool 0.05',
      ['db_operation_duration_seconds_sum', 'db_operation_duration_seconds_count'],
    ],
  ])('accepts %s', (expr, metrics) => {
    expect(checkPromQL(expr, known)).toEqual({ metrics, problems: [] });
  });
});
