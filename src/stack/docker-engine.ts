import { request } from 'node:http';
import { dockerSocket } from './warden-args.ts';

// A GET on the Docker Engine API over its unix socket, for what the CLI does not print (the
// kernel's CPU throttling counters). Bounded in time; no socket: an error saying so.

export async function engineGet(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  timeoutMs = 10_000,
): Promise<string> {
  const socketPath = dockerSocket(env);
  if (!socketPath)
    throw new Error(
      `the Docker Engine API is reached through a unix socket only (DOCKER_HOST=${env.DOCKER_HOST ?? ''})`,
    );
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(text)
          : reject(new Error(`GET ${path}: HTTP ${res.statusCode ?? '?'} ${text.trim().slice(0, 300)}`)),
      );
    });
    req.on('timeout', () =>
      req.destroy(new Error(`the Docker Engine API did not answer GET ${path} in ${timeoutMs / 1000} s`)),
    );
    req.on('error', reject);
    req.end();
  });
}
