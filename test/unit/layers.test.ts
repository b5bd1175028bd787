import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLayers, edgesOf, foldersOf, importsOf, LAYERS, type Edge } from '../../scripts/layers.mjs';

const layers = [['util'], ['stack'], ['rollout'], ['cli', 'action']];
const edge = (from: string, to: string, line = 1): Edge => ({ from, to, file: `src/${from}/x.ts`, line });

describe('the layering rule (scripts/layers.mjs)', () => {
  it('passes a graph that only points down', () => {
    expect(checkLayers([edge('rollout', 'stack'), edge('stack', 'util'), edge('cli', 'rollout')], layers)).toEqual([]);
  });

  it('passes imports inside one folder', () => {
    expect(checkLayers([edge('stack', 'stack')], layers)).toEqual([]);
  });

  it('fails an upward import, naming the file, the line and the edge', () => {
    const problems = checkLayers([edge('stack', 'util'), edge('stack', 'rollout', 7)], layers);
    expect(problems).toEqual(['src/stack/x.ts:7: stack -> rollout: upward import (layer 1 imports layer 2)']);
  });

  it('fails a cycle between folders, and each upward edge of it', () => {
    const problems = checkLayers([edge('rollout', 'stack', 3), edge('stack', 'rollout', 9)], layers);
    expect(problems).toContain('src/stack/x.ts:9: stack -> rollout: upward import (layer 1 imports layer 2)');
    expect(problems).toContain('cycle between folders: rollout -> stack -> rollout');
  });

  it('finds a cycle through three folders', () => {
    const problems = checkLayers([edge('rollout', 'stack'), edge('stack', 'util'), edge('util', 'rollout')], layers);
    expect(problems.filter((p) => p.startsWith('cycle'))).toEqual([
      'cycle between folders: rollout -> stack -> util -> rollout',
    ]);
  });

  it('fails an import between two folders of one layer, and a folder with no layer', () => {
    expect(checkLayers([edge('cli', 'action', 4)], layers)).toEqual([
      'src/cli/x.ts:4: cli -> action: sideways import (both on layer 3)',
    ]);
    expect(checkLayers([edge('extra', 'util', 2)], layers)).toEqual([
      'src/extra/x.ts:2: folder extra has no layer in scripts/layers.mjs',
    ]);
  });

  it('reads static imports, type imports, re-exports and import() over several lines, not other strings', () => {
    const text = [
      "import { a } from '../util/a.ts';",
      'import type {',
      "  // the region's name",
      '  B,',
      "} from '../stack/b.ts';",
      "export { c } from './c.ts';",
      "import 'node:fs';",
      "const s = 'from ../rollout/x.ts';",
      "const d = await import('../gate/d.ts');",
    ].join('\n');
    expect(importsOf(text)).toEqual([
      [1, '../util/a.ts'],
      [5, '../stack/b.ts'],
      [6, './c.ts'],
      [9, '../gate/d.ts'],
    ]);
  });

  it('holds for the real src/', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const edges = edgesOf(`${root}src`, root);
    expect(edges.length).toBeGreaterThan(100);
    expect(new Set(foldersOf(`${root}src`))).toEqual(new Set(LAYERS.flat()));
    expect(checkLayers(edges)).toEqual([]);
  });
});
