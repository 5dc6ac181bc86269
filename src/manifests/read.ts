// Reading Kubernetes manifests for audit: multi-document YAML, JSON, `kind: List` exports
// (`kubectl get pods -A -o yaml`) and Helm-rendered output. Documents are parsed one at a time
// and handed on as they are read, so memory is bounded by the largest document, not the file.
// Every refusal is a diagnostic with file, line and a code; a broken document does not stop
// the ones after it.

import { Composer, isMap, isScalar, isSeq, LineCounter, Parser, type CST, type Document, type Node, type ParseOptions, type ScalarTag, type Tags } from 'yaml';
import type { Diagnostic } from '../ir/diagnostics.ts';

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
  const error = (code: string, message: string, at?: Position, extra: Partial<Diagnostic> = {}): ManifestEntry => ({
    kind: 'error',
    error: { code, message, file, ...(at ? { line: at.line, column: at.column } : {}), ...extra },
  });
  if (bytes.length > limits.maxFileBytes) {
    yield error('input-too-large', `${bytes.length} bytes is over the limit of ${limits.maxFileBytes} bytes (--max-bytes); nothing in this file was checked`);
    return;
  }
  let body = bytes;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  const bad = firstInvalidUtf8(body);
  if (bad >= 0) {
    const at = lineAtByte(body, bad);
    yield error('input-not-utf8', `byte 0x${body[bad]!.toString(16).padStart(2, '0')} at offset ${bad + bytes.length - body.length} is not UTF-8; manifests must be UTF-8, and nothing in this file was checked`, at);
    return;
  }
  const text = new TextDecoder('utf-8').decode(body);
  const lines = new LineCounter();
  const position = (offset: number | undefined): Position => {
    const p = lines.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  const composer = new Composer({ uniqueKeys: true, prettyErrors: false, customTags: exactIntegers });
  let index = 0;

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
    const make = (object: unknown, base: readonly PathSegment[], item?: number): ManifestObject => {
      const root = nodeOn(doc.contents, base);
      return {
        file,
        document,
        ...(item === undefined ? {} : { item }),
        position: position(root?.range?.[0]),
        object,
        locate: (path) => position(nodeOn(root, path)?.range?.[0]),
      };
    };
    if (isListKind(value)) {
      for (const [i, item] of value.items.entries()) {
        if (item && typeof item === 'object' && !Array.isArray(item)) yield { kind: 'object', value: make(item, ['items', i], i) };
        else yield error('input-not-object', `document ${document}: items[${i}] is not a Kubernetes object; it was not checked`, position(nodeOn(doc.contents, ['items', i])?.range?.[0]));
      }
      return;
    }
    yield { kind: 'object', value: make(value, []) };
  };

  for (const token of new Parser(lines.addNewLine).parse(text)) {
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
