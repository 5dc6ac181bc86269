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
