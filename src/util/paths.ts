import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The project's own files (docker-compose.yml, services/, observability/, chaos/) live beside
// the code: found from CHAOS_GATE_HOME, from GITHUB_ACTION_PATH when run as an Action from
// another repository, or by walking up from this file (src/util/ or the dist/ bundle).
export function projectDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  for (const candidate of [env.CHAOS_GATE_HOME, env.GITHUB_ACTION_PATH]) {
    if (candidate && isProjectDir(candidate)) return resolve(candidate);
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (isProjectDir(dir)) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the chaos-gate project files (docker-compose.yml); set CHAOS_GATE_HOME');
}

function isProjectDir(dir: string): boolean {
  return existsSync(join(dir, 'docker-compose.yml')) && existsSync(join(dir, 'services', 'region'));
}

/** Whether `path` is `dir` or lies inside it, by the names alone (symbolic links are not followed). */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), resolve(dir, path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
