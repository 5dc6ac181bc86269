// Helpers for the CLI tests: run `node --import tsx src/cli/main.ts` as a process (cwd = the
// project root), make temporary spec folders from spec/eci.ts, snapshot folders, parse
// `file:line[:column]: code: message` diagnostics.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';

export const ROOT = PROJECT_ROOT;
export const CLI = 'src/cli/main.ts';
export const SPEC_TEXT = readFileSync(join(ROOT, 'spec', 'eci.ts'), 'utf8');
export const PARAMS_TEXT = readFileSync(join(ROOT, 'spec', 'eci.params.yaml'), 'utf8');
export const DSL_IMPORT = "'../src/dsl/index.ts'";

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

// At most one CLI process per CPU: the scenarios start together, and oversubscribing the CPUs
// only makes every one of them slower.
const slots = Math.max(2, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= slots) await new Promise<void>((wake) => waiting.push(wake));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function runCli(args: readonly string[], timeoutMs = 60_000, stdin?: Uint8Array): Promise<Run> {
  return slot(() => spawnCli(args, timeoutMs, stdin));
}

function spawnCli(args: readonly string[], timeoutMs: number, stdin?: Uint8Array): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (stdin) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** The JSON report of `eci-policy audit`, as the audit tests read it. */
export interface AuditJsonReport {
  summary: { files: number; resources: number; deny: number; warn: number; errors: number; exitCode: number };
  resources: { file: string; document: number; item?: number; position: { line: number; column: number }; kind: string; name: string; violations: { rule: string; action: string; container?: string; path: string; value?: unknown; line: number; column: number }[] }[];
  errors: { code: string; file: string; line?: number; message: string }[];
}

/** `eci-policy audit --rule-set <ruleSet> --format json ...args`, with its report parsed. */
export async function auditJson(args: string[], stdin?: Uint8Array, timeoutMs = 120_000, ruleSet = 'eci'): Promise<{ run: Run; report: AuditJsonReport }> {
  const run = await runCli(['audit', '--rule-set', ruleSet, '--format', 'json', ...args], timeoutMs, stdin);
  let report: AuditJsonReport;
  try {
    report = JSON.parse(run.stdout) as AuditJsonReport;
  } catch {
    throw new Error(`audit printed no JSON report (exit ${run.code}):\n${run.stdout.slice(0, 2000)}\n${run.stderr.slice(0, 2000)}`);
  }
  return { run, report };
}

/** `text` with `from` replaced by `to`; `from` must occur exactly once. */
export function replaceOnce(text: string, from: string, to: string): string {
  const first = text.indexOf(from);
  if (first < 0 || text.indexOf(from, first + 1) >= 0) throw new Error(`expected exactly one ${JSON.stringify(from)}`);
  return text.slice(0, first) + to + text.slice(first + from.length);
}

/** spec/eci.ts importing the DSL by absolute path, so it can live in a temporary folder. */
export function eciSpecText(edit: (text: string) => string = (t) => t): string {
  return edit(replaceOnce(SPEC_TEXT, DSL_IMPORT, `'${join(ROOT, 'src', 'dsl', 'index.ts')}'`));
}

export interface SpecFolder {
  readonly dir: string;
  readonly spec: string;
  readonly params: string;
  readonly out: string;
}

/**
 * A temporary folder holding eci.ts and eci.params.yaml (spec/'s layout), and a package.json
 * declaring ES modules, as the project's own package.json does for spec/ (see
 * test/cli/build-locations.test.ts for a spec in a folder without one).
 */
export function specFolder(parent: string, name: string, spec = eciSpecText(), params = PARAMS_TEXT): SpecFolder {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'eci.ts'), spec);
  writeFileSync(join(dir, 'eci.params.yaml'), params);
  return { dir, spec: join(dir, 'eci.ts'), params: join(dir, 'eci.params.yaml'), out: join(dir, 'out') };
}

export const makeWorkDir = (label: string): string => mkdtempSync(join(tmpdir(), `eci-policy-${label}-`));

/** Every file (with its bytes) and every folder (as `<path>/`) under `dir`. */
export function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!existsSync(dir)) return out;
  const walk = (d: string, rel: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, entry.name);
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        out.set(`${r}/`, Buffer.alloc(0));
        walk(p, r);
      } else out.set(r, readFileSync(p));
    }
  };
  walk(dir, '');
  return out;
}

/** Names of the entries that differ between two snapshots (empty when byte-identical). */
export function snapshotDiff(a: ReadonlyMap<string, Buffer>, b: ReadonlyMap<string, Buffer>): string[] {
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  return names.filter((n) => {
    const x = a.get(n);
    const y = b.get(n);
    return !x || !y || !x.equals(y);
  });
}

export interface Diag {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
  readonly code: string;
  readonly message: string;
}

const DIAG = /^(?<file>.+?):(?<line>[0-9]+)(?::(?<column>[0-9]+))?: (?<code>[a-z][a-z0-9-]*): (?<message>.+)$/;

export function parseDiag(line: string): Diag | undefined {
  const m = DIAG.exec(line);
  if (!m?.groups) return undefined;
  const g = m.groups as Record<string, string | undefined>;
  return {
    file: g['file']!,
    line: Number(g['line']),
    ...(g['column'] !== undefined ? { column: Number(g['column']) } : {}),
    code: g['code']!,
    message: g['message']!,
  };
}

/** The stderr of a failed build: its diagnostics, and the closing `build failed` line. */
export function failedBuild(stderr: string): { diags: Diag[]; other: string[] } {
  const lines = stderr.split('\n').filter((l) => l !== '');
  const diags: Diag[] = [];
  const other: string[] = [];
  for (const l of lines) {
    const d = parseDiag(l);
    if (d) diags.push(d);
    else other.push(l);
  }
  return { diags, other };
}

/** The 1-based line of the only line of `text` containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`expected one line containing ${JSON.stringify(needle)}, found ${hits.length}`);
  return hits[0]!;
}

/** All 1-based lines of `text` containing `needle`. */
export function linesOf(text: string, needle: string): number[] {
  return text.split('\n').flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
}

/** A diagnostic's file, shown relative to the CLI's cwd, resolved. */
export const resolveShown = (file: string): string => resolve(ROOT, file);

/** The promise, marked as handled so that rejecting before a test awaits it is not fatal. */
export function started<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
