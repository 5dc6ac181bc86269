// generated/<rule-set>/playground/: the page (templates/playground/), its data (the playground
// target's lowering), the browser code (src/playground/app.ts, bundled here with esbuild), and the
// compiled policy.wasm beside a base64 copy for pages opened from disk (Chromium refuses fetch()
// of file: URLs, not classic scripts). esbuild's output is a function of its input and version,
// so the folder is as byte-stable as the rest of generated/.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Diagnostic, Result } from '../ir/diagnostics.ts';
import { fail, ok } from '../ir/diagnostics.ts';
import type { DocsSource } from '../targets/reference/docs.ts';
import { lowerPlayground } from '../targets/playground/lower.ts';
import { render, type HeaderInput } from '../targets/render.ts';
import { PROJECT_ROOT } from './engines.ts';

const require = createRequire(import.meta.url);

/** The browser code's entry point; absent from an installed package (its `files` hold dist/ and templates/). */
export const PLAYGROUND_SOURCE = join(PROJECT_ROOT, 'src', 'playground', 'app.ts');

let bundled: Result<string> | undefined;

/** src/playground/app.ts and what it imports as one classic script (the same for every rule set: bundled once). */
function appScript(compilerVersion: string): Result<string> {
  if (bundled) return bundled;
  const esbuild = require('esbuild') as typeof import('esbuild');
  const version = (require('esbuild/package.json') as { version: string }).version;
  try {
    const r = esbuild.buildSync({
      entryPoints: [PLAYGROUND_SOURCE],
      absWorkingDir: PROJECT_ROOT,
      bundle: true,
      // A classic script, not a module: module scripts do not load from file: URLs in Chromium.
      format: 'iife',
      platform: 'browser',
      target: ['chrome111', 'firefox115', 'safari16.4'],
      minify: true,
      charset: 'utf8',
      legalComments: 'eof',
      write: false,
      logLevel: 'silent',
      banner: { js: `// eci-policy ${compilerVersion} playground: src/playground/app.ts bundled by esbuild ${version}. DO NOT EDIT; regenerate with: npm run build-policies` },
    });
    bundled = ok(r.outputFiles[0]!.text);
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors ?? [];
    const diagnostics: Diagnostic[] = errors.length
      ? errors.map((x) => ({ code: 'playground-bundle', message: x.text, file: x.location?.file ?? 'src/playground/app.ts', ...(x.location ? { line: x.location.line, column: x.location.column + 1 } : {}) }))
      : [{ code: 'playground-bundle', message: (e as Error).message, file: 'src/playground/app.ts' }];
    bundled = fail(diagnostics);
  }
  return bundled;
}

/** The playground's files, relative to generated/<rule-set>/playground/. */
export function playgroundFiles(source: DocsSource, cwd: string, header: HeaderInput, wasm: Uint8Array): Result<Map<string, string | Uint8Array>> {
  const app = appScript(header.compilerVersion);
  if (!app.ok) return app;
  const data = lowerPlayground(source, cwd);
  return ok(
    new Map<string, string | Uint8Array>([
      ['index.html', render('playground/index.html', data, header)],
      ['data.js', render('playground/data.js', { data }, header)],
      ['app.js', app.value],
      ['policy.wasm', wasm],
      ['policy.js', render('playground/policy.js', { base64: Buffer.from(wasm).toString('base64') }, header)],
      ['params.json', `${JSON.stringify(source.params, null, 2)}\n`],
    ]),
  );
}

/** Whether this installation can build the playground (its browser source is here). */
export const canBuildPlayground = (): boolean => existsSync(PLAYGROUND_SOURCE);
