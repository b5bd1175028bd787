import { describe, expect, test } from 'vitest';
import { declaredPorts } from '../../src/config/dependencies-file.ts';
import { imagePortsArgs, parseExposedPorts } from '../../src/stack/build-args.ts';
import { dependencyFaultText, describeProxyFault } from '../../src/chaos/injectors/proxy.ts';
import { proxyParamsOf } from '../../src/chaos/experiment.ts';
import { portClash } from '../../src/gate/service.ts';

// The ports the fault proxy listens on for a dependency (its file's and its image's), and
// how a proxy fault is told in a reason.

describe('declaredPorts', () => {
  test.each([
    [{ expose: [5432] }, [5432]],
    [{ expose: ['4000', '4001/tcp', '53/udp'] }, [4000, 4001]],
    [{ ports: ['127.0.0.1:15432:5432', '8080', 9090, '6000:6000/udp'] }, [5432, 8080, 9090]],
    [
      {
        ports: [
          { target: 80, published: 8080 },
          { target: 53, protocol: 'udp' },
        ],
      },
      [80],
    ],
    [{ expose: [4000], ports: ['4000:4000'] }, [4000]],
    [{ expose: 'nope', ports: [{}, 'x:y', 0, 70000] }, []],
    [{}, []],
  ])('%j -> %j', (spec, ports) => {
    expect(declaredPorts(spec)).toEqual(ports);
  });
});

describe('image ports', () => {
  test('asks docker for the declared ports as JSON', () => {
    expect(imagePortsArgs('postgres:15')).toEqual([
      'image',
      'inspect',
      '--format',
      '{{json .Config.ExposedPorts}}',
      'postgres:15',
    ]);
  });
  test.each([
    ['{"5432/tcp":{}}\n', [5432]],
    ['{"80/tcp":{},"53/udp":{},"443/tcp":{}}', [80, 443]],
    ['null', []],
    ['', []],
    ['not json', []],
  ])('parseExposedPorts(%j)', (stdout, ports) => {
    expect(parseExposedPorts(stdout)).toEqual(ports);
  });
});

describe('proxy faults in words', () => {
  const base = { kind: 'dependency' as const, durationSeconds: 5, service: 'worker' };
  test.each([
    [{ ...base, mode: 'latency' as const, delayMs: 300, jitterMs: 0 }, 'calls to worker: 300 ms slower'],
    [{ ...base, mode: 'latency' as const, delayMs: 300, jitterMs: 50 }, 'calls to worker: 300 ms (±50) slower'],
    [
      { ...base, mode: 'http_error' as const, status: 503, share: 0.25 },
      'calls to worker: 25% of requests answered 503',
    ],
    [
      { ...base, mode: 'http_error' as const, status: 500, share: 1, firstN: 3 },
      'calls to worker: the first 3 requests answered 500',
    ],
    [{ ...base, mode: 'reset' as const, share: 0.5 }, 'calls to worker: 50% of requests and connections reset'],
    [
      { ...base, mode: 'errors' as const, share: 0.5 },
      'calls to worker: 50% of requests failed (503, or reset where it speaks no HTTP)',
    ],
    [
      { ...base, mode: 'timeout' as const, share: 1 },
      'calls to worker: 100% of requests and connections held without an answer',
    ],
    [{ ...base, mode: 'bandwidth' as const, rateKbps: 64 }, 'calls to worker: throttled to 64 KiB/s'],
    [{ ...base, mode: 'pause' as const }, 'worker frozen (docker pause)'],
    [{ ...base, mode: 'stop' as const }, 'worker stopped'],
  ])('%j', (fault, text) => {
    expect(dependencyFaultText(fault)).toBe(text);
    if (fault.mode !== 'pause' && fault.mode !== 'stop')
      expect(text).toContain(describeProxyFault({ ...fault, mode: fault.mode }));
  });

  test('the proxy gets only the parameters that were set, snake_case', () => {
    expect(proxyParamsOf({ delayMs: 300, jitterMs: 0 })).toEqual({ delay_ms: 300, jitter_ms: 0 });
    expect(proxyParamsOf({ status: 503, share: 0.5, firstN: 2 })).toEqual({ status: 503, share: 0.5, first_n: 2 });
    expect(proxyParamsOf({})).toEqual({});
  });
});

describe('portClash', () => {
  test.each([
    [
      [
        { name: 'a', ports: [5432] },
        { name: 'b', ports: [6379] },
      ],
      undefined,
    ],
    [
      [
        { name: 'a', ports: [8080] },
        { name: 'b', ports: [9000, 8080] },
      ],
      {
        name: 'b',
        rule: 'listens on 8080, like a: each region reaches its dependencies through one proxy, where a port can lead to one of them only',
      },
    ],
    [
      [{ name: 'a', ports: [7070] }],
      {
        name: 'a',
        rule: "listens on 7070, the port of the fault proxy's control API: each region reaches its dependencies through one proxy",
      },
    ],
  ])('%j', (services, clash) => {
    expect(portClash(services)).toEqual(clash);
  });
});
