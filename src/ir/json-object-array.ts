// The grammar of the IR's `jsonObjectArray` condition, shared by every target so that all
// engines accept exactly the same strings: a JSON array of objects with exactly the given keys
// (any order), each a string without backslash escapes or control characters. Written for both
// RE2 (OPA, CEL) and JavaScript RegExp (the opa-wasm SDK runs regex.match in JS): no \s, no
// lookaround, explicit JSON whitespace.

const WS = '[ \\t\\n\\r]*';
const PLAIN_STRING = '"[^"\\\\\\x00-\\x1f]*"';

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [xs.slice()];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

const member = (key: string) => `"${key}"${WS}:${WS}${PLAIN_STRING}`;

export function jsonObjectArrayPattern(fields: readonly string[]): string {
  const orders = permutations(fields).map((order) => order.map(member).join(`${WS},${WS}`));
  const object = `\\{${WS}(?:${orders.join('|')})${WS}\\}`;
  return `^${WS}\\[${WS}(?:${object}(?:${WS},${WS}${object})*)?${WS}\\]${WS}$`;
}

/** Matches one `"field": "value"` member; the value is the text between the last pair of quotes. */
export function jsonMemberPattern(field: string): string {
  return member(field);
}
