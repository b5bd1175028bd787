import { describe, expect, it, test } from 'vitest';
import {
  baseImages,
  buildKey,
  commitLabel,
  dockerBuildArgs,
  dockerPullArgs,
  dockerTagArgs,
  gitHeadArgs,
  gitTopLevelArgs,
  gitVerifyArgs,
  gitWorktreeAddArgs,
  gitWorktreePruneArgs,
  gitWorktreeRemoveArgs,
  imageInspectArgs,
  imageTag,
  nodeImageTag,
  normalizeImage,
  standInTag,
  parseImageInspect,
  refProblem,
  repositoryComponent,
} from '../../src/stack/build-args.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const HASH = 'f'.repeat(64);

describe('docker build', () => {
  test.each([
    [
      {
        dockerfile: '/r/Dockerfile',
        tag: 'chaos-gate/candidate:a-b',
        context: '/r',
        contextHash: HASH,
        commit: SHA,
        args: {},
      },
      [
        'build',
        '--force-rm',
        '-f',
        '/r/Dockerfile',
        '-t',
        'chaos-gate/candidate:a-b',
        '--label',
        `chaos-gate.context=${HASH}`,
        '--label',
        `chaos-gate.commit=${SHA}`,
        '/r',
      ],
    ],
    [
      {
        dockerfile: '/r/docker/App.Dockerfile',
        tag: 't:1',
        context: '/r/app dir',
        contextHash: undefined,
        commit: null,
        args: { NODE_ENV: 'production', MSG: 'a b=c; $(rm -rf /)' },
      },
      [
        'build',
        '--force-rm',
        '-f',
        '/r/docker/App.Dockerfile',
        '-t',
        't:1',
        '--label',
        'chaos-gate.context=unhashed',
        '--build-arg',
        'NODE_ENV=production',
        '--build-arg',
        'MSG=a b=c; $(rm -rf /)',
        '/r/app dir',
      ],
    ],
  ])('dockerBuildArgs %#: one argument per value, the context last', (build, expected) => {
    expect(dockerBuildArgs(build)).toEqual(expected);
  });

  test.each([
    [
      ['image', 'inspect', '--format', '{{.Id}}\t{{json .Config.Labels}}', 'node:24-alpine'],
      imageInspectArgs('node:24-alpine'),
    ],
    [
      ['tag', 'chaos-gate/node:24-offline', 'node:24-alpine'],
      dockerTagArgs('chaos-gate/node:24-offline', 'node:24-alpine'),
    ],
    [['pull', 'ghcr.io/acme/api:1.2'], dockerPullArgs('ghcr.io/acme/api:1.2')],
  ])('docker argv %#', (expected, actual) => {
    expect(actual).toEqual(expected);
  });

  test.each([
    [
      `sha256:${HASH}\t{"chaos-gate.commit":"${SHA}"}\n`,
      { id: `sha256:${HASH}`, labels: { 'chaos-gate.commit': SHA } },
    ],
    [`sha256:${HASH}\tnull`, { id: `sha256:${HASH}`, labels: {} }],
    [`sha256:${HASH}\tnot json`, { id: `sha256:${HASH}`, labels: {} }],
    [`sha256:${HASH}`, { id: `sha256:${HASH}`, labels: {} }],
    ['', undefined],
    ['Error: No such image: x', undefined],
  ])('parseImageInspect(%j)', (stdout, expected) => {
    expect(parseImageInspect(stdout)).toEqual(expected);
  });

  test.each([
    [{ 'chaos-gate.commit': 'aaa', 'org.opencontainers.image.revision': 'bbb' }, 'aaa'],
    [{ 'org.opencontainers.image.revision': 'bbb' }, 'bbb'],
    [{ 'chaos-gate.commit': '' }, null],
    [{}, null],
  ])('commitLabel(%j) = %j', (labels, expected) => {
    expect(commitLabel(labels)).toBe(expected);
  });
});

describe('git', () => {
  test.each([
    [gitHeadArgs(), ['rev-parse', 'HEAD']],
    [gitTopLevelArgs(), ['rev-parse', '--show-toplevel']],
    [gitVerifyArgs('HEAD~1'), ['rev-parse', '--verify', '--quiet', 'HEAD~1^{commit}']],
    [gitVerifyArgs('v1.2.0'), ['rev-parse', '--verify', '--quiet', 'v1.2.0^{commit}']],
    [gitWorktreeAddArgs('/tmp/cg-1/tree', SHA), ['worktree', 'add', '--detach', '/tmp/cg-1/tree', SHA]],
    [gitWorktreeRemoveArgs('/tmp/cg-1/tree'), ['worktree', 'remove', '--force', '/tmp/cg-1/tree']],
    [gitWorktreePruneArgs(), ['worktree', 'prune']],
  ])('git argv %#', (actual, expected) => {
    expect(actual).toEqual(expected);
  });

  test.each([
    ['HEAD~1', undefined],
    ['origin/main', undefined],
    ['', 'is empty'],
    ['  ', 'is empty'],
    ['--output=/etc/passwd', 'starts with "-"'],
    ['-1', 'starts with "-"'],
    ['main two', 'holds white space or a control character'],
    ['main\n', 'holds white space or a control character'],
  ])('refProblem(%j) = %j', (ref, expected) => {
    expect(refProblem(ref)).toBe(expected);
  });

  it('never passes an option-like ref to git', () => {
    expect(() => gitVerifyArgs('--upload-pack=x')).toThrow(RangeError);
    expect(() => gitWorktreeAddArgs('/tmp/x', '-b')).toThrow(RangeError);
  });
});

describe('image names', () => {
  test.each([
    ['candidate', 'candidate'],
    ['My Service', 'my-service'],
    ['API__v2..beta', 'api-v2-beta'],
    ['--weird--', 'weird'],
    ['', 'service'],
    ['ÜBER', 'ber'],
    ['x'.repeat(100), 'x'.repeat(64)],
  ])('repositoryComponent(%j) = %j', (name, expected) => {
    const out = repositoryComponent(name);
    expect(out).toBe(expected);
    expect(out).toMatch(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/);
  });

  test.each([
    ['candidate', SHA, HASH, 'chaos-gate/candidate:0123456789ab-ffffffffffff'],
    ['baseline', SHA, HASH, 'chaos-gate/baseline:0123456789ab-ffffffffffff'],
    ['candidate', null, HASH, 'chaos-gate/candidate:nogit-ffffffffffff'],
    ['candidate', SHA, undefined, 'chaos-gate/candidate:0123456789ab-unhashed'],
    ['Candidate', 'a/b:c', 'abc', 'chaos-gate/candidate:a-b-c-abc'],
  ])('imageTag(%j, %j, %j) = %j', (name, commit, key, expected) => {
    const tag = imageTag(name, commit, key);
    expect(tag).toBe(expected);
    expect(tag.split(':')[1]).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
  });

  const key = (over: Partial<Parameters<typeof buildKey>[0]> = {}) =>
    buildKey({
      contextHash: HASH,
      dockerfilePath: 'Dockerfile',
      dockerfileText: 'FROM node:24-alpine\n',
      args: { A: '1', B: '2' },
      ...over,
    });

  test.each([
    ['another context', { contextHash: 'e'.repeat(64) }],
    ['another Dockerfile path', { dockerfilePath: 'docker/Dockerfile' }],
    ['another Dockerfile text', { dockerfileText: 'FROM node:22-alpine\n' }],
    ['another build arg value', { args: { A: '1', B: '3' } }],
    ['one build arg fewer', { args: { A: '1' } }],
  ])('buildKey changes with %s', (_what, over) => {
    expect(key(over)).not.toBe(key());
  });

  it('buildKey ignores the order build args are given in', () => {
    expect(key({ args: { B: '2', A: '1' } })).toBe(key());
    expect(key()).toMatch(/^[0-9a-f]{64}$/);
  });

  test.each([
    ['node:24-alpine', 'node:24-alpine', '24-alpine'],
    ['node', 'node:latest', 'latest'],
    ['docker.io/library/node:24', 'node:24', '24'],
    ['docker.io/node:24-slim', 'node:24-slim', '24-slim'],
    ['docker.io/acme/node:24', 'acme/node:24', undefined],
    ['localhost:5000/node', 'localhost:5000/node:latest', undefined],
    [`node@sha256:${HASH}`, `node@sha256:${HASH}`, undefined],
    ['nodejs:24', 'nodejs:24', undefined],
    ['python:3.12', 'python:3.12', undefined],
  ])('normalizeImage(%j) = %j, nodeImageTag = %j', (ref, normalized, tag) => {
    expect(normalizeImage(ref)).toBe(normalized);
    expect(nodeImageTag(ref)).toBe(tag);
  });
});

describe('baseImages', () => {
  const img = (line: number, image: string, unresolved = false) => ({ line, image, unresolved });

  test.each([
    ['one FROM', 'FROM node:24-alpine\nCMD ["node","server.js"]\n', {}, [img(1, 'node:24-alpine')]],
    ['lowercase keyword, stage name', 'from node:24 as build\n', {}, [img(1, 'node:24')]],
    ['--platform flag', 'FROM --platform=linux/amd64 node:24-alpine AS app\n', {}, [img(1, 'node:24-alpine')]],
    [
      'multi-stage: a stage is no image',
      'FROM node:24 AS build\nRUN make\nFROM build AS test\nFROM node:24-alpine\nCOPY --from=build /a /a\n',
      {},
      [img(1, 'node:24'), img(4, 'node:24-alpine')],
    ],
    ['stage names are case-insensitive', 'FROM node:24 AS Build\nFROM build\n', {}, [img(1, 'node:24')]],
    ['scratch', 'FROM scratch\nCOPY app /\n', {}, []],
    [
      'comments and continuations',
      '# syntax=docker/dockerfile:1\n\n# base\nFROM \\\n  node:24-alpine \\\n  AS app\n',
      {},
      [img(4, 'node:24-alpine')],
    ],
    ['ARG default', 'ARG NODE_IMAGE=node:24-alpine\nFROM ${NODE_IMAGE}\n', {}, [img(2, 'node:24-alpine')]],
    ['ARG default, quoted', 'ARG V="24"\nFROM node:$V-slim\n', {}, [img(2, 'node:24-slim')]],
    [
      'build arg beats the default',
      'ARG NODE_IMAGE=node:24-alpine\nFROM ${NODE_IMAGE}\n',
      { NODE_IMAGE: 'chaos-gate/node:24-offline' },
      [img(2, 'chaos-gate/node:24-offline')],
    ],
    ['build arg for an ARG without default', 'ARG TAG\nFROM node:${TAG}\n', { TAG: '22' }, [img(2, 'node:22')]],
    ['several ARGs on one line', 'ARG A=node B=24\nFROM ${A}:${B}\n', {}, [img(2, 'node:24')]],
    ['${X:-word}', 'ARG TAG\nFROM node:${TAG:-24-alpine}\n', {}, [img(2, 'node:24-alpine')]],
    ['${X:+word}', 'ARG SLIM=1\nFROM node:24${SLIM:+-slim}\n', {}, [img(2, 'node:24-slim')]],
    [
      'an ARG after FROM does not reach a later FROM',
      'FROM node:24 AS a\nARG X=python:3\nFROM ${X}\n',
      {},
      [img(1, 'node:24'), img(3, '', true)],
    ],
    ['an undeclared variable', 'FROM node:${NOPE}\n', { NOPE: '24' }, [img(1, 'node:', true)]],
    ['CRLF line ends', 'FROM node:24-alpine\r\nCMD ["node"]\r\n', {}, [img(1, 'node:24-alpine')]],
    ['no FROM', 'CMD ["node"]\n', {}, []],
  ])('%s', (_what, dockerfile, args, expected) => {
    expect(baseImages(dockerfile, args)).toEqual(expected);
  });
});

test.each([
  ['node:24-alpine', '24-alpine'],
  ['node:24', '24'],
  ['node:24.11.1-bookworm', '24.11.1-bookworm'],
  ['docker.io/library/node:24-slim', '24-slim'],
  ['node:20-alpine', undefined],
  ['node:240', undefined],
  ['node:lts', undefined],
  ['python:3.12', undefined],
])('the Node 24 stand-in stands in for %j: %j', (ref, tag) => {
  expect(standInTag(ref)).toBe(tag);
});
