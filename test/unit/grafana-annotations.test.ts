import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { ExperimentResult } from '../../src/chaos/result.ts';
import {
  annotationPayload,
  DASHBOARD_UID,
  faultAnnotation,
  grafanaAnnotator,
  transitionAnnotation,
} from '../../src/grafana/annotations.ts';
import type { TimelineEntry } from '../../src/rollout/result.ts';

// The annotation adapter against a loopback stand-in for Grafana's HTTP API.
let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function progress() {
  const lines: string[] = [];
  return {
    lines,
    p: {
      step: (m: string) => lines.push(m),
      info: (m: string) => lines.push(m),
      warn: (m: string) => lines.push(`warn: ${m}`),
    },
  };
}

async function fakeGrafana(status = 200): Promise<{ url: string; posted: unknown[] }> {
  const posted: unknown[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/api/health') return void res.writeHead(200).end('{"database":"ok"}');
      if (req.url === '/api/annotations' && req.method === 'POST') {
        posted.push(JSON.parse(body));
        return void res.writeHead(status).end('{"id":1}');
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posted };
}

// What the rollout controller does with every transition (src/rollout/controller.ts, send()):
// annotator.annotate(transitionAnnotation(entry, startedAt, version)) with a TimelineEntry.
it('posts a rollout transition to the Chaos Gate dashboard with its tags', async () => {
  const g = await fakeGrafana();
  const { p } = progress();
  const annotator = await grafanaAnnotator(g.url, p);
  expect(annotator.enabled).toBe(true);
  const entry: TimelineEntry = {
    at: '2023-11-14T22:13:20.500Z',
    atMs: 500,
    event: 'ABORT',
    from: 'CANARY',
    to: 'ROLLING_BACK',
    region: 'us-west',
    stage: 0,
    detail: 'red verdict',
  };
  annotator.annotate(transitionAnnotation(entry, 1_700_000_000_000, 'v3'));
  await annotator.flush();
  expect(g.posted).toEqual([
    {
      dashboardUID: 'chaos-gate',
      time: 1_700_000_000_500,
      tags: ['chaos-gate', 'rollout', 'version:v3', 'region:us-west', 'event:abort', 'rolling_back'],
      text: 'v3: CANARY -> ROLLING_BACK (us-west stage 1): red verdict',
    },
  ]);
});

// What the chaos suite does after each experiment with a fault window (src/chaos/suite.ts,
// runEach()): annotator.annotate(faultAnnotation(result)) with the ExperimentResult.
it('posts a chaos fault window to the Chaos Gate dashboard as a range with its tags', async () => {
  const g = await fakeGrafana();
  const { p } = progress();
  const annotator = await grafanaAnnotator(g.url, p);
  const result: ExperimentResult = {
    name: 'database-failure',
    description: '',
    fault: { kind: 'db_unavailable', method: 'fault-endpoint', params: {} },
    targets: ['eu-west'],
    status: 'PASS',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 20_000,
    faultWindow: { fromMs: 5000, toMs: 12_000 },
    windows: [],
    series: [],
    measurements: [],
    recoveryTimeSeconds: 2,
    acknowledgedWritesLost: 0,
    reverted: true,
  };
  annotator.annotate(faultAnnotation(result));
  await annotator.flush();
  expect(g.posted).toEqual([
    {
      dashboardUID: DASHBOARD_UID,
      time: Date.parse('2026-01-01T00:00:05.000Z'),
      timeEnd: Date.parse('2026-01-01T00:00:12.000Z'),
      tags: ['chaos-gate', 'chaos', 'experiment:database-failure', 'fault:db_unavailable', 'region:eu-west'],
      text: 'chaos database-failure: db_unavailable via fault-endpoint on eu-west',
    },
  ]);
});

it('puts every annotation on the dashboard with the chaos-gate tag, once, whatever its own tags', () => {
  expect(annotationPayload({ time: 1, tags: ['x'], text: 't' })).toEqual({
    dashboardUID: 'chaos-gate',
    time: 1,
    tags: ['chaos-gate', 'x'],
    text: 't',
  });
  expect(annotationPayload({ time: 1, tags: ['x', 'chaos-gate'], text: 't' }, 'other').tags).toEqual([
    'chaos-gate',
    'x',
  ]);
  expect(annotationPayload({ time: 1, tags: [], text: 't' }, 'other').dashboardUID).toBe('other');
});

it('skips, and says so, when Grafana is absent', async () => {
  const { lines, p } = progress();
  const annotator = await grafanaAnnotator('http://127.0.0.1:9', p, 500);
  expect(annotator.enabled).toBe(false);
  annotator.annotate({ time: 1, tags: [], text: 'x' });
  await annotator.flush();
  expect(lines.join('\n')).toContain('annotations skipped');
});

it('warns once, never fails, when Grafana refuses annotations', async () => {
  const g = await fakeGrafana(500);
  const { lines, p } = progress();
  const annotator = await grafanaAnnotator(g.url, p);
  annotator.annotate({ time: 1, tags: [], text: 'a' });
  annotator.annotate({ time: 2, tags: [], text: 'b' });
  await annotator.flush();
  expect(g.posted).toHaveLength(2);
  expect(lines.filter((l) => l.startsWith('warn:'))).toHaveLength(1);
});

it('marks a fault window as a region annotation with its end', () => {
  expect(
    faultAnnotation({
      name: 'service-kill',
      startedAt: '2026-01-01T00:00:00.000Z',
      faultWindow: { fromMs: 5000, toMs: 9000 },
      fault: { kind: 'kill', method: 'host-kill-9' },
      targets: ['eu-west'],
    }),
  ).toEqual({
    time: Date.parse('2026-01-01T00:00:05.000Z'),
    timeEnd: Date.parse('2026-01-01T00:00:09.000Z'),
    tags: ['chaos-gate', 'chaos', 'experiment:service-kill', 'fault:kill', 'region:eu-west'],
    text: 'chaos service-kill: kill via host-kill-9 on eu-west',
  });
});

it('tags a fault window on several targets with each region', () => {
  const a = faultAnnotation({
    name: 'cpu-spike',
    startedAt: '2026-01-01T00:00:00.000Z',
    faultWindow: { fromMs: 0, toMs: 1 },
    fault: { kind: 'cpu', method: 'stress' },
    targets: ['us-west', 'us-east'],
  });
  expect(a.tags).toEqual([
    'chaos-gate',
    'chaos',
    'experiment:cpu-spike',
    'fault:cpu',
    'region:us-west',
    'region:us-east',
  ]);
});

it('tags a transition without a region by version, event and state only', () => {
  const a = transitionAnnotation({ atMs: 0, event: 'STAGE_PASSED', from: 'CANARY', to: 'PROMOTED' }, 0, 'v2');
  expect(a.tags).toEqual(['chaos-gate', 'rollout', 'version:v2', 'event:stage_passed', 'promoted']);
  expect(a.text).toBe('v2: CANARY -> PROMOTED');
});
