// One experiment: what was done, the three charts, the measurements and the window numbers.
export const EXPERIMENT =
  `<article class="panel experiment" id="{{anchor}}" data-status="{{status}}">
  <div class="panel-head"><h3>{{name}}</h3><span class="badge tone-{{tone}}">{{status}}</span></div>
  <p class="desc">{{description}}</p>
  <div class="facts">
    <span><b>Fault</b>{{fault}}</span>
    <span><b>Targets</b>{{targets}}</span>
    <span><b>Fault window</b>{{faultWindow}}</span>
    <span><b>Duration</b>{{duration}}</span>
    <span><b>Reverted</b>{{reverted}}</span>
    <span><b>Acknowledged writes lost</b>{{writesLost}}</span>
    {{#if params}}<span><b>Parameters</b><code>{{params}}</code></span>{{/if}}
  </div>
  {{#if notes.length}}<ul class="notes">{{#each notes}}<li>{{this}}</li>{{/each}}</ul>{{/if}}
  {{#if error}}<div class="error-box"><b>Could not run:</b> {{error}}</div>{{/if}}
  {{#if hasCharts}}<div class="charts">
    <div class="chart-box"><h4>Latency percentiles (ms)</h4>
      {{#if latency}}{{#with latency}}{{> latencyChart}}{{/with}}{{else}}` +
  `<div class="nodata">No latency data (no successful requests).</div>{{/if}}</div>
    <div class="chart-box"><h4>Error rate over time</h4>
      {{#if rate}}{{#with rate}}{{> rateChart}}{{/with}}{{else}}` +
  `<div class="nodata">No traffic was recorded.</div>{{/if}}</div>
    <div class="chart-box"><h4>Recovery time vs threshold</h4>
      {{#if recovery}}{{#with recovery}}{{> recoveryChart}}{{/with}}{{else}}` +
  `<div class="nodata">This experiment has no recovery measurement.</div>{{/if}}</div>
  </div>{{else}}<p class="small">No charts: no traffic was recorded for this experiment.</p>{{/if}}
  <h4>Measurements</h4>
  {{#if measurements.length}}
  <div class="wrap"><table class="measurements">
    <thead><tr><th>Measurement</th><th class="num">Value</th><th class="num">Threshold</th><th>Result</th>` +
  `<th>Detail</th></tr></thead>
    <tbody>{{#each measurements}}<tr><td><code>{{name}}</code></td><td class="num">{{value}}</td>` +
  `<td class="num">{{threshold}}</td><td><span class="badge tone-{{tone}}">{{result}}</span></td>` +
  `<td>{{detail}}</td></tr>
    {{/each}}</tbody>
  </table></div>
  {{else}}<p class="small">No measurements were recorded.</p>{{/if}}
  {{#if windows.length}}
  <details><summary>Traffic in each window</summary>
  <div class="wrap"><table class="windows">
    <thead><tr><th>Window</th><th class="num">From</th><th class="num">To</th><th class="num">Requests</th>` +
  `<th class="num">Errors</th><th class="num">Error rate</th><th class="num">p50</th><th class="num">p95</th>` +
  `<th class="num">p99</th><th class="num">Throughput</th></tr></thead>
    <tbody>{{#each windows}}<tr><td>{{window}}</td><td class="num">{{from}}</td><td class="num">{{to}}</td>` +
  `<td class="num">{{count}}</td><td class="num">{{errors}}</td><td class="num">{{errorRate}}</td>` +
  `<td class="num">{{p50}}</td><td class="num">{{p95}}</td><td class="num">{{p99}}</td>` +
  `<td class="num">{{throughput}}</td></tr>
    {{/each}}</tbody>
  </table></div>
  </details>
  {{/if}}
</article>
`;
