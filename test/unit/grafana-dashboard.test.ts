import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_TAG,
  annotationPayload,
  DASHBOARD_UID,
  faultAnnotation,
  transitionAnnotation,
} from '../../src/grafana/annotations.ts';

// The annotations the gate posts and the dashboard that is to show them are written in two
// places (src/grafana/annotations.ts and the provisioned JSON); Grafana cannot run here, so
// this holds them together by reading the JSON: the uid the annotations are posted to is the
// dashboard's, and the dashboard has a tag query that every posted annotation matches.

interface AnnotationQuery {
  builtIn?: number;
  datasource?: { type?: string; uid?: string };
  enable?: boolean;
  hide?: boolean;
  name?: string;
  type?: string;
  target?: { type?: string; tags?: string[]; matchAny?: boolean; limit?: number };
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../observability/grafana/dashboards/chaos-gate.json', import.meta.url), 'utf8'),
) as {
  uid?: string;
  annotations?: { list?: AnnotationQuery[] };
};
const queries = dashboard.annotations?.list ?? [];
const tagQuery = queries.find((q) => q.name === 'Chaos Gate');

/** Grafana's tag filter: every tag of the query (matchAny false) or one of them (matchAny true). */
function shows(query: AnnotationQuery, tags: readonly string[]): boolean {
  const wanted = query.target?.tags ?? [];
  if (wanted.length === 0) return false; // Grafana returns nothing for a tag query without tags
  return query.target?.matchAny ? wanted.some((t) => tags.includes(t)) : wanted.every((t) => tags.includes(t));
}

describe('the Chaos Gate dashboard and the annotations', () => {
  it("annotations are posted to the provisioned dashboard's uid", () => {
    expect(dashboard.uid).toBe(DASHBOARD_UID);
    expect(annotationPayload({ time: 1, tags: [], text: 'x' }).dashboardUID).toBe(dashboard.uid);
  });

  it('keeps the built-in query, which shows the annotations posted to this dashboard', () => {
    expect(queries.find((q) => q.builtIn === 1)).toMatchObject({
      datasource: { type: 'grafana', uid: '-- Grafana --' },
      enable: true,
      type: 'dashboard',
    });
  });

  it('has an enabled, visible "Chaos Gate" query on the Grafana annotation store, by the chaos-gate tag', () => {
    expect(tagQuery).toMatchObject({
      datasource: { type: 'grafana', uid: '-- Grafana --' },
      enable: true,
      hide: false,
      target: { type: 'tags', tags: [ANNOTATION_TAG], matchAny: false },
    });
    expect(tagQuery?.builtIn).toBeUndefined();
    expect(tagQuery?.target?.limit).toBeGreaterThanOrEqual(100);
  });

  it('the tag query shows rollout transitions and chaos fault windows as posted', () => {
    const posted = [
      annotationPayload(
        transitionAnnotation(
          { atMs: 0, event: 'PAUSE', from: 'CANARY', to: 'PAUSED', region: 'eu-west', stage: 1 },
          0,
          'v2',
        ),
      ),
      annotationPayload(transitionAnnotation({ atMs: 0, event: 'START', from: 'IDLE', to: 'CANARY' }, 0, 'v2')),
      annotationPayload(
        faultAnnotation({
          name: 'service-kill',
          startedAt: '2026-01-01T00:00:00.000Z',
          faultWindow: { fromMs: 0, toMs: 1 },
          fault: { kind: 'kill', method: 'docker-kill' },
          targets: ['us-east'],
        }),
      ),
      annotationPayload({ time: 0, tags: ['something-else'], text: 'posted without the tag' }),
    ];
    for (const a of posted) expect(shows(tagQuery as AnnotationQuery, a.tags), a.text).toBe(true);
  });
});
