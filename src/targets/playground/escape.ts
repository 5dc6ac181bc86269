// Escapers for the playground's page and data script.

/** Text in HTML content or a double-quoted attribute. */
export function htmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A value as a JavaScript expression: JSON, with U+2028 and U+2029 escaped (older engines end a
 * string literal's line there) and `<` as \u003c, so no `</script>` can appear whatever the data.
 */
export function jsValue(v: unknown): string {
  return JSON.stringify(v).replace(/[\u2028\u2029<]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
