#!/usr/bin/env node
// The layering rule of src/ (ARCHITECTURE.md): every folder has a layer, and a file may import
// only its own folder or a folder of a LOWER layer. An import of a higher layer, of another
// folder on the same layer, or any cycle between folders fails the check: exit 1, listing
// file:line and the edge. There is no exceptions list; move the code instead.
//
//   node scripts/layers.mjs            check src/, print nothing but the problems
//   node scripts/layers.mjs --explain  print the layer order and the edges found
//
// The imports TypeScript's scanner finds (`import ... from`, `import type`, `export ... from`,
// `import '...'`, and `import()` too) count when they are relative and land in another folder
// of src/. No new dependency: TypeScript is already the project's compiler.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** Lowest first. Folders on one line share a layer and may not import each other. */
export const LAYERS = [
  ['util'], // no domain: formatting, rounding, random numbers, JSON, polling, bad-input errors
  ['target'], // the service under test: its Compose services, the demo's defaults
  ['history'], // the history file: its schema, reading and appending, trends
  ['analysis'], // statistics and the judge of one stage: metrics, tests, verdicts
  ['stack'], // Docker and Compose: the stack, its regions, containers, the fault proxy's admin
  ['grafana'], // annotations on the stack's Grafana
  ['traffic'], // the synthetic traffic: workload, generator, store of observations
  ['plan'], // the validated rollout plan every later layer reads
  ['prometheus'], // Prometheus queries and checks
  ['chaos'], // experiments: faults, injectors, the suite runner, measurements
  ['predict'], // the pre-flight and the prediction of each stage
  ['rollout'], // the rollout controller, its state machine and every rollout decision
  ['simulate'], // the rollout without Docker: a seeded model of the stack and its traffic
  ['report'], // report.json, report.html, JUnit, the summary
  ['config'], // chaos-gate.yml and its files, validated into the plans
  ['gate'], // the pipeline: stack, chaos, prediction, rollout, controls, verdict, report
  ['cli', 'action'], // the entry points
];

/**
 * Every relative import of `text` as [line, specifier]: TypeScript's own scanner finds `import ... from`,
 * `import type`, `export ... from`, `import '...'` and `import()`, over any number of lines.
 */
export function importsOf(text) {
  return ts
    .preProcessFile(text, true, false)
    .importedFiles.filter((f) => f.fileName.startsWith('.'))
    .map((f) => [text.slice(0, f.pos).split('\n').length, f.fileName]);
}

/**
 * The problems of a graph. `edges`: { from, to, file, line } with `from`/`to` folder names.
 * Returns readable lines; none when the graph keeps to `layers`.
 */
export function checkLayers(edges, layers = LAYERS) {
  const layerOf = new Map(layers.flatMap((folders, i) => folders.map((f) => [f, i])));
  const problems = [];
  const graph = new Map();
  for (const e of edges) {
    if (e.from === e.to) continue;
    const where = `${e.file}:${e.line}`;
    if (!graph.has(e.from)) graph.set(e.from, new Set());
    graph.get(e.from).add(e.to);
    const a = layerOf.get(e.from);
    const b = layerOf.get(e.to);
    if (a === undefined) problems.push(`${where}: folder ${e.from} has no layer in scripts/layers.mjs`);
    else if (b === undefined) problems.push(`${where}: ${e.from} -> ${e.to}: folder ${e.to} has no layer`);
    else if (b > a) problems.push(`${where}: ${e.from} -> ${e.to}: upward import (layer ${a} imports layer ${b})`);
    else if (b === a) problems.push(`${where}: ${e.from} -> ${e.to}: sideways import (both on layer ${a})`);
  }
  for (const cycle of cyclesOf(graph)) problems.push(`cycle between folders: ${cycle.join(' -> ')}`);
  return problems;
}

/** One cycle per strongly connected group of folders (Tarjan), each closed on its first folder. */
export function cyclesOf(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const cycles = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const group = [];
    for (let w; w !== v;) group.push((w = stack.pop()));
    if (group.length > 1 || graph.get(v)?.has(v)) cycles.push(pathThrough(graph, new Set(group), v));
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A shortest cycle from `start` back to it inside `group`. */
function pathThrough(graph, group, start) {
  const back = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = back.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (group.has(w) && !back.has(w)) {
        back.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** The folder-to-folder edges of every .ts file under `srcDir`; paths shown relative to `root`. */
export function edgesOf(srcDir, root = process.cwd()) {
  const edges = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) edges.push(...fileEdges(path));
    }
  };
  const fileEdges = (path) => {
    const from = relative(srcDir, path).split(sep)[0];
    return importsOf(readFileSync(path, 'utf8')).flatMap(([line, spec]) => {
      const target = relative(srcDir, resolve(dirname(path), spec));
      if (target.startsWith('..') || !target.includes(sep)) return [];
      return [{ from, to: target.split(sep)[0], file: relative(root, path), line, spec }];
    });
  };
  walk(srcDir);
  return edges;
}

/** The folders of `srcDir`: each must have a layer. */
export function foldersOf(srcDir) {
  return readdirSync(srcDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}

function explain(edges) {
  console.log('Layers of src/, lowest first (a folder imports only folders of lower layers):');
  LAYERS.forEach((folders, i) => console.log(`  ${String(i).padStart(2)}  ${folders.join(', ')}`));
  const counts = new Map();
  for (const e of edges)
    if (e.from !== e.to) counts.set(`${e.from} -> ${e.to}`, (counts.get(`${e.from} -> ${e.to}`) ?? 0) + 1);
  console.log(`\nEdges between folders (imports):`);
  for (const [edge, n] of [...counts].sort()) console.log(`  ${edge} (${n})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const edges = edgesOf(join(root, 'src'), root);
  if (process.argv.includes('--explain')) explain(edges);
  const layered = new Set(LAYERS.flat());
  const problems = [
    ...foldersOf(join(root, 'src'))
      .filter((folder) => !layered.has(folder))
      .map((folder) => `src/${folder}: folder has no layer in scripts/layers.mjs`),
    ...checkLayers(edges),
  ];
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`\nlayers: ${problems.length} problem(s); the order is in scripts/layers.mjs (--explain prints it)`);
    process.exit(1);
  }
  if (process.argv.includes('--explain')) console.log('\nlayers: no upward import, no cycle');
}
