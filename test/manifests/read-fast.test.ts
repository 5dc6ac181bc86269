// The fast readers (src/manifests/fast-yaml.ts, json.ts) against the `yaml` library's reader
// (readYamlStream, what audit used for everything before): for every fixture manifest and for
// generated manifests in the shapes kubectl, `yaml` and hand-written charts produce, the same
// entries (objects, exact integers, documents, List items, errors) and the same position for every
// field path, present or absent. A document the fast reader does not cover must still come out
// the same (through the library), so the comparison runs on whole texts.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { exactJson } from '../../src/eval/wasm.ts';
import { readFastDocument, UNSUPPORTED } from '../../src/manifests/fast-yaml.ts';
import { DEFAULT_LIMITS, firstInvalidUtf8, readManifestText, readYamlStream, yamlRegions, type ManifestEntry, type PathSegment } from '../../src/manifests/read.ts';

function pathsOf(value: unknown, max = 400): PathSegment[][] {
  const out: PathSegment[][] = [[]];
  const walk = (v: unknown, path: PathSegment[]) => {
    if (out.length > max || v === null || typeof v !== 'object') return;
    const entries: [PathSegment, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, x] of entries) {
      const p = [...path, k];
      out.push(p, [...p, 'absent'], [...p, 7]);
      walk(x, p);
    }
  };
  walk(value, []);
  return out;
}

function describe(entries: Iterable<ManifestEntry>): string[] {
  return [...entries].map((e) => {
    if (e.kind === 'error') return `error ${JSON.stringify(e.error)}`;
    const m = e.value;
    const located = pathsOf(m.object).map((p) => `${p.join('.')}@${JSON.stringify(m.locate(p))}`);
    return `object doc ${m.document} item ${m.item} at ${JSON.stringify(m.position)} ${exactJson(m.object)} ${typeof m.object === 'object' ? located.join(' ') : ''}`;
  });
}

/** How many regions of `text` the fast reader covers. */
function fastRegions(text: string): number {
  const starts = yamlRegions(text) ?? [];
  let n = 0;
  for (const [i, s] of starts.entries()) {
    try {
      if (readFastDocument(text, s, starts[i + 1] ?? text.length, { maxDepth: 100, tags: [] }) !== undefined) n++;
    } catch (e) {
      if (e !== UNSUPPORTED) throw e;
    }
  }
  return n;
}

function same(text: string, name: string) {
  const fast = describe(readManifestText(text, name, DEFAULT_LIMITS));
  const library = describe(readYamlStream(text, name, DEFAULT_LIMITS, { line: 0, document: 0 }));
  assert.equal(fast, library, `${name}:\n${text.slice(0, 3000)}`);
}

const fixtureFiles: string[] = [];
const walk = (dir: string) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ya?ml|json)$/.test(name)) fixtureFiles.push(p);
  }
};
walk(join(PROJECT_ROOT, 'test', 'fixtures'));
walk(join(PROJECT_ROOT, 'spec'));

test('every fixture and parameter file reads the same as with the yaml library, positions included', () => {
  let covered = 0;
  for (const f of fixtureFiles) {
    const text = readFileSync(f, 'utf8');
    same(text, f);
    covered += fastRegions(text);
  }
  // The rest hold multi-line quoted scalars, which are left to the library.
  assert.ok(covered > fixtureFiles.length * 0.8, `the fast reader covered ${covered} documents of ${fixtureFiles.length} files`);
});

const EDGE_CASES: Record<string, string> = {
  empties: 'a:\nb: \nc: # x\nd:\n  e: 1\nf:\n- 1\n- \n-\ng: ~\nh: {x: 1, y: [a, "b", \'c\']}\ni: []\nj: {}\n',
  compactSeq: 'kind: Pod\nspec:\n  containers:\n  - name: a\n    args:\n    - x\n    - y\n  - name: b\n  volumes: []\n',
  scalars: 'a: 0o17\nb: 0x1F\nc: -12\nd: +3\ne: 1.5\nf: .inf\ng: -.Inf\nh: .nan\ni: 1e3\nj: True\nk: FALSE\nl: Null\nm: 007\nn: 9223372036854775807\no: -9223372036854775809\np: 12345678901234567890123\nq: 1_000\nr: yes\ns: 0b11\nt: 2024-01-01\n',
  quoting: 'a: "x\\ty\\u00e9\\"q\\\\"\nb: \'it\'\'s\'\nc: "\\x41"\nd: \'\'\ne: ""\n"f g": 1\n\'h\': 2\ni: "a # b"\nj: a#b\nk: a # comment\nl: "https://x:1/y"\nm: a:b\n',
  literal: 'a: |\n  line 1\n\n    indented\n  line 3\n\n\nb: |-\n  stripped\nc: >\n  folded\n  text\nd: |+\n  kept\n\ne: |2\n   explicit\nf: x\n',
  literalInSeq: 'items:\n- |\n  one\n  two\n- name: x\n  script: |\n    #!/bin/sh\n    echo "hi: there"\n  after: 1\n',
  markers: '# leading comment\n---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n--- # comment\nc: 3\n',
  preamble: 'a: 1\n---\nb: 2\n',
  endMarker: 'a: 1\n...\n---\nb: 2\n',
  directive: '%YAML 1.1\n---\na: yes\n',
  anchors: 'a: &x {b: 1}\nc: *x\nd: !!str 1\n',
  duplicate: 'a: 1\nb: 2\na: 3\n',
  duplicateFlow: 'a: {b: 1, b: 2}\n',
  keys: '1: a\ntrue: b\nnull: c\n"1": d\n? e\n: f\n<<: {g: 1}\n__proto__: h\n',
  multiline: 'a: plain\n  continued\nb: "quoted\n  continued"\nc: [1,\n  2]\n',
  badIndent: 'a:\n  b: 1\n c: 2\n',
  tabs: 'a:\t1\nb: "\t"\n',
  crlf: 'a: 1\r\nb:\r\n  c: 2\r\n',
  unicode: 'name: café\nemoji: "😀"\nzh: 中文\n',
  notObjects: '- a\n- b\n---\njust a string\n---\n42\n',
  broken: 'a: [1, 2\n---\nb: {c: 1\n---\nc: "x\n---\nd: 1\n',
  list: 'apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- 3\n- kind: Pod\n  metadata:\n    name: b\n',
  trailing: 'a: 1\nb: |\n  no newline at the end',
  noNewline: 'a: 1',
  commentsBetween: 'a:\n  # c\n  b: 1\n# d\nc:\n    # e\n  - 1\n',
  deepFlow: `a: ${'['.repeat(120)}${']'.repeat(120)}\n`,
  weirdPlain: 'a: -x\nb: ?y\nc: :z\nd: x,y[0]{1}\ne: - no\nf: 50%\ng: @x\nh: `x`\ni: x: y\n',
  json: '{"kind": "Pod", "metadata": {"name": "a"}}\n---\n{"kind": "Pod"}\n',
  spacing: 'a  : 1\nb:    value   # comment\nc:   "q"   # c\nd: { x: 1 , y: [ a , b ] }\ne: {"k":1}\nf: \'a\' b\na#b: 2\n',
  kubectlNested: 'spec:\n  containers:\n  - name: a\n    ports:\n    - containerPort: 80\n      protocol: TCP\n    - containerPort: 81\n  - name: b\n    env: []\n  volumes:\n  - name: v\n    emptyDir: {}\n',
  wideDash: 'items:\n-   name: x\n    image: y\n-   name: z\n',
  literalEdges: 'a: |\n  x\n  ---\n  ...\n   y\n # not a comment here\n  z\n# a comment\nb: |-\n\n  after blank\n  \nc: |\n    deep\n  shallow\nd: 1\n',
  plainFolding: 'a: one\n  two\n\n  three\n\n\n  four\nb: x\n  # comment\nc: y\n# c\n  z\n',
  emptyThenComment: 'a:\n    # comment\nb: 1\nc:\n# comment\n  d: 2\n',
  longKey: `${'k'.repeat(1100)}: v\n`,
};

test('edge cases read the same as with the yaml library', () => {
  for (const [name, text] of Object.entries(EDGE_CASES)) same(text, name);
});

// Manifests as kubectl (sequences not indented), the yaml library and charts write them, from
// generated objects: keys and strings drawn to hit the scalar rules (numbers, booleans, null,
// quotes, colons, hashes, unicode, multi-line text).
const word = fc.stringMatching(/^[a-z][a-zA-Z0-9./_-]{0,11}$/);
const odd = fc.constantFrom('true', 'False', 'null', '~', '0x1f', '0o17', '1e3', '.inf', '-1', '007', 'a: b', 'a #b', '#x', '- x', "it's", '"q"', 'x\ny', 'x\n\ny\n', ' lead', 'trail ', '@at', '%p', '*a', '&a', '!t', '|', '>', '9223372036854775808', '', 'é ü 中', 'a\tb', '---', '...', 'x:', 'https://h:1/p', '[x]', '{y}', 'a,b');
const scalarText = fc.oneof({ arbitrary: word, weight: 8 }, { arbitrary: odd, weight: 2 }, { arbitrary: fc.string(), weight: 1 });
const key = fc.oneof({ arbitrary: fc.constantFrom('name', 'image', 'securityContext', 'alibabacloud.com/eci', 'runAsUser'), weight: 4 }, { arbitrary: word, weight: 4 }, { arbitrary: fc.constantFrom('a b', 'x:y', '1', 'true', '', 'a#b', "'q'", '- k'), weight: 1 });
const leaf = fc.oneof({ arbitrary: scalarText, weight: 6 }, fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }));
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('map'), tie('list')),
  map: fc.dictionary(key, tie('node'), { maxKeys: 5 }),
  list: fc.array(tie('node'), { maxLength: 4 }),
})).map;

test('generated manifests in the shapes kubectl, yaml and charts write read the same as with the yaml library', () => {
  let covered = 0;
  let docs = 0;
  fc.assert(
    fc.property(fc.array(tree, { minLength: 1, maxLength: 4 }), fc.constantFrom('kubectl', 'yaml', 'flow', 'quoted'), (objects, style) => {
      const text = objects
        .map((o) =>
          stringify(o, {
            indentSeq: style !== 'kubectl',
            ...(style === 'flow' ? { collectionStyle: 'flow' as const } : {}),
            ...(style === 'quoted' ? { defaultStringType: 'QUOTE_DOUBLE' as const, defaultKeyType: 'PLAIN' as const } : {}),
          }),
        )
        .join('---\n');
      same(text, style);
      covered += fastRegions(text);
      docs += objects.length;
    }),
    { numRuns: 400, seed: Number(process.env['FUZZ_SEED'] ?? 20261129) },
  );
  // Nested sequences (`- - x`) and flow roots, which manifests do not have, are left to the library.
  assert.ok(covered > docs / 5, `the fast reader covered ${covered} of ${docs} documents`);
});

test('JSON read by JSON.parse equals the YAML reading, positions included; long integers, duplicates and deep nesting go to the exact reader', () => {
  const list = { apiVersion: 'v1', kind: 'List', items: [{ kind: 'Pod', metadata: { name: 'a', labels: { 'x/y': 'z' } }, spec: { containers: [{ name: 'c', securityContext: { runAsUser: 1000, privileged: true } }] } }, 3, { kind: 'Pod', metadata: { name: 'b "q"' } }] };
  for (const text of [
    JSON.stringify(list, null, 2),
    JSON.stringify(list),
    JSON.stringify(list, null, 4).replaceAll('\n', '\r\n'),
    '{"kind": "Pod", "spec": {"securityContext": {"runAsUser": 9223372036854775807}}}',
    '{"kind": "Pod", "a": 1, "a": 2}',
    '{"kind": "Pod", "s": "a:b", "n": [1, {"m": "x\\"y:"}]}',
    `{"a": ${'['.repeat(120)}${']'.repeat(120)}}`,
    '[{"kind": "Pod"}]',
    '{"kind": "Pod"} trailing',
    '\ufeff{"kind": "Pod"}',
  ]) {
    same(text, 'x.json');
    same(text, 'x.yaml');
  }
});

test('the platform UTF-8 decoder refuses exactly the bytes firstInvalidUtf8 refuses (decodeManifest relies on it)', () => {
  const corrupted = fc.tuple(fc.string({ unit: 'grapheme' }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 })).map(([text, edits]) => {
    const bytes = Buffer.from(text, 'utf8');
    for (const [at, b] of edits) if (bytes.length) bytes[at % bytes.length] = b;
    return new Uint8Array(bytes);
  });
  const edges = [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98], [0xef, 0xbf, 0xbf], [0xf4, 0x8f, 0xbf, 0xbf], [0xc2]].map((b) => new Uint8Array(b));
  const check = (bytes: Uint8Array) => {
    let platform = true;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      platform = false;
    }
    assert.is(platform, firstInvalidUtf8(bytes) < 0, `bytes ${Buffer.from(bytes).toString('hex')}`);
  };
  edges.forEach(check);
  fc.assert(fc.property(fc.oneof(corrupted, fc.uint8Array({ maxLength: 12 })), (bytes) => check(bytes)), { numRuns: 5000, seed: 20261129 });
});

test.run();
