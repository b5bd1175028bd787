import { build } from 'esbuild';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The workflows and action.yml read by GitHub's own parser, @actions/workflow-parser (the
// one behind the Actions language service), not by a schema of ours (issue 16).
const root = fileURLToPath(new URL('../..', import.meta.url));

interface ParseError {
  message: string;
  range?: { start: { line: number } };
}
interface ParseResult {
  context: { errors: { getErrors(): ParseError[] } };
  value: unknown;
}
interface File {
  name: string;
  content: string;
}
interface WorkflowParser {
  parseWorkflow(file: File, trace: unknown): ParseResult;
  parseAction(file: File, trace: unknown): ParseResult;
  convertWorkflowTemplate(context: ParseResult['context'], value: unknown): Promise<{ errors?: { Message: string }[] }>;
  NoOperationTraceWriter: new () => unknown;
}

// Its ESM build imports JSON without import attributes, which Node refuses: one CJS bundle.
const ENTRY = [
  "export { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } from '@actions/workflow-parser';",
  "export { parseAction } from '@actions/workflow-parser/actions/action-parser';",
].join('\n');

// A folder of its own: two runs at once never load a half-written bundle.
const bundleDir = mkdtempSync(join(tmpdir(), 'workflow-parser-'));

async function loadParser(): Promise<WorkflowParser> {
  const outfile = join(bundleDir, 'parser.cjs');
  await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    logLevel: 'error',
  });
  return createRequire(import.meta.url)(outfile) as WorkflowParser;
}

let parser: WorkflowParser;
beforeAll(async () => {
  parser = await loadParser();
});
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

const read = (path: string): File => ({ name: path, content: readFileSync(join(root, path), 'utf8') });
const messages = (r: ParseResult) => r.context.errors.getErrors().map((e) => e.message);

/** Schema errors, then the converter's (jobs, needs, expressions) when the schema passed. */
async function workflowErrors(file: File): Promise<string[]> {
  const parsed = parser.parseWorkflow(file, new parser.NoOperationTraceWriter());
  if (messages(parsed).length > 0 || parsed.value === undefined) return messages(parsed);
  const template = await parser.convertWorkflowTemplate(parsed.context, parsed.value);
  return (template.errors ?? []).map((e) => e.Message);
}

const workflows = readdirSync(join(root, '.github/workflows')).filter((f) => /\.ya?ml$/.test(f));

describe("GitHub's workflow parser", () => {
  it('finds the workflows', () => {
    expect(workflows).toEqual(expect.arrayContaining(['ci.yml', 'chaos-gate.yml']));
  });

  it.each(workflows)('.github/workflows/%s has no errors', async (name) => {
    expect(await workflowErrors(read(`.github/workflows/${name}`))).toEqual([]);
  });

  it('action.yml has no errors', () => {
    expect(messages(parser.parseAction(read('action.yml'), new parser.NoOperationTraceWriter()))).toEqual([]);
  });

  it('reports a mistyped key in a copy of a workflow, with its line', async () => {
    const file = read('.github/workflows/ci.yml');
    const line = file.content.split('\n').findIndex((l) => l.includes('runs-on:')) + 1;
    const errors = await workflowErrors({ ...file, content: file.content.replace('runs-on:', 'runs_on:') });
    expect(errors).toContain(`.github/workflows/ci.yml (Line: ${line}, Col: 5): Unexpected value 'runs_on'`);
  });

  it('reports a mistyped key in a copy of action.yml, with its line', () => {
    const file = read('action.yml');
    const line = file.content.split('\n').findIndex((l) => l.includes('post-if:')) + 1;
    const copy = { ...file, content: file.content.replace('post-if:', 'post_if:') };
    const errors = parser.parseAction(copy, new parser.NoOperationTraceWriter()).context.errors.getErrors();
    expect(errors.map((e) => [e.message, e.range?.start.line])).toEqual([
      [`action.yml (Line: ${line}, Col: 3): Unexpected value 'post_if'`, line],
    ]);
  });
});
