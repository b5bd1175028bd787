import { afterEach, expect, test, vi } from 'vitest';
import { dockerControl } from '../../src/stack/docker-control.ts';
import { InfraError } from '../../src/stack/errors.ts';
import { execWrapper, type ExecResult } from '../../src/stack/exec.ts';

// The adapter alone: the exec wrapper is spied on (the integration tests use real Docker).
const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false });
const fail = (stderr: string, exitCode = 2): ExecResult => ({ exitCode, stdout: '', stderr, timedOut: false });
const root = process.getuid?.() === 0;
const host = (file: string, args: string[]) => (root ? [file, args] : ['sudo', ['-n', file, ...args]]);

afterEach(() => vi.restoreAllMocks());

test("crash sends SIGKILL to the container's main process from the host", async () => {
  const spy = vi.spyOn(execWrapper, 'exec').mockResolvedValue(ok());
  expect(await dockerControl.crash(4242)).toBe(root ? 'host-kill-9' : 'host-sudo-kill-9');
  expect(spy).toHaveBeenCalledWith(...host('kill', ['-9', '4242']), expect.anything());
});

test('a crash that is not permitted is an infrastructure error that says what is needed', async () => {
  vi.spyOn(execWrapper, 'exec').mockResolvedValue(fail('kill: (4242): Operation not permitted', 1));
  await expect(dockerControl.crash(4242)).rejects.toThrow(InfraError);
  await expect(dockerControl.crash(4242)).rejects.toThrow('Operation not permitted');
});

test('addDelay reports a kernel without netem instead of throwing', async () => {
  vi.spyOn(execWrapper, 'exec').mockResolvedValue(fail('Error: Specified qdisc kind is unknown.'));
  expect(await dockerControl.addDelay(4242, 300, 50)).toEqual({
    ok: false,
    reason: 'the kernel has no netem qdisc (Error: Specified qdisc kind is unknown.)',
  });
});

test("addDelay runs tc in the container's network namespace", async () => {
  const spy = vi.spyOn(execWrapper, 'exec').mockResolvedValue(ok());
  expect(await dockerControl.addDelay(4242, 300, 0)).toEqual({ ok: true, method: 'tc-netem' });
  expect(spy).toHaveBeenCalledWith(
    ...host('nsenter', ['-t', '4242', '-n', 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', '300ms']),
    expect.anything(),
  );
});

test('clearDelay is idempotent: no delay to remove is fine, another failure is not', async () => {
  vi.spyOn(execWrapper, 'exec')
    .mockResolvedValueOnce(fail('Error: Cannot delete qdisc with handle of zero.'))
    .mockResolvedValueOnce(fail('nsenter: cannot open /proc/4242/ns/net: No such process', 1));
  await expect(dockerControl.clearDelay(4242)).resolves.toBeUndefined();
  await expect(dockerControl.clearDelay(4242)).rejects.toThrow(/cannot remove the netem delay: .*No such process/);
});

test('networks reads aliases; disconnect and connect pass them back', async () => {
  const spy = vi
    .spyOn(execWrapper, 'exec')
    .mockResolvedValueOnce(ok('{"chaos-gate_stack":{"Aliases":["region-us-west","abcdef123456"]}}\n'))
    .mockResolvedValue(ok());
  expect(await dockerControl.networks('abcdef1234567890')).toEqual({ 'chaos-gate_stack': ['region-us-west'] });
  await dockerControl.disconnect('abcdef1234567890', 'chaos-gate_stack');
  await dockerControl.connect('abcdef1234567890', 'chaos-gate_stack', ['region-us-west']);
  expect(spy.mock.calls.map((c) => [c[0], c[1]])).toEqual([
    ['docker', ['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'abcdef1234567890']],
    ['docker', ['network', 'disconnect', 'chaos-gate_stack', 'abcdef1234567890']],
    ['docker', ['network', 'connect', '--alias', 'region-us-west', 'chaos-gate_stack', 'abcdef1234567890']],
  ]);
});

test('a failed docker command names itself', async () => {
  vi.spyOn(execWrapper, 'exec').mockResolvedValue(fail('Error response from daemon: No such container: x', 1));
  await expect(dockerControl.start('x')).rejects.toThrow(
    'starting the container failed: docker start x: Error response from daemon: No such container: x',
  );
});
