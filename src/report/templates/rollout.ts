// The rollout: headline, the swimlane timeline, the waves, the stages (canary vs baseline),
// chaos on the candidate (one fault on candidate and baseline at once), the rollback (its
// decision, verification and the data's mitigation) and the raw timeline.
export const ROLLOUT =
  `<article class="panel rollout" data-final-state="{{finalState}}">
  <div class="panel-head"><h3>Rollout of {{version}}</h3><span class="badge tone-{{tone}}">{{finalState}}</span></div>
  <div class="facts">
    <span><b>Strategy</b>{{strategy}}</span>
    <span><b>Candidate failure rate</b>{{failureRate}}</span>
    <span><b>Duration</b>{{duration}}</span>
    <span><b>Time to detect</b>{{detect}}</span>
    <span><b>Time to roll back</b>{{rollbackTime}}</span>
    <span><b>Traffic</b>{{traffic}}</span>
  </div>
  {{#if rollbackReason}}<div class="error-box"><b>Rolled back{{#if failedRegion}} in {{failedRegion}}` +
  `{{/if}}:</b> {{rollbackReason}}</div>{{/if}}
  <div class="chart-box wide timeline"><h4>Timeline by region</h4>{{#with lanes}}{{> swimlanes}}{{/with}}
    <div class="legend"><span><i class="sw-green"></i>green stage</span><span><i class="sw-yellow"></i>yellow</span>` +
  `<span><i class="sw-red"></i>red</span><span><i class="sw-inconclusive"></i>inconclusive</span><span>` +
  `<i class="sw-promotion"></i>promotion and verification</span><span><i class="sw-rollback"></i>rollback</span>` +
  `<span><i class="sw-pause"></i>pause</span></div>
  </div>

  <h4 class="sub">Waves</h4>
  <div class="wrap"><table class="waves">
    <thead><tr><th class="num">Wave</th><th>Region</th><th>Result</th><th class="num">Stages passed</th>` +
  `<th>Previous</th><th>Final version</th><th>Outcome</th><th>Reason</th></tr></thead>
    <tbody>{{#each regions}}<tr data-region="{{region}}" data-outcome="{{outcome}}"><td class="num">{{wave}}</td>` +
  `<td class="nw"><b>{{region}}</b></td><td><span class="badge tone-{{tone}}">{{status}}</span></td>` +
  `<td class="num">{{stagesPassed}}</td><td>{{previous}}</td><td>{{finalVersion}}</td><td>` +
  `<span class="badge tone-{{outcomeTone}}">{{outcomeText}}</span></td><td>{{reason}}</td></tr>
    {{/each}}</tbody>
  </table></div>

  <h4 class="sub">Stages: canary vs baseline</h4>
  {{#if stages.length}}
  <div class="wrap"><table class="stages">
    <thead><tr><th>Region</th><th>Stage</th><th>Verdict</th><th class="num">Duration</th>` +
  `<th class="num">Analyses</th><th class="num">Canary req / err</th><th class="num">Canary err. rate</th>` +
  `<th class="num">Baseline err. rate</th><th class="num">Canary p99</th>` +
  `<th class="num">Baseline p99</th></tr></thead>
    <tbody>{{#each stages}}<tr class="stage-row"><td class="nw"><b>{{region}}</b></td><td class="nw">{{label}}</td>` +
  `<td><span class="badge tone-{{verdict}}">{{verdict}}</span>` +
  `{{#if aborted}} <span class="badge tone-aborted">aborted</span>{{/if}}</td><td class="num">{{duration}}</td>` +
  `<td class="num">{{analyses}}</td><td class="num">{{canaryCounts}}</td><td class="num">{{canaryErrorRate}}</td>` +
  `<td class="num">{{baselineErrorRate}}</td><td class="num">{{canaryP99}}</td>` +
  `<td class="num">{{baselineP99}}</td></tr>
    <tr class="reasons-row"><td colspan="10"><details{{#if reasonsOpen}} open{{/if}}>` +
  `<summary>why {{verdict}}</summary><ul>{{#each reasons}}<li>{{this}}</li>{{/each}}</ul></details></td></tr>
    {{/each}}</tbody>
  </table></div>
  {{#if checks.length}}
  <details><summary>Checks of each stage's last analysis ({{checks.length}})</summary>
  <div class="wrap"><table class="checks">
    <thead><tr><th>Region</th><th>Stage</th><th>Source</th><th>Check</th><th class="num">Value</th>` +
  `<th class="num">Allowed</th><th class="num">Samples</th><th>Verdict</th><th>Query</th></tr></thead>
    <tbody>{{#each checks}}<tr><td class="nw">{{region}}</td><td class="nw">{{stage}}</td><td>{{source}}</td><td>` +
  `<code>{{name}}</code></td><td class="num">{{value}}</td><td class="num">{{range}}</td>` +
  `<td class="num">{{samples}}</td><td><span class="badge tone-{{verdict}}">{{verdict}}</span></td><td>` +
  `<code>{{query}}</code></td></tr>
    {{/each}}</tbody>
  </table></div>
  </details>
  {{/if}}
  {{else}}<p class="small">No canary stage was judged.</p>{{/if}}

  <h4 class="sub">Chaos on the candidate</h4>
  {{#if differential.length}}
  <p class="small">The same fault on the candidate and the baseline of one canary stage at once;
    each figure: the candidate's, then vs the baseline's.</p>
  <div class="wrap"><table class="differential">
    <thead><tr><th>Experiment</th><th>Region</th><th>Stage</th><th>Fault</th><th>Verdict</th>
      <th class="num">Error rate (n)</th><th class="num">p99</th><th class="num">Recovery</th>
      <th class="num">Writes lost</th></tr></thead>
    <tbody>{{#each differential}}<tr class="run-row" data-verdict="{{verdict}}">
      <td class="nw"><b>{{experiment}}</b></td><td class="nw">{{region}}</td><td class="nw">{{stage}}</td>
      <td class="fault">{{fault}}</td>
      <td><span class="badge tone-{{tone}}">{{verdictText}}</span></td>
      <td class="num">{{errorRate.candidate}}<div class="small">vs {{errorRate.baseline}}</div></td>
      <td class="num">{{p99.candidate}}<div class="small">vs {{p99.baseline}}</div></td>
      <td class="num">{{recovery.candidate}}<div class="small">vs {{recovery.baseline}}</div></td>
      <td class="num">{{writesLost.candidate}}<div class="small">vs {{writesLost.baseline}}</div></td>
    </tr>
    <tr class="headline-row"><td colspan="9"><div class="headline">{{headline}}</div>
      {{#each notes}}<div class="note-line">note: {{this}}</div>{{/each}}
      {{#if reasons.length}}<details><summary>why {{verdictText}} ({{reasons.length}})</summary>
        <ul>{{#each reasons}}<li>{{this}}</li>{{/each}}</ul></details>{{/if}}
    </td></tr>
    {{/each}}</tbody>
  </table></div>
  {{else}}<p class="small">No differential runs.</p>{{/if}}

  {{#if decisions.length}}
  <h4 class="sub">Rollback decision</h4>
  <p class="rollback-scope" data-scope="{{scope}}"><b>Scope: {{scope}}` +
  `</b>. Rolled back: {{rolledBackRegions}}. Kept on the candidate: {{keptRegions}}.</p>
  {{#each decisions}}<div class="decision" data-scope="{{scope}}">
    <p><span class="badge tone-{{tone}}">{{scope}}</span> <b>{{failedRegion}}` +
  `</b> aborted: {{summary}} ({{result}} in {{duration}}).</p>
    <details><summary>why: the evidence ({{evidence.length}})</summary><ul>{{#each evidence}}` +
  `<li>{{this}}</li>{{/each}}</ul></details>
  </div>
  {{/each}}
  {{/if}}

  {{#if verifications.length}}
  <h4 class="sub">Rollback verification</h4>
  <div class="wrap"><table class="verifications">
    <thead><tr><th>Region</th><th>Result</th><th>Expected</th><th>Reported</th><th>Container</th>` +
  `<th class="num">Health checks</th><th>Problem</th></tr></thead>
    <tbody>{{#each verifications}}<tr><td class="nw">{{region}}</td><td>` +
  `<span class="badge tone-{{tone}}">{{result}}</span></td><td>{{expected}}</td><td>{{reported}}</td>` +
  `<td>{{container}}</td><td class="num">{{healthChecks}}</td><td>{{problem}}</td></tr>
    {{/each}}</tbody>
  </table></div>
  {{/if}}
  {{#if mitigation.length}}
  <h4 class="sub">Data mitigation</h4>
  <div class="wrap"><table class="mitigation">
    <thead><tr><th>Region</th><th class="num">Backup</th><th>Integrity</th><th>Restored</th>` +
  `<th class="num">Pre-deploy writes checked / missing</th>` +
  `<th class="num">Candidate writes undone / lost by the candidate</th><th>Problems</th></tr></thead>
    <tbody>{{#each mitigation}}<tr data-region="{{region}}"><td class="nw"><b>{{region}}</b></td>` +
  `<td class="num">{{backup}}</td><td><span class="badge tone-{{integrityTone}}">{{integrity}}</span>` +
  `{{#each integrityProblems}}<div class="small">{{this}}</div>{{/each}}</td><td>{{restored}}</td>` +
  `<td class="num">{{preDeploy}}</td><td class="num">{{candidate}}</td><td>{{#each problems}}` +
  `<div>{{this}}</div>{{/each}}</td></tr>
    {{/each}}</tbody>
  </table></div>
  {{/if}}
  {{#each problems}}<div class="error-box">{{this}}</div>{{/each}}

  <details><summary>State transitions ({{timeline.length}})</summary>
  <div class="wrap"><table class="timeline">
    <thead><tr><th class="num">At</th><th>Event</th><th>From</th><th>To</th><th>Region</th><th>Stage</th>` +
  `<th>Detail</th></tr></thead>
    <tbody>{{#each timeline}}<tr><td class="num">{{at}}</td><td><code>{{event}}</code></td><td>{{from}}</td>` +
  `<td>{{to}}</td><td>{{region}}</td><td>{{stage}}</td><td>{{detail}}</td></tr>
    {{/each}}</tbody>
  </table></div>
  </details>
</article>
`;
