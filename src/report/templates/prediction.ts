// The prediction: the risk score and what it did, its components and the failure points,
// each stage's predicted range beside what the rollout observed, the pre-flight, and the
// trend over the last runs (or "no history yet").
export const PREDICTION =
  `<article class="panel prediction" data-action="{{action}}">
  <div class="panel-head"><h3>Risk score {{score}}/100</h3><span class="badge tone-{{levelTone}}">{{level}}</span>` +
  `<span class="badge tone-{{actionTone}}">{{action}}</span></div>
  <div class="facts">
    <span><b>Max risk</b>{{maxRisk}}</span>
    <span><b>Action</b>{{actionReason}}</span>
    <span><b>Pre-flight</b>{{preflight}}</span>
    <span><b>Accuracy</b>{{accuracy}}</span>
  </div>
  <p class="formula"><code>{{formula}}</code></p>
  <div class="wrap"><table class="risk-components">
    <thead><tr><th>Component</th><th class="num">Weight</th><th class="num">Value</th><th class="num">Points</th>` +
  `<th>Why</th></tr></thead>
    <tbody>{{#each components}}<tr><td class="nw"><code>{{name}}</code></td><td class="num">{{weight}}</td>` +
  `<td class="num">{{value}}</td><td class="num">{{points}}</td><td>{{explanation}}</td></tr>
    {{/each}}</tbody>
  </table></div>
  <h4 class="sub">Likely failure points</h4>
  {{#if failurePoints.length}}<ul class="failure-points">{{#each failurePoints}}<li>` +
  `<b>{{points}}</b> {{#if where}}[{{where}}] {{/if}}{{explanation}}</li>{{/each}}</ul>
  {{else}}<p class="empty">None: no component carries half a point.</p>{{/if}}

  <h4 class="sub">Predicted range vs observed, per stage</h4>
  <div class="wrap"><table class="predicted-stages">
    <thead><tr><th>Stage</th><th class="num">P(breach)</th><th class="num">Predicted err. rate</th>` +
  `<th class="num">Predicted p99</th><th>Region</th><th class="num">Requests</th>` +
  `<th class="num">Observed err. rate</th><th class="num">Range at n</th><th class="num">Observed p99</th>` +
  `<th class="num">Range at n</th></tr></thead>
    <tbody>{{#each stages}}{{#if observed.length}}{{#each observed}}<tr class="predicted-row">{{#if @first}}` +
  `<td class="nw" rowspan="{{../observed.length}}">{{../label}}</td>` +
  `<td class="num" rowspan="{{../observed.length}}">{{../breach}}</td>` +
  `<td class="num" rowspan="{{../observed.length}}">{{../errorRate}}</td>` +
  `<td class="num" rowspan="{{../observed.length}}">{{../p99}}</td>{{/if}}<td class="nw">{{region}}</td>` +
  `<td class="num">{{requests}}</td><td class="num"><span class="badge value tone-{{errorTone}}">{{errorObserved}}` +
  `</span></td><td class="num">{{errorRange}}</td><td class="num">` +
  `<span class="badge value tone-{{p99Tone}}">{{p99Observed}}</span></td><td class="num">{{p99Range}}</td></tr>
    {{/each}}{{else}}<tr class="predicted-row"><td class="nw">{{label}}</td><td class="num">{{breach}}</td>` +
  `<td class="num">{{errorRate}}</td><td class="num">{{p99}}</td><td colspan="6" class="empty">not run</td></tr>
    {{/if}}{{/each}}</tbody>
  </table></div>
  <p class="note-line">Ranges are central 90%; an observed value is recomputed against the range for the requests ` +
  `it was judged on, and calibrated by the baseline beside it when that baseline was slower or failed more than in ` +
  `the pre-flight (a busier host slows both versions alike). Green inside, yellow above, grey below or unknown.</p>

  <h4 class="sub">Pre-flight</h4>
  <div class="wrap"><table class="preflight">
    <thead><tr><th>Profile</th><th class="num">rps</th><th class="num">Writes</th>` +
  `<th class="num">Candidate req / err</th><th class="num">Candidate p50 / p99</th>` +
  `<th class="num">Stable req / err</th><th class="num">Stable p50 / p99</th></tr></thead>
    <tbody>{{#each profiles}}<tr><td>{{name}}</td><td class="num">{{rps}}</td><td class="num">{{writes}}</td>` +
  `<td class="num">{{canaryCounts}}</td><td class="num">{{canaryLatency}}</td>` +
  `<td class="num">{{baselineCounts}}</td><td class="num">{{baselineLatency}}</td></tr>
    {{/each}}</tbody>
  </table></div>

  <h4 class="sub">Trend over the last runs</h4>
  {{#if trend}}<div class="chart-box wide">{{#with trend}}{{> trendChart}}{{/with}}
    <div class="legend"><span><i class="sw-green"></i>gate open</span><span><i class="sw-red"></i>gate closed</span>` +
  `<span>{{trendSummary}}</span></div></div>
  {{else}}<p class="empty no-history">No history yet: this is the first recorded run.</p>{{/if}}
  {{#each historyProblems}}<p class="note-line">history: {{this}}</p>{{/each}}
  {{#each notes}}<p class="note-line">note: {{this}}</p>{{/each}}
</article>`;
