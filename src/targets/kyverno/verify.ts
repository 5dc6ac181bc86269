import type { Diagnostic } from '../../ir/diagnostics.ts';
export function checkKyvernoOutput(_text: string, _file: string): Diagnostic[] {
  return [];
}
