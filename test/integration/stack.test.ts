import { execa } from 'execa';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComposeStack } from '../../src/stack/compose-stack.ts';
import { defaultStackTarget, regionUrl, type RegionTarget } from '../../src/stack/target.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { cli, freshStack, root } from './cli.ts';
import { parsePrometheusText } from './prom-text.ts';

// The foundation against a live Docker engine: the stack global-setup brought up.
let stack: ComposeStack;
const target = defaultStackTarget(root);
const region = (name: string): RegionTarget => {
  const r = target.regions.find((x) => x.name === name);
  if (!r) throw new Error(`no region ${name}`);
  return r;
};

async function get(url: string, init: { method?: 'GET' | 'POST'; body?: string } = {}) {
  const res = await request(url, {
    method: init.method ?? 'GET',
    ...(init.body ? { body: init.body, headers: { 'content-type': 'application/json' } } : {}),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

// Other files leave regions on other versions; this file asserts the v1 start.
beforeAll(async () => {
  stack = await freshStack();
});

describe('the four-region stack', () => {
  it('answers / on 8081-8084 with each region and version', async () => {
    const seen = [];
    for (const r of target.regions) {
      const res = await get(regionUrl(target, r) + '/');
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ status: 'ok', region: r.name, version: 'v1' });
      seen.push(`${r.port}:${String(body.region)}`);
    }
    expect(seen).toEqual(['8081:us-west', '8082:us-east', '8083:eu-west', '8084:ap-south']);
  });

  it('status reports every region up on its version', async () => {
    const res = await cli(['status', '--json']);
    expect(res.exitCode).toBe(0);
    const status = JSON.parse(res.stdout) as {
      regions: { region: string; stable: { state: string; reported_version: string } }[];
    };
    expect(status.regions.map((r) => [r.region, r.stable.state, r.stable.reported_version])).toEqual(
      target.regions.map((r) => [r.name, 'running', 'v1']),
    );
  });

  it('status shows a canary beside the stable version of its region, and its health', async () => {
    const usWest = region('us-west');
    await stack.deploy(usWest, 'canary', { version: 'v9', failureRate: 0 });
    try {
      // The HEALTHCHECK runs every 2 s: poll until Docker calls both containers healthy.
      const seen = await pollUntil(
        async () => {
          const res = await cli(['status', '--json']);
          const status = JSON.parse(res.stdout) as {
            regions: {
              region: string;
              stable: { health: string };
              canary?: { reported_version?: string; health: string };
            }[];
          };
          const row = status.regions.find((r) => r.region === 'us-west');
          return row?.canary?.reported_version === 'v9' &&
            row.canary.health === 'healthy' &&
            row.stable.health === 'healthy'
            ? res
            : undefined;
        },
        { deadlineMs: 60_000, intervalMs: 1000 },
      );
      expect(seen?.exitCode).toBe(0);
      const table = await cli(['status']);
      expect(table.stdout).toMatch(/us-west\s+8081\s+v1\s+v9 \(running\)\s+healthy\s+up/);
      expect(table.stdout).toMatch(/us-east\s+8082\s+v1\s+-\s/);
    } finally {
      await stack.removeCanary(usWest);
    }
  });

  it('runs each region as the non-root user, with its HEALTHCHECK, restart policy and memory limit', async () => {
    for (const c of (await stack.containers()).filter((x) => x.service.startsWith('region-'))) {
      const res = await execa('docker', ['inspect', '--format', '{{json .}}', c.id]);
      const facts = JSON.parse(res.stdout) as {
        Config: { User: string; Healthcheck?: { Test: string[] } };
        HostConfig: { RestartPolicy: { Name: string }; Memory: number };
      };
      expect(facts.Config.User, c.service).toBe('node');
      expect(facts.Config.Healthcheck?.Test.join(' '), c.service).toMatch(/\/health/);
      expect(facts.HostConfig.RestartPolicy.Name, c.service).toBe('unless-stopped');
      expect(facts.HostConfig.Memory, c.service).toBe(256 * 1024 * 1024);
    }
  });

  it('serves /metrics as Prometheus text with every metric and its labels', async () => {
    const us = region('us-east');
    await get(regionUrl(target, us) + '/health');
    await get(regionUrl(target, us) + '/api/orders', {
      method: 'POST',
      body: JSON.stringify({ item: 'metrics', quantity: 1 }),
    });
    const res = await get(regionUrl(target, us) + '/metrics');
    expect(res.status).toBe(200);
    const { samples, types } = parsePrometheusText(res.text);
    const labelsOf = (name: string) =>
      samples.filter((s) => s.name === name).map((s) => Object.keys(s.labels).sort().join(','));
    expect(types.get('service_up')).toBe('gauge');
    expect(types.get('service_info')).toBe('gauge');
    expect(types.get('http_requests_total')).toBe('counter');
    expect(types.get('http_request_duration_seconds')).toBe('histogram');
    expect(types.get('service_errors_total')).toBe('counter');
    expect(types.get('db_operation_duration_seconds')).toBe('histogram');
    expect(samples.find((s) => s.name === 'service_up')).toMatchObject({
      labels: { region: 'us-east', version: 'v1' },
      value: 1,
    });
    expect(labelsOf('service_info')).toContain('region,version');
    expect(labelsOf('http_requests_total')).toContain('method,region,route,status,version');
    expect(labelsOf('http_request_duration_seconds_bucket')).toContain('le,region,route,version');
    expect(labelsOf('service_errors_total')).toContain('region,version');
    expect(labelsOf('db_operation_duration_seconds_bucket')).toContain('le,operation,region,version');
    const health = samples.find(
      (s) => s.name === 'http_requests_total' && s.labels.route === '/health' && s.labels.status === '200',
    );
    expect(health?.value).toBeGreaterThanOrEqual(1);
  });

  it('Prometheus reports all four region targets up', async () => {
    const up = await pollUntil(
      async () => {
        const res = await get(`http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent('up{job="regions"}')}`);
        const body = res.json() as {
          data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
        };
        const result = body.data?.result ?? [];
        const upTargets = result
          .filter((r) => r.value[1] === '1')
          .map((r) => r.metric.instance)
          .sort();
        return upTargets.length === 4 ? upTargets : undefined;
      },
      { deadlineMs: 60_000, intervalMs: 1000 },
    );
    expect(up).toEqual(['region-ap-south:8080', 'region-eu-west:8080', 'region-us-east:8080', 'region-us-west:8080']);
  });

  describe('with FAILURE_RATE=0.3 in eu-west', () => {
    const eu = region('eu-west');
    beforeAll(async () => {
      await stack.deploy(eu, 'stable', { version: 'v1', failureRate: 0.3 });
    });
    afterAll(async () => {
      await stack.deploy(eu, 'stable', { version: 'v1', failureRate: 0 });
    });

    it('fails /health in a fraction of 1,000 calls that matches the rate', async () => {
      let failures = 0;
      const calls = 1000;
      for (let i = 0; i < calls; i += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, () => get(regionUrl(target, eu) + '/health')));
        for (const res of batch) {
          expect([200, 503]).toContain(res.status);
          if (res.status === 503) failures++;
        }
      }
      // Binomial(1000, 0.3): sd = sqrt(0.3*0.7/1000) = 0.0145. A tolerance of 0.06 is over
      // 4 sd, so a correct service fails this test less than once in 10,000 runs, while a
      // service that ignored the rate (0.0) or doubled it (0.6) always fails it.
      expect(Math.abs(failures / calls - 0.3)).toBeLessThan(0.06);
    });
  });

  it('keeps an acknowledged order across a docker kill and restart', async () => {
    const ap = region('ap-south');
    const url = regionUrl(target, ap);
    const ids: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await get(url + '/api/orders', {
        method: 'POST',
        body: JSON.stringify({ item: `durable-${i}`, quantity: i + 1 }),
      });
      expect(res.status).toBe(201);
      ids.push(res.json().id as number);
    }
    const container = (await stack.containers()).find((c) => c.service === ap.service);
    expect(container).toBeDefined();
    const killed = await execa('docker', ['kill', '--signal', 'KILL', container!.id], { reject: false });
    expect(killed.exitCode).toBe(0);
    const after = (await stack.containers()).find((c) => c.service === ap.service);
    expect(after?.state).toBe('exited');
    // A region down is an infrastructure failure for `status`, and its row says which.
    const down = await cli(['status']);
    expect(down.exitCode).toBe(3);
    expect(down.stdout).toMatch(/ap-south\s+8084\s.*exited/);
    // `up` restarts what is stopped and leaves the rest as it is.
    const up = await cli(['up']);
    expect(up.exitCode).toBe(0);
    // Where no Grafana image can be had (these machines), `up` says so instead of failing.
    if (!(await stack.containers()).some((c) => c.service === 'grafana')) {
      expect(up.stdout).toMatch(/grafana\s+not running \(no image on this machine\)/);
      expect(up.stderr).toMatch(/Grafana left out: image \S+ cannot be had/);
    }
    for (const [i, id] of ids.entries()) {
      const res = await get(`${url}/api/orders/${id}`);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ id, item: `durable-${i}`, quantity: i + 1 });
    }
  });
});

describe('the region image refuses bad configuration', () => {
  it.each([
    ['FAILURE_RATE=1.5', { VERSION: 'v1', REGION: 'us-west', FAILURE_RATE: '1.5' }, /FAILURE_RATE="1\.5"/],
    ['FAILURE_RATE=abc', { VERSION: 'v1', REGION: 'us-west', FAILURE_RATE: 'abc' }, /FAILURE_RATE="abc"/],
    ['missing VERSION', { REGION: 'us-west', FAILURE_RATE: '0.1' }, /VERSION/],
  ])('%s exits 78 with a clear message', async (_case, env, message) => {
    const args = ['run', '--rm', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), target.images.region];
    const res = await execa('docker', args, { reject: false, timeout: 60_000 });
    expect(res.exitCode).toBe(78);
    expect(String(res.stderr)).toMatch(message);
    expect(String(res.stderr)).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
