// `eci-policy playground`: serves the built playgrounds (generated/<rule-set>/playground/) on
// 127.0.0.1 and prints their addresses, for a browser that refuses to run a page opened from disk.
// Static files only, read-only, from those folders alone; stops on Ctrl-C.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { parseCommand, usageError } from './usage.ts';

export const PLAYGROUND_USAGE = `Usage: eci-policy playground [--out <dir>] [--port <n>]

Serves every rule set's playground (<out>/<rule-set>/playground/, written by eci-policy build) on
127.0.0.1 and prints each page's address. The pages also open from disk (index.html); this is for
a browser that refuses to load them there. Nothing is sent anywhere: the page evaluates in the
browser.

  --out <dir>   the build's output folder (default: generated)
  --port <n>    the port (default: 0, a free one)

Exit codes: 0 stopped, 2 usage error or no playground built.`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** The rule sets under `out` that have a playground. */
export function playgroundsIn(out: string): string[] {
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .filter((name) => existsSync(join(out, name, 'playground', 'index.html')))
    .sort();
}

/** A server for `/<rule-set>/playground/<file>` under `out`, nothing else. */
export function playgroundServer(out: string): Server {
  const root = normalize(out);
  return createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      // A malformed %-escape: refused, not a crash of the server.
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request\n');
      return;
    }
    const m = /^\/([A-Za-z0-9_-]+)\/playground\/([A-Za-z0-9_.-]*)$/.exec(path);
    const file = m ? normalize(join(root, m[1]!, 'playground', m[2] || 'index.html')) : undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (!file || !file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

export async function playgroundCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(PLAYGROUND_USAGE, argv, { out: { type: 'string', default: 'generated' }, port: { type: 'string', default: '0' } }, false);
  if (!parsed) return 0;
  const { out, port } = parsed.values;
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) usageError(PLAYGROUND_USAGE, `--port ${port}: a port number, 0-65535`);
  const ruleSets = playgroundsIn(out);
  if (!ruleSets.length) {
    process.stderr.write(`eci-policy playground: no playground under ${out}/: run eci-policy build (it needs opa for the WASM bundle)\n`);
    return 2;
  }
  const server = playgroundServer(out);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(n, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as { port: number };
  for (const rs of ruleSets) process.stdout.write(`${rs}: http://127.0.0.1:${bound}/${rs}/playground/\n`);
  process.stdout.write('Serving on 127.0.0.1 only; Ctrl-C stops.\n');
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
