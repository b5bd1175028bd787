import { request } from 'undici';
import type { Progress } from '../util/progress.ts';

// Rollout transitions and chaos fault windows as Grafana annotations, so the dashboard shows
// why the lines moved. Grafana is optional (no image on air-gapped machines): when it does
// not answer, annotating is skipped and the run says so once. An annotation that fails is a
// warning, never a failed run.
//
// Every annotation is posted to the provisioned Chaos Gate dashboard (its uid below) and
// carries the "chaos-gate" tag: the dashboard's built-in query shows the annotations posted
// to it, and its "Chaos Gate" tag query (observability/grafana/dashboards/chaos-gate.json)
// shows them by tag, which any other dashboard can copy. Without a dashboard uid Grafana
// stores an organisation annotation that no query of the dashboard asked for.

/**
 * The uid of observability/grafana/dashboards/chaos-gate.json; test/unit/grafana-dashboard.test.ts holds them equal.
 */
export const DASHBOARD_UID = 'chaos-gate';
/** The tag the dashboard's annotation query selects on; every annotation carries it. */
export const ANNOTATION_TAG = 'chaos-gate';

export interface Annotation {
  /** ms since the epoch. */
  time: number;
  timeEnd?: number;
  tags: string[];
  text: string;
}

/** The body of POST /api/annotations. */
export interface AnnotationPayload extends Annotation {
  dashboardUID: string;
}

/** What is posted for an annotation: on the dashboard, with the chaos-gate tag first and no tag twice. Pure. */
export function annotationPayload(annotation: Annotation, dashboardUID: string = DASHBOARD_UID): AnnotationPayload {
  return { dashboardUID, ...annotation, tags: [...new Set([ANNOTATION_TAG, ...annotation.tags])] };
}

export interface Annotator {
  readonly enabled: boolean;
  annotate(annotation: Annotation): void;
  /** Waits for the annotations sent so far. */
  flush(): Promise<void>;
}

export const noAnnotator: Annotator = { enabled: false, annotate: () => {}, flush: async () => {} };

export async function grafanaAnnotator(
  url: string,
  progress: Progress,
  timeoutMs = 2000,
  dashboardUID: string = DASHBOARD_UID,
): Promise<Annotator> {
  const base = url.replace(/\/$/, '');
  const healthy = await request(`${base}/api/health`, { signal: AbortSignal.timeout(timeoutMs) })
    .then(async (res) => {
      await res.body.dump();
      return res.statusCode === 200;
    })
    .catch(() => false);
  if (!healthy) {
    progress.info(`Grafana does not answer at ${base}: annotations skipped`);
    return noAnnotator;
  }
  const pending = new Set<Promise<void>>();
  let warned = false;
  return {
    enabled: true,
    annotate(annotation) {
      const p = request(`${base}/api/annotations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(annotationPayload(annotation, dashboardUID)),
        signal: AbortSignal.timeout(timeoutMs),
      })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
        })
        .catch((e: unknown) => {
          if (!warned)
            progress.warn(
              `Grafana annotation failed (${e instanceof Error ? e.message : String(e)}); ` +
                `later failures are not reported`,
            );
          warned = true;
        })
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    async flush() {
      await Promise.allSettled([...pending]);
    },
  };
}

/**
 * A rollout transition as an annotation. Pure. Tags: chaos-gate, rollout, version:V,
 * region:R (when the transition has one), event:E and the state entered (e.g. rolling_back),
 * so a dashboard can select all rollout marks, one version's or only the rollbacks.
 */
export function transitionAnnotation(
  t: { atMs: number; event: string; from: string; to: string; region?: string; stage?: number; detail?: string },
  startedAt: number,
  version: string,
): Annotation {
  const where = [t.region, t.stage === undefined ? undefined : `stage ${t.stage + 1}`].filter(Boolean).join(' ');
  return {
    time: startedAt + t.atMs,
    tags: [
      ANNOTATION_TAG,
      'rollout',
      `version:${version}`,
      ...(t.region ? [`region:${t.region}`] : []),
      `event:${t.event.toLowerCase()}`,
      t.to.toLowerCase(),
    ],
    text: `${version}: ${t.from} -> ${t.to}${where ? ` (${where})` : ''}${t.detail ? `: ${t.detail}` : ''}`,
  };
}

/**
 * A chaos fault window as a region annotation (a range: fault injected to lifted). Pure.
 * Tags: chaos-gate, chaos, experiment:NAME, fault:KIND, and region:R per target.
 */
export function faultAnnotation(experiment: {
  name: string;
  startedAt: string;
  faultWindow: { fromMs: number; toMs: number };
  fault: { kind: string; method: string };
  targets: string[];
}): Annotation {
  const start = Date.parse(experiment.startedAt);
  return {
    time: start + experiment.faultWindow.fromMs,
    timeEnd: start + experiment.faultWindow.toMs,
    tags: [
      ANNOTATION_TAG,
      'chaos',
      `experiment:${experiment.name}`,
      `fault:${experiment.fault.kind}`,
      ...experiment.targets.map((t) => `region:${t}`),
    ],
    text:
      `chaos ${experiment.name}: ${experiment.fault.kind} via ${experiment.fault.method} on ` +
      experiment.targets.join(', '),
  };
}
