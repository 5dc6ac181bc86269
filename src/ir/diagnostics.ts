/** Errors are values: a code, a message and where. The CLI formats them as `file:line: code: message`. */
export interface Diagnostic {
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** The rule, key or field the diagnostic is about, e.g. `rules[3].checks[0].subject`. */
  readonly path?: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly Diagnostic[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(errors: readonly Diagnostic[]): Result<T> => ({ ok: false, errors });

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line !== undefined ? `:${d.line}` : ''}${d.column !== undefined ? `:${d.column}` : ''}: ` : '';
  const at = d.path ? ` (at ${d.path})` : '';
  return `${where}${d.code}: ${d.message}${at}`;
}

/** Thrown only at the CLI boundary and by the build stages, carrying the collected diagnostics. */
export class DiagnosticsError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'DiagnosticsError';
  }
}
