/**
 * A YAML double-quoted scalar. YAML 1.2 double-quoted scalars accept JSON's escapes, so
 * JSON.stringify is the base; characters YAML treats as line breaks or that are not YAML
 * printable (DEL, C1 controls, NEL, U+2028/U+2029, BOM, U+FFFE/U+FFFF, lone surrogates) are
 * escaped as well, so the scalar reads back byte for byte in any YAML reader, Go's included
 * (https://yaml.org/spec/1.2.2/#51-character-set, #57-escaped-characters).
 */
export function yamlString(value: string): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A multi-line string as a YAML value: a literal block scalar (`|`, its lines indented by
 * `indent` spaces) when the text can be one, else a double-quoted scalar (yamlString). A
 * literal block carries printable text as is; it cannot carry a first line starting with a
 * space or tab (taken as the block's indentation), control characters other than tab and line
 * feed, or the line breaks YAML reads and JSON does not (NEL, U+2028, U+2029), nor what
 * yamlString escapes (C1 controls, BOM, lone surrogates, non-characters).
 */
export function yamlText(text: string, indent: number): string {
  // (`|` keeps one final line break and `|-` none: more than one would need `|+`.)
  const literal = !/^[ \t]/.test(text) && !/\n\n$/.test(text) && !/[\x00-\x08\x0b-\x1f]/.test(text) && yamlString(text) === JSON.stringify(text);
  if (!literal) return yamlString(text);
  const pad = ' '.repeat(indent);
  const lines = text.replace(/\n$/, '').split('\n');
  return `|${text.endsWith('\n') ? '' : '-'}\n${lines.map((line) => (line ? pad + line : '')).join('\n')}`;
}
