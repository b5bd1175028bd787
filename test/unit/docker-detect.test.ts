import { afterEach, expect, test, vi } from 'vitest';
import { detectCompose, requireDocker } from '../../src/stack/docker.ts';
import { InfraError } from '../../src/stack/errors.ts';
import { execWrapper, type ExecResult } from '../../src/stack/exec.ts';

// Unit tests of the adapter only: the exec wrapper is spied on; integration tests use real Docker.
const ok = (stdout: string): ExecResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false });
const fail = (stderr: string): ExecResult => ({ exitCode: 1, stdout: '', stderr, timedOut: false });

afterEach(() => vi.restoreAllMocks());

test('prefers the v2 plugin', async () => {
  const spy = vi.spyOn(execWrapper, 'exec').mockResolvedValue(ok('Docker Compose version v2.29.1'));
  await expect(detectCompose()).resolves.toMatchObject({
    file: 'docker',
    prefix: ['compose'],
    version: '2.29.1',
    major: 2,
  });
  expect(spy).toHaveBeenCalledWith('docker', ['compose', 'version'], expect.anything());
});

test('falls back to docker-compose v1', async () => {
  const spy = vi
    .spyOn(execWrapper, 'exec')
    .mockImplementation(async (file) =>
      file === 'docker'
        ? fail("docker: 'compose' is not a docker command.")
        : ok('docker-compose version 1.29.2, build unknown'),
    );
  await expect(detectCompose()).resolves.toMatchObject({
    file: 'docker-compose',
    prefix: [],
    version: '1.29.2',
    major: 1,
  });
  expect(spy).toHaveBeenLastCalledWith('docker-compose', ['version'], expect.anything());
});

test('no Compose at all is an infrastructure failure', async () => {
  vi.spyOn(execWrapper, 'exec').mockResolvedValue(fail('not found'));
  await expect(detectCompose()).rejects.toBeInstanceOf(InfraError);
});

test('no engine is an infrastructure failure that says what to do', async () => {
  vi.spyOn(execWrapper, 'exec').mockResolvedValue(
    fail('Cannot connect to the Docker daemon at unix:///var/run/docker.sock'),
  );
  const err = await requireDocker().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InfraError);
  expect((err as InfraError).message).toContain('Cannot connect to the Docker daemon');
});
