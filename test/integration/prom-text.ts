// A strict reader of the Prometheus text exposition format (0.0.4), enough to check that
// /metrics parses and to look up series: every non-comment line must be `name{labels} value`.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/gy;

export function parsePrometheusText(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (t?.[1] && t[2]) types.set(t[1], t[2]);
      continue;
    }
    const m = LINE.exec(line);
    if (!m?.[1] || m[3] === undefined) throw new Error(`line ${i + 1} is not a sample: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      let consumed = 0;
      for (let l = LABEL.exec(m[2]); l; l = LABEL.exec(m[2])) {
        labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
        consumed = LABEL.lastIndex;
      }
      if (consumed !== m[2].length) throw new Error(`line ${i + 1} has bad labels: ${line}`);
    }
    const value = sampleValue(m[3]);
    if (value === undefined) throw new Error(`line ${i + 1} has a bad value: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types };
}

/**
 * A sample value as Prometheus reads it (Go's ParseFloat): NaN and Inf in any letter case,
 * which matters because prom-client writes an empty summary's mean as "Nan".
 */
function sampleValue(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (/^[+]?inf(inity)?$/.test(lower)) return Infinity;
  if (/^-inf(inity)?$/.test(lower)) return -Infinity;
  const n = Number(text);
  return Number.isNaN(n) || text.trim() === '' ? undefined : n;
}
