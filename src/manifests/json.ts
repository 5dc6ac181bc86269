// The JSON fast path of the manifest reader (`kubectl get -o json`, List exports): JSON.parse,
// about 50 times faster than composing the same text as YAML. It takes only what it reads
// exactly as the YAML reader would; anything else (invalid JSON, an integer token of 16 digits
// or more, which JSON.parse would round (Node 20's JSON.parse has no source text for a reviver),
// duplicate keys, nesting deeper than the limit, a root that is not an object) returns
// undefined and the file goes to the YAML reader, which refuses or reads it exactly, with its
// own messages and positions. Positions are found on the text only when asked for.

import type { PathSegment } from './read.ts';

/** Whether a file is worth trying as JSON: named .json, or its first non-space character opens an object or array. */
export function looksLikeJson(text: string, file: string): boolean {
  if (/\.json$/i.test(file)) return true;
  const m = /[^ \t\r\n]/.exec(text.length > 4096 ? text.slice(0, 4096) : text);
  return m !== null && (m[0] === '{' || m[0] === '[');
}

export interface PlainJson {
  readonly value: object;
  /** Offset in the text of the node a path leads to, or of the deepest node on the way. */
  offsetOf(path: readonly PathSegment[]): number;
}

interface Scan {
  /** `:` outside strings: one per object member written in the text. */
  readonly members: number;
  readonly depth: number;
  /** An integer-looking token of 16 digits or more (beyond 2^53 it must stay exact). */
  readonly longNumber: boolean;
}

/** One pass over valid JSON text, outside its strings. */
function scan(text: string): Scan {
  let members = 0;
  let depth = 0;
  let deepest = 0;
  let digits = 0;
  let longNumber = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      digits = 0;
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        let k = j - 1;
        while (text.charCodeAt(k) === 92 /* \ */) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j++;
      }
      i = j + 1;
      continue;
    }
    if (c >= 48 && c <= 57) {
      if (++digits >= 16) longNumber = true;
    } else {
      digits = 0;
      if (c === 58 /* : */) members++;
      else if (c === 123 || c === 91) {
        if (++depth > deepest) deepest = depth;
      } else if (c === 125 || c === 93) depth--;
    }
    i++;
  }
  return { members, depth: deepest, longNumber };
}

/** Object members in a parsed value, without recursion. */
function countMembers(value: unknown): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') stack.push(x);
      continue;
    }
    for (const k in v) {
      n++;
      const x = (v as Record<string, unknown>)[k];
      if (x !== null && typeof x === 'object') stack.push(x);
    }
  }
  return n;
}

/** The text as plain JSON whose every value JSON.parse reads exactly, or undefined (see above). */
export function readPlainJson(text: string, maxDepth: number): PlainJson | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const s = scan(text);
  if (s.longNumber || s.depth > maxDepth || s.members !== countMembers(value)) return undefined;
  return { value, offsetOf: locator(text) };
}

type Children = Map<string, number> | number[];

/** Finds nodes in valid JSON text, indexing each container's children on first use. */
function locator(text: string): (path: readonly PathSegment[]) => number {
  const index = new Map<number, Children>();
  const skipSpace = (i: number): number => {
    let c = text.charCodeAt(i);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++i);
    return i;
  };
  const stringEnd = (i: number): number => {
    let j = i + 1;
    for (;;) {
      j = text.indexOf('"', j);
      let k = j - 1;
      while (text.charCodeAt(k) === 92) k--;
      if ((j - 1 - k) % 2 === 0) return j + 1;
      j++;
    }
  };
  /** The offset after the value at `i`. */
  const valueEnd = (i: number): number => {
    const c = text[i];
    if (c === '"') return stringEnd(i);
    if (c !== '{' && c !== '[') {
      let j = i;
      while (j < text.length && !',]} \t\r\n'.includes(text[j]!)) j++;
      return j;
    }
    let depth = 0;
    for (let j = i; ; ) {
      const d = text[j];
      if (d === '"') {
        j = stringEnd(j);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if ((d === '}' || d === ']') && --depth === 0) return j + 1;
      j++;
    }
  };
  const children = (at: number): Children => {
    let kids = index.get(at);
    if (kids) return kids;
    const isObject = text[at] === '{';
    const map = new Map<string, number>();
    const list: number[] = [];
    let i = skipSpace(at + 1);
    while (text[i] !== '}' && text[i] !== ']') {
      if (isObject) {
        const keyEnd = stringEnd(i);
        const key = JSON.parse(text.slice(i, keyEnd)) as string;
        i = skipSpace(skipSpace(keyEnd) + 1); // past the `:`
        map.set(key, i);
      } else list.push(i);
      i = skipSpace(valueEnd(i));
      if (text[i] === ',') i = skipSpace(i + 1);
    }
    kids = isObject ? map : list;
    index.set(at, kids);
    return kids;
  };
  const root = skipSpace(0);
  return (path) => {
    let at = root;
    for (const seg of path) {
      if (text[at] !== '{' && text[at] !== '[') break;
      const kids = children(at);
      const next = Array.isArray(kids) ? (typeof seg === 'number' ? kids[seg] : undefined) : typeof seg === 'string' ? kids.get(seg) : undefined;
      if (next === undefined) break;
      at = next;
    }
    return at;
  };
}

/** Line and column (1-based) of offsets in a text, from a line index built on first use. */
export function lineIndex(text: string): (offset: number) => { line: number; column: number } {
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}
