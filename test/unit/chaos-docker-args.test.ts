import { expect, test } from 'vitest';
import { asRoot, killArgs, netemAddArgs, netemDeleteArgs, netemUnsupported, networkConnectArgs, networkDisconnectArgs, nothingToDelete, parseNetworkAliases, startArgs } from '../../src/stack/docker-args.ts';

test.each([
  [killArgs(4242), { file: 'kill', args: ['-9', '4242'] }],
  [netemAddArgs(4242, 'eth0', 300, 50), { file: 'nsenter', args: ['-t', '4242', '-n', 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', '300ms', '50ms'] }],
  [netemAddArgs(4242, 'eth0', 300, 0), { file: 'nsenter', args: ['-t', '4242', '-n', 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', '300ms'] }],
  [netemDeleteArgs(4242, 'eth0'), { file: 'nsenter', args: ['-t', '4242', '-n', 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root'] }],
  [asRoot(killArgs(7), true), { file: 'kill', args: ['-9', '7'] }],
  [asRoot(killArgs(7), false), { file: 'sudo', args: ['-n', 'kill', '-9', '7'] }],
])('host command %#', (actual, expected) => {
  expect(actual).toEqual(expected);
});

test.each([0, 1, -5, 2.5, Number.NaN])('refuses pid %s (0 is "not running"; kill -9 0 would hit our own group)', (pid) => {
  expect(() => killArgs(pid)).toThrow(RangeError);
  expect(() => netemAddArgs(pid, 'eth0', 1, 0)).toThrow(RangeError);
});

test.each([
  [networkDisconnectArgs('chaos-gate_stack', 'abc123'), ['network', 'disconnect', 'chaos-gate_stack', 'abc123']],
  [networkConnectArgs('chaos-gate_stack', 'abc123', ['region-us-west']), ['network', 'connect', '--alias', 'region-us-west', 'chaos-gate_stack', 'abc123']],
  [networkConnectArgs('n', 'c', []), ['network', 'connect', 'n', 'c']],
  [networkConnectArgs('n', 'c', ['a', 'b; rm -rf /']), ['network', 'connect', '--alias', 'a', '--alias', 'b; rm -rf /', 'n', 'c']],
  [startArgs('abc123'), ['start', 'abc123']],
])('docker args %#', (actual, expected) => {
  expect(actual).toEqual(expected);
});

test.each([
  ['Error: Specified qdisc kind is unknown.', true],
  ['RTNETLINK answers: Operation not permitted', false],
])('netemUnsupported(%j) = %s', (stderr, expected) => {
  expect(netemUnsupported(stderr)).toBe(expected);
});

test.each([
  ['Error: Cannot delete qdisc with handle of zero.', true],
  ['RTNETLINK answers: No such file or directory', true],
  ['nsenter: cannot open /proc/99/ns/net: No such process', false],
])('nothingToDelete(%j) = %s', (stderr, expected) => {
  expect(nothingToDelete(stderr)).toBe(expected);
});

test('parseNetworkAliases keeps the service alias and drops the short id Docker adds itself', () => {
  const json = JSON.stringify({ 'chaos-gate_stack': { Aliases: ['region-ap-south', '72bc1ec621ad'], IPAddress: '172.23.0.3' }, other: { Aliases: null } });
  expect(parseNetworkAliases(json, '72bc1ec621ad5f0e9d')).toEqual({ 'chaos-gate_stack': ['region-ap-south'], other: [] });
  expect(parseNetworkAliases('{}\n', 'x')).toEqual({});
  expect(parseNetworkAliases('null', 'x')).toEqual({});
});
