// Objects read from manifests judged by the compiled policy, each violation placed at the line of
// its field: what `eci-policy audit` reports and the playground shows (no Node module here, so
// the playground's browser bundle shares it).

import type { Diagnostic } from '../ir/diagnostics.ts';
import { parseFieldPath, type ManifestEntry, type Position } from '../manifests/read.ts';
import type { Violation, WasmPolicy } from './wasm.ts';

export interface LocatedViolation extends Violation {
  readonly line: number;
  readonly column: number;
}

export interface AuditedResource {
  readonly file: string;
  readonly document: number;
  readonly item?: number;
  readonly position: Position;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly violations: readonly LocatedViolation[];
}

function str(o: unknown, ...path: string[]): string {
  const v = path.reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), o);
  return typeof v === 'string' ? v : '';
}

/** Evaluates each object read and places its violations; read errors and evaluation errors go to `errors`. */
export function judgeEntries(policy: WasmPolicy, entries: Iterable<ManifestEntry>, resources: AuditedResource[], errors: Diagnostic[]): void {
  for (const entry of entries) {
    if (entry.kind === 'error') {
      errors.push(entry.error);
      continue;
    }
    const m = entry.value;
    let violations: Violation[];
    try {
      violations = policy.violations(m.object);
    } catch (e) {
      // Fail closed: an object the policy could not evaluate is an error, never a pass.
      errors.push({ code: 'eval-error', message: `the policy could not evaluate this object: ${(e as Error).message}`, file: m.file, line: m.position.line, column: m.position.column });
      continue;
    }
    resources.push({
      file: m.file,
      document: m.document,
      ...(m.item === undefined ? {} : { item: m.item }),
      position: m.position,
      kind: str(m.object, 'kind'),
      namespace: str(m.object, 'metadata', 'namespace'),
      name: str(m.object, 'metadata', 'name'),
      violations: violations
        .map((v) => {
          const at = m.locate(parseFieldPath(v.path) ?? []);
          return { ...v, line: at.line, column: at.column };
        })
        .sort((a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule) || a.path.localeCompare(b.path)),
    });
  }
}
