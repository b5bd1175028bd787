import { isCollection, isMap, isScalar, LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import { clip } from '../util/shown.ts';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { formatPath } from '../util/issues.ts';
import {
  MAX_INPUT_BYTES,
  MAX_ISSUES,
  MAX_NESTING_DEPTH,
  MAX_SHOWN_CHARS,
  MAX_YAML_ALIAS_COUNT,
} from '../util/limits.ts';

// One YAML input file's text to data, for chaos-gate.yml and the experiment files alike, in
// bounded time and memory whatever the text: its size is capped; nesting is checked by a
// cheap scan before the parser recurses into it; duplicate keys are found in one pass (the
// yaml library's own check compares every key with every other: 4 s for 20,000 keys);
// aliases may not expand into more than MAX_YAML_ALIAS_COUNT copies ("billion laughs").
// Every problem is a UsageError naming the file and, where known, the line.

export interface ParsedYaml {
  data: unknown;
  doc: Document;
  lines: LineCounter;
}

/** A size in words: "1 MiB", "3.2 MiB", "512 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const kib = bytes / 1024;
  return kib < 1024 ? `${+kib.toFixed(1)} KiB` : `${+(kib / 1024).toFixed(1)} MiB`;
}

/** The rule for a file over the size limit, said before anything is parsed. */
export function tooBigRule(bytes: number, limit = MAX_INPUT_BYTES): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return (
    `is ${n(bytes)} bytes, more than the ${formatBytes(limit)} (${n(limit)} bytes) an input file may have: ` +
    'not read'
  );
}

export function parseYaml(text: string, source: string): ParsedYaml {
  // At most three UTF-8 bytes per UTF-16 unit, so only a long text needs the exact count.
  const bytes = text.length * 3 > MAX_INPUT_BYTES ? Buffer.byteLength(text, 'utf8') : text.length;
  if (bytes > MAX_INPUT_BYTES) throw new UsageError([{ source, path: '', rule: tooBigRule(bytes) }]);
  const deep = tooDeepLine(text, MAX_NESTING_DEPTH);
  if (deep !== undefined) throw new UsageError([{ source, path: '', rule: tooDeepRule(), line: deep }]);
  const lines = new LineCounter();
  const doc = readDocument(text, source, lines);
  if (doc.errors.length > 0) {
    const issue = (e: YAMLError): InputIssue => ({
      source,
      path: '',
      rule: yamlErrorRule(e.message),
      line: lines.linePos(e.pos[0]).line,
    });
    throw new UsageError(doc.errors.slice(0, MAX_ISSUES + 1).map(issue));
  }
  const structure = structureIssues(doc, lines, source);
  if (structure.length > 0) throw new UsageError(structure);
  return { data: toData(doc, source), doc, lines };
}

function tooDeepRule(): string {
  return `nests lists and mappings more than ${MAX_NESTING_DEPTH} levels deep: not read`;
}

function readDocument(text: string, source: string, lines: LineCounter): Document {
  try {
    // logLevel error: the library would print its warnings (quoting the file) on stderr itself.
    return parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  } catch (e) {
    return fail(source, `cannot be read as YAML: ${clip(String((e as Error).message), 200)}`);
  }
}

function yamlErrorRule(message: string): string {
  // The parser recursed until the stack ran out: the input nests too deeply.
  if (message.includes('Maximum call stack size exceeded')) return tooDeepRule();
  return `not valid YAML: ${clip(message.split('\n')[0] ?? '', 200)}`;
}

function toData(doc: Document, source: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (e) {
    const message = String((e as Error).message);
    if (/alias count/i.test(message)) {
      const rule = `its aliases (*name) would expand into more than ${MAX_YAML_ALIAS_COUNT} copies of what they name`;
      return fail(source, `${rule}: not read (an alias "bomb"?)`);
    }
    return fail(source, `cannot be read as YAML: ${clip(message, 200)}`);
  }
}

function fail(source: string, rule: string): never {
  throw new UsageError([{ source, path: '', rule }]);
}

const COLLECTION_KEY = 'has a key that is a list or a mapping: a key must be a name';

interface Pending {
  node: unknown;
  depth: number;
  path: PropertyKey[];
}

/** Duplicate keys and nesting too deep, in one pass over the document (no recursion). */
function structureIssues(doc: Document, lines: LineCounter, source: string): InputIssue[] {
  const issues: InputIssue[] = [];
  const lineOf = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  const queue: Pending[] = [{ node: doc.contents, depth: 0, path: [] }];
  for (let next = 0; next < queue.length && issues.length <= MAX_ISSUES; next++) {
    const { node, depth, path } = queue[next] as Pending;
    if (!isCollection(node)) continue;
    if (depth >= MAX_NESTING_DEPTH) {
      issues.push({ source, path: shownPath(path), rule: tooDeepRule(), ...optionalLine(lineOf(node)) });
      continue;
    }
    if (!isMap(node)) {
      node.items.forEach((item, i) => queue.push({ node: item, depth: depth + 1, path: [...path, i] }));
      continue;
    }
    const seen = new Map<string, number | undefined>();
    for (const pair of node.items) {
      // Keys as JavaScript sees them: 1 and "1" are the same field once read.
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key !== undefined && seen.has(key)) {
        const first = seen.get(key);
        const also = first === undefined ? '' : ` (also at line ${first})`;
        const rule = `duplicate key${also}: one would silently replace the other`;
        issues.push({ source, path: shownPath([...path, key]), rule, ...optionalLine(lineOf(pair.key)) });
      } else if (key !== undefined) seen.set(key, lineOf(pair.key));
      // No field of ours is named by a list or a mapping (JavaScript would make it "[object Object]").
      if (isCollection(pair.key)) {
        issues.push({ source, path: shownPath(path), rule: COLLECTION_KEY, ...optionalLine(lineOf(pair.key)) });
      }
      queue.push({ node: pair.value, depth: depth + 1, path: [...path, key ?? '?'] });
    }
  }
  return issues;
}

/** A path as a structure issue shows it: 64 levels of long keys would be a line of kilobytes. */
function shownPath(path: readonly PropertyKey[]): string {
  const shown = formatPath('', path);
  return shown.length > 4 * MAX_SHOWN_CHARS ? `${shown.slice(0, 4 * MAX_SHOWN_CHARS)}…` : shown;
}

function optionalLine(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}

/**
 * The first line where "[" and "{" nest, with the "- ", "? " and ": " indicators of its
 * line, deeper than `limit`: a linear scan that stops the parser from ever recursing a
 * million levels (seconds of CPU, then a stack overflow). A guess inside block scalars,
 * which it does not parse, and it leaves indentation to the check after parsing.
 */
export function tooDeepLine(text: string, limit: number): number | undefined {
  const s = { flow: 0, chain: 0, line: 1, quote: '', start: true };
  for (let i = 0; i < text.length; i++) {
    i = scanChar(text, i, s);
    if (s.flow + s.chain > limit) return s.line;
  }
  return undefined;
}

interface ScanState {
  /** Open "[" and "{". */
  flow: number;
  /** Block indicators ("- ", "? ", ": ") on this line. */
  chain: number;
  line: number;
  /** The quote of the scalar the scan is in, or "". */
  quote: string;
  /** At the start of a node: "[", "{" and quotes open something here. */
  start: boolean;
}

const blank = (c: string | undefined) => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Advances the scan over text[i]; returns the index of the last character consumed. */
function scanChar(text: string, i: number, s: ScanState): number {
  const c = text[i];
  if (c === '\n') {
    s.line++;
    s.chain = 0;
    if (!s.quote) s.start = true;
  } else if (s.quote) {
    if (s.quote === '"' && c === '\\') return i + 1;
    if (c === s.quote && s.quote === "'" && text[i + 1] === "'") return i + 1;
    if (c === s.quote) {
      s.quote = '';
      s.start = false;
    }
  } else if (c === ' ' || c === '\t' || c === '\r') {
    // Blanks keep the position: after "key: " a node still starts.
  } else if (c === '#' && (i === 0 || blank(text[i - 1]))) {
    const end = text.indexOf('\n', i);
    return end < 0 ? text.length : end - 1;
  } else if ((c === '[' || c === '{') && (s.start || s.flow > 0)) {
    s.flow++;
    s.start = true;
  } else if ((c === ']' || c === '}') && s.flow > 0) {
    s.flow--;
    s.start = false;
  } else if (c === ',' && s.flow > 0) {
    s.start = true;
  } else if ((c === '"' || c === "'") && s.start) {
    s.quote = c;
  } else if ((c === '&' || c === '!') && s.start) {
    // An anchor or a tag comes before the node it names: skip it, the node still starts.
    let j = i;
    while (!blank(text[j + 1]) && !(s.flow > 0 && ',[]{}'.includes(text[j + 1] ?? ''))) j++;
    return j;
  } else if ((c === ':' || ((c === '-' || c === '?') && s.start)) && blank(text[i + 1])) {
    if (s.flow === 0) s.chain++;
    s.start = true;
  } else s.start = false;
  return i;
}
