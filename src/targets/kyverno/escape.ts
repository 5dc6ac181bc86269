/**
 * A YAML double-quoted scalar. YAML 1.2 double-quoted scalars accept JSON's escapes, so
 * JSON.stringify is the base; characters YAML treats as line breaks or as non-printable
 * (C1 controls, NEL, U+2028/U+2029, BOM, lone surrogates) are escaped as well, so the scalar
 * reads back byte for byte (https://yaml.org/spec/1.2.2/#57-escaped-characters).
 */
export function yamlString(value: string): string {
  return JSON.stringify(value).replace(
    /[\u0080-\u009f\u2028\u2029\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
