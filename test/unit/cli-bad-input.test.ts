import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dispatch, main } from '../../src/cli/main.ts';
import { execWrapper } from '../../src/stack/exec.ts';

// Issue 15's promise end to end: bad input through the real CLI and its real commands is
// exit 2 with the file named, and nothing it names reaches Docker (no process is started).

const dir = mkdtempSync(join(tmpdir(), 'cg-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const bomb = [
  'a: &a [x, x, x, x, x, x, x, x, x, x]',
  ...'bcdefghij'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`),
  'rollout: { regions: [*j] }',
].join('\n');
const suiteWith = (name: string, make: (d: string) => void) => {
  const d = join(dir, name);
  mkdirSync(d);
  make(d);
  return d;
};

let exec: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  exec = vi.spyOn(execWrapper, 'exec').mockRejectedValue(new Error('no process may start on bad input'));
});
afterEach(() => exec.mockRestore());

async function run(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await main(argv, { out: () => undefined, err: (l) => void err.push(l), dispatch });
  return { code, err: err.join('\n') };
}

const cases: [string, () => string[], RegExp][] = [
  [
    'an unknown region',
    () => ['gate', '--version', 'v2', '--config', file('mars.yml', 'rollout:\n  regions: [mars]\n')],
    /mars\.yml:2: rollout\.regions/,
  ],
  ...(['gate --version v2', 'deploy v2', 'simulate', 'predict --version v2', 'plan'] as const).map(
    (command): [string, () => string[], RegExp] => [
      `a plan that could never reach a verdict (${command})`,
      () => [...command.split(' '), '--config', file('starved.yml', 'rollout:\n  traffic_rps: 0.5\n')],
      /starved\.yml:2: rollout\.traffic_rps: no stage could be judged: .*60 s at 0\.5 request\/s/,
    ],
  ),
  ['an alias bomb', () => ['deploy', 'v2', '--config', file('bomb.yml', bomb)], /bomb\.yml/],
  [
    'a plan too big to simulate',
    () => ['simulate', '--config', file('big.yml', 'rollout:\n  traffic_rps: 1000000\n')],
    /big\.yml:2: rollout\.traffic_rps/,
  ],
  [
    'a broken environment not chosen',
    () => ['deploy', 'v2', '--config', file('env.yml', 'environments:\n  staging:\n    rollout: { bake_secs: 2 }\n')],
    /env\.yml:3: environments\.staging\.rollout\.bake_secs/,
  ],
  [
    'an experiments folder with a folder named *.yml',
    () => ['chaos', '--experiments', suiteWith('dirsuite', (d) => mkdirSync(join(d, 'x.yml')))],
    /x\.yml/,
  ],
  [
    'an experiment symlinked out of its folder',
    () => [
      'gate',
      '--version',
      'v2',
      '--experiments',
      suiteWith('linksuite', (d) => symlinkSync('/etc/passwd', join(d, 'p.yml'))),
    ],
    /p\.yml/,
  ],
  ['a repeated flag', () => ['gate', '--version', 'v2', '--version', 'v3'], /--version: given 2 times/],
  ['an empty config flag', () => ['deploy', 'v2', '--config', ''], /--config: needs a value/],
];

describe('bad input through the real commands', () => {
  it.each(cases)('%s: exit 2, named, no process started', async (_name, argv, named) => {
    const r = await run(argv());
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(named);
    expect(r.err).not.toMatch(/internal error|\n\s+at /);
    expect(r.err).not.toContain('root:x:0');
    expect(exec).not.toHaveBeenCalled();
  });
});

it('the spy does see a command that reaches Docker (status), so the checks above can fail', async () => {
  const r = await run(['status']);
  expect(exec).toHaveBeenCalled();
  expect(r.code).not.toBe(2);
});
