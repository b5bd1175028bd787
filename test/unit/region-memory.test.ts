import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parse } from 'yaml';
import { defaultStackTarget, regionMemoryLimit } from '../../src/stack/target.ts';

const root = join(import.meta.dirname, '../..');

test("the demo's region memory limit is docker-compose.yml's mem_limit (a lifted memory fault comes back to it)", () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as Record<string, unknown>;
  const limits = JSON.stringify(compose).match(/"mem_limit":"(\d+)m"/g) ?? [];
  expect(new Set(limits)).toEqual(new Set(['"mem_limit":"256m"']));
  expect(regionMemoryLimit(defaultStackTarget(root))).toEqual({ memory: 256 * 2 ** 20, memorySwap: 512 * 2 ** 20 });
});
