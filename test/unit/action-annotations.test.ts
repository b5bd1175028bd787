import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANNOTATION_TITLE, annotationOf, workspacePath } from '../../src/action/annotations.ts';

const WS = join('/home', 'runner', 'work', 'repo', 'repo');

describe('workspacePath', () => {
  it.each([
    [join(WS, 'chaos-gate.yml'), 'chaos-gate.yml'],
    [join(WS, 'ci', 'chaos-gate.yml'), 'ci/chaos-gate.yml'],
    ['ci/chaos-gate.yml', 'ci/chaos-gate.yml'],
    [join('/home', 'runner', 'elsewhere.yml'), undefined],
    [join(WS, '..', 'repo-other', 'chaos-gate.yml'), undefined],
    [WS, undefined],
  ])('%s -> %s', (file, expected) => {
    expect(workspacePath(file, WS)).toBe(expected);
  });
});

describe('annotationOf', () => {
  it('places an issue with a line on the file, relative to the workspace', () => {
    expect(
      annotationOf(
        {
          source: join(WS, 'chaos-gate.yml'),
          path: 'gate.fail_on_rollback',
          rule: 'must be true or false, got "yes"',
          line: 7,
        },
        WS,
      ),
    ).toEqual({
      message: 'gate.fail_on_rollback: must be true or false, got "yes"',
      properties: { title: ANNOTATION_TITLE, file: 'chaos-gate.yml', startLine: 7 },
    });
  });

  it('keeps the place in the message when there is no line or the file is outside the workspace', () => {
    expect(annotationOf({ source: 'input version', path: '', rule: 'is required' }, WS)).toEqual({
      message: 'input version: is required',
      properties: { title: ANNOTATION_TITLE },
    });
    expect(annotationOf({ source: '/etc/chaos-gate.yml', path: 'gate', rule: 'bad', line: 2 }, WS)).toEqual({
      message: '/etc/chaos-gate.yml:2: gate: bad',
      properties: { title: ANNOTATION_TITLE },
    });
  });
});
