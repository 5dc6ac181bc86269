/**
 * A Rego string literal. Rego strings use JSON's escapes
 * (https://www.openpolicyagent.org/docs/policy-reference/#strings), so JSON.stringify is the
 * base: quotes, backslashes and control characters are escaped; other Unicode is kept as UTF-8,
 * except U+FEFF, which OPA's scanner rejects anywhere but at the start of a file ("illegal
 * byte-order mark").
 */
export function regoString(value: string): string {
  return JSON.stringify(value).replace(/\ufeff/g, '\\ufeff');
}
