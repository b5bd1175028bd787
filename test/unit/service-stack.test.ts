import { describe, expect, test } from 'vitest';
import { composeBase, composeEnv } from '../../src/stack/compose-args.ts';
import type { ContainerFacts } from '../../src/stack/inspect.ts';
import { escapeDollars, renderPrometheusConfig, renderServiceCompose } from '../../src/stack/service-compose.ts';
import { fieldOf, identityOf } from '../../src/stack/service-probes.ts';
import {
  defaultStackTarget,
  dependencyServices,
  LABELS,
  type ImageDeployment,
  type StackDependency,
  type StackTarget,
  type UserServiceTarget,
} from '../../src/stack/target.ts';
import {
  imageLabel,
  metricsNote,
  probeIdProblem,
  serviceJudgement,
  serviceTarget,
  versionLabels,
} from '../../src/gate/service.ts';
import { toPrometheusPlan } from '../../src/prometheus/config.ts';
import type { BuiltImage } from '../../src/stack/service-images.ts';
import type { ServicePlan } from '../../src/target/service.ts';
import type { RolloutPlan } from '../../src/plan/rollout.ts';
import { toRolloutPlan } from '../../src/config/rollout.ts';

// A user's service as the stack runs it: the rendered Compose file and Prometheus
// configuration, the Compose arguments and environment, and identity by image id.

const plan: ServicePlan = {
  source: { kind: 'build', context: '/repo', dockerfile: 'Dockerfile', args: {} },
  port: 3000,
  health: { path: '/healthz', expectStatus: [200] },
  version: { path: '/version', field: 'version' },
  metrics: { path: '/metrics' },
  env: { LOG_LEVEL: 'info', PRICE: '$5' },
  data: { path: '/data' },
  traffic: [{ method: 'GET', path: '/api/items', expectStatus: [200], weight: 1 }],
  probe: undefined,
  dependencies: '/repo/deps.yml',
  attribution: undefined,
};
const baseline: ImageDeployment = {
  version: 'abc1234',
  failureRate: 0,
  image: { ref: 'chaos-gate/candidate:abc1234-1', id: 'sha256:' + 'b'.repeat(64) },
};
const candidate: ImageDeployment = {
  version: 'def5678',
  failureRate: 0,
  image: { ref: 'chaos-gate/candidate:def5678-2', id: 'sha256:' + 'c'.repeat(64) },
};

const DEPENDENCIES: StackDependency[] = [
  {
    name: 'worker',
    image: 'chaos-gate/dep-worker:nogit-abc',
    dependsOn: ['postgres'],
    perRegion: false,
    definition: undefined,
    ports: [4000],
  },
  { name: 'postgres', image: undefined, dependsOn: [], perRegion: false, definition: undefined, ports: [5432] },
];

function userService(p: ServicePlan = plan): UserServiceTarget {
  return {
    plan: p,
    initial: baseline,
    candidate,
    runDir: '/tmp/run',
    projectDirectory: '/repo',
    dependencies: DEPENDENCIES,
  };
}

function target(p: ServicePlan = plan): StackTarget {
  return serviceTarget(defaultStackTarget('/action'), userService(p));
}

describe('rendered Compose file', () => {
  const compose = renderServiceCompose(target(), userService(), '/tmp/run/prometheus.yml') as {
    services: Record<string, Record<string, unknown>>;
    volumes?: Record<string, unknown>;
  };

  test('every region and canary runs the image its environment names, on the demo ports, with its own volume', () => {
    expect(compose.services['region-us-west']).toMatchObject({
      image: '${CG_US_WEST_IMAGE}',
      ports: ['127.0.0.1:8081:3000'],
      volumes: ['us-west-data:/data'],
      labels: { [LABELS.version]: '${CG_US_WEST_VERSION}', [LABELS.image]: '${CG_US_WEST_IMAGE}' },
    });
    expect(compose.services['region-ap-south-canary']).toMatchObject({
      image: '${CG_AP_SOUTH_CANARY_IMAGE}',
      ports: ['127.0.0.1:9084:3000'],
      profiles: ['canary'],
      volumes: ['ap-south-data:/data'],
    });
    expect(Object.keys(compose.volumes ?? {})).toEqual([
      'us-west-data',
      'us-east-data',
      'eu-west-data',
      'ap-south-data',
    ]);
  });

  test('a dependency the gate built runs that image; one with its own image is left to the dependencies file', () => {
    expect(compose.services.worker).toEqual({ image: 'chaos-gate/dep-worker:nogit-abc' });
    expect(compose.services.postgres).toBeUndefined();
  });

  test("a per-region dependency runs once per region, reached by its plain name on the region's own network", () => {
    const cache: StackDependency = {
      name: 'cache',
      image: undefined,
      dependsOn: ['store'],
      perRegion: true,
      definition: {
        image: 'redis:7',
        build: './cache',
        depends_on: ['store', 'postgres'],
        volumes: ['cachedata:/data', './conf:/etc/redis:ro', { type: 'volume', source: 'logs', target: '/logs' }],
      },
      ports: [6379],
    };
    const store: StackDependency = {
      name: 'store',
      image: 'chaos-gate/dep-store:nogit-1',
      dependsOn: [],
      perRegion: true,
      definition: { build: './store' },
      ports: [6379],
    };
    const rendered = renderServiceCompose(
      target(),
      { ...userService(), dependencies: [...DEPENDENCIES, cache, store] },
      '/p.yml',
    ) as {
      services: Record<string, Record<string, unknown>>;
      volumes: Record<string, unknown>;
      networks: Record<string, unknown>;
    };
    expect(rendered.services['cache-eu-west']).toEqual({
      image: 'redis:7',
      depends_on: ['store-eu-west', 'postgres'],
      volumes: [
        'cachedata-eu-west:/data',
        './conf:/etc/redis:ro',
        { type: 'volume', source: 'logs-eu-west', target: '/logs' },
      ],
      networks: { default: {}, 'cg-eu-west': { aliases: ['cache'] } },
    });
    expect(rendered.services['store-us-west']).toEqual({
      image: 'chaos-gate/dep-store:nogit-1',
      networks: { default: {}, 'cg-us-west': { aliases: ['store'] } },
    });
    expect(rendered.services.cache).toBeUndefined();
    expect(rendered.services['region-eu-west-canary']?.networks).toEqual(['default', 'cg-eu-west']);
    expect(Object.keys(rendered.networks)).toEqual(['cg-us-west', 'cg-us-east', 'cg-eu-west', 'cg-ap-south']);
    expect(Object.keys(rendered.volumes)).toContain('logs-ap-south');
    expect(dependencyServices([...DEPENDENCIES, cache], ['us-west', 'us-east'])).toEqual([
      'worker',
      'postgres',
      'cache-us-west',
      'cache-us-east',
    ]);
    expect(compose.services['region-us-west']?.networks).toBeUndefined();
  });

  test('with the fault proxy, a region reaches every dependency only through its own proxy', () => {
    const store: StackDependency = {
      name: 'store',
      image: undefined,
      dependsOn: [],
      perRegion: true,
      definition: { image: 'redis:7' },
      ports: [6379, 6380],
    };
    const service = {
      ...userService(),
      dependencies: [...DEPENDENCIES, store],
      proxyImage: 'chaos-gate/fault-proxy:abc',
    };
    const rendered = renderServiceCompose(target(), service, '/p.yml') as {
      services: Record<string, Record<string, unknown>>;
      networks: Record<string, unknown>;
    };
    // Only on its own network, where the proxy answers to the dependencies' names.
    expect(rendered.services['region-us-east']?.networks).toEqual(['cg-us-east']);
    expect(rendered.services['region-us-east-canary']?.networks).toEqual(['cg-us-east']);
    const proxy = rendered.services['fault-proxy-us-east'] as {
      environment: Record<string, string>;
      networks: unknown;
      ports: unknown;
      image: unknown;
    };
    expect(proxy.image).toBe('chaos-gate/fault-proxy:abc');
    expect(proxy.networks).toEqual({ default: {}, 'cg-us-east': { aliases: ['worker', 'postgres', 'store'] } });
    expect(proxy.ports).toEqual(['127.0.0.1:7082:7070']);
    expect(JSON.parse(proxy.environment.CG_PROXY_ROUTES ?? '')).toEqual([
      { name: 'worker', listen_port: 4000, upstream_host: 'cg-upstream-worker', upstream_port: 4000 },
      { name: 'postgres', listen_port: 5432, upstream_host: 'cg-upstream-postgres', upstream_port: 5432 },
      { name: 'store', listen_port: 6379, upstream_host: 'store-us-east', upstream_port: 6379 },
      { name: 'store', listen_port: 6380, upstream_host: 'store-us-east', upstream_port: 6380 },
    ]);
    // A shared dependency gets a name of its own on the stack's network: its plain name is the proxy's on the region's.
    expect(rendered.services.worker).toEqual({
      image: 'chaos-gate/dep-worker:nogit-abc',
      networks: { default: { aliases: ['cg-upstream-worker'] } },
    });
    expect(rendered.services.postgres).toEqual({ networks: { default: { aliases: ['cg-upstream-postgres'] } } });
    // The copies keep their plain name among the region's dependencies, never on the region's own network.
    expect(rendered.services['store-us-east']?.networks).toEqual({
      default: {},
      'cg-us-east-deps': { aliases: ['store'] },
    });
    expect(rendered.services.prometheus?.networks).toEqual([
      'default',
      'cg-us-west',
      'cg-us-east',
      'cg-eu-west',
      'cg-ap-south',
    ]);
    expect(Object.keys(rendered.networks).sort()).toEqual([
      'cg-ap-south',
      'cg-ap-south-deps',
      'cg-eu-west',
      'cg-eu-west-deps',
      'cg-us-east',
      'cg-us-east-deps',
      'cg-us-west',
      'cg-us-west-deps',
    ]);
    // No dependencies: no proxy, whatever the image.
    const alone = renderServiceCompose(target(), { ...service, dependencies: [] }, '/p.yml') as {
      services: Record<string, unknown>;
    };
    expect(Object.keys(alone.services).filter((n) => n.startsWith('fault-proxy'))).toEqual([]);
  });

  test("the user's values reach the container as written: Compose would interpolate a $", () => {
    expect(compose.services['region-us-west']?.environment).toEqual({ LOG_LEVEL: 'info', PRICE: '$$5' });
    expect(escapeDollars('a$b$$c')).toBe('a$$b$$$$c');
  });

  test('no data path: no volumes at all', () => {
    const bare = renderServiceCompose(
      target({ ...plan, data: undefined }),
      userService({ ...plan, data: undefined }),
      '/p.yml',
    ) as { services: Record<string, Record<string, unknown>>; volumes?: unknown };
    expect(bare.volumes).toBeUndefined();
    expect(bare.services['region-us-west']?.volumes).toBeUndefined();
  });
});

describe('Prometheus configuration', () => {
  test('scrapes metrics.path on the service port, labelled by region and slot', () => {
    const text = renderPrometheusConfig(target(), plan);
    expect(text).toContain('metrics_path: "/metrics"');
    expect(text).toContain('targets: ["region-eu-west:3000"]');
    expect(text).toContain('targets: ["region-eu-west-canary:3000"]');
    expect(text).toContain('labels: { region: eu-west, slot: canary }');
  });
  test('without metrics only Prometheus itself is scraped', () => {
    const text = renderPrometheusConfig(target(), { ...plan, metrics: undefined });
    expect(text).not.toContain('region-');
    expect(text).toContain('localhost:9090');
  });
});

describe('Compose arguments and environment', () => {
  test('the dependencies file joins the rendered one, and relative paths resolve against its folder', () => {
    expect(composeBase({ file: 'docker-compose', prefix: [], version: '1.29.2', major: 1 }, target(), [])).toEqual([
      '-p',
      'chaos-gate',
      '-f',
      '/repo/deps.yml',
      '-f',
      '/tmp/run/compose.json',
      '--project-directory',
      '/repo',
    ]);
  });
  test('the demo keeps its own file and no project directory', () => {
    expect(
      composeBase(
        { file: 'docker-compose', prefix: [], version: '1.29.2', major: 1 },
        defaultStackTarget('/action'),
        [],
      ),
    ).toEqual(['-p', 'chaos-gate', '-f', 'docker-compose.yml']);
  });
  test('regions run the baseline until deployed; a deployed canary runs the candidate', () => {
    const env = composeEnv(target(), new Map([['us-east', { canary: candidate }]]));
    expect(env.CG_US_WEST_IMAGE).toBe(baseline.image.ref);
    expect(env.CG_US_WEST_VERSION).toBe('abc1234');
    expect(env.CG_US_EAST_IMAGE).toBe(baseline.image.ref);
    expect(env.CG_US_EAST_CANARY_IMAGE).toBe(candidate.image.ref);
    expect(env.CG_US_EAST_CANARY_VERSION).toBe('def5678');
  });
});

describe('identity', () => {
  const facts = (label: string | undefined, image: string): ContainerFacts => ({
    id: 'x',
    name: 'x',
    service: 'region-us-west',
    state: 'running',
    health: 'none',
    restartCount: 0,
    pid: 1,
    exitCode: 0,
    oomKilled: false,
    env: {},
    labels: label === undefined ? {} : { [LABELS.version]: label },
    image,
    networks: [],
  });
  test.each([
    ['the label with its own image', 'def5678', candidate.image.id, 'def5678'],
    [
      'the candidate label on the baseline image',
      'def5678',
      baseline.image.id,
      `image ${'b'.repeat(12)} labelled def5678`,
    ],
    ['an unknown label', 'zzz', candidate.image.id, `image ${'c'.repeat(12)} labelled zzz`],
    ['no label', undefined, baseline.image.id, `image ${'b'.repeat(12)}`],
  ])('%s', (_what, label, image, expected) => {
    expect(identityOf(facts(label, image), [baseline, candidate])).toBe(expected);
  });
  test.each([
    [{ version: '1.2.3' }, 'version', '1.2.3'],
    [{ build: { sha: 'abc' } }, 'build.sha', 'abc'],
    [{ version: 7 }, 'version', '7'],
    [{ version: { x: 1 } }, 'version', undefined],
    ['text', 'version', undefined],
  ])('field %j %s', (body, field, expected) => {
    expect(fieldOf(body, field)).toBe(expected);
  });
});

describe("labels and judgement of a user's service", () => {
  const built = (commit: string | null, ref: string): BuiltImage => ({
    ref,
    id: 'sha256:1',
    commit,
    reused: false,
    buildMs: 1,
    notes: [],
  });
  test.each([
    [built('0123456789abcdef', 'chaos-gate/candidate:x'), '0123456789ab'],
    [built(null, 'registry.local:5000/app:stable'), 'stable'],
    [built(null, 'app@sha256:' + 'a'.repeat(64)), 'fallback'],
  ])('imageLabel %#', (image, expected) => {
    expect(imageLabel(image, 'fallback')).toBe(expected);
  });
  test('--version names the candidate; the same commit twice is told apart', () => {
    expect(versionLabels(built('aaa', 'a:1'), built('bbb', 'b:1'), undefined)).toEqual({
      candidate: 'aaa',
      baseline: 'bbb',
    });
    expect(versionLabels(built('aaa', 'a:1'), built('bbb', 'b:1'), 'v2')).toEqual({ candidate: 'v2', baseline: 'bbb' });
    expect(versionLabels(built('aaa', 'a:1'), built('aaa', 'a:1'), undefined)).toEqual({
      candidate: 'aaa',
      baseline: 'aaa-baseline',
    });
  });
  const rollout: RolloutPlan = toRolloutPlan({}, 'chaos-gate.yml');
  test('without service.metrics, Prometheus leaves the judgement and the note says why', () => {
    const { plan: judged, note } = serviceJudgement(rollout, toPrometheusPlan({}, 'c.yml'), {
      ...plan,
      metrics: undefined,
    });
    expect(rollout.analysis.sources).toContain('prometheus');
    expect(judged.analysis.sources).toEqual(['synthetic']);
    expect(note).toMatch(/service\.metrics is not given/);
  });
  test("the built-in checks take the service's metric names and select by region and slot; a written query stays", () => {
    const prometheus = toPrometheusPlan(
      {
        metrics: { preset: 'micrometer' },
        checks: [
          { name: 'errors', template: 'error_rate', max: 0.05 },
          { name: 'own', query: 'up{job="x"}', min: 1 },
        ],
      },
      'c.yml',
    );
    const judged = serviceJudgement(rollout, prometheus, plan);
    expect(judged.plan).toBe(rollout);
    expect(judged.prometheus.checks[0]?.template).toBe(
      '(sum(rate(http_server_requests_seconds_count{region="{{ region }}",slot="{{ slot }}",status=~"5.."}[{{ interval }}])) or vector(0))' +
        ' / sum(rate(http_server_requests_seconds_count{region="{{ region }}",slot="{{ slot }}"}[{{ interval }}]))',
    );
    expect(judged.prometheus.checks[1]?.template).toBe('up{job="x"}');
    expect(judged.note).toMatch(/errors, own \(http_server_requests_seconds_count/);
  });
  test.each([
    [
      {},
      {
        requestsMetric: 'http_requests_total',
        durationMetric: 'http_request_duration_seconds',
        statusLabel: 'status_code',
      },
    ],
    [
      { preset: 'micrometer', status_label: 'code' },
      {
        requestsMetric: 'http_server_requests_seconds_count',
        durationMetric: 'http_server_requests_seconds',
        statusLabel: 'code',
      },
    ],
  ])('prometheus.metrics %j', (metrics, names) => {
    expect(toPrometheusPlan({ metrics }, 'c.yml').metrics).toEqual(names);
  });
  test.each([
    [{ preset: 'statsd' }, 'prometheus.metrics.preset'],
    [{ requests_metric: 'http-requests' }, 'prometheus.metrics.requests_metric'],
    [{ status_label: 'a"}) or vector(1' }, 'prometheus.metrics.status_label'],
  ])('refuses prometheus.metrics %j', (metrics, path) => {
    expect(() => toPrometheusPlan({ metrics }, 'c.yml')).toThrow(path);
  });
});

describe('metrics note', () => {
  test.each([
    [{ status: 200, body: '' }, undefined],
    [
      { status: 404, body: '' },
      'service.metrics: http://127.0.0.1:8081/metrics answered HTTP 404: Prometheus has no metrics of your service, so the rollout is judged from the synthetic traffic alone',
    ],
    [
      undefined,
      'service.metrics: http://127.0.0.1:8081/metrics answered nothing: Prometheus has no metrics of your service, so the rollout is judged from the synthetic traffic alone',
    ],
  ])('%j', async (answer, expected) => {
    expect(await metricsNote(target(), () => Promise.resolve(answer))).toBe(expected);
  });
  test('no metrics path, nothing to say (the notes say it is judged from traffic alone)', async () => {
    expect(
      await metricsNote(target({ ...plan, metrics: undefined }), () => Promise.reject(new Error('not asked'))),
    ).toBeUndefined();
  });
});

describe("the probe write's id field, checked once before any traffic", () => {
  const probe = {
    write: {
      method: 'POST' as const,
      path: '/api/items',
      body: { name: '{{ uuid }}' },
      expectStatus: [201],
      id: 'data.id',
    },
    read: { method: 'GET' as const, path: '/api/items/{{ id }}', expectStatus: [200] },
  };
  test.each([
    ['an id that is there', { status: 201, text: '{"data":{"id":"a1"}}' }, undefined],
    ['a number id', { status: 201, text: '{"data":{"id":7}}' }, undefined],
    ['an unexpected status: the baseline judges it', { status: 500, text: 'boom' }, undefined],
    [
      'no such field',
      { status: 201, text: '{"id":"a1"}' },
      'the answer to POST /api/items (HTTP 201) has no id at "data.id" (a text or a number): "{\\"id\\":\\"a1\\"}"',
    ],
    ['an empty id', { status: 201, text: '{"data":{"id":""}}' }, 'has no id at "data.id"'],
    ['not JSON', { status: 201, text: 'created' }, 'has no id at "data.id" (a text or a number): "created"'],
  ])('%s', (_what, answer, expected) => {
    const rule = probeIdProblem(probe, answer);
    if (expected === undefined) expect(rule).toBeUndefined();
    else expect(rule).toContain(expected);
  });
});
