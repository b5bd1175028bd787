// Types of scripts/layers.mjs for the unit test (test/unit/layers.test.ts).
export interface Edge {
  from: string;
  to: string;
  file: string;
  line: number;
  spec?: string;
}
export const LAYERS: readonly (readonly string[])[];
export function importsOf(text: string): [line: number, specifier: string][];
export function checkLayers(edges: readonly Edge[], layers?: readonly (readonly string[])[]): string[];
export function cyclesOf(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][];
export function edgesOf(srcDir: string, root?: string): Edge[];
export function foldersOf(srcDir: string): string[];
