// The two series of a target's /metrics that the evidence of a fault needs. The names are
// those of the standard process collector of every Prometheus client library (prom-client's
// default metrics in the region service), so another service that exposes them works too.

export interface ProcessReading {
  rssBytes: number | null;
  cpuSeconds: number | null;
}

/** The value of an unlabelled (or labelled) sample line of `name`; null when absent or not a number. */
function sample(text: string, name: string): number | null {
  const line = new RegExp(`^${name}(?:\\{[^}]*\\})?[ \\t]+(\\S+)`, 'm').exec(text);
  if (!line?.[1]) return null;
  const value = Number(line[1]);
  return Number.isFinite(value) ? value : null;
}

/** Reads a Prometheus text exposition. Pure. */
export function processReading(text: string): ProcessReading {
  return {
    rssBytes: sample(text, 'process_resident_memory_bytes'),
    cpuSeconds: sample(text, 'process_cpu_seconds_total'),
  };
}
