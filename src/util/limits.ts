// How much input chaos-gate reads, and how much work a plan may ask for, before it refuses.
// Each limit keeps a bad or hostile file a quick exit 2 instead of minutes of CPU and
// gigabytes of memory; each is far above what a real file needs (the README's whole
// configuration reference is 5 KB, an experiment file 1 KB, nesting 6 levels).

/**
 * Bytes of one configuration or experiment file; checked on disk before it is read. The YAML
 * parser reads about 1 MiB per second of CPU, so a file at the limit is parsed and validated
 * in about a quarter of a second: fifty times the README's reference, far from a hang.
 */
export const MAX_INPUT_BYTES = 256 * 1024;
/** Bytes of all experiment files of a suite together. */
export const MAX_SUITE_BYTES = 4 * MAX_INPUT_BYTES;
/** Experiment files in one folder: each runs for tens of seconds on the live stack. */
export const MAX_EXPERIMENT_FILES = 100;
/** Environments in one configuration file: each is validated in full. */
export const MAX_ENVIRONMENTS = 50;
/** Problems reported for one input; the rest are counted in one last line. */
export const MAX_ISSUES = 50;
/** YAML alias expansions (yaml's own default): more is a "billion laughs" bomb, not a config. */
export const MAX_YAML_ALIAS_COUNT = 100;
/** Levels of nested mappings and lists; deeper input would exhaust the parser's stack. */
export const MAX_NESTING_DEPTH = 64;
/** Characters of a key or value quoted back in a message; longer text is cut. */
export const MAX_SHOWN_CHARS = 64;

// Judging a stage sorts all of its requests so far, at every analysis, so the work of a
// simulated rollout grows with requests x analyses: about 0.6-0.9 us of CPU per request
// judged (measured: 4.2 million judged in 2.3 s, 18.6 million in 16 s). These budgets, on an
// upper estimate about twice the real worst case, keep `chaos-gate simulate` within seconds.
/** Requests a simulated rollout may send, all stages of all regions. */
export const MAX_ROLLOUT_REQUESTS = 2_000_000;
/** Requests judged, summed over every analysis of every stage. */
export const MAX_JUDGED_REQUESTS = 10_000_000;
/** Analyses of one stage (the simulation stops a stage at 100,000 as a runaway). */
export const MAX_ANALYSES_PER_STAGE = 20_000;
/** Seeds of one `simulate --study`: each is a rollout per candidate. */
export const MAX_STUDY_SEEDS = 100_000;
/**
 * Requests a study may judge on the upper estimate, all rollouts together. The estimate is
 * about 100x what a default rollout really judges (it assumes every stage paused until its
 * deadline), so this admits about 20,000 seeds of the default plan (minutes) and 2,000 of a
 * plan at MAX_JUDGED_REQUESTS, and refuses hours.
 */
export const MAX_STUDY_JUDGED_REQUESTS = 100_000_000_000;

// The `service:` section (config/service.ts): each entry becomes work for docker or for the
// traffic generator at every request, so a list is capped far above a real service's needs.
/** Entries of service.env, and of service.build.args: each is an argument to docker. */
export const MAX_SERVICE_VARIABLES = 200;
/** Requests in the traffic mix (service.traffic). */
export const MAX_TRAFFIC_ENTRIES = 100;
/** Bytes of a request body as JSON: it is serialized for every request sent. */
export const MAX_BODY_BYTES = 16 * 1024;
/** Characters of a file path quoted back: longer than a key, and what the user must find. */
export const MAX_SHOWN_PATH_CHARS = 240;
