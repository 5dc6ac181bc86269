// Auditing manifests with the compiled WASM bundle: every object read from the inputs is
// evaluated as it is read, and each violation is placed at the line of its field.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../ir/diagnostics.ts';
import { DEFAULT_LIMITS, readManifests, type ManifestLimits } from '../manifests/read.ts';
import { judgeEntries, type AuditedResource } from './judge.ts';
import type { WasmPolicy } from './wasm.ts';

export { judgeEntries, type AuditedResource, type LocatedViolation } from './judge.ts';

export interface AuditReport {
  readonly files: readonly string[];
  readonly resources: readonly AuditedResource[];
  /** Inputs, documents or objects that could not be checked: each one fails the audit. */
  readonly errors: readonly Diagnostic[];
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** Files named on the command line, and the manifests under named folders (sorted, hidden entries skipped). */
export function expandInputs(inputs: readonly string[]): { files: string[]; errors: Diagnostic[] } {
  const files: string[] = [];
  const errors: Diagnostic[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (MANIFEST_FILE.test(name)) files.push(path);
    }
  };
  for (const input of inputs) {
    if (input === '-') {
      files.push('-');
      continue;
    }
    try {
      if (statSync(input).isDirectory()) {
        const before = files.length;
        walk(input);
        if (files.length === before) errors.push({ code: 'input-empty', message: 'folder holds no .yaml, .yml or .json file', file: input });
      } else files.push(input);
    } catch (e) {
      errors.push({ code: 'input-unreadable', message: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message, file: input });
    }
  }
  return { files, errors };
}

export interface AuditOptions {
  readonly limits?: ManifestLimits;
  /** Reads '-'; defaults to this process's stdin. */
  readonly readStdin?: () => Uint8Array;
  /** Called after each file, e.g. for a progress indicator. */
  readonly onFile?: (file: string, done: number, total: number) => void;
}

export function audit(policy: WasmPolicy, inputs: readonly string[], opts: AuditOptions = {}): AuditReport {
  const { files, errors } = expandInputs(inputs);
  const resources: AuditedResource[] = [];
  for (const [n, file] of files.entries()) {
    const bytes = readInput(file, opts, errors);
    if (bytes) judgeEntries(policy, readManifests(bytes, file, opts.limits ?? DEFAULT_LIMITS), resources, errors);
    opts.onFile?.(file, n + 1, files.length);
  }
  return { files, resources, errors };
}

/** A file's bytes ('-': stdin), or undefined with the error recorded. */
export function readInput(file: string, opts: AuditOptions, errors: Diagnostic[]): Uint8Array | undefined {
  try {
    return file === '-' ? (opts.readStdin ?? (() => readFileSync(0)))() : readFileSync(file);
  } catch (e) {
    errors.push({ code: 'input-unreadable', message: (e as Error).message, file });
    return undefined;
  }
}

/** 0: nothing denied; 1: a deny violation; 2: an input could not be checked. */
export function auditExitCode(report: AuditReport): 0 | 1 | 2 {
  if (report.errors.length) return 2;
  return report.resources.some((r) => r.violations.some((v) => v.action === 'deny')) ? 1 : 0;
}
