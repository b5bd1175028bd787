const USAGE: Record<string, string> = {
  up: [
    'chaos-gate up',
    '  Build the region image, start the four regions and Prometheus (and Grafana where its image ' +
      'exists), wait until each answers, print where.',
  ].join('\n'),
  down: ['chaos-gate down', '  Remove the stack: containers, network and volumes.'].join('\n'),
  status: [
    'chaos-gate status [--json]',
    '  A table of the regions: stable and canary version, health, up, restarts. Exit 3 when a region is down.',
  ].join('\n'),
  deploy: [
    'chaos-gate deploy <version> [failure-rate] [--failure-rate R] [--strategy canary|rolling] ' +
      '[--config FILE] [--json] [--result-file FILE] [--data-fault corrupt|drop] ' +
      '[--regression slow-start|memory-growth]',
    '  Roll <version> out region by region. Exit 0 completed, 1 rolled back (also when only one ' +
      'region was: rollback: region), 2 bad input, 3 infrastructure failure (also a rollback whose ' +
      "data check failed). --data-fault makes the test service's candidate corrupt or drop rows " +
      '(rollback with mitigation). --regression slow-start makes it restart slowly after a crash (10 s ' +
      'before it listens); memory-growth makes it keep 512 KiB per request for good.',
  ].join('\n'),
  simulate: [
    'chaos-gate simulate [--seed N] [--config FILE]',
    'chaos-gate simulate --study [--seeds N] [--config FILE] [--json]',
    '  Run the rollout state machine and judgement against seeded simulated traffic; print JSON.',
    '  --study rolls the plan out over seeds 1 to N (default 1000, at most 100000) against five candidates ' +
      "derived from simulation.baseline and the plan's tolerances (identical; errors and latency mildly " +
      'and clearly worse) and prints, per candidate, the share rolled back (95% interval), the share ' +
      'promoted and the requests and virtual time to the decision; --json prints it as JSON.',
  ].join('\n'),
  chaos: [
    'chaos-gate chaos [--only NAME,NAME] [--experiments DIR] [--config FILE] [--environment NAME] ' +
      '[--seed N] [--json]',
    '  Run the chaos experiments (--experiments, else experiments.dir of the config, else the chaos/ ' +
      "folder) against the stack, bringing it up if needed, with the config's experiments.only and " +
      'experiments.thresholds; write reports/chaos.json.',
    '  Exit 0 every experiment passed, 1 one failed, 2 bad experiment file, 3 the stack could not be ' +
      'brought up or a fault not lifted.',
  ].join('\n'),
  predict: [
    'chaos-gate predict --version V [--failure-rate R] [--config FILE] [--environment NAME] ' + '[--seed N] [--json]',
    '  Pre-flight the candidate beside stable in one region at each load profile ' +
      '(predict.preflight), read the run history, and print the predicted error rate and p99 range per ' +
      'canary stage, the risk score 0-100 with its components, the likely failure points and the ' +
      'action (proceed, small-tiers, close). The stack must be up; the pre-flight canary is removed afterwards.',
    '  Exit 0 proceed or small-tiers, 1 close, 2 bad input, 3 infrastructure failure.',
  ].join('\n'),
  plan: [
    'chaos-gate plan [--config FILE] [--json]',
    '  The plan pre-flight, before anything is deployed: per stage, the canary and baseline requests per ' +
      'second, the time to min_samples, the requests the bake gives, when the stage passes if green, its ' +
      'worst case (the stage deadline) and the canary requests the error limit needs to turn red on a ' +
      'candidate at twice max_error_rate; per region and in total, the worst-case time to promote and to ' +
      'roll back. No stack needed.',
    '  Exit 0, or 2 when the config is bad or a stage could never be judged (too few canary requests by ' +
      'its deadline; the numbers are still printed). gate, deploy, simulate and predict refuse such a plan too.',
  ].join('\n'),
  gate: [
    'chaos-gate gate --version V [--failure-rate R] [--config FILE] [--environment NAME] ' +
      '[--report-dir DIR] [--only a,b|none] [--experiments DIR] [--seed N] [--keep-stack] ' +
      '[--regression slow-start|memory-growth]   (alias: run)',
    '  The whole pipeline: validate config, stack up, baseline, chaos suite, prediction ' +
      '(predict.enabled: pre-flight, risk score; above predict.max_risk the gate closes or starts with ' +
      'small tiers), rollout (with chaos on the candidate: the same fault on the candidate and the ' +
      'baseline of the first region, experiments.differential), verdict, history record ' +
      '(predict.history.file), reports (report.json, report.html, junit.xml, summary.md), stack down.',
    '  Exit 0 gate OPEN, 1 gate CLOSED, 2 bad input, 3 infrastructure failure. --regression ' +
      "slow-start: the demo's candidate restarts slowly after a crash; memory-growth: it keeps 512 KiB " +
      'per request for good (a memory limit OOM-kills it).',
  ].join('\n'),
};

export function helpText(topic?: string): string {
  const usage = USAGE[topic === 'run' ? 'gate' : (topic ?? '')];
  if (usage) return usage;
  return [
    'chaos-gate: a pre-deployment resilience gate',
    '',
    ...Object.values(USAGE).map((u) => u.split('\n')[0] ?? ''),
    '',
    "Flags: a flag that takes a value is given once and not empty (--config '' is refused, not the default);",
    "  a negative number is a value (deploy v2 -0.1 is refused by the rate's rule, not taken for a flag).",
    'Exit status: 0 success / gate open, 1 rolled back / gate closed, 2 bad input, 3 infrastructure failure.',
    "Run 'chaos-gate help <command>' for details.",
  ].join('\n');
}
