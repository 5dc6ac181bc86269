// Text into Markdown (generated/POLICIES.md). Values reach the template only through these:
// descriptions hold characters Markdown would read as markup (`kernel.shm*`, `<cpu>-<mem>Gi`,
// which a renderer would take for an HTML tag and hide).

const LINE_BREAKS = /[\r\n\u2028\u2029]+/g;

/**
 * One line of Markdown text showing `s` as written: line breaks become spaces, and every ASCII
 * punctuation character that can start inline markup, a table cell or a heading's closing
 * sequence is backslash-escaped. `_` between letters or digits is left alone (CommonMark never
 * reads it as emphasis there), so `vm.min_free_kbytes` stays readable in the source.
 */
export function mdText(s: string): string {
  const line = s.replace(LINE_BREAKS, ' ');
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '_') {
      const word = (x: string | undefined) => x !== undefined && /[A-Za-z0-9]/.test(x);
      out += word(line[i - 1]) && word(line[i + 1]) ? c : '\\_';
    } else out += /[\\`*[\]<>&|~#]/.test(c) ? `\\${c}` : c;
  }
  return out;
}

/** The longest run of backticks in `s`. */
function longestBacktickRun(s: string): number {
  return Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
}

/** An inline code span showing `s` as written (on one line), fenced by more backticks than it holds. */
export function mdCode(s: string): string {
  const line = s.replace(LINE_BREAKS, ' ');
  const fence = '`'.repeat(longestBacktickRun(line) + 1);
  // A space on each side keeps a leading or trailing backtick out of the fence (CommonMark strips one).
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}

/** The fence of a fenced code block holding `s`: backticks, at least three, more than any run in `s`. */
export function mdFence(s: string): string {
  return '`'.repeat(Math.max(3, longestBacktickRun(s) + 1));
}
