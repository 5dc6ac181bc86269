// A fast reader for the YAML that manifests are made of, in front of the `yaml` library. The
// library's lexer and parser read about 2.5 MB/s, which made reading the larger half of an
// audit; this reader covers the common subset (block maps and sequences, plain and quoted
// one-line scalars, literal block scalars, one-line flow collections, comments) directly on the
// text and, for a document holding anything else (anchors, aliases, tags, directives, folded or
// multi-line scalars, tabs, CR, duplicate keys, keys that are not strings, any syntax error), gives
// up with UNSUPPORTED so that the library reads that document instead, with its own messages.
// Within the subset it yields what the library's core schema (with exact integers) yields, and
// the same positions; test/manifests/fast-yaml.test.ts compares the two.

import { isScalar, type ScalarTag } from 'yaml';
import type { PathSegment } from './read.ts';

/** Thrown when a document is outside the subset: the caller reads it with the `yaml` library. */
export const UNSUPPORTED: unique symbol = Symbol('unsupported');

/** Where each node of a document starts (an offset in the text), built only when a field is located. */
export interface Shadow {
  readonly at: number;
  kids?: Map<string, Shadow> | Shadow[];
}

// Characters the subset never handles: tabs, CR, other C0/C1 controls, BOMs inside the text, and
// the Unicode line separators (which YAML 1.1 reads as line breaks).
const UNUSUAL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;
// The start of a plain scalar in block context (YAML 1.2 ns-plain-first): no indicator, except
// `-`, `?`, `:` followed by a non-space.
const INDICATOR = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);
// First characters of plain scalars that any core-schema tag other than str can match
// (null `~`/null, booleans, numbers, .inf/.nan) and the empty scalar.
const MAY_BE_TYPED = /^(?:$|[~nNtTfF0-9+\-.])/;
const JSON_ESCAPES = /\\(?:[^"\\/bfnrtu]|u(?![0-9a-fA-F]{4}))/;

export interface FastOptions {
  readonly maxDepth: number;
  /** The core schema's scalar tags with a test, in the library's order (see read.ts). */
  readonly tags: readonly ScalarTag[];
}

/**
 * Reads the document in `text[start, end)` (a region holding at most one document: it starts at
 * the text's start or at a `---` line). Returns undefined for a region with no content, the
 * document's root (a block map) and its offset, or throws UNSUPPORTED. With `track`, also builds
 * the shadow of every node (for `locate`).
 */
export function readFastDocument(text: string, start: number, end: number, opts: FastOptions, track = false): { value: Record<string, unknown>; at: number; shadow?: Shadow } | undefined {
  const region = text.slice(start, end);
  if (UNUSUAL.test(region)) throw UNSUPPORTED;
  const r = new FastReader(text, start, end, opts, track);
  return r.document();
}

class FastReader {
  private p: number;
  /** Shadow of the node last read (when tracking). */
  private sh: Shadow | undefined;
  private depth = 0;

  constructor(
    private readonly s: string,
    start: number,
    private readonly end: number,
    private readonly opts: FastOptions,
    private readonly track: boolean,
  ) {
    this.p = start;
  }

  document(): { value: Record<string, unknown>; at: number; shadow?: Shadow } | undefined {
    const s = this.s;
    if (s.startsWith('---', this.p)) {
      // `---` alone or with a comment; content on the marker line is left to the library.
      if (!this.onlyCommentAfter(this.p + 3)) throw UNSUPPORTED;
      this.p = this.nextLine(this.p);
    }
    const first = this.nextContent();
    if (first === undefined) return undefined; // blank and comments only: no document, or an empty one after `---`
    const [lineStart, indent] = first;
    if (s.startsWith('...', lineStart) || s[lineStart + indent] === '-' || s[lineStart + indent] === '%') throw UNSUPPORTED;
    const at = lineStart + indent;
    const value = this.blockMap(indent, at);
    const shadow = this.sh;
    if (this.nextContent() !== undefined) throw UNSUPPORTED; // something after the root map
    return { value, at, ...(this.track ? { shadow: shadow! } : {}) };
  }

  // The end of the line last asked about, and where it was asked from: one long line (flow
  // collections of many items) is searched once, not once per item.
  private lineFrom = -1;
  private lineTo = -1;

  private lineEnd(p: number): number {
    if (p >= this.lineFrom && p <= this.lineTo) return this.lineTo;
    const e = this.s.indexOf('\n', p);
    this.lineFrom = p;
    this.lineTo = e < 0 || e > this.end ? this.end : e;
    return this.lineTo;
  }

  /** The first `c` in [from, to), or -1: searches never run past the line (no quadratic time on hostile input). */
  private find(c: number, from: number, to: number): number {
    const s = this.s;
    for (let q = from; q < to; q++) if (s.charCodeAt(q) === c) return q;
    return -1;
  }

  private nextLine(p: number): number {
    const e = this.lineEnd(p);
    return e < this.end ? e + 1 : this.end;
  }

  /** Whether the line holds nothing from `p` on but spaces and a comment (` #`, after a space). */
  private onlyCommentAfter(p: number): boolean {
    const s = this.s;
    const e = this.lineEnd(p);
    let q = p;
    while (q < e && s.charCodeAt(q) === 32) q++;
    return q === e || (s[q] === '#' && q > p);
  }

  /**
   * From the line start this.p, skips blank and comment lines; returns the next content line
   * [start, indent] (this.p at its start) or undefined at the end of the region. A document
   * marker line ends the region; `...` is left to the library.
   */
  private nextContent(): [number, number] | undefined {
    const s = this.s;
    while (this.p < this.end) {
      const ls = this.p;
      let q = ls;
      while (q < this.end && s.charCodeAt(q) === 32) q++;
      if (q >= this.end) {
        this.p = this.end;
        return undefined;
      }
      const c = s[q];
      if (c === '\n' || c === '#') {
        this.p = this.nextLine(ls);
        continue;
      }
      if (q === ls && (s.startsWith('---', ls) || s.startsWith('...', ls)) && (ls + 3 >= this.end || s[ls + 3] === ' ' || s[ls + 3] === '\n')) throw UNSUPPORTED;
      return [ls, q - ls];
    }
    return undefined;
  }

  private enter(): void {
    if (++this.depth > this.opts.maxDepth) throw UNSUPPORTED;
  }

  /** A block map whose entries are at column `indent`; the first key starts at `first` (maybe mid-line, after `- `). */
  private blockMap(indent: number, first: number): Record<string, unknown> {
    this.enter();
    const s = this.s;
    const map: Record<string, unknown> = {};
    const kids = this.track ? new Map<string, Shadow>() : undefined;
    let k = first;
    for (;;) {
      const [key, colon] = this.key(k);
      if (Object.hasOwn(map, key)) throw UNSUPPORTED; // the library reports the duplicate
      const q = this.afterIndicator(colon + 1);
      const value = q < 0 ? this.blockValue(indent, true, -q - 1) : this.inline(q, indent);
      map[key] = value;
      kids?.set(key, this.sh!);
      const next = this.nextContent();
      if (next === undefined || next[1] < indent) break;
      if (next[1] > indent) throw UNSUPPORTED;
      k = next[0] + indent;
      if (s[k] === '-' && (s[k + 1] === ' ' || s[k + 1] === '\n' || k + 1 >= this.end)) throw UNSUPPORTED; // an item beside keys
    }
    this.depth--;
    if (this.track) this.sh = { at: first, kids: kids! };
    return map;
  }

  /** A map key at `p` (plain or quoted, one line) and the offset of its `:`. */
  private key(p: number): [string, number] {
    const s = this.s;
    let key: string;
    let q: number;
    const c = s[p]!;
    if (c === '"' || c === "'") {
      [key, q] = this.quoted(p);
    } else {
      if (INDICATOR.has(c) && !((c === '-' || c === ':') && s[p + 1] !== ' ' && s[p + 1] !== '\n')) throw UNSUPPORTED;
      if (c === '?') throw UNSUPPORTED; // complex keys
      const e = this.lineEnd(p);
      q = p;
      for (;;) {
        q = this.find(58 /* : */, q, e);
        if (q < 0) throw UNSUPPORTED;
        const after = s.charCodeAt(q + 1);
        if (q + 1 >= this.end || after === 32 || after === 10) break;
        q++;
      }
      const raw = s.slice(p, q);
      if (raw.includes(' #') || /[[\]{}]/.test(raw) || q - p > 1000) throw UNSUPPORTED; // a comment, flow indicators, too long an implicit key
      key = raw.trimEnd();
      if (MAY_BE_TYPED.test(key) && this.opts.tags.some((t) => t.test!.test(key))) throw UNSUPPORTED; // a key that is not a string
      return this.checkKey(key, q);
    }
    while (s.charCodeAt(q) === 32) q++;
    if (q - p > 1000 || s[q] !== ':' || !(s[q + 1] === ' ' || s[q + 1] === '\n' || q + 1 >= this.end)) throw UNSUPPORTED;
    return this.checkKey(key, q);
  }

  /**
   * After an indicator (`key:`, `-`) ending at `p`: where the value starts on this line, or, when
   * nothing but a comment follows, -1 - (where the library places an empty value), with this.p
   * at the next line.
   */
  private afterIndicator(p: number): number {
    const s = this.s;
    let q = p;
    while (s.charCodeAt(q) === 32 && q < this.end) q++;
    if (q < this.end && s[q] !== '\n' && s[q] !== '#') return q;
    if (s[q] === '#' && s[q - 1] !== ' ') throw UNSUPPORTED;
    this.p = this.nextLine(q);
    return -1 - q;
  }

  private checkKey(key: string, colon: number): [string, number] {
    if (key === '__proto__' || key === '<<' || key === '') throw UNSUPPORTED;
    return [key, colon];
  }

  /**
   * The value of a map entry or sequence item with nothing after its indicator on the line
   * (`empty`: where the library places the empty value). this.p is at the next line. A map
   * entry's value may be a sequence at the entry's own column (`sameIndentSeq`).
   */
  private blockValue(indent: number, sameIndentSeq: boolean, empty: number): unknown {
    const s = this.s;
    const save = this.p;
    const next = this.nextContent();
    if (next !== undefined) {
      const [ls, n] = next;
      const c = s[ls + n];
      const isItem = c === '-' && (s[ls + n + 1] === ' ' || s[ls + n + 1] === '\n' || ls + n + 1 >= this.end);
      if (n > indent || (n === indent && sameIndentSeq && isItem)) {
        if (isItem) return this.blockSeq(n);
        if (!this.isKeyLine(ls + n)) throw UNSUPPORTED; // a scalar on a line of its own
        return this.blockMap(n, ls + n);
      }
    }
    this.p = save;
    if (this.track) this.sh = { at: empty };
    return null;
  }

  /** A block sequence whose `-` are at column `indent`; this.p is at the first item's line. */
  private blockSeq(indent: number): unknown[] {
    this.enter();
    const s = this.s;
    const items: unknown[] = [];
    const kids: Shadow[] | undefined = this.track ? [] : undefined;
    const at = this.p + indent;
    for (;;) {
      const q = this.afterIndicator(this.p + indent + 1);
      let value: unknown;
      if (q < 0) value = this.blockValue(indent, false, -q - 1);
      else if (s[q] === '-' && (s[q + 1] === ' ' || s[q + 1] === '\n')) throw UNSUPPORTED; // `- - x`
      else if (this.isKeyLine(q)) value = this.blockMap(q - this.p, q);
      else value = this.inline(q, indent);
      items.push(value);
      kids?.push(this.sh!);
      const next = this.nextContent();
      if (next === undefined || next[1] < indent) break;
      if (next[1] > indent) throw UNSUPPORTED;
      const d = next[0] + indent;
      if (!(s[d] === '-' && (s[d + 1] === ' ' || s[d + 1] === '\n' || d + 1 >= this.end))) break; // a map key at the seq's column: the caller's
    }
    this.depth--;
    if (this.track) this.sh = { at, kids: kids! };
    return items;
  }

  /** Whether a map entry (`key: ` or `key:` at the line's end) starts at `p` on this line. */
  private isKeyLine(p: number): boolean {
    const s = this.s;
    const c = s[p]!;
    if (c === '[' || c === '{' || c === '|' || c === '>') return false;
    if (c === '"' || c === "'") {
      const close = this.quotedEnd(p);
      let q = close;
      while (s.charCodeAt(q) === 32) q++;
      return s[q] === ':';
    }
    const e = this.lineEnd(p);
    for (let q = p; q < e; q++) {
      const c = s.charCodeAt(q);
      if (c === 35 /* # */ && s.charCodeAt(q - 1) === 32) return false;
      if (c === 58 /* : */ && (q + 1 >= this.end || s.charCodeAt(q + 1) === 32 || s.charCodeAt(q + 1) === 10)) return true;
    }
    return false;
  }

  /** A value starting mid-line at `p` (after `key: ` or `- `); this.p ends at the line after it. */
  private inline(p: number, indent: number): unknown {
    const s = this.s;
    const c = s[p]!;
    let value: unknown;
    let after: number;
    if (c === '|') return this.literal(p, indent);
    if (c === '[' || c === '{') {
      [value, after] = this.flow(p);
    } else if (c === '"' || c === "'") {
      [value, after] = this.quoted(p);
      if (this.track) this.sh = { at: p };
    } else {
      if (INDICATOR.has(c) && !((c === '-' || c === '?' || c === ':') && s[p + 1] !== ' ' && s[p + 1] !== '\n')) throw UNSUPPORTED;
      const e = this.lineEnd(p);
      let q = p;
      for (; q < e; q++) {
        const ch = s.charCodeAt(q);
        if (ch === 58 /* : */ && (q + 1 >= e || s.charCodeAt(q + 1) === 32)) throw UNSUPPORTED; // a key where a value was expected
        if (ch === 35 /* # */ && s.charCodeAt(q - 1) === 32) break;
      }
      const raw = s.slice(p, q).trimEnd();
      if (this.track) this.sh = { at: p };
      if (q === e) {
        const more = this.continuation(e, indent);
        if (more) {
          this.p = more.next;
          return this.plain(raw + more.text);
        }
      }
      value = this.plain(raw);
      after = p + raw.length;
    }
    if (!this.onlyCommentAfter(after)) throw UNSUPPORTED;
    this.p = this.nextLine(after);
    return value;
  }

  /**
   * The continuation lines of a plain scalar whose first line ends at `e` (lines indented more
   * than its parent's column `indent`), folded as YAML does: a line break is a space, n empty lines
   * are n line breaks. Undefined when there are none.
   */
  private continuation(e: number, indent: number): { text: string; next: number } | undefined {
    const s = this.s;
    let text = '';
    let empties = 0;
    let next = -1;
    for (let line = e + 1; line < this.end; ) {
      const le = this.lineEnd(line);
      let n = 0;
      while (line + n < le && s.charCodeAt(line + n) === 32) n++;
      if (line + n === le) {
        empties++;
        line = le + 1;
        continue;
      }
      if (n <= indent || s[line + n] === '#') break;
      const content = s.slice(line + n, le).trimEnd();
      if (INDICATOR.has(content[0]!) || content.includes(': ') || content.endsWith(':') || content.includes(' #')) throw UNSUPPORTED;
      if (le >= this.end) throw UNSUPPORTED; // no line break after the last line
      text += (empties ? '\n'.repeat(empties) : ' ') + content;
      empties = 0;
      line = le + 1;
      next = line;
    }
    return next < 0 ? undefined : { text, next };
  }

  /** A plain scalar's value under the core schema (exact integers). */
  private plain(raw: string): unknown {
    if (!MAY_BE_TYPED.test(raw)) return raw;
    for (const tag of this.opts.tags) {
      if (!tag.test!.test(raw)) continue;
      let failed = false;
      const v: unknown = tag.resolve(raw, () => (failed = true), { intAsBigInt: false } as never);
      if (failed) throw UNSUPPORTED;
      return isScalar(v) ? v.value : v;
    }
    return raw;
  }

  /** Offset just after the closing quote of the one-line quoted scalar at `p`. */
  private quotedEnd(p: number): number {
    const s = this.s;
    const e = this.lineEnd(p);
    const quote = s[p];
    let q = p + 1;
    for (;;) {
      q = this.find(quote!.charCodeAt(0), q, e);
      if (q < 0) throw UNSUPPORTED; // multi-line or unterminated
      if (quote === "'" && s[q + 1] === "'") q += 2;
      else if (quote === '"' && backslashes(s, q) % 2 === 1) q++;
      else return q + 1;
    }
  }

  /** The one-line quoted scalar at `p` and the offset after it. */
  private quoted(p: number): [string, number] {
    const s = this.s;
    const end = this.quotedEnd(p);
    const body = s.slice(p + 1, end - 1);
    if (s[p] === "'") return [body.includes("''") ? body.replaceAll("''", "'") : body, end];
    if (!body.includes('\\')) return [body, end];
    if (JSON_ESCAPES.test(body)) throw UNSUPPORTED; // YAML-only escapes (\x, \e, \N, \L, \P, \U, ...)
    try {
      return [JSON.parse(`"${body}"`) as string, end];
    } catch {
      throw UNSUPPORTED;
    }
  }

  /** A one-line flow collection at `p`: its value and the offset after it. */
  private flow(p: number): [unknown, number] {
    this.enter();
    const s = this.s;
    const e = this.lineEnd(p);
    const open = s[p];
    const close = open === '[' ? ']' : '}';
    const seq: unknown[] | undefined = open === '[' ? [] : undefined;
    const map: Record<string, unknown> | undefined = open === '{' ? {} : undefined;
    const kids: Shadow[] | Map<string, Shadow> | undefined = this.track ? (seq ? [] : new Map()) : undefined;
    let q = p + 1;
    const space = () => {
      while (q < e && s.charCodeAt(q) === 32) q++;
      if (q >= e) throw UNSUPPORTED; // multi-line flow collections are left to the library
    };
    for (;;) {
      space();
      if (s[q] === close) break;
      let key: string | undefined;
      if (map) {
        const c = s[q]!;
        if (c === '"' || c === "'") [key, q] = this.quoted(q);
        else {
          const k0 = q;
          q = this.flowPlainEnd(q, e);
          key = s.slice(k0, q).trimEnd();
          if (MAY_BE_TYPED.test(key) && this.opts.tags.some((t) => t.test!.test(key!))) throw UNSUPPORTED;
        }
        this.checkKey(key, q);
        if (Object.hasOwn(map, key)) throw UNSUPPORTED;
        space();
        if (s[q] !== ':') throw UNSUPPORTED;
        q++;
        if (s[q] !== ' ') throw UNSUPPORTED;
        space();
        if (s[q] === ',' || s[q] === close) throw UNSUPPORTED; // empty values are left to the library
      }
      let value: unknown;
      const c = s[q]!;
      const at = q;
      if (c === '[' || c === '{') [value, q] = this.flow(q);
      else if (c === '"' || c === "'") {
        [value, q] = this.quoted(q);
        if (this.track) this.sh = { at };
      } else {
        q = this.flowPlainEnd(q, e);
        value = this.plain(s.slice(at, q).trimEnd());
        if (this.track) this.sh = { at };
      }
      if (map) map[key!] = value;
      else seq!.push(value);
      if (kids) {
        if (Array.isArray(kids)) kids.push(this.sh!);
        else kids.set(key!, this.sh!);
      }
      space();
      if (s[q] === ',') {
        q++;
        continue;
      }
      if (s[q] === close) break;
      throw UNSUPPORTED;
    }
    this.depth--;
    if (this.track) this.sh = { at: p, kids: kids! };
    return [seq ?? map, q + 1];
  }

  /** The end of a plain scalar in a flow collection starting at `q` (before `,`, brackets, `: ` or ` #`). */
  private flowPlainEnd(q: number, e: number): number {
    const s = this.s;
    const c = s[q]!;
    if (INDICATOR.has(c) && !((c === '-' || c === '?' || c === ':') && !' ,[]{}'.includes(s[q + 1] ?? ' '))) throw UNSUPPORTED;
    const start = q;
    for (; q < e; q++) {
      const ch = s[q]!;
      if (ch === ',' || ch === '[' || ch === ']' || ch === '{' || ch === '}') break;
      if (ch === ':' && q > start && ' ,[]{}'.includes(s[q + 1] ?? ' ')) break;
      if (ch === '#' && s[q - 1] === ' ') throw UNSUPPORTED;
    }
    if (q === start) throw UNSUPPORTED;
    return q;
  }

  /** A literal block scalar (`|`, `|-`) at `p`, the value of a node whose parent is at column `indent`. */
  private literal(p: number, indent: number): string {
    const s = this.s;
    let q = p + 1;
    const strip = s[q] === '-';
    if (strip) q++;
    if (!this.onlyCommentAfter(q)) throw UNSUPPORTED; // keep (`+`), indentation indicators, junk
    if (this.track) this.sh = { at: p };
    let line = this.nextLine(q);
    const lines: string[] = [];
    let contentIndent = -1;
    let blankRun = 0; // the most spaces on an empty line before the first content line
    let after = line; // the line after the last content line
    let last = 0; // lines up to the last content line
    while (line < this.end) {
      const e = this.lineEnd(line);
      let n = 0;
      while (line + n < e && s.charCodeAt(line + n) === 32) n++;
      if (line + n === e) {
        // a line of spaces: empty, unless it has more spaces than the content's indentation
        if (contentIndent < 0) blankRun = Math.max(blankRun, n);
        else if (n > contentIndent) throw UNSUPPORTED;
        lines.push('');
        line = e + 1;
        continue;
      }
      if (contentIndent < 0) {
        if (n <= indent) break;
        if (blankRun > n) throw UNSUPPORTED;
        contentIndent = n;
      } else if (n < contentIndent) break;
      if (e >= this.end) throw UNSUPPORTED; // a last line without its line break
      lines.push(s.slice(line + contentIndent, e));
      line = e + 1;
      after = line;
      last = lines.length;
    }
    if (contentIndent < 0) throw UNSUPPORTED;
    this.p = after; // trailing empty lines are skipped as blank by the caller
    const body = lines.slice(0, last).join('\n');
    return strip ? body : `${body}\n`;
  }
}

function backslashes(s: string, q: number): number {
  let n = 0;
  while (s[q - 1 - n] === '\\') n++;
  return n;
}

/** The node a path leads to, or the deepest node on the way (as read.ts's nodeOn does on the library's nodes). */
export function shadowOn(root: Shadow, path: readonly PathSegment[]): Shadow {
  let node = root;
  for (const seg of path) {
    const kids = node.kids;
    const next = kids === undefined ? undefined : Array.isArray(kids) ? (typeof seg === 'number' ? kids[seg] : undefined) : typeof seg === 'string' ? kids.get(seg) : undefined;
    if (!next) break;
    node = next;
  }
  return node;
}
