import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Monitor } from '../../src/chaos/monitor.ts';
import { pollUntil } from '../../src/util/poll.ts';

// The monitor reads each target's process metrics from its /metrics beside the /health
// probes: the evidence that a memory or CPU fault took effect comes from these readings.

let server: Server;
let baseUrl = '';
let cpu = 1;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/metrics') {
      cpu += 0.05;
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(
          `# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ${cpu}\nprocess_resident_memory_bytes 52428800\n`,
        );
      return;
    }
    res.writeHead(req.url === '/health' ? 200 : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it("scrapes each target's process metrics while it runs, and none from a target that does not answer", async () => {
  const monitor = new Monitor(
    [
      { region: 'us-west', baseUrl },
      { region: 'gone', baseUrl: 'http://127.0.0.1:1' },
    ],
    { healthPath: '/health', intervalMs: 50, metricsIntervalMs: 50, metricsTimeoutMs: 500, maxDurationMs: 5000 },
  );
  monitor.start();
  // Polled with a deadline: at 50 ms a scrape, three samples come within a few hundred ms.
  const enough = await pollUntil(async () => (monitor.samples.length >= 3 ? true : undefined), {
    deadlineMs: 4000,
    intervalMs: 20,
  });
  await monitor.stop();
  expect(enough).toBe(true);
  expect(new Set(monitor.samples.map((s) => s.region))).toEqual(new Set(['us-west']));
  expect(monitor.samples[0]).toMatchObject({ region: 'us-west', rssBytes: 52_428_800, cpuSeconds: expect.any(Number) });
  const cpus = monitor.samples.map((s) => s.cpuSeconds as number);
  expect(cpus).toEqual([...cpus].sort((a, b) => a - b));
  expect(monitor.probes.some((p) => p.region === 'us-west' && p.ok)).toBe(true);
});
