// Reading Kubernetes manifests for audit: multi-document YAML, JSON, `kind: List` exports
// (`kubectl get pods -A -o yaml`) and Helm-rendered output. Documents are parsed one at a time
// and handed on as they are read, so memory is bounded by the file's text and the largest
// document. Every refusal is a diagnostic with file, line and a code; a broken document does not
// stop the ones after it. Plain JSON is read by JSON.parse (json.ts) and each YAML document by a
// fast reader (fast-yaml.ts) when it is in the subset that reader covers, else by the `yaml`
// library (readYamlStream): the results, positions included, are the library's either way.

import { Composer, isMap, isScalar, isSeq, LineCounter, Parser, Schema, type CST, type Document, type Node, type ParseOptions, type ScalarTag, type Tags } from 'yaml';
import type { Diagnostic } from '../ir/diagnostics.ts';
import { readFastDocument, shadowOn, UNSUPPORTED, type FastOptions, type Shadow } from './fast-yaml.ts';
import { lineIndex, looksLikeJson, readPlainJson, type PlainJson } from './json.ts';

export interface ManifestLimits {
  /** A larger file is refused before it is parsed. */
  readonly maxFileBytes: number;
  /** YAML aliases expanded per document (an alias bomb is refused, not expanded). */
  readonly maxAliasCount: number;
  /** Nesting depth of one object (maps and lists). */
  readonly maxDepth: number;
}

// A Pod's deepest field read by a rule is about 10 levels down (CronJob template, securityContext,
// capabilities, add, entry); 100 leaves room for any real object. The API server itself refuses
// request bodies over 3 MiB, but `kubectl get -A -o yaml` exports are one file of many objects.
export const DEFAULT_LIMITS: ManifestLimits = { maxFileBytes: 64 * 1024 * 1024, maxAliasCount: 100, maxDepth: 100 };

export type PathSegment = string | number;

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface ManifestObject {
  readonly file: string;
  /** 1-based index of the YAML document in its file. */
  readonly document: number;
  /** Index in the `items` of a List, when the object came from one. */
  readonly item?: number;
  readonly position: Position;
  /** The parsed object; an integer beyond 2^53 is a BigInt (JSON.stringify refuses it: see exactJson). */
  readonly object: unknown;
  /** Where a field of this object is written; the nearest enclosing node when the field is absent. */
  locate(path: readonly PathSegment[]): Position;
}

export type ManifestEntry = { readonly kind: 'object'; readonly value: ManifestObject } | { readonly kind: 'error'; readonly error: Diagnostic };

/**
 * The first byte offset where `bytes` stop being UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), or -1. Kubernetes reads manifests as UTF-8.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const [n, lo, hi] =
      b >= 0xc2 && b <= 0xdf ? [1, 0x80, 0xbf]
      : b === 0xe0 ? [2, 0xa0, 0xbf]
      : b === 0xed ? [2, 0x80, 0x9f]
      : b >= 0xe1 && b <= 0xef ? [2, 0x80, 0xbf]
      : b === 0xf0 ? [3, 0x90, 0xbf]
      : b >= 0xf1 && b <= 0xf3 ? [3, 0x80, 0xbf]
      : b === 0xf4 ? [3, 0x80, 0x8f]
      : [0, 0, 0];
    if (n === 0 || i + n >= bytes.length) return i;
    const second = bytes[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= n; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

function lineAtByte(bytes: Uint8Array, offset: number): Position {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * Integers are read exactly: one beyond 2^53 is a BigInt (the WASM evaluator writes it out with
 * all its digits), so an int64 field near its limits is judged on the right side of them; the
 * rest stay numbers.
 */
function exactIntegers(tags: Tags): Tags {
  return tags.map((t) => {
    if (!isIntTag(t)) return t;
    const resolve = t.resolve;
    return {
      ...t,
      resolve: (source: string, onError: (message: string) => void, options: ParseOptions) => {
        if (source.length <= 15) return resolve(source, onError, options); // below 2^53 whatever its base
        const v = resolve(source, onError, { ...options, intAsBigInt: true });
        return typeof v === 'bigint' && Number.isSafeInteger(Number(v)) ? Number(v) : v;
      },
    };
  });
}

const isIntTag = (t: Tags[number]): t is ScalarTag => typeof t === 'object' && t.tag === 'tag:yaml.org,2002:int' && !('collection' in t);

/** The core schema's scalar tags that resolve plain scalars, as the composer tries them (exact integers included). */
const CORE_TAGS: readonly ScalarTag[] = new Schema({ customTags: exactIntegers }).tags.filter((t): t is ScalarTag => !('collection' in t && t.collection) && t.default === true && 'test' in t && t.test instanceof RegExp);

/** Nesting depth of plain data, without recursion (a hostile document must not blow the stack). */
export function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth]);
  }
  return deepest;
}

/**
 * The deepest collection nesting in a document's syntax tree and where it is, measured before
 * the document is composed: the composer recurses per level and relies on catching a stack
 * overflow, which V8 can instead turn into a fatal out-of-memory abort (seen with 100,000
 * nested flow maps), so deep documents must never reach it.
 */
function syntaxDepth(doc: CST.Document, limit: number): { depth: number; offset: number } {
  const stack: [CST.Token | undefined, number][] = [[doc.value, 0]];
  let deepest = { depth: 0, offset: doc.offset };
  while (stack.length) {
    const [token, d] = stack.pop()!;
    if (!token || (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection')) continue;
    const depth = d + 1;
    if (depth > deepest.depth) deepest = { depth, offset: token.offset };
    if (depth > limit) break;
    for (const item of token.items) {
      if ('key' in item) stack.push([item.key ?? undefined, depth]);
      stack.push([item.value, depth]);
    }
  }
  return deepest;
}

function isListKind(o: unknown): o is { items: unknown[] } {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return false;
  const { kind, items } = o as { kind?: unknown; items?: unknown };
  return typeof kind === 'string' && /List$/.test(kind) && Array.isArray(items);
}

/** The node a path leads to, or the deepest node on the way. */
function nodeOn(root: Node | null | undefined, path: readonly PathSegment[]): Node | undefined {
  let node: Node | undefined = root ?? undefined;
  for (const seg of path) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      next = pair ? (pair.value ?? pair.key) : undefined;
    } else if (isSeq(node) && typeof seg === 'number') next = node.items[seg];
    if (!next || typeof next !== 'object') break;
    node = next as Node;
  }
  return node;
}

/**
 * Reads one manifest file's bytes. `file` names it in positions and diagnostics ('-' for stdin).
 * Yields each object (List items one by one) or a located error, in file order.
 */
export function* readManifests(bytes: Uint8Array, file: string, limits: ManifestLimits = DEFAULT_LIMITS): Generator<ManifestEntry> {
  const text = decodeManifest(bytes, file, limits);
  if (typeof text !== 'string') {
    yield text;
    return;
  }
  yield* readManifestText(text, file, limits);
}

/** The file's text, or the error refusing it whole (too large, not UTF-8). A BOM is dropped. */
export function decodeManifest(bytes: Uint8Array, file: string, limits: ManifestLimits): string | ManifestEntry {
  if (bytes.length > limits.maxFileBytes) {
    return errorEntry(file, 'input-too-large', `${bytes.length} bytes is over the limit of ${limits.maxFileBytes} bytes (--max-bytes); nothing in this file was checked`);
  }
  let body = bytes;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  try {
    // The platform's decoder refuses what firstInvalidUtf8 refuses (WHATWG's UTF-8 is RFC 3629's), several times faster.
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    const bad = firstInvalidUtf8(body);
    if (bad >= 0) {
      const at = lineAtByte(body, bad);
      return errorEntry(file, 'input-not-utf8', `byte 0x${body[bad]!.toString(16).padStart(2, '0')} at offset ${bad + bytes.length - body.length} is not UTF-8; manifests must be UTF-8, and nothing in this file was checked`, at);
    }
    return new TextDecoder('utf-8').decode(body);
  }
}

function errorEntry(file: string, code: string, message: string, at?: Position): ManifestEntry {
  return { kind: 'error', error: { code, message, file, ...(at ? { line: at.line, column: at.column } : {}) } };
}

/** Where a part of a file's text starts: lines and documents before it. */
export interface TextBase {
  readonly line: number;
  readonly document: number;
}

const START: TextBase = { line: 0, document: 0 };

export interface TextPart {
  /** The text is a part of its file starting at a `---` line (not read as JSON). */
  readonly base?: TextBase;
  /** false: do not try the JSON fast path. */
  readonly json?: boolean;
  /**
   * Filled in for a part: the documents it held, and whether they are surely the documents the
   * whole file holds there (false when the library read its last document up to the part's end
   * with an error, which could be a quoted scalar running on past the `---` line that ends the
   * part, or read the part as one stream).
   */
  readonly report?: { documents: number; aligned: boolean };
}

/**
 * Reads a file's text (or a part of it that starts at a line start, `base` saying what comes
 * before it): JSON by JSON.parse when it is plain (see json.ts), else YAML document by document,
 * each by the fast reader when it can (fast-yaml.ts), else by the `yaml` library.
 */
export function* readManifestText(text: string, file: string, limits: ManifestLimits, part: TextPart = {}): Generator<ManifestEntry> {
  const base = part.base ?? START;
  if (!part.base && part.json !== false && looksLikeJson(text, file)) {
    const json = readPlainJson(text, limits.maxDepth);
    if (json) {
      yield* jsonEntries(json, text, file, 0, 1);
      return;
    }
  }
  const regions = yamlRegions(text);
  if (!regions) {
    if (part.report) part.report.aligned = false;
    yield* readYamlStream(text, file, limits, base);
    return;
  }
  let document = base.document;
  let line = base.line;
  let lineAt = 0;
  const fast: FastOptions = { maxDepth: limits.maxDepth, tags: CORE_TAGS };
  for (let i = 0; i < regions.length; i++) {
    const start = regions[i]!;
    const end = regions[i + 1] ?? text.length;
    line += countLines(text, lineAt, start);
    lineAt = start;
    let doc: ReturnType<typeof readFastDocument>;
    try {
      doc = readFastDocument(text, start, end, fast);
    } catch (e) {
      if (e !== UNSUPPORTED) throw e;
      // The library reads from here to the end of its document, which is not always the next
      // `---` line (a quoted scalar runs over one), and the fast reader goes on after it.
      const read = { documents: 0, next: -1 };
      let failed = false;
      for (const entry of readYamlStream(text.slice(start), file, limits, { line, document }, read, true)) {
        if (entry.kind === 'error') failed = true;
        yield entry;
      }
      document += read.documents;
      if (part.report && failed && read.next < 0) part.report.aligned = false;
      const next = read.next < 0 ? -1 : regions.indexOf(start + read.next, i + 1);
      if (next < 0) {
        if (read.next >= 0) {
          // not at a `---` line: the library reads the rest
          line += countLines(text, lineAt, start + read.next);
          const rest = { documents: 0, next: -1 };
          yield* readYamlStream(text.slice(start + read.next), file, limits, { line, document }, rest);
          document += rest.documents;
          if (part.report) part.report.aligned = false;
        }
        break;
      }
      i = next - 1;
      continue;
    }
    if (doc === undefined) {
      if (start > 0 || text.startsWith('---')) document++; // an empty document after `---`
      continue;
    }
    document++;
    yield* fastEntries(text, start, end, doc, file, document, line, fast);
  }
  if (part.report) part.report.documents = document - base.document;
}

/**
 * The entries of a JSON file that is plain JSON (json.ts), for part `part` of `parts`: the
 * items of a List are shared out in order, a single object is part 0's. Not plain JSON: part 0
 * reads the file as YAML, the others have nothing.
 */
export function readJsonPart(text: string, file: string, limits: ManifestLimits, part: number, parts: number): Iterable<ManifestEntry> {
  const json = readPlainJson(text, limits.maxDepth);
  if (!json) return part === 0 ? readManifestText(text, file, limits, { json: false }) : [];
  return jsonEntries(json, text, file, part, parts);
}

function jsonEntries(json: PlainJson, text: string, file: string, part: number, parts: number): Iterable<ManifestEntry> {
  const position = lineIndex(text);
  const error = (code: string, message: string, at?: Position) => errorEntry(file, code, message, at);
  const locate = (path: readonly PathSegment[]) => position(json.offsetOf(path));
  if (isListKind(json.value)) {
    const n = json.value.items.length;
    return objectEntries(file, 1, json.value, locate, error, [Math.floor((n * part) / parts), Math.floor((n * (part + 1)) / parts)]);
  }
  return part === 0 ? objectEntries(file, 1, json.value, locate, error) : [];
}

/** Region starts: 0 and every `---` line; undefined when the stream has directives or `...` (read whole by the library). */
export function yamlRegions(text: string): number[] | undefined {
  if (/^(?:%|\.\.\.(?:[ \t\r\n]|$))/m.test(text)) return undefined;
  const starts = [0];
  const marker = /^---(?:[ \t\r\n]|$)/gm;
  for (let m = marker.exec(text); m; m = marker.exec(text)) if (m.index > 0) starts.push(m.index);
  return starts;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Reads a YAML stream with the `yaml` library, composing each document: what the fast reader
 * leaves, with the library's own messages. `base` places it in its file; `read` gets the
 * number of documents read and, with `firstOnly` (stop after the first document), the offset
 * where the next one starts (-1 at the end).
 */
export function* readYamlStream(text: string, file: string, limits: ManifestLimits, base: TextBase, read?: { documents: number; next: number }, firstOnly = false): Generator<ManifestEntry> {
  const error = (code: string, message: string, at?: Position): ManifestEntry => errorEntry(file, code, message, at);
  const lines = new LineCounter();
  const position = (offset: number | undefined): Position => {
    const p = lines.linePos(offset ?? 0);
    return { line: p.line + base.line, column: p.col };
  };
  const composer = new Composer({ uniqueKeys: true, prettyErrors: false, customTags: exactIntegers });
  let index = base.document;

  const handle = function* (doc: Document.Parsed): Generator<ManifestEntry> {
    index++;
    const document = index;
    const start = position(doc.contents?.range?.[0] ?? doc.range[0]);
    // One error per document: the parser's later errors are mostly consequences of the first.
    const [first, ...more] = doc.errors;
    if (first) {
      const code = first.code === 'RESOURCE_EXHAUSTION' ? 'input-too-deep' : 'input-yaml';
      const also = more.length ? ` (and ${more.length} more error${more.length === 1 ? '' : 's'})` : '';
      yield error(code, `document ${document}: ${first.message.split('\n')[0]}${also}; this document was not checked`, position(first.pos[0]));
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (e) {
      yield error('input-aliases', `document ${document}: ${(e as Error).message} (more than ${limits.maxAliasCount} alias expansions); this document was not checked`, start);
      return;
    }
    if (value === null || value === undefined) return; // an empty document, e.g. Helm's `---` between templates
    const depth = depthOf(value, limits.maxDepth);
    if (depth > limits.maxDepth) {
      yield error('input-too-deep', `document ${document}: nested more than ${limits.maxDepth} levels; this document was not checked`, start);
      return;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      yield error('input-not-object', `document ${document} is a ${Array.isArray(value) ? 'list' : typeof value}, not a Kubernetes object; it was not checked`, start);
      return;
    }
    yield* objectEntries(file, document, value, (path) => position(nodeOn(doc.contents, path)?.range?.[0]), error);
  };

  let documents = 0;
  try {
    for (const token of new Parser(lines.addNewLine).parse(text)) {
      if (token.type === 'document' && firstOnly && documents++ === 1) {
        if (read) read.next = token.offset;
        break;
      }
      const deep = token.type === 'document' ? syntaxDepth(token, limits.maxDepth) : undefined;
      if (deep && deep.depth > limits.maxDepth) {
        for (const doc of composer.end()) yield* handle(doc);
        index++;
        yield error('input-too-deep', `document ${index}: nested more than ${limits.maxDepth} levels; this document was not checked`, position(deep.offset));
        continue;
      }
      for (const doc of composer.next(token)) yield* handle(doc);
    }
    for (const doc of composer.end()) yield* handle(doc);
  } finally {
    if (read) read.documents = index - base.document;
  }
}

/**
 * The entries of one document's object: its items when it is a List, else itself. `locate`
 * gives the position of a path from the document's root (nearest node when absent).
 */
function* objectEntries(file: string, document: number, value: object, locate: (path: readonly PathSegment[]) => Position, error: (code: string, message: string, at?: Position) => ManifestEntry, items?: readonly [number, number]): Generator<ManifestEntry> {
  const make = (object: unknown, base: readonly PathSegment[], item?: number): ManifestObject => ({
    file,
    document,
    ...(item === undefined ? {} : { item }),
    position: locate(base),
    object,
    locate: (path) => locate([...base, ...path]),
  });
  if (isListKind(value)) {
    const [from, to] = items ?? [0, value.items.length];
    for (let i = from; i < to; i++) {
      const item: unknown = value.items[i];
      if (item && typeof item === 'object' && !Array.isArray(item)) yield { kind: 'object', value: make(item, ['items', i], i) };
      else yield error('input-not-object', `document ${document}: items[${i}] is not a Kubernetes object; it was not checked`, locate(['items', i]));
    }
    return;
  }
  yield { kind: 'object', value: make(value, []) };
}

/** A document the fast reader read; positions come from a second, tracking read when asked for. */
function fastEntries(text: string, start: number, end: number, doc: { value: Record<string, unknown>; at: number }, file: string, document: number, line: number, fast: FastOptions): Generator<ManifestEntry> {
  let shadow: Shadow | undefined;
  let lines: ((offset: number) => Position) | undefined;
  const locate = (path: readonly PathSegment[]): Position => {
    if (!path.length) {
      // the root, for every object: known without tracking, and near the document's start
      const lineStart = text.lastIndexOf('\n', doc.at - 1) + 1;
      return { line: line + 1 + countLines(text, start, doc.at), column: doc.at - lineStart + 1 };
    }
    shadow ??= readFastDocument(text, start, end, fast, true)!.shadow!;
    lines ??= lineIndex(text.slice(start, end)); // the region starts a line: columns are the file's
    const p = lines(shadowOn(shadow, path).at - start);
    return { line: line + p.line, column: p.column };
  };
  return objectEntries(file, document, doc.value, locate, (code, message, at) => errorEntry(file, code, message, at));
}

/** Parses a violation path as the policies print it: `spec.containers[0].name`, `metadata.annotations["a/b"]`. */
export function parseFieldPath(path: string): PathSegment[] | undefined {
  const segs: PathSegment[] = [];
  const re = /^(?:\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;
  let rest = path;
  while (rest) {
    const m = re.exec(rest);
    if (!m) return undefined;
    if (m[1] !== undefined) segs.push(m[1]);
    else if (m[2] !== undefined) segs.push(Number(m[2]));
    else segs.push(JSON.parse(m[3]!) as string);
    rest = rest.slice(m[0].length);
  }
  return segs;
}
