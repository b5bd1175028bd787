// The report's only stylesheet, inlined into report.html (no external fonts: the system
// font stack). Colours: verdicts green/yellow/red/grey; windows before/during/after.
export const STYLE =
  `
:root {
  --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --card: #ffffff;
  --green: #1a7f37; --green-bg: #dafbe1; --red: #cf222e; --red-bg: #ffebe9;
  --yellow: #9a6700; --yellow-bg: #fff8c5; --grey: #6e7781; --grey-bg: #eaeef2;
  --before: #4f7cac; --during: #e07a1f; --after: #2a9d8f;
}
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f4; color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 20px; margin: 0; font-weight: 600; }
h2 { font-size: 18px; margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0; }
h4 { font-size: 13px; margin: 0 0 6px; color: var(--muted); font-weight: 600; text-transform: uppercase; ` +
  `letter-spacing: .04em; }
code, .mono { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; ` +
  `font-size: 12.5px; }
.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 18px; margin-bottom: 14px; }
.top .meta { color: var(--muted); font-size: 13px; }
.top .meta span + span::before { content: "·"; margin: 0 8px; color: var(--line); }

.verdict { border-radius: 10px; padding: 18px 22px; border: 1px solid; background: var(--card); }
.verdict-open { border-color: #4ac26b; background: linear-gradient(90deg, var(--green-bg), #fff 70%); }
.verdict-closed { border-color: #ff8182; background: linear-gradient(90deg, var(--red-bg), #fff 70%); }
.verdict-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; }
.verdict-label { font-size: 13px; font-weight: 600; text-transform: uppercase; letter-spacing: .06em; ` +
  `color: var(--muted); }
.verdict-status { font-size: 44px; font-weight: 800; letter-spacing: .02em; line-height: 1; }
.verdict-open .verdict-status { color: var(--green); }
.verdict-closed .verdict-status { color: var(--red); }
.verdict-version { font-size: 15px; color: var(--muted); min-width: 0; overflow-wrap: anywhere; }
.verdict-version b { color: var(--fg); }
.reasons-label { margin: 14px 0 2px; font-size: 12px; font-weight: 700; text-transform: uppercase; ` +
  `letter-spacing: .05em; color: var(--muted); }
.reasons { list-style: none; margin: 0; padding: 0; }
.reasons li { position: relative; padding: 3px 0 3px 18px; font-size: 15px; line-height: 1.45; }
.reasons li::before { content: ""; position: absolute; left: 3px; top: .8em; width: 8px; height: 8px; ` +
  `border-radius: 50%; background: var(--green); }
.reasons[data-effect="closes"] li::before { background: var(--red); }
.reasons[data-effect="advisory"] li::before { background: #d4a72c; }
/* A long reason (an error message, every region of a rollback) shows its first lines here; ` +
  `the whole text is in the list below. */
.reasons .text { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 4; line-clamp: 4; ` +
  `overflow: hidden; overflow-wrap: anywhere; }
.more { margin: 2px 0 0 18px; color: var(--muted); font-size: 13px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 10px; margin: 14px 0 0; }
.figure { background: rgba(255, 255, 255, .8); border: 1px solid var(--line); border-radius: 8px; ` +
  `padding: 8px 12px; min-width: 0; }
.figure dt { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; }
.figure dd { margin: 0; }
.figure .v { font-size: 20px; font-weight: 700; line-height: 1.3; overflow-wrap: break-word; }
.figure .s { color: var(--muted); font-size: 12px; line-height: 1.35; overflow-wrap: anywhere; }
.t-pass { color: var(--green); }
.t-fail { color: var(--red); }
.t-warn { color: var(--yellow); }
.verdict-details { margin-top: 12px; }
.verdict-details > summary { font-size: 13px; }
.findings { list-style: none; margin: 8px 0 0; padding: 0; }
.findings li { padding: 6px 0; border-top: 1px solid rgba(0,0,0,.06); display: flex; gap: 10px; align-items: baseline; }
.findings .badge { flex: none; min-width: 98px; }
.findings .text { min-width: 0; overflow-wrap: anywhere; }
.verdict-sub { color: var(--muted); margin: 8px 0 0; }

.badge { display: inline-block; min-width: 52px; text-align: center; border-radius: 999px; padding: 1px 9px;
  font-size: 11.5px; font-weight: 700; letter-spacing: .03em; text-transform: uppercase; white-space: nowrap; }
.tone-pass, .tone-green, .tone-passed, .tone-completed, .tone-open { background: var(--green-bg); color: var(--green); }
.tone-fail, .tone-red, .tone-failed, .tone-rolled_back, .tone-closes, .tone-closed, .tone-aborted, ` +
  `.tone-error { background: var(--red-bg); color: var(--red); }
.tone-yellow, .tone-advisory, .tone-paused { background: var(--yellow-bg); color: var(--yellow); }
.tone-inconclusive, .tone-not_reached, .tone-skipped { background: var(--grey-bg); color: var(--grey); }

.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; ` +
  `margin-bottom: 16px; }
.panel-head { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin-bottom: 4px; }
.desc { color: var(--muted); margin: 2px 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; margin-bottom: 10px; }
.facts b { font-weight: 600; color: var(--muted); margin-right: 4px; }
.notes { margin: 0 0 10px; padding-left: 18px; color: var(--muted); font-size: 13px; }
.tone-ignored { background: var(--grey-bg); color: var(--grey); }
.error-box { background: var(--red-bg); border: 1px solid #ffcecb; color: #82071e; border-radius: 6px; ` +
  `padding: 8px 12px; margin: 8px 0; overflow-wrap: anywhere; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 14px; margin: 10px 0 6px; }
.chart-box { border: 1px solid var(--line); border-radius: 8px; padding: 10px 10px 4px; background: #fff; }
.chart-box.wide { grid-column: 1 / -1; }
.chart-box { display: flex; flex-direction: column; }
.chart-box svg.chart-recovery, .chart-box .nodata { margin: auto 0; }
.nodata { color: var(--muted); font-style: italic; padding: 24px 8px; text-align: center; }
svg.chart { width: 100%; height: auto; display: block; font-size: 11px; }
svg.chart text { fill: var(--muted); }
svg.chart .axis { stroke: #8c959f; stroke-width: 1; }
svg.chart .grid { stroke: #eaeef2; stroke-width: 1; }
svg.chart .w-before { fill: var(--before); }
svg.chart .w-during { fill: var(--during); }
svg.chart .w-after { fill: var(--after); }
svg.chart .fault { fill: rgba(224, 122, 31, .16); stroke: rgba(224, 122, 31, .55); stroke-dasharray: 3 3; }
svg.chart text.fault-label { fill: #b35c0f; font-weight: 600; }
svg.chart .rate-area { fill: rgba(207, 34, 46, .16); }
svg.chart .rate-line { fill: none; stroke: var(--red); stroke-width: 1.8; stroke-linejoin: round; }
svg.chart .rate-dot { fill: var(--red); }
svg.chart .empty-second { fill: #8c959f; }
svg.chart .bar-pass { fill: var(--green); }
svg.chart .bar-fail { fill: var(--red); }
svg.chart .threshold { stroke: var(--fg); stroke-width: 2; stroke-dasharray: 5 3; }
svg.chart text.threshold-label { fill: var(--fg); font-weight: 600; }
svg.chart text.bar-label { fill: var(--fg); font-weight: 700; font-size: 12px; }
svg.chart text.bar-label.inside { fill: #fff; }
svg.chart .lane { fill: var(--soft); }
svg.chart text.lane-label { fill: var(--fg); font-weight: 600; font-size: 12px; }
svg.chart text.lane-status { font-size: 10px; letter-spacing: .05em; font-weight: 700; }
svg.chart text.status-passed { fill: var(--green); }
svg.chart text.status-failed { fill: var(--red); }
svg.chart text.status-not_reached { fill: var(--grey); }
svg.chart .b-green { fill: #2da44e; }
svg.chart .b-yellow { fill: #d4a72c; }
svg.chart .b-red { fill: var(--red); }
svg.chart .b-inconclusive { fill: #8c959f; }
svg.chart .b-promotion { fill: #b6c6dc; }
svg.chart text.block-label { fill: #fff; font-weight: 700; font-size: 10.5px; }
svg.chart text.block-label.on-light { fill: #24364d; }
svg.chart .rollback { fill: rgba(207, 34, 46, .08); stroke: rgba(207, 34, 46, .6); stroke-dasharray: 4 3; }
svg.chart .abort { stroke: var(--red); stroke-width: 2; }
svg.chart text.abort-label { fill: var(--red); font-weight: 700; }
svg.chart .pause { stroke: var(--yellow); stroke-width: 2; }
svg.chart text.note { font-style: italic; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--muted); margin: 4px 0 0; }
h4.sub { margin-top: 16px; }
.legend .sw-green { background: #2da44e; } .legend .sw-yellow { background: #d4a72c; } ` +
  `.legend .sw-red { background: #cf222e; }
.legend .sw-inconclusive { background: #8c959f; } .legend .sw-promotion { background: #b6c6dc; }
.legend .sw-rollback { background: rgba(207, 34, 46, .12); border: 1px dashed #cf222e; }
.legend .sw-pause { width: 3px; background: #9a6700; border-radius: 0; }
.legend .sw-before { background: var(--before); } .legend .sw-during { background: var(--during); } ` +
  `.legend .sw-after { background: var(--after); }
.legend .sw-fault { background: rgba(224, 122, 31, .16); border: 1px dashed rgba(224, 122, 31, .7); }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; ` +
  `vertical-align: -1px; }

table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; color: var(--muted); font-size: 12px; }
td.nw { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td ul { margin: 0; padding-left: 16px; }
table.stages tr.stage-row td { border-bottom: none; padding-bottom: 2px; }
table.stages tr.reasons-row td { padding-top: 0; color: var(--muted); font-size: 12px; }
table.stages tr.reasons-row ul { padding-left: 18px; }
table.stages tr.reasons-row details { margin: 0; }
table.stages tr.reasons-row summary { font-weight: 500; font-size: 12px; }
table.differential tr.run-row td { border-bottom: none; padding-bottom: 2px; }
table.differential td.fault { min-width: 12em; }
table.differential tr.headline-row td { padding-top: 0; font-size: 12.5px; overflow-wrap: anywhere; }
table.differential tr.headline-row summary { font-weight: 500; font-size: 12px; }
.small { font-size: 12px; color: var(--muted); }
/* A table wider than its box scrolls inside it, never the page; shadows at the edges say there is more. */
.wrap { overflow-x: auto; max-width: 100%;
  background: linear-gradient(to right, #fff 30%, rgba(255, 255, 255, 0)) left / 24px 100% no-repeat local,
    linear-gradient(to left, #fff 30%, rgba(255, 255, 255, 0)) right / 24px 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, rgba(0, 0, 0, .16), transparent) left / 10px 100% no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, rgba(0, 0, 0, .16), transparent) right / 10px 100% no-repeat scroll; }
/* A value in a badge keeps its case: 9.1 ms, not 9.1 MS. */
.badge.value { text-transform: none; letter-spacing: 0; font-weight: 600; min-width: 0; }
table.predicted-stages th { white-space: normal; }
details { margin-top: 8px; }
summary { cursor: pointer; color: var(--muted); font-weight: 600; }
td.empty { border: none; background: none; padding: 4px 8px; border-radius: 0; }
.note-line { font-size: 12px; color: var(--muted); margin: 4px 0; }
.formula code { font-size: 12px; white-space: normal; }
.failure-points { padding-left: 18px; font-size: 13px; }
.empty { background: var(--card); border: 1px dashed var(--line); border-radius: 8px; padding: 16px; ` +
  `color: var(--muted); }
footer { margin-top: 32px; color: var(--muted); font-size: 12.5px; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0; }
footer dt { font-weight: 600; }
footer dd { margin: 0; }
@media (max-width: 600px) {
  main { padding: 12px 12px 32px; }
  .top h1 { font-size: 18px; }
  .top .meta { font-size: 12px; overflow-wrap: anywhere; }
  .verdict { padding: 14px 14px; }
  .verdict-status { font-size: 38px; }
  .figures { gap: 8px; }
  .figure { padding: 6px 10px; }
  .figure .v { font-size: 17px; }
  .reasons li { font-size: 14.5px; }
  .findings li { flex-direction: column; gap: 2px; }
  .panel { padding: 12px; }
  /* In a table that scrolls, the free text (reason, detail, problem) ` +
  `keeps a readable column instead of one word a line. */
  .wrap > table td:last-child { min-width: 15em; }
  /* The timeline keeps legible labels and scrolls in its box. */
  .chart-box.timeline { overflow-x: auto; }
  .chart-box.timeline svg.chart { min-width: 720px; }
}
`;
