// The charts as inline SVG. Geometry comes from charts.ts / swimlanes.ts; these templates
// only place it. `right` and `bottom` are the plot's far edges (html.ts adds them).

export const LATENCY_CHART =
  `<svg class="chart chart-latency" viewBox="0 0 {{width}} {{height}}" role="img" ` +
  `aria-label="Latency p50, p95 and p99 before, during and after the fault">
  {{#each legend}}<rect class="w-{{window}}" x="{{x}}" y="6" width="10" height="10" rx="2"/>` +
  `<text x="{{x}}" dx="14" y="15">{{label}}</text>{{/each}}
  {{#each yTicks}}<line class="grid" x1="{{../plot.x}}" x2="{{../right}}" y1="{{pos}}" y2="{{pos}}"/>` +
  `<text x="{{../plot.x}}" dx="-6" y="{{pos}}" dy="4" text-anchor="end">{{label}}</text>{{/each}}
  {{#each bars}}<rect class="bar w-{{window}}" x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}">` +
  `<title>{{title}}</title></rect>{{/each}}
  {{#each missing}}<text class="note" x="{{x}}" y="{{y}}" text-anchor="middle">n/a<title>{{title}}</title></text>` +
  `{{/each}}
  <line class="axis" x1="{{plot.x}}" x2="{{right}}" y1="{{bottom}}" y2="{{bottom}}"/>
  {{#each groups}}<text x="{{x}}" y="{{../bottom}}" dy="16" text-anchor="middle">{{label}}</text>{{/each}}
</svg>`;

export const RATE_CHART =
  `<svg class="chart chart-rate" viewBox="0 0 {{width}} {{height}}" role="img" ` +
  `aria-label="Error rate per second, fault window shaded">
  <rect class="w-during" x="{{plot.x}}" y="6" width="10" height="10" rx="2" fill-opacity="0.3"/>` +
  `<text x="{{plot.x}}" dx="14" y="15">fault window</text>
  <rect x="{{plot.x}}" y="6" width="10" height="10" transform="translate(110 0)" class="rate-dot"/>` +
  `<text x="{{plot.x}}" dx="124" y="15">error rate per second</text>
  {{#if fault}}<rect class="fault" x="{{fault.x}}" y="{{fault.y}}" width="{{fault.width}}" ` +
  `height="{{fault.height}}"><title>fault injected</title></rect>{{/if}}
  {{#each yTicks}}<line class="grid" x1="{{../plot.x}}" x2="{{../right}}" y1="{{pos}}" y2="{{pos}}"/>` +
  `<text x="{{../plot.x}}" dx="-6" y="{{pos}}" dy="4" text-anchor="end">{{label}}</text>{{/each}}
  <path class="rate-area" d="{{area}}"/>
  <path class="rate-line" d="{{line}}"/>
  {{#each points}}<circle class="rate-dot" cx="{{x}}" cy="{{y}}" r="1.6"><title>{{title}}</title></circle>{{/each}}
  <line class="axis" x1="{{plot.x}}" x2="{{right}}" y1="{{bottom}}" y2="{{bottom}}"/>
  {{#each empty}}<rect class="empty-second" x="{{x}}" y="{{../emptyY}}" width="{{width}}" height="4">` +
  `<title>{{title}}</title></rect>{{/each}}
  {{#each xTicks}}<line class="axis" x1="{{pos}}" x2="{{pos}}" y1="{{../bottom}}" y2="{{../tickEnd}}"/>` +
  `<text x="{{pos}}" y="{{../bottom}}" dy="16" text-anchor="middle">{{label}}</text>{{/each}}
</svg>`;

export const RECOVERY_CHART =
  `<svg class="chart chart-recovery" viewBox="0 0 {{width}} {{height}}" role="img" ` +
  `aria-label="Recovery time against its threshold">
  {{#each xTicks}}<line class="grid" x1="{{pos}}" x2="{{pos}}" y1="{{../plot.y}}" y2="{{../bottom}}"/>` +
  `<text x="{{pos}}" y="{{../bottom}}" dy="16" text-anchor="middle">{{label}}</text>{{/each}}
  {{#if bar}}<rect class="bar {{barClass}}" x="{{bar.x}}" y="{{bar.y}}" width="{{bar.width}}" ` +
  `height="{{bar.height}}" rx="2"><title>{{bar.title}}</title></rect>
  <text class="bar-label{{#if bar.labelInside}} inside{{/if}}" x="{{bar.labelX}}" y="{{bar.labelY}}" ` +
  `text-anchor="{{#if bar.labelInside}}end{{else}}start{{/if}}">{{bar.label}}</text>{{/if}}
  {{#if note}}<text class="note" x="{{plot.x}}" y="{{noteY}}">{{note}}</text>{{/if}}
  {{#if threshold}}<line class="threshold" x1="{{threshold.x}}" x2="{{threshold.x}}" y1="{{thresholdTop}}" ` +
  `y2="{{bottom}}"><title>{{threshold.label}}</title></line>
  <text class="threshold-label" x="{{threshold.x}}" y="{{thresholdTop}}" dy="-5" text-anchor="{{thresholdAnchor}}">` +
  `{{threshold.label}}</text>{{/if}}
  <line class="axis" x1="{{plot.x}}" x2="{{right}}" y1="{{bottom}}" y2="{{bottom}}"/>
</svg>`;

export const SWIMLANES =
  `<svg class="chart chart-swimlanes" viewBox="0 0 {{width}} {{height}}" role="img" ` +
  `aria-label="Rollout timeline: one lane per region">
  {{#each xTicks}}<line class="grid" x1="{{pos}}" x2="{{pos}}" y1="{{../plot.y}}" y2="{{../bottom}}"/>` +
  `<text x="{{pos}}" y="{{../bottom}}" dy="16" text-anchor="middle">{{label}}</text>{{/each}}
  {{#each lanes}}<g class="lane-row" data-region="{{region}}">
    <rect class="lane" x="{{../plot.x}}" y="{{y}}" width="{{../plot.width}}" height="{{height}}" rx="4"/>
    <text class="lane-label" x="8" y="{{nameY}}">{{region}}</text>
    <text class="lane-status status-{{statusTone}}" x="8" y="{{statusY}}">{{statusText}}</text>
    {{#each blocks}}<rect class="block b-{{tone}}" x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}" rx="3">` +
  `<title>{{title}}</title></rect>{{#if label}}` +
  `<text class="block-label {{labelClass}}" x="{{labelX}}" y="{{labelY}}" text-anchor="middle">{{label}}</text>` +
  `{{/if}}{{/each}}
    {{#each pauses}}<line class="pause" x1="{{x}}" x2="{{x}}" y1="{{../y}}" y2="{{../yEnd}}">` +
  `<title>{{title}}</title></line>{{/each}}
    {{#if note}}<text class="note" x="{{note.x}}" y="{{noteY}}">{{note.text}}</text>{{/if}}
  </g>{{/each}}
  {{#if rollback}}<rect class="rollback" x="{{rollback.x}}" y="{{rollback.y}}" width="{{rollback.width}}" ` +
  `height="{{rollback.height}}" rx="3"><title>{{rollback.title}}</title></rect>{{/if}}
  {{#if abort}}<line class="abort" x1="{{abort.x}}" x2="{{abort.x}}" y1="{{abort.y1}}" y2="{{abort.y2}}">` +
  `<title>{{abort.title}}</title></line>{{/if}}
  <line class="axis" x1="{{plot.x}}" x2="{{right}}" y1="{{bottom}}" y2="{{bottom}}"/>
</svg>`;

export const TREND_CHART =
  `<svg class="chart chart-trend" viewBox="0 0 {{width}} {{height}}" role="img" ` +
  `aria-label="Risk score of the last runs against max_risk">
  {{#each yTicks}}<line class="grid" x1="{{../plot.x}}" x2="{{../right}}" y1="{{pos}}" y2="{{pos}}"/>` +
  `<text x="{{../plot.x}}" dx="-6" y="{{pos}}" dy="4" text-anchor="end">{{label}}</text>{{/each}}
  {{#each bars}}<rect class="bar bar-{{tone}}" x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}" rx="2">` +
  `<title>{{title}}</title></rect>{{/each}}
  {{#each missing}}<text class="note" x="{{x}}" y="{{y}}" text-anchor="middle">n/a<title>{{title}}</title></text>` +
  `{{/each}}
  <line class="threshold" x1="{{plot.x}}" x2="{{right}}" y1="{{threshold.y}}" y2="{{threshold.y}}">` +
  `<title>{{threshold.label}}</title></line>
  <text class="threshold-label" x="{{right}}" dx="4" y="{{threshold.y}}" dy="4">{{threshold.label}}</text>
  <line class="axis" x1="{{plot.x}}" x2="{{right}}" y1="{{bottom}}" y2="{{bottom}}"/>
  {{#each xTicks}}<text x="{{pos}}" y="{{../bottom}}" dy="16" text-anchor="middle">{{label}}</text>{{/each}}
</svg>`;
