import { existsSync } from 'node:fs';

// The run history across workflow runs: a runner starts empty, so the history file is
// restored from the Actions cache before the gate and saved after it. A cache entry cannot
// be overwritten, so every run saves under its own key (run id and attempt) and restores the
// newest entry whose key starts with the prefix. The cache is a convenience: a miss or a
// failure is a warning, and the gate runs without history (it reports "no history yet").

export const HISTORY_CACHE_PREFIX = 'chaos-gate-history-';

/**
 * The parts of @actions/cache used here; tests pass a fake. isFeatureAvailable is optional:
 * GitHub's local-action stubs the module with restoreCache and saveCache only.
 */
export interface CacheApi {
  isFeatureAvailable?: () => boolean;
  restoreCache(paths: string[], primaryKey: string, restoreKeys?: string[]): Promise<string | undefined>;
  saveCache(paths: string[], key: string): Promise<number>;
}

export interface CacheLog {
  info(message: string): void;
  warning(message: string): void;
}

export function historyCacheKey(env: Readonly<Record<string, string | undefined>>): string {
  return `${HISTORY_CACHE_PREFIX}${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A client that cannot say (no probe) is tried: restoreCache and saveCache then say what failed. */
const available = (cache: CacheApi): boolean => cache.isFeatureAvailable?.() ?? true;

/** Restores the newest saved history to `file`; returns the key it came from, or undefined. */
export async function restoreHistoryFile(
  file: string,
  cache: CacheApi,
  env: Readonly<Record<string, string | undefined>>,
  log: CacheLog,
): Promise<string | undefined> {
  try {
    // Inside the try: a probe that throws is a cache failure like any other, a warning.
    if (!available(cache)) {
      log.warning('history: the Actions cache is not available here: the gate runs without earlier runs');
      return undefined;
    }
    const hit = await cache.restoreCache([file], historyCacheKey(env), [HISTORY_CACHE_PREFIX]);
    if (hit === undefined)
      log.info(`history: no cached history yet (key prefix ${HISTORY_CACHE_PREFIX}): this run starts it`);
    else log.info(`history: restored ${file} from cache entry ${hit}`);
    return hit;
  } catch (e) {
    log.warning(`history: restoring from the cache failed (${message(e)}): the gate runs without earlier runs`);
    return undefined;
  }
}

/** Saves `file` under this run's key; false when there was nothing to save or the cache refused. */
export async function saveHistoryFile(
  file: string,
  cache: CacheApi,
  env: Readonly<Record<string, string | undefined>>,
  log: CacheLog,
): Promise<boolean> {
  if (!existsSync(file)) {
    log.info(`history: ${file} was not written: nothing to save`);
    return false;
  }
  const key = historyCacheKey(env);
  try {
    if (!available(cache)) {
      log.warning('history: the Actions cache is not available here: the history is not kept for the next run');
      return false;
    }
    await cache.saveCache([file], key);
    log.info(`history: saved ${file} as cache entry ${key}`);
    return true;
  } catch (e) {
    log.warning(`history: saving to the cache failed (${message(e)}): the next run starts without this one`);
    return false;
  }
}
