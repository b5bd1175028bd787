import { Ajv2020 } from 'ajv/dist/2020.js';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { issuesOf } from './usage-issues.ts';
import { UsageError } from '../../src/util/errors.ts';
import { MAX_ISSUES } from '../../src/util/limits.ts';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import { readDependencies } from '../../src/config/dependencies-file.ts';

// The `service:` and `baseline:` sections (issue 11): defaults filled in, paths resolved,
// every problem a UsageError naming the file, line, field path and rule, and the demo left
// exactly as it was when there is no `service:`.

/** parseConfig without a context resolves service paths against the working directory. */
const CWD = process.cwd();
const OK_STATUSES = Array.from({ length: 200 }, (_, i) => 200 + i);

const BASE: Record<string, string | undefined> = {
  build: '{}',
  port: '3000',
  health: '{ path: /healthz }',
  traffic: '[{ path: /api/items }]',
};

/**
 * A `service:` section, one field per line in this order: build (line 2), port (3), health
 * (4), traffic (5), then the extra fields; undefined leaves a field out. `after` follows it.
 */
function svc(fields: Record<string, string | undefined> = {}, after = ''): string {
  const all = Object.entries({ ...BASE, ...fields }).filter(([, v]) => v !== undefined);
  return `service:\n${all.map(([k, v]) => `  ${k}: ${v}\n`).join('')}${after}`;
}

const IMAGE = { build: undefined, image: 'app:1' }; // image on line 5
const BASELINE_IMAGE = 'baseline: { image: app:0 }\n';

const plan = (text: string) => parseConfig(text, 'f.yml');

const EXAMPLE = `service:
  build: { context: ., dockerfile: Dockerfile, args: {} }
  port: 3000
  health: { path: /healthz, expect_status: [200] }
  version: { path: /version, field: version }
  metrics: { path: /metrics }
  env: { LOG_LEVEL: info }
  data: { path: /data }
  traffic:
    - { method: GET, path: /api/items, weight: 3 }
    - { method: POST, path: /api/items, body: { name: "{{ uuid }}" }, expect_status: [201], weight: 1 }
  probe:
    write: { method: POST, path: /api/items, body: { name: "{{ uuid }}" }, id: id }
    read: { method: GET, path: "/api/items/{{ id }}" }
  dependencies: docker-compose.deps.yml
  attribution: { header: x-failed-hop }
baseline:
  ref: HEAD~1
`;

describe('service: and baseline: that are good', () => {
  it('reads the example of issue 11 into the plan, every default filled in and every path absolute', () => {
    const c = plan(EXAMPLE);
    expect(c.service).toEqual({
      source: { kind: 'build', context: CWD, dockerfile: join(CWD, 'Dockerfile'), args: {} },
      port: 3000,
      health: { path: '/healthz', expectStatus: [200] },
      version: { path: '/version', field: 'version' },
      metrics: { path: '/metrics' },
      env: { LOG_LEVEL: 'info' },
      data: { path: '/data' },
      traffic: [
        { method: 'GET', path: '/api/items', expectStatus: OK_STATUSES, weight: 3 },
        { method: 'POST', path: '/api/items', body: { name: '{{ uuid }}' }, expectStatus: [201], weight: 1 },
      ],
      probe: {
        write: { method: 'POST', path: '/api/items', body: { name: '{{ uuid }}' }, expectStatus: [200, 201], id: 'id' },
        read: { method: 'GET', path: '/api/items/{{ id }}', expectStatus: [200] },
      },
      dependencies: join(CWD, 'docker-compose.deps.yml'),
      attribution: { header: 'x-failed-hop' },
    });
    expect(c.baseline).toEqual({ source: { kind: 'ref', ref: 'HEAD~1' } });
    expect(Object.isFrozen(c.service?.traffic[0])).toBe(true);
  });

  it.each([
    [
      'the least there is: build, port, health, one request',
      svc(),
      {
        service: {
          source: { kind: 'build', context: CWD, dockerfile: join(CWD, 'Dockerfile'), args: {} },
          port: 3000,
          health: { path: '/healthz', expectStatus: [200] },
          version: undefined,
          metrics: undefined,
          env: {},
          data: undefined,
          traffic: [{ method: 'GET', path: '/api/items', expectStatus: OK_STATUSES, weight: 1 }],
          probe: undefined,
          dependencies: undefined,
          attribution: undefined,
        },
        baseline: { source: { kind: 'ref', ref: 'HEAD~1' } },
      },
    ],
    [
      'a context and a Dockerfile in it, args stringified as Compose does',
      svc({ build: '{ context: app, dockerfile: docker/prod.Dockerfile, args: { N: 3, F: 0.5, ON: true, S: x } }' }),
      {
        service: expect.objectContaining({
          source: {
            kind: 'build',
            context: join(CWD, 'app'),
            dockerfile: join(CWD, 'app', 'docker', 'prod.Dockerfile'),
            args: { N: '3', F: '0.5', ON: 'true', S: 'x' },
          },
        }),
      },
    ],
    [
      'an attribution header, lowercased as HTTP matches it',
      svc({ attribution: '{ header: X-Failed-Hop }' }),
      {
        service: expect.objectContaining({ attribution: { header: 'x-failed-hop' } }),
      },
    ],
    [
      'env values stringified, names with "_" and capitals',
      svc({ env: '{ _A: 1, Log_Level2: false, EMPTY: "" }' }),
      {
        service: expect.objectContaining({ env: { _A: '1', Log_Level2: 'false', EMPTY: '' } }),
      },
    ],
    [
      'a prebuilt candidate with its stable image',
      svc(IMAGE, BASELINE_IMAGE),
      {
        service: expect.objectContaining({ source: { kind: 'image', image: 'app:1' } }),
        baseline: { source: { kind: 'image', image: 'app:0' } },
      },
    ],
    [
      'a build with a stable image',
      svc({}, BASELINE_IMAGE),
      { baseline: { source: { kind: 'image', image: 'app:0' } } },
    ],
    [
      'a build with another ref',
      svc({}, 'baseline: { ref: origin/main }\n'),
      { baseline: { source: { kind: 'ref', ref: 'origin/main' } } },
    ],
    [
      'a dependencies file relative to the config file',
      svc({ dependencies: 'deps/compose.yml' }),
      {
        service: expect.objectContaining({ dependencies: join(CWD, 'deps', 'compose.yml') }),
      },
    ],
    [
      'every method, statuses and weights',
      svc({
        traffic:
          '[{ method: HEAD, path: /, expect_status: [204, 599, 100], weight: 1000 }, { method: DELETE, path: "/x?y=1", weight: 0.001 }]',
      }),
      {
        service: expect.objectContaining({
          traffic: [
            { method: 'HEAD', path: '/', expectStatus: [204, 599, 100], weight: 1000 },
            { method: 'DELETE', path: '/x?y=1', expectStatus: OK_STATUSES, weight: 0.001 },
          ],
        }),
      },
    ],
    [
      'any JSON body on a write: lists, null, numbers, nested templates',
      svc({ traffic: '[{ method: PUT, path: "/{{uuid}}", body: [null, 1.5, { a: ["{{  uuid }}-x"] }] }]' }),
      {
        service: expect.objectContaining({
          traffic: [
            {
              method: 'PUT',
              path: '/{{uuid}}',
              body: [null, 1.5, { a: ['{{  uuid }}-x'] }],
              expectStatus: OK_STATUSES,
              weight: 1,
            },
          ],
        }),
      },
    ],
    [
      'a probe with defaults and a nested id field',
      svc({ probe: '{ write: { path: /w, id: data.items.0.id }, read: { path: "/r/{{id}}?v={{ uuid }}" } }' }),
      {
        service: expect.objectContaining({
          probe: {
            write: { method: 'POST', path: '/w', expectStatus: [200, 201], id: 'data.items.0.id' },
            read: { method: 'GET', path: '/r/{{id}}?v={{ uuid }}', expectStatus: [200] },
          },
        }),
      },
    ],
    [
      'image references with a registry, a port, a digest',
      svc(
        { build: undefined, image: `localhost:5000/team/my-app_v2:1.0-rc.1@sha256:${'a'.repeat(64)}` },
        'baseline: { image: registry.example.com/a/b }\n',
      ),
      {
        service: expect.objectContaining({
          source: { kind: 'image', image: `localhost:5000/team/my-app_v2:1.0-rc.1@sha256:${'a'.repeat(64)}` },
        }),
        baseline: { source: { kind: 'image', image: 'registry.example.com/a/b' } },
      },
    ],
  ])('%s', (_what, text, expected) => {
    expect(plan(text)).toMatchObject(expected);
  });

  it.each(['HEAD~1', 'HEAD^', 'HEAD@{1}', 'main', 'v1.2.0', 'origin/release/2.x', 'a1b2c3d', '@'])(
    'takes the git revision %s',
    (ref) => {
      expect(plan(svc({}, `baseline: { ref: "${ref}" }\n`)).baseline).toEqual({ source: { kind: 'ref', ref } });
    },
  );
});

describe('service: and baseline: that are refused, each with its path, line and rule', () => {
  const many = (n: number, entry: (i: number) => string) =>
    `{ ${Array.from({ length: n }, (_, i) => entry(i)).join(', ')} }`;
  const list = (n: number, entry: string) => `[${Array(n).fill(entry).join(', ')}]`;

  it.each([
    // the source of the candidate
    [
      'both build and image',
      svc({ image: 'app' }),
      'service',
      1,
      'give exactly one of build (the candidate built from this workspace) or image',
    ],
    ['neither build nor image', svc({ build: undefined }), 'service', 1, 'give exactly one of build'],
    ['an unknown field', svc({ prt: '1' }), 'service.prt', 6, 'unknown field'],
    ['an unknown build field', svc({ build: '{ contxt: . }' }), 'service.build.contxt', 2, 'unknown field'],
    ['an empty context', svc({ build: '{ context: "" }' }), 'service.build.context', 2, 'must not be empty'],
    [
      'a control character in the dockerfile',
      svc({ build: '{ dockerfile: "a\\tb" }' }),
      'service.build.dockerfile',
      2,
      'must not contain control characters',
    ],
    [
      'a mapping as a build arg',
      svc({ build: '{ args: { A: { b: 1 } } }' }),
      'service.build.args.A',
      2,
      'must be text, a finite number or true/false',
    ],
    [
      'a list as a build arg',
      svc({ build: '{ args: { A: [1] } }' }),
      'service.build.args.A',
      2,
      'must be text, a finite number or true/false',
    ],
    [
      'a build arg name starting with a digit',
      svc({ build: '{ args: { 1A: x } }' }),
      'service.build.args.1A',
      2,
      'must be a variable name',
    ],
    [
      'an uppercase image name',
      svc({ build: undefined, image: 'Foo/bar' }, BASELINE_IMAGE),
      'service.image',
      5,
      'must be a Docker image reference',
    ],
    [
      'an image with a space',
      svc({ build: undefined, image: '"app :1"' }, BASELINE_IMAGE),
      'service.image',
      5,
      'lowercase name parts, no whitespace',
    ],
    [
      'an image with a short digest',
      svc({ build: undefined, image: 'app@sha256:abc' }, BASELINE_IMAGE),
      'service.image',
      5,
      'must be a Docker image reference',
    ],
    [
      'an image of 256 characters',
      svc({ build: undefined, image: 'a'.repeat(256) }, BASELINE_IMAGE),
      'service.image',
      5,
      'must be at most 255 characters',
    ],
    // port and the fixed paths
    ['no port', svc({ port: undefined }), 'service.port', 1, 'is required (a number)'],
    ['port 0', svc({ port: '0' }), 'service.port', 3, 'must be a port, 1 to 65535'],
    ['port 65536', svc({ port: '65536' }), 'service.port', 3, 'must be a port, 1 to 65535'],
    ['a fractional port', svc({ port: '80.5' }), 'service.port', 3, 'must be a whole number'],
    ['a port as text', svc({ port: '"3000"' }), 'service.port', 3, 'must be a number, got "3000"'],
    ['no health', svc({ health: undefined }), 'service.health', 1, 'is required (a mapping of fields)'],
    [
      'a health check without a path',
      svc({ health: '{ expect_status: [200] }' }),
      'service.health.path',
      4,
      'is required (text)',
    ],
    [
      'a path without "/"',
      svc({ health: '{ path: healthz }' }),
      'service.health.path',
      4,
      'must be an HTTP path: "/" first',
    ],
    [
      'a path with a space',
      svc({ health: '{ path: "/a b" }' }),
      'service.health.path',
      4,
      'no whitespace or control characters',
    ],
    [
      'a path with a control character',
      svc({ health: '{ path: "/a\\u0007" }' }),
      'service.health.path',
      4,
      'no whitespace or control characters',
    ],
    [
      'a path of 2049 characters',
      svc({ health: `{ path: /${'a'.repeat(2048)} }` }),
      'service.health.path',
      4,
      'must be at most 2048 characters',
    ],
    [
      'a status out of range',
      svc({ health: '{ path: /, expect_status: [99] }' }),
      'service.health.expect_status[0]',
      4,
      'must be an HTTP status, 100 to 599',
    ],
    [
      'no status',
      svc({ health: '{ path: /, expect_status: [] }' }),
      'service.health.expect_status',
      4,
      'must list at least one status',
    ],
    [
      '21 statuses',
      svc({ health: `{ path: /, expect_status: ${list(21, '200')} }` }),
      'service.health.expect_status',
      4,
      'must list at most 20 statuses',
    ],
    [
      'a version without its field',
      svc({ version: '{ path: /version }' }),
      'service.version.field',
      6,
      'is required (text)',
    ],
    [
      'a version field with an empty part',
      svc({ version: '{ path: /v, field: "a..b" }' }),
      'service.version.field',
      6,
      'must be a JSON field name',
    ],
    [
      'an unknown metrics field',
      svc({ metrics: '{ path: /m, format: prom }' }),
      'service.metrics.format',
      6,
      'unknown field',
    ],
    [
      'a relative data path',
      svc({ data: '{ path: data }' }),
      'service.data.path',
      6,
      'must be an absolute path in the container',
    ],
    ['a data path with ".."', svc({ data: '{ path: /a/../etc }' }), 'service.data.path', 6, 'no "." or ".." parts'],
    [
      'a data path with ":"',
      svc({ data: '{ path: "/a:/b" }' }),
      'service.data.path',
      6,
      'must be an absolute path in the container',
    ],
    [
      '"/" as the data path',
      svc({ data: '{ path: / }' }),
      'service.data.path',
      6,
      'must be an absolute path in the container',
    ],
    ['an env name with "-"', svc({ env: '{ LOG-LEVEL: x }' }), 'service.env.LOG-LEVEL', 6, 'must be a variable name'],
    ['a NUL in an env value', svc({ env: '{ A: "a\\0b" }' }), 'service.env.A', 6, 'must not contain a NUL character'],
    [
      'infinity as an env value',
      svc({ env: '{ A: .inf }' }),
      'service.env.A',
      6,
      'must be text, a finite number or true/false',
    ],
    [
      '201 env entries',
      svc({ env: many(201, (i) => `V${i}: x`) }),
      'service.env',
      6,
      'has 201 entries, more than the 200 allowed',
    ],
    ['an empty dependencies path', svc({ dependencies: '""' }), 'service.dependencies', 6, 'must not be empty'],
    [
      'an attribution header with a space',
      svc({ attribution: '{ header: "x failed" }' }),
      'service.attribution.header',
      6,
      'must be an HTTP header name',
    ],
    ['an attribution without its header', svc({ attribution: '{}' }), 'service.attribution.header', 6, 'is required'],
    [
      'an unknown attribution field',
      svc({ attribution: '{ header: x-hop, field: hop }' }),
      'service.attribution.field',
      6,
      'unknown field',
    ],
    // traffic
    ['no traffic', svc({ traffic: undefined }), 'service.traffic', 1, 'is required (a list)'],
    ['empty traffic', svc({ traffic: '[]' }), 'service.traffic', 5, 'must list at least one request'],
    [
      '101 requests',
      svc({ traffic: list(101, '{ path: / }') }),
      'service.traffic',
      5,
      'must list at most 100 requests',
    ],
    [
      'a lowercase method',
      svc({ traffic: '[{ method: get, path: / }]' }),
      'service.traffic[0].method',
      5,
      'must be one of "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", got "get"',
    ],
    ['OPTIONS', svc({ traffic: '[{ method: OPTIONS, path: / }]' }), 'service.traffic[0].method', 5, 'got "OPTIONS"'],
    [
      'a request without a path',
      svc({ traffic: '[{ method: GET }]' }),
      'service.traffic[0].path',
      5,
      'is required (text)',
    ],
    [
      'weight 0',
      svc({ traffic: '[{ path: / }, { path: /, weight: 0 }]' }),
      'service.traffic[1].weight',
      5,
      'must be greater than 0',
    ],
    [
      'a negative weight',
      svc({ traffic: '[{ path: /, weight: -1 }]' }),
      'service.traffic[0].weight',
      5,
      'must be greater than 0',
    ],
    [
      'weight 1001',
      svc({ traffic: '[{ path: /, weight: 1001 }]' }),
      'service.traffic[0].weight',
      5,
      'must be at most 1000',
    ],
    [
      'an infinite weight',
      svc({ traffic: '[{ path: /, weight: .inf }]' }),
      'service.traffic[0].weight',
      5,
      'must be a finite number',
    ],
    [
      'a fractional status',
      svc({ traffic: '[{ path: /, expect_status: [200.5] }]' }),
      'service.traffic[0].expect_status[0]',
      5,
      'must be a whole number',
    ],
    [
      'status 600',
      svc({ traffic: '[{ path: /, expect_status: [600] }]' }),
      'service.traffic[0].expect_status[0]',
      5,
      'must be an HTTP status, 100 to 599',
    ],
    [
      'a body on GET',
      svc({ traffic: '[{ path: /, body: { a: 1 } }]' }),
      'service.traffic[0].body',
      5,
      'a GET request has no body',
    ],
    [
      'a body on HEAD',
      svc({ traffic: '[{ method: HEAD, path: /, body: "" }]' }),
      'service.traffic[0].body',
      5,
      'a HEAD request has no body',
    ],
    [
      '.nan in a body',
      svc({ traffic: '[{ method: POST, path: /, body: { a: [1, .nan] } }]' }),
      'service.traffic[0].body.a[1]',
      5,
      'must be a finite number (JSON has no .inf or .nan)',
    ],
    [
      'a body over 16 KiB',
      svc({ traffic: `[{ method: POST, path: /, body: { a: "${'x'.repeat(16 * 1024)}" } }]` }),
      'service.traffic[0].body',
      5,
      'must be at most 16 KiB as JSON',
    ],
    [
      'a body that refers to itself',
      svc({ traffic: '[{ method: POST, path: /, body: &b [1, *b] }]' }),
      'service.traffic[0].body',
      5,
      'must be at most 16 KiB as JSON',
    ],
    // probe
    [
      'a probe write without id',
      svc({ probe: '{ write: { path: /w }, read: { path: "/r/{{ id }}" } }' }),
      'service.probe.write.id',
      6,
      'is required (text)',
    ],
    [
      'a probe without read',
      svc({ probe: '{ write: { path: /w, id: id } }' }),
      'service.probe.read',
      6,
      'is required (a mapping of fields)',
    ],
    [
      'a probe read without {{ id }}',
      svc({ probe: '{ write: { path: /w, id: id }, read: { path: /r } }' }),
      'service.probe.read.path',
      6,
      'must contain {{ id }}',
    ],
    [
      'a body on the probe read',
      svc({ probe: '{ write: { path: /w, id: id }, read: { path: "/r/{{ id }}", body: {} } }' }),
      'service.probe.read.body',
      6,
      'unknown field',
    ],
    [
      'a body on a GET probe write',
      svc({ probe: '{ write: { method: GET, path: /w, body: 1, id: id }, read: { path: "/r/{{ id }}" } }' }),
      'service.probe.write.body',
      6,
      'a GET request has no body',
    ],
  ])('%s', (_what, text, path, line, rule) => {
    const issues = issuesOf(() => plan(text));
    expect(issues).toEqual([{ source: 'f.yml', path, line, rule: expect.stringContaining(rule) }]);
  });

  it('names the line of a traffic entry written on its own line', () => {
    const text = svc({
      traffic:
        '\n    - { method: GET, path: /api/items, weight: 3 }\n    - { method: POST, path: /api/items, weight: 0 }',
    });
    expect(issuesOf(() => plan(text))).toEqual([
      {
        source: 'f.yml',
        path: 'service.traffic[1].weight',
        line: 7,
        rule: 'must be greater than 0 (weights are relative)',
      },
    ]);
  });

  it('is an exit-2 UsageError listing every problem at once', () => {
    const text = svc({ port: '0', traffic: '[{ method: get, path: x }]' }, 'baseline: { ref: "-x" }\n');
    let error: unknown;
    try {
      plan(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).issues.map((i) => [i.path, i.line])).toEqual([
      ['service.port', 3],
      ['service.traffic[0].method', 5],
      ['service.traffic[0].path', 5],
      ['baseline.ref', 6],
    ]);
  });

  it('stays quick on a file full of bad requests, and lists the first problems only', () => {
    const entry = `{ method: POST, path: "/{{ nope }}", body: { a: "{{ x }}", b: [${Array(40).fill('"{{ id }}"').join(', ')}] } }`;
    const started = performance.now();
    const issues = issuesOf(() => plan(svc({ traffic: `[${Array(100).fill(entry).join(', ')}]` })));
    const ms = performance.now() - started;
    process.stdout.write(`100 requests with 4,200 bad templates: ${Math.round(ms)} ms\n`);
    expect(ms).toBeLessThan(10_000); // a walk gone quadratic takes minutes; the time is printed, not judged
    expect(issues).toHaveLength(MAX_ISSUES + 1);
  });
});

describe('templates', () => {
  const post = (path: string, body = '{ a: 1 }') =>
    svc({ traffic: `[{ method: POST, path: "${path}", body: ${body} }]` });
  const probe = (write: string, read: string) =>
    svc({ probe: `{ write: { path: "${write}", id: id }, read: { path: "${read}" } }` });

  it.each([
    ['{{ uuid }} in a traffic path', post('/a/{{ uuid }}')],
    ['{{uuid}} without spaces', post('/a/{{uuid}}')],
    ['{{ uuid }} deep in a body', post('/a', '{ a: [{ b: "x-{{ uuid }}-y" }] }')],
    ['{{ uuid }} in the probe write', probe('/w/{{ uuid }}', '/r/{{ id }}')],
    ['{{ id }} and {{ uuid }} in the probe read', probe('/w', '/r/{{   id }}/{{ uuid}}')],
  ])('takes %s', (_what, text) => {
    expect(() => plan(text)).not.toThrow();
  });

  const KNOWN =
    'known: {{ uuid }}, a fresh uuid per request; {{ id }}, the id the probe write answered, in probe.read.path only';
  it.each([
    [
      'an unknown template in a path',
      post('/a/{{ name }}'),
      'service.traffic[0].path',
      5,
      `unknown template "{{ name }}" (${KNOWN})`,
    ],
    [
      'an unknown template in a body',
      post('/a', '{ a: ["{{ user.id }}"] }'),
      'service.traffic[0].body.a[0]',
      5,
      `unknown template "{{ user.id }}" (${KNOWN})`,
    ],
    [
      '{{ id }} in a traffic path',
      post('/a/{{ id }}'),
      'service.traffic[0].path',
      5,
      '{{ id }} is known in probe.read.path only (the id the probe write answered)',
    ],
    [
      '{{ id }} in a traffic body',
      post('/a', '{ id: "{{id}}" }'),
      'service.traffic[0].body.id',
      5,
      '{{ id }} is known in probe.read.path only',
    ],
    [
      '{{ id }} in the probe write',
      probe('/w/{{ id }}', '/r/{{ id }}'),
      'service.probe.write.path',
      6,
      '{{ id }} is known in probe.read.path only',
    ],
    [
      'a template in the health path',
      svc({ health: '{ path: "/h/{{ uuid }}" }' }),
      'service.health.path',
      4,
      'has the template "{{ uuid }}": templates are filled in traffic and probe requests only',
    ],
    [
      'an unclosed template',
      post('/a', '{ a: "{{ uuid" }'),
      'service.traffic[0].body.a',
      5,
      'has "{{" without its "}}"',
    ],
  ])('refuses %s', (_what, text, path, line, rule) => {
    expect(issuesOf(() => plan(text))).toEqual([{ source: 'f.yml', path, line, rule: expect.stringContaining(rule) }]);
  });
});

describe('baseline', () => {
  it('defaults to the build at HEAD~1, and is undefined without a service', () => {
    expect(plan(svc()).baseline).toEqual({ source: { kind: 'ref', ref: 'HEAD~1' } });
    expect(plan('gate: {}\n')).toMatchObject({ service: undefined, baseline: undefined });
  });

  it.each([
    ['a baseline without a service', 'gate: {}\nbaseline: { ref: main }\n', 'baseline', 2, 'needs a service: section'],
    [
      'a prebuilt candidate without a baseline',
      svc(IMAGE),
      'service.image',
      5,
      'needs a baseline to compare against: give baseline.image',
    ],
    [
      'a ref with a prebuilt candidate',
      svc(IMAGE, 'baseline: { ref: main }\n'),
      'baseline.ref',
      6,
      'cannot be used with service.image: there is nothing to build at a git revision; give baseline.image',
    ],
    ['both ref and image', svc({}, 'baseline: { ref: main, image: app }\n'), 'baseline', 6, 'give exactly one of ref'],
    ['neither ref nor image', svc({}, 'baseline: {}\n'), 'baseline', 6, 'give exactly one of ref'],
    ['an empty baseline', svc({}, 'baseline:\n'), 'baseline', 6, 'must be a mapping of fields, got nothing (null)'],
    ['an unknown field', svc({}, 'baseline: { ref: main, branch: x }\n'), 'baseline.branch', 6, 'unknown field'],
    [
      'a bad baseline image',
      svc({}, 'baseline: { image: "App" }\n'),
      'baseline.image',
      6,
      'must be a Docker image reference',
    ],
    [
      'a ref read as an option',
      svc({}, 'baseline: { ref: --output=x }\n'),
      'baseline.ref',
      6,
      'must not start with "-" (git would read it as an option)',
    ],
    ['a range', svc({}, 'baseline: { ref: main..HEAD }\n'), 'baseline.ref', 6, 'must not contain ".."'],
    [
      'a ref with a space',
      svc({}, 'baseline: { ref: "main x" }\n'),
      'baseline.ref',
      6,
      'must be a git revision such as HEAD~1',
    ],
    [
      'a ref with a shell character',
      svc({}, 'baseline: { ref: "main;id" }\n'),
      'baseline.ref',
      6,
      'must be a git revision',
    ],
    ['a ref with a newline', svc({}, 'baseline: { ref: "main\\nx" }\n'), 'baseline.ref', 6, 'must be a git revision'],
    ['an empty ref', svc({}, 'baseline: { ref: "" }\n'), 'baseline.ref', 6, 'must be a git revision'],
    [
      'a ref of 201 characters',
      svc({}, `baseline: { ref: ${'a'.repeat(201)} }\n`),
      'baseline.ref',
      6,
      'must be at most 200 characters',
    ],
  ])('refuses %s', (_what, text, path, line, rule) => {
    expect(issuesOf(() => plan(text))).toEqual([{ source: 'f.yml', path, line, rule: expect.stringContaining(rule) }]);
  });
});

describe('local paths', () => {
  /** A folder with a configuration file in `sub/` and the files named, relative to the folder. */
  function project(config: string, files: readonly string[], folders: readonly string[] = []): string {
    const dir = mkdtempSync(join(tmpdir(), 'cg-service-'));
    for (const f of ['sub', ...folders]) mkdirSync(join(dir, f), { recursive: true });
    for (const f of files) writeFileSync(join(dir, f), '');
    writeFileSync(join(dir, 'sub', 'chaos-gate.yml'), config);
    return dir;
  }
  const load = (dir: string, environment?: string) => loadConfig('sub/chaos-gate.yml', dir, environment);

  it("resolves them against the configuration file's folder when it is loaded, and finds them there", () => {
    const text = svc({ build: '{ context: app, dockerfile: ../Containerfile }', dependencies: 'deps.yml' });
    const dir = project(text, ['sub/Containerfile', 'sub/deps.yml'], ['sub/app']);
    writeFileSync(join(dir, 'sub', 'deps.yml'), 'services:\n  db: { image: postgres:16 }\n');
    const c = load(dir);
    expect(c.service?.source).toEqual({
      kind: 'build',
      context: join(dir, 'sub', 'app'),
      dockerfile: join(dir, 'sub', 'Containerfile'),
      args: {},
    });
    expect(c.service?.dependencies).toBe(join(dir, 'sub', 'deps.yml'));
  });

  it.each([
    ['an empty file', '', 'services', 'needs a services: mapping'],
    ['a list of services', 'services: [db]\n', 'services', 'needs a services: mapping'],
    [
      'a service named like a flag',
      'services:\n  "--force-recreate": { image: x }\n',
      'services.--force-recreate',
      'is not a Compose service name',
    ],
    [
      'a service name with a space',
      'services:\n  "my db": { image: x }\n',
      'services.my db',
      'is not a Compose service name',
    ],
  ])("refuses a dependencies file with %s: its names go into Compose's argv", (_what, deps, path, rule) => {
    const dir = project(svc({ dependencies: 'deps.yml' }), ['sub/Dockerfile', 'sub/deps.yml']);
    writeFileSync(join(dir, 'sub', 'deps.yml'), deps);
    expect(issuesOf(() => load(dir))).toEqual([
      { source: join(dir, 'sub', 'deps.yml'), path, rule: expect.stringContaining(rule) },
    ]);
  });

  it("reads the dependencies file's builds (both Compose spellings) and its depends_on", () => {
    const dir = project(svc({ dependencies: 'deps.yml' }), ['sub/Dockerfile', 'sub/deps.yml'], ['sub/worker']);
    writeFileSync(
      join(dir, 'sub', 'deps.yml'),
      [
        'services:',
        '  api2: { build: ./worker, depends_on: { worker: { condition: service_started } } }',
        '  worker: { build: { context: worker, dockerfile: W.Dockerfile, args: [A=1, "B=x=y"] }, depends_on: [db] }',
        '  db: { image: postgres:15 }',
        '',
      ].join('\n'),
    );
    expect(load(dir).service?.dependencies).toBe(join(dir, 'sub', 'deps.yml'));
    expect(readDependencies(join(dir, 'sub', 'deps.yml'), [dir])).toEqual({
      issues: [],
      services: [
        {
          name: 'api2',
          build: {
            context: join(dir, 'sub', 'worker'),
            dockerfile: join(dir, 'sub', 'worker', 'Dockerfile'),
            args: {},
          },
          dependsOn: ['worker'],
          perRegion: false,
          definition: undefined,
          image: undefined,
          ports: [],
        },
        {
          name: 'worker',
          build: {
            context: join(dir, 'sub', 'worker'),
            dockerfile: join(dir, 'sub', 'worker', 'W.Dockerfile'),
            args: { A: '1', B: 'x=y' },
          },
          dependsOn: ['db'],
          perRegion: false,
          definition: undefined,
          image: undefined,
          ports: [],
        },
        {
          name: 'db',
          build: undefined,
          dependsOn: [],
          perRegion: false,
          definition: undefined,
          image: 'postgres:15',
          ports: [],
        },
      ],
    });
  });

  it('reads a per-region service (label in either Compose spelling), keeping its entry to copy', () => {
    const dir = project(svc({ dependencies: 'deps.yml' }), ['sub/Dockerfile', 'sub/deps.yml']);
    writeFileSync(
      join(dir, 'sub', 'deps.yml'),
      'services:\n  cache: { image: redis:7, labels: { chaos-gate.per-region: "true" } }\n  db: { image: pg, labels: ["chaos-gate.per-region=false", "team=x"] }\n',
    );
    const { services } = readDependencies(join(dir, 'sub', 'deps.yml'), [dir]);
    expect(services.map((d) => [d.name, d.perRegion, d.definition])).toEqual([
      ['cache', true, { image: 'redis:7', labels: { 'chaos-gate.per-region': 'true' } }],
      ['db', false, undefined],
    ]);
  });

  it.each([
    [
      'a per-region service that publishes ports',
      '  w: { image: x, ports: ["6379:6379"], labels: { chaos-gate.per-region: "true" } }',
      'services.w.ports',
      'its four copies would publish the same ports',
    ],
    [
      'a per-region service with its own networks',
      '  w: { image: x, networks: [back], labels: { chaos-gate.per-region: "true" } }',
      'services.w.networks',
      'join the network of their region',
    ],
    [
      'a per-region label that is no boolean',
      '  w: { image: x, labels: { chaos-gate.per-region: "yes" } }',
      'services.w.labels',
      'must be "true" or "false"',
    ],
    [
      'a shared service depending on a per-region one',
      '  w: { image: x, labels: { chaos-gate.per-region: "true" } }\n  s: { image: y, depends_on: [w] }',
      'services.s.depends_on',
      'a service started once per stack cannot depend on it',
    ],
    [
      'a build field the gate does not honour',
      '  w: { build: { context: ., target: prod } }',
      'services.w.build.target',
      'is not honoured: chaos-gate builds your dependencies itself',
    ],
    [
      'a build context outside the repository',
      '  w: { build: /etc }',
      'services.w.build.context',
      'outside the working directory',
    ],
    [
      'a Dockerfile outside the repository',
      '  w: { build: { context: ., dockerfile: ../../../../etc/passwd } }',
      'services.w.build.dockerfile',
      'outside the working directory',
    ],
    [
      'a build that is a number',
      '  w: { build: 3 }',
      'services.w.build',
      'must be a folder (the build context) or a mapping',
    ],
    [
      'build args that are not NAME=value',
      '  w: { build: { context: ., args: ["1A=x"] } }',
      'services.w.build.args',
      'must be NAME: value',
    ],
    [
      'depends_on naming no service of the file',
      '  w: { image: x, depends_on: [nope] }',
      'services.w.depends_on',
      '"nope" is not a service of this file (w)',
    ],
    [
      'depends_on that is text',
      '  w: { image: x, depends_on: nope }',
      'services.w.depends_on',
      'must be a list of service names or a mapping',
    ],
  ])('refuses a dependencies file with %s', (_what, line, path, rule) => {
    const dir = project(svc({ dependencies: 'deps.yml' }), ['sub/Dockerfile', 'sub/deps.yml']);
    writeFileSync(join(dir, 'sub', 'deps.yml'), `services:\n${line}\n`);
    expect(issuesOf(() => load(dir))).toEqual([
      { source: join(dir, 'sub', 'deps.yml'), path, rule: expect.stringContaining(rule) },
    ]);
  });

  it('may reach the working directory above the file', () => {
    const dir = project(svc({ build: '{ context: .. }' }), ['Dockerfile']);
    expect(load(dir).service?.source).toMatchObject({ context: dir, dockerfile: join(dir, 'Dockerfile') });
  });

  it.each([
    [
      'a missing Dockerfile (default)',
      svc(),
      [],
      [],
      'service.build.dockerfile',
      2,
      (d: string) => `no file at "${join(d, 'sub', 'Dockerfile')}" (resolved against build.context)`,
    ],
    [
      'a missing Dockerfile (written)',
      svc({ build: '{ dockerfile: prod.Dockerfile }' }),
      ['sub/Dockerfile'],
      [],
      'service.build.dockerfile',
      2,
      (d: string) => `no file at "${join(d, 'sub', 'prod.Dockerfile')}" (resolved against build.context)`,
    ],
    [
      'a Dockerfile that is a folder',
      svc(),
      [],
      ['sub/Dockerfile'],
      'service.build.dockerfile',
      2,
      (d: string) => `no file at "${join(d, 'sub', 'Dockerfile')}" (resolved against build.context)`,
    ],
    [
      'a missing context, said once',
      svc({ build: '{ context: app }' }),
      [],
      [],
      'service.build.context',
      2,
      (d: string) => `no folder at "${join(d, 'sub', 'app')}" (resolved against the configuration file's folder)`,
    ],
    [
      'a context that is a file',
      svc({ build: '{ context: app }' }),
      ['sub/app'],
      [],
      'service.build.context',
      2,
      (d: string) => `no folder at "${join(d, 'sub', 'app')}" (resolved against the configuration file's folder)`,
    ],
    [
      'a missing dependencies file',
      svc({ dependencies: 'deps.yml' }),
      ['sub/Dockerfile'],
      [],
      'service.dependencies',
      6,
      (d: string) => `no file at "${join(d, 'sub', 'deps.yml')}" (resolved against the configuration file's folder)`,
    ],
  ])('refuses %s, naming the field and the path looked for', (_what, text, files, folders, path, line, rule) => {
    const dir = project(text, files, folders);
    expect(issuesOf(() => load(dir))).toEqual([
      { source: join(dir, 'sub', 'chaos-gate.yml'), path, line, rule: rule(dir) },
    ]);
  });

  it("checks the files an environment names, at the environment's line", () => {
    const text = `${svc()}environments:\n  ci:\n    service: { build: { dockerfile: ci.Dockerfile } }\n`;
    const dir = project(text, ['sub/Dockerfile']);
    expect(issuesOf(() => load(dir, 'ci'))).toEqual([
      {
        source: join(dir, 'sub', 'chaos-gate.yml'),
        path: 'environments.ci.service.build.dockerfile',
        line: 8,
        rule: `no file at "${join(dir, 'sub', 'ci.Dockerfile')}" (resolved against build.context)`,
      },
    ]);
  });

  it('does not touch the disk for a text alone (parseConfig), and the image of a prebuilt candidate is no path', () => {
    expect(plan(svc({ build: '{ context: no-such-folder }' })).service?.source).toMatchObject({
      context: join(CWD, 'no-such-folder'),
    });
    const dir = project(svc(IMAGE, BASELINE_IMAGE), []);
    expect(load(dir).service?.source).toEqual({ kind: 'image', image: 'app:1' });
  });

  it.each([
    ['a context outside', '{ context: ../.. }', 'service.build.context'],
    ['an absolute context elsewhere', '{ context: /etc }', 'service.build.context'],
    ['a Dockerfile outside', '{ dockerfile: /etc/passwd }', 'service.build.dockerfile'],
  ])(
    "refuses %s the working directory and the config file's folder, before looking at the disk",
    (_what, build, path) => {
      const dir = project(svc({ build }), ['Dockerfile']);
      const [issue, ...more] = issuesOf(() => load(dir));
      expect(more).toEqual([]);
      expect(issue).toMatchObject({
        path,
        line: 2,
        rule: expect.stringContaining("outside the working directory and the configuration file's folder"),
      });
    },
  );

  it('refuses a dependencies file outside, from a text alone too', () => {
    expect(issuesOf(() => plan(svc({ dependencies: '/etc/compose.yml' })))).toEqual([
      {
        source: 'f.yml',
        path: 'service.dependencies',
        line: 6,
        rule: expect.stringMatching(/^resolves to "\/etc\/compose\.yml", outside the working directory/),
      },
    ]);
  });
});

describe('without service:, everything is as before', () => {
  const FILE =
    'rollout:\n  bake_seconds: 4\npredict:\n  dependencies: { us-east: [db-main] }\nenvironments:\n  staging:\n    gate: { fail_on_rollback: false }\n';

  it('loads with service and baseline undefined, every other section unchanged', () => {
    for (const c of [parseConfig('', 'defaults'), parseConfig(FILE, 'f.yml'), parseConfig(FILE, 'f.yml', 'staging')]) {
      expect(c.service).toBeUndefined();
      expect(c.baseline).toBeUndefined();
      expect(Object.keys(c).sort()).toEqual([
        'baseline',
        'dependencies',
        'environment',
        'experiments',
        'file',
        'gate',
        'predict',
        'prometheus',
        'rollout',
        'service',
        'simulation',
      ]);
      expect(c.dependencies).toEqual([]);
    }
    const dir = mkdtempSync(join(tmpdir(), 'cg-noservice-'));
    writeFileSync(join(dir, 'chaos-gate.yml'), FILE);
    expect(loadConfig(undefined, dir)).toMatchObject({
      service: undefined,
      baseline: undefined,
      file: join(dir, 'chaos-gate.yml'),
    });
    expect(loadConfig(undefined, mkdtempSync(join(tmpdir(), 'cg-nofile-')))).toMatchObject({
      file: undefined,
      service: undefined,
      baseline: undefined,
    });
  });

  it('keeps predict.dependencies beside service.dependencies (the lead wires them later)', () => {
    const c = plan(`${svc({ dependencies: 'deps.yml' })}predict:\n  dependencies: { us-east: [db-main] }\n`);
    expect(c.predict.dependencies).toEqual({ 'us-east': ['db-main'] });
    expect(c.service?.dependencies).toBe(join(CWD, 'deps.yml'));
  });
});

describe('environments', () => {
  it('override service and baseline like any section, deep-merged', () => {
    const text = `${svc({ env: '{ A: "1" }' })}environments:\n  ci:\n    service: { port: 8080, env: { B: "2" }, traffic: [{ path: /ci }] }\n    baseline: { image: app:stable }\n  demo-only: { gate: {} }\n`;
    const ci = parseConfig(text, 'f.yml', 'ci');
    expect(ci.service).toMatchObject({ port: 8080, env: { A: '1', B: '2' }, traffic: [{ path: '/ci' }] });
    expect(ci.baseline).toEqual({ source: { kind: 'image', image: 'app:stable' } });
    expect(parseConfig(text, 'f.yml').service?.port).toBe(3000);
  });

  it("give a service to one environment only, and name the environment's line for its problems", () => {
    const text = `gate: {}\nenvironments:\n  mine:\n    service: { image: app, port: 1, health: { path: / }, traffic: [{ path: / }] }\n    baseline: { image: app:0 }\n  bad:\n    service:\n      port: 0\n`;
    expect(issuesOf(() => parseConfig(text, 'f.yml', 'mine')).map((i) => [i.path, i.line])).toEqual([
      ['environments.bad.service.port', 8],
      ['environments.bad.service.health', 7],
      ['environments.bad.service.traffic', 7],
    ]);
    const good = text.slice(0, text.indexOf('  bad:'));
    expect(parseConfig(good, 'f.yml', 'mine').service?.source).toEqual({ kind: 'image', image: 'app' });
    expect(parseConfig(good, 'f.yml').service).toBeUndefined();
  });
});

describe('documentation and editors', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Your service: `service:` and `baseline:`'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

  it("the README's service example is a valid file with the defaults it claims", () => {
    const documented = parseConfig(yaml, 'README.md');
    expect(documented.service).toEqual(plan(EXAMPLE).service);
    expect(documented.baseline).toEqual(plan(svc()).baseline);
  });

  it('the JSON Schema knows both sections', () => {
    const schema = JSON.parse(
      readFileSync(new URL('../../schemas/chaos-gate.schema.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    expect(validate(parse(yaml)), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ environments: { ci: { service: { port: 1 }, baseline: { ref: 'main' } } } })).toBe(true);
    for (const bad of [
      { service: { prt: 1 } },
      { service: { port: 0 } },
      { baseline: { ref: 'x', tag: 1 } },
      { service: { traffic: [{ method: 'get' }] } },
    ]) {
      expect(validate(bad)).toBe(false);
    }
  });
});
