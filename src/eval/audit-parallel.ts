// The audit spread over worker threads (node:worker_threads), one per core by default: each file
// is cut into parts at `---` lines (a JSON List into ranges of items), each worker loads the WASM
// bundle once and reads and judges the parts it is sent, and the results are put back in file
// order, so the report is the one the single-threaded audit makes. Small inputs are audited on
// this thread: starting a worker (tsx, the bundle) costs more than they take.

import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../ir/diagnostics.ts';
import { DEFAULT_LIMITS, decodeManifest, yamlRegions, type ManifestLimits, type TextBase } from '../manifests/read.ts';
import { looksLikeJson } from '../manifests/json.ts';
import { readFileSync, statSync } from 'node:fs';
import { audit, expandInputs, judgeEntries, readInput, type AuditedResource, type AuditOptions, type AuditReport } from './audit.ts';
import type { WasmPolicy } from './wasm.ts';

/**
 * Inputs of fewer bytes (all files together) are audited on this thread by default. A worker
 * is ready about 0.45 s after it is started (tsx's loader when run from source, the bundle's
 * compilation), and this thread now reads and judges the bench's pods at about 0.08 ms each
 * (`eci-policy audit --rule-set eci --format json`, bench pods, quiet 2-core machine:
 * `--workers 0` vs 2 workers: 2 MB 1.05 vs 1.33 s, 8 MB 1.5 vs 1.6 s, 20 MB 2.0 vs 2.0-2.2 s,
 * 50 MB 3.5 vs 3.0 s). Two workers pay for their start from about 24 MiB.
 */
export const PARALLEL_MIN_BYTES = 24 * 1024 * 1024;

export interface ParallelAuditOptions extends AuditOptions {
  /** Worker threads: 0 audits on this thread; default one per core when the inputs reach PARALLEL_MIN_BYTES. */
  readonly workers?: number;
}

/** A part of a file for a worker: YAML from a `---` line (`base`), a whole file, or a share of a JSON file's List items. */
export interface PartTask {
  readonly id: number;
  readonly file: string;
  readonly text: string;
  readonly base?: TextBase;
  readonly json?: { readonly part: number; readonly parts: number };
}

export interface PartResult {
  readonly id: number;
  readonly resources: AuditedResource[];
  readonly errors: Diagnostic[];
  readonly report?: { readonly documents: number; readonly aligned: boolean };
}

/** Text of the files read ahead of the one whose results are collected, at most (plus that one). */
const LOOKAHEAD_CHARS = 64 * 1024 * 1024;

interface Plan {
  readonly file: string;
  readonly text: string;
  readonly fileErrors: Diagnostic[];
  readonly parts: Part[];
}

interface Part {
  readonly task: Omit<PartTask, 'id'>;
  result?: Promise<PartResult>;
}

/**
 * Audits `inputs` like `audit`, on worker threads when the inputs are large enough (or `workers`
 * says so). `policy` is used on this thread; the workers load `bundleDir` (package `root`).
 */
export async function auditParallel(policy: WasmPolicy, bundle: { readonly dir: string; readonly root: string }, inputs: readonly string[], opts: ParallelAuditOptions = {}): Promise<AuditReport> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const { files, errors } = expandInputs(inputs);
  // stdin is read up front, to know its size (a second read of it is at its end, empty).
  let io: AuditOptions = opts;
  let stdinSize = 0;
  if (files.includes('-')) {
    let bytes: Uint8Array | undefined;
    let error: unknown;
    try {
      bytes = (opts.readStdin ?? (() => readFileSync(0)))();
      stdinSize = bytes.length;
    } catch (e) {
      error = e;
    }
    let reads = 0;
    io = {
      ...opts,
      readStdin: () => {
        if (error) throw error;
        return reads++ === 0 ? bytes! : new Uint8Array(0);
      },
    };
  }
  const sizes = files.map((file) => (file === '-' ? stdinSize : sizeOf(file)));
  const total = sizes.reduce((a, b) => a + b, 0);
  const workers = opts.workers ?? (total >= PARALLEL_MIN_BYTES ? availableParallelism() : 0);
  if (workers === 0) return audit(policy, inputs, io);

  const resources: AuditedResource[] = [];
  const pool = new Pool(workers, bundle, limits);
  try {
    // Files are read and their parts queued ahead of the one being collected, so that the workers
    // are never idle between files, up to LOOKAHEAD_CHARS of text held at once.
    const plans: (Plan | undefined)[] = [];
    let held = 0;
    const plan = (file: string): Plan => {
      const fileErrors: Diagnostic[] = [];
      const bytes = readInput(file, io, fileErrors);
      const text = bytes ? decodeManifest(bytes, file, limits) : undefined;
      if (text !== undefined && typeof text !== 'string') judgeEntries(policy, [text], resources, fileErrors);
      const parts = typeof text === 'string' ? planParts(file, text, workers) : [];
      for (const p of parts) p.result = pool.run(p.task);
      return { file, text: typeof text === 'string' ? text : '', fileErrors, parts };
    };
    for (let n = 0; n < files.length; n++) {
      while (plans.length < files.length && (plans.length <= n || held < LOOKAHEAD_CHARS)) {
        const next = plan(files[plans.length]!);
        held += next.text.length;
        plans.push(next);
      }
      const { file, text, fileErrors, parts } = plans[n]!;
      plans[n] = undefined;
      errors.push(...fileErrors);
      let results = await Promise.all(parts.map((p) => p.result!));
      if (!consistent(parts, results)) {
        // A part's documents are not surely the whole file's there: read the file as one part.
        results = [await pool.run({ file, text })];
      }
      held -= text.length;
      for (const r of results) {
        resources.push(...r.resources);
        errors.push(...r.errors);
      }
      opts.onFile?.(file, n + 1, files.length);
    }
  } finally {
    await pool.close();
  }
  return { files, resources, errors };
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // reported when it is read
  }
}

/** The parts of a file for `workers` workers: a few per worker for a large file, so they finish together. */
function planParts(file: string, text: string, workers: number): Part[] {
  const target = Math.max(256 * 1024, Math.ceil(text.length / (workers * 4)));
  if (text.length < 2 * target) return [{ task: { file, text } }];
  if (looksLikeJson(text, file)) {
    const parts = Math.min(workers, Math.ceil(text.length / target));
    return Array.from({ length: parts }, (_, part) => ({ task: { file, text, json: { part, parts } } }));
  }
  const regions = yamlRegions(text);
  if (!regions || regions.length < 2) return [{ task: { file, text } }];
  // Documents before region j: one per `---` line, and one for content before the first.
  const markerAtStart = regions[0] === 0 && /^---(?:[ \t\r\n]|$)/.test(text);
  const preamble = markerAtStart ? 0 : /^ *[^ #\n]/m.test(text.slice(0, regions[1])) ? 1 : 0;
  const parts: Part[] = [];
  let from = 0;
  let line = 0;
  let lineAt = 0;
  for (let j = 1; j <= regions.length; j++) {
    const at = regions[j] ?? text.length;
    if (at - regions[from]! < target && j < regions.length) continue;
    const start = regions[from]!;
    for (let i = text.indexOf('\n', lineAt); i >= 0 && i < start; i = text.indexOf('\n', i + 1)) line++;
    lineAt = start;
    const document = from === 0 ? 0 : markerAtStart ? from : preamble + from - 1;
    parts.push({ task: { file, text: text.slice(start, at), base: { line, document } } });
    from = j;
  }
  return parts;
}

/** Whether each part's documents end where the next part's begin, numbered on (see TextPart.report); the last part ends with its file. */
function consistent(parts: readonly Part[], results: readonly PartResult[]): boolean {
  return results.every((r, k) => {
    const next = parts[k + 1]?.task.base;
    return !r.report || !next || (r.report.aligned && next.document === parts[k]!.task.base!.document + r.report.documents);
  });
}

/**
 * A worker running audit-worker.js, or, when this module runs from its TypeScript source (tsx),
 * audit-worker.ts with tsx's loader registered first: a worker does not inherit it.
 */
function startWorker(workerData: unknown): Worker {
  const here = fileURLToPath(import.meta.url);
  const script = new URL(`./audit-worker${extname(here)}`, import.meta.url);
  if (extname(here) !== '.ts') return new Worker(script, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

class Pool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: { task: PartTask; done: (r: PartResult) => void; fail: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { worker: Worker; done: (r: PartResult) => void; fail: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(size: number, bundle: { readonly dir: string; readonly root: string }, limits: ManifestLimits) {
    const workerData = { bundleDir: bundle.dir, root: bundle.root, limits };
    for (let i = 0; i < size; i++) {
      const worker = startWorker(workerData);
      worker.on('message', (r: PartResult) => {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        p?.done(r);
        this.idle.push(worker);
        this.dispatch();
      });
      const fail = (e: Error) => {
        this.failure ??= e;
        for (const [id, p] of this.pending) if (p.worker === worker) {
          this.pending.delete(id);
          p.fail(e);
        }
        for (const q of this.queue.splice(0)) q.fail(e);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (code !== 0) fail(new Error(`an audit worker stopped with exit code ${code}`));
      });
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  run(task: Omit<PartTask, 'id'>): Promise<PartResult> {
    if (this.failure) return Promise.reject(this.failure);
    const result = new Promise<PartResult>((done, fail) => this.queue.push({ task: { ...task, id: this.nextId++ }, done, fail }));
    result.catch(() => undefined); // awaited in file order; a failure is reported there
    this.dispatch();
    return result;
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.shift()!;
      const q = this.queue.shift()!;
      this.pending.set(q.task.id, { worker, done: q.done, fail: q.fail });
      worker.postMessage(q.task);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
