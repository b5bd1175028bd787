import { expect, it } from 'vitest';
import { parseInspect } from '../../src/stack/inspect.ts';

it("reads a container's CPU quota when it has one (a cgroup fault), and leaves it out when it has none", () => {
  const raw = (quota: number) => ({
    Id: 'c1',
    Name: '/x',
    State: { Status: 'running', Pid: 9 },
    Config: { Labels: { 'com.docker.compose.service': 'region-us-west' } },
    HostConfig: { CpuQuota: quota },
  });
  const [throttled, free, lifted] = parseInspect(JSON.stringify([raw(10_000), raw(0), raw(-1)]));
  expect([throttled?.service, throttled?.pid, throttled?.cpuQuota]).toEqual(['region-us-west', 9, 10_000]);
  expect(free && 'cpuQuota' in free).toBe(false);
  expect(lifted?.cpuQuota).toBe(-1);
});
