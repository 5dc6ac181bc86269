// How the benchmark measures: in-process timing (warm-up, then the median of batches), `opa
// bench` (Go's benchmark loop, ns/op = T/N), and the wall time of one `kyverno apply` process.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { engine } from '../test/harness/engines.ts';

const run = promisify(execFile);

export interface Effort {
  /** Warm-up time before the batches (at least one call). */
  readonly warmupMs: number;
  /** Target length of one batch. */
  readonly batchMs: number;
  readonly batches: number;
  /** `opa bench --count` and kyverno repetitions. */
  readonly repeats: number;
  /** Rounds over every in-process figure; each keeps its lowest median (load only adds time). */
  readonly rounds: number;
}

export const FULL: Effort = { warmupMs: 300, batchMs: 200, batches: 7, repeats: 3, rounds: 2 };
export const QUICK: Effort = { warmupMs: 50, batchMs: 40, batches: 3, repeats: 1, rounds: 1 };

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface InProcess {
  /** Median of the batches' mean µs per call. */
  readonly us: number;
  readonly calls: number;
  readonly batches: number;
}

/**
 * µs per call of `fn`: warm up, size a batch to about `batchMs` from the warm-up's pace, then
 * the median of the batches' means. A call slower than a batch is timed alone, with as many
 * batches as fit in `batches` × `batchMs` (at least one).
 */
export function timeCalls(fn: () => unknown, effort: Effort): InProcess {
  let warm = 0;
  const w0 = performance.now();
  do {
    fn();
    warm++;
  } while (performance.now() - w0 < effort.warmupMs);
  const perCall = (performance.now() - w0) / warm;
  const size = Math.max(1, Math.round(effort.batchMs / perCall));
  const batches = size > 1 ? effort.batches : Math.max(1, Math.min(effort.batches, Math.floor((effort.batches * effort.batchMs) / perCall)));
  const means: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < size; i++) fn();
    means.push(((performance.now() - t0) * 1000) / size);
  }
  return { us: median(means), calls: size * batches, batches };
}

export interface OpaBench {
  /** Median over `--count` runs of T/N, in µs. */
  readonly us: number;
  /** Iterations Go's benchmark loop ran, per run. */
  readonly n: readonly number[];
}

/** `opa bench --format json` of `query` over `files` with `input`; µs per op. */
export async function opaBench(files: readonly string[], query: string, input: unknown, effort: Effort, opts: { v0?: boolean } = {}): Promise<OpaBench> {
  const work = mkdtempSync(join(tmpdir(), 'eci-bench-opa-'));
  try {
    const inputFile = join(work, 'input.json');
    writeFileSync(inputFile, JSON.stringify(input));
    const args = ['bench', '--format', 'json', '--fail=false', '--count', String(effort.repeats), '-i', inputFile, ...files.flatMap((f) => ['-d', f]), ...(opts.v0 ? ['--v0-compatible'] : []), query];
    const { stdout } = await run(engine('opa'), args, { maxBuffer: 64 << 20 });
    const runs = jsonObjects(stdout) as { N: number; T: number }[];
    if (!runs.length) throw new Error(`opa bench printed no result: ${stdout.slice(0, 500)}`);
    return { us: median(runs.map((r) => r.T / r.N / 1000)), n: runs.map((r) => r.N) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The JSON values of a stream of concatenated pretty-printed objects (`opa bench --count`). */
function jsonObjects(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth++ === 0) start = i;
    } else if (ch === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

export interface KyvernoApply {
  /** Median wall seconds of one `kyverno apply` process over all resources. */
  readonly s: number;
  readonly runs: readonly number[];
  /** Results per verdict in the policy report (pass, fail, skip, error, warn). */
  readonly results: Readonly<Record<string, number>>;
}

/**
 * Wall time of `kyverno apply <policies> --resource <file>` over `objects`, each written as a
 * JSON document (Kyverno reads YAML 1.1; JSON keeps strings such as "yes" strings) with a
 * unique name, as test/harness/engines.ts does.
 */
export async function kyvernoApply(policyFiles: readonly string[], objects: readonly Record<string, unknown>[], effort: Effort): Promise<KyvernoApply> {
  const work = mkdtempSync(join(tmpdir(), 'eci-bench-kyverno-'));
  try {
    const resourceFile = join(work, 'resources.yaml');
    writeFileSync(resourceFile, objects.map((o, i) => JSON.stringify({ ...o, metadata: { ...(o['metadata'] as object), name: `bench-${i}` } })).join('\n---\n'));
    const args = ['apply', ...policyFiles, '--resource', resourceFile, '--policy-report', '--output-format', 'json', '--remove-color'];
    const runs: number[] = [];
    let stdout = '';
    // Repeats stop once a minute is spent: a slow policy is timed once or twice, not three times.
    for (let r = 0; r < effort.repeats && runs.reduce((a, b) => a + b, 0) < 60; r++) {
      const t0 = performance.now();
      try {
        ({ stdout } = await run(engine('kyverno'), args, { maxBuffer: 512 << 20 }));
      } catch (e) {
        // kyverno apply exits 1 when a policy fails; the report is still on stdout.
        const err = e as { stdout?: string; stderr?: string; code?: number };
        if (!err.stdout?.includes('{')) throw new Error(`kyverno apply failed (${err.code}): ${err.stderr?.slice(0, 2000)}`);
        stdout = err.stdout;
      }
      runs.push((performance.now() - t0) / 1000);
    }
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { results?: { result: string }[] };
    const results: Record<string, number> = {};
    for (const r of report.results ?? []) results[r.result] = (results[r.result] ?? 0) + 1;
    return { s: median(runs), runs, results };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** First line of `<bin> version` (opa: `Version: 1.22.3`; kyverno: `Version: 1.19.1`). */
export async function engineVersion(name: 'opa' | 'kyverno'): Promise<string> {
  try {
    const { stdout } = await run(engine(name), ['version'], { maxBuffer: 1 << 20 });
    return /Version:\s*(\S+)/.exec(stdout)?.[1] ?? stdout.split('\n')[0]!.trim();
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
}
