import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The provisioned dashboard checked against Grafana's own published schema (issue 16). The
// @grafana/schema package ships no JSON schema or CUE, only the TypeScript types generated
// from the CUE kinds: the dashboard kind (Dashboard) and each panel plugin's options and
// field config. The JSON is written into a .ts file as `<json> satisfies <type>` and
// type-checked by the TypeScript compiler; object literals get excess-property checks, so an
// unknown key is an error as well as a wrong type.
const root = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARD = 'observability/grafana/dashboards/chaos-gate.json';
const RAW = '@grafana/schema/dist/esm/raw';

/** Panel types whose plugin schema the check knows; any other type fails the test. */
const PANEL_SCHEMAS: Record<string, { module: string; fieldConfig: boolean }> = {
  timeseries: { module: `${RAW}/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen`, fieldConfig: true },
  stat: { module: `${RAW}/composable/stat/panelcfg/x/StatPanelCfg_types.gen`, fieldConfig: false },
  table: { module: `${RAW}/composable/table/panelcfg/x/TablePanelCfg_types.gen`, fieldConfig: true },
};

interface PanelJson {
  id?: number;
  type?: string;
  title?: string;
  panels?: PanelJson[];
}
/** The fields of a timeseries panel that the broken copy changes. */
interface TimeseriesJson {
  gridPos: { h: unknown };
  options: { legend: { showLegend: unknown } };
  fieldConfig: { defaults: { custom?: object } };
}

// Grafana's types use TS enums (FieldColorModeId, MappingType...) where JSON holds their values.
// Plugin options are stored without their defaults (Grafana fills them in), so every option
// is optional here; types and unknown keys are still checked. Panel's own options and
// custom field config are open records: replaced, so the plugin's keys are the only ones.
const PRELUDE = `
type Json<T> = T extends string ? \`\${T}\` : T extends (infer U)[] ? Json<U>[]
  : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
type Stored<T> = T extends (infer U)[] ? Stored<U>[] : T extends object ? { [K in keyof T]?: Stored<T[K]> } : T;
type Defaults<C> = Omit<FieldConfig, 'custom'> & { custom?: Stored<C> };
type Typed<O, C> = Json<Omit<Panel, 'options' | 'fieldConfig'> & {
  options?: Stored<O>;
  fieldConfig?: Omit<FieldConfigSource, 'defaults'> & { defaults: Defaults<C> };
}>;`;

/** Every panel, rows' collapsed panels included. */
function allPanels(panels: readonly PanelJson[] = []): PanelJson[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels)]);
}

/** The type a panel's JSON must satisfy: a row, or its plugin's options and field config. */
function panelType(type: string | undefined): string {
  if (type === 'row') return 'Json<RowPanel>';
  const i = Object.keys(PANEL_SCHEMAS).indexOf(type ?? '');
  if (i < 0) return 'never';
  return `Typed<p${i}.Options, ${PANEL_SCHEMAS[type as string]?.fieldConfig ? `p${i}.FieldConfig` : 'never'}>`;
}

/** The .ts file: the whole dashboard against Dashboard, then each panel against its plugin's types. */
function generate(dashboard: { panels?: PanelJson[] }): { source: string; sections: [number, string][] } {
  const lines = [
    'import type { Dashboard, FieldConfig, FieldConfigSource, Panel, RowPanel }',
    `  from '${RAW}/dashboard/x/Dashboard_types.gen';`,
    ...Object.values(PANEL_SCHEMAS).map((s, i) => `import type * as p${i} from '${s.module}';`),
    ...PRELUDE.split('\n'),
  ];
  // Where each check starts (1-based line), so an error names the panel it is in.
  const sections: [number, string][] = [];
  const add = (label: string, name: string, json: unknown, type: string) => {
    sections.push([lines.length + 1, label]);
    lines.push(...`export const ${name} = ${JSON.stringify(json, null, 2)} satisfies ${type};`.split('\n'));
  };
  add('dashboard', 'dashboard', dashboard, 'Json<Dashboard>');
  allPanels(dashboard.panels).forEach((panel, n) => {
    const label = `panel ${panel.id ?? n} "${panel.title ?? ''}" (${panel.type ?? 'no type'})`;
    add(label, `panel${n}`, panel, panelType(panel.type));
  });
  return { source: lines.join('\n'), sections };
}

/** Type-checks the generated file in memory, beside the repository so node_modules resolve. */
function typeErrors(dashboard: object): string[] {
  const { source, sections } = generate(dashboard);
  const file = join(root, '.cache', 'grafana-dashboard.generated.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest);
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    const label = sections.findLast(([start]) => start <= line)?.[1] ?? 'imports';
    // The generated line is the JSON's own line, which names the field.
    const at = source.split('\n')[line - 1]?.trim() ?? '';
    return `${label}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')} (at ${at})`;
  });
}

const dashboard = JSON.parse(readFileSync(join(root, DASHBOARD), 'utf8')) as { panels: PanelJson[] };

describe("the dashboard against Grafana's published schema (@grafana/schema)", () => {
  it('every panel type has its plugin schema here', () => {
    const types = new Set(allPanels(dashboard.panels).map((p) => p.type));
    expect([...types].filter((t) => t !== 'row' && !(t! in PANEL_SCHEMAS))).toEqual([]);
  });

  it(`${DASHBOARD} type-checks as a Dashboard, each panel as its plugin's options and field config`, () => {
    expect(typeErrors(dashboard)).toEqual([]);
  }, 30_000);

  it('a wrong type in a panel field, a wrong option type and an unknown key are reported', () => {
    const broken = structuredClone(dashboard);
    const timeseries = allPanels(broken.panels).find((p) => p.type === 'timeseries') as PanelJson & TimeseriesJson;
    timeseries.gridPos.h = '8';
    timeseries.options.legend.showLegend = 'yes';
    timeseries.fieldConfig.defaults.custom = { ...timeseries.fieldConfig.defaults.custom, lineWidht: 2 };
    const errors = typeErrors(broken);
    const label = `panel ${timeseries.id} "${timeseries.title}" (timeseries)`;
    expect(errors).toEqual(
      expect.arrayContaining([
        `dashboard: Type 'string' is not assignable to type 'number'. (at "h": "8",)`,
        `${label}: Type 'string' is not assignable to type 'number'. (at "h": "8",)`,
        expect.stringMatching(/^panel .*: Type 'string' is not assignable to type 'boolean \| undefined'\. \(at "show/),
        expect.stringMatching(/^panel .*: Object literal may only specify known properties, and '"lineWidht"'/),
      ]),
    );
    expect(errors.every((e) => e.startsWith('dashboard: ') || e.startsWith(`${label}: `))).toBe(true);
  }, 30_000);
});
