import { COMPOSE_SERVICE_NAME } from '../target/service.ts';
import { quote } from '../util/shown.ts';
import { UsageError, type InputIssue } from './errors.ts';
import { readInputFile } from './input-file.ts';
import { MAX_SHOWN_CHARS } from './limits.ts';
import { parseYaml } from './yaml.ts';

// service.dependencies names a Compose file of the user's; its service names are started
// with the regions (`compose up ... <names>`), so each must be a plain Compose name, never
// something Compose would read as a flag. Read with the same bounds as chaos-gate.yml.

export function dependenciesFileIssues(file: string): InputIssue[] {
  let data: unknown;
  try {
    data = parseYaml(readInputFile(file), file).data;
  } catch (e) {
    if (e instanceof UsageError) return [...e.issues];
    throw e;
  }
  const services = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as { services?: unknown }).services : undefined;
  if (typeof services !== 'object' || services === null || Array.isArray(services)) {
    return [{ source: file, path: 'services', rule: 'a Compose file of dependencies needs a services: mapping' }];
  }
  return Object.keys(services).filter((name) => !COMPOSE_SERVICE_NAME.test(name)).map((name) => ({
    source: file, path: `services.${name}`,
    rule: `${quote(name, MAX_SHOWN_CHARS)} is not a Compose service name (letters, digits, ".", "_", "-", starting with a letter or digit)`,
  }));
}
