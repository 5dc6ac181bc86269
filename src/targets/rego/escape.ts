/**
 * A Rego string literal. Rego strings use JSON's escapes
 * (https://www.openpolicyagent.org/docs/policy-reference/#strings), so JSON.stringify is exact:
 * quotes, backslashes and control characters are escaped; other Unicode is kept as UTF-8.
 */
export function regoString(value: string): string {
  return JSON.stringify(value);
}
