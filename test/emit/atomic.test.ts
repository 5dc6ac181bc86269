// writeTreeAtomically / recoverInterruptedSwap: a destination folder is always exactly one
// complete tree, the old or the new: after a normal write, after a write that throws, after
// the writer is killed at any moment (and the next build's recovery).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recoverInterruptedSwap, writeTreeAtomically, type FileTree } from '../../src/emit/atomic.ts';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';

const work = mkdtempSync(join(tmpdir(), 'eci-policy-atomic-'));
let n = 0;
/** A fresh destination `<tmp>/<case>/out/tree`, whose parent starts empty. */
const freshDest = (): string => join(work, `case-${n++}`, 'out', 'tree');

/** Every file under `dir` with its bytes (no folders: a tree is its files). */
function readFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out.set(r, readFileSync(join(d, e.name)));
    }
  };
  walk(dir, '');
  return out;
}

const asBuffer = (c: string | Uint8Array): Buffer => (typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));

/** Whether the folder holds exactly the tree: the same paths, the same bytes. */
function sameTree(actual: ReadonlyMap<string, Buffer>, expected: FileTree): boolean {
  if (actual.size !== expected.size) return false;
  for (const [rel, content] of expected) {
    const got = actual.get(rel);
    if (!got || !got.equals(asBuffer(content))) return false;
  }
  return true;
}

const siblings = (dest: string): string[] => readdirSync(dirname(dest)).sort();

const treeA: FileTree = new Map<string, string | Uint8Array>([
  ['rego/policy.rego', 'package a\n'],
  ['kyverno/clusterpolicy.yaml', 'kind: ClusterPolicy # A\n'],
  ['bundle/policy.wasm', new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])],
  ['bundle/only-in-a.json', '{}\n'],
  ['deep/er/and/deeper/a.txt', 'A'],
]);
const treeB: FileTree = new Map<string, string | Uint8Array>([
  ['rego/policy.rego', 'package b\n'],
  ['kyverno/clusterpolicy.yaml', 'kind: ClusterPolicy # B\n'],
  ['bundle/policy.wasm', new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 255])],
  ['bundle/only-in-b.json', '[]\n'],
]);

test('a first write creates the destination and its parents', () => {
  const dest = freshDest();
  writeTreeAtomically(dest, treeA);
  assert.ok(sameTree(readFiles(dest), treeA));
  assert.equal(siblings(dest), ['tree']);
});

test('replacing a tree: exactly the new files, nothing of the old, no staging or previous folder left', () => {
  const dest = freshDest();
  writeTreeAtomically(dest, treeA);
  writeTreeAtomically(dest, treeB);
  const files = readFiles(dest);
  assert.ok(sameTree(files, treeB), [...files.keys()].join(', '));
  assert.not.ok(existsSync(join(dest, 'bundle', 'only-in-a.json')));
  assert.not.ok(existsSync(join(dest, 'deep')), 'folders of the old tree are gone too');
  assert.equal(siblings(dest), ['tree']);
  // And back again.
  writeTreeAtomically(dest, treeA);
  assert.ok(sameTree(readFiles(dest), treeA));
  assert.equal(siblings(dest), ['tree']);
});

// A file `x` and a file `x/y`: the second cannot be written once the first is (or vice versa),
// after 100 other files have been.
for (const [name, clash] of [
  ['a file, then a path inside it', ['zz', 'zz/inside']],
  ['a path inside a folder, then the folder as a file', ['zz/inside', 'zz']],
] as const) {
  test(`a write that throws midway (${name}) leaves the previous tree byte-identical`, () => {
    const dest = freshDest();
    writeTreeAtomically(dest, treeA);
    const before = readFiles(dest);
    const bad = new Map<string, string | Uint8Array>(Array.from({ length: 100 }, (_, i) => [`many/f${String(i).padStart(3, '0')}`, `file ${i}`]));
    for (const rel of clash) bad.set(rel, rel);
    assert.throws(() => writeTreeAtomically(dest, bad));
    const after = readFiles(dest);
    assert.ok(sameTree(after, treeA));
    assert.is(after.size, before.size);
    for (const [rel, content] of before) assert.ok(after.get(rel)?.equals(content), rel);
    assert.equal(siblings(dest), ['tree'], 'the staging folder is removed');
  });
}

test('recovery after a kill between the two renames: the previous tree comes back', () => {
  const dest = freshDest();
  writeTreeAtomically(dest, treeA);
  // The state the writer leaves between `dest → .previous-<name>` and `staging → dest`.
  const previous = join(dirname(dest), `.previous-${basename(dest)}`);
  renameSync(dest, previous);
  recoverInterruptedSwap(dest);
  assert.ok(sameTree(readFiles(dest), treeA));
  assert.equal(siblings(dest), ['tree']);
});

test('recovery after a kill before the previous tree was deleted: the new tree stays', () => {
  const dest = freshDest();
  writeTreeAtomically(dest, treeB);
  const previous = join(dirname(dest), `.previous-${basename(dest)}`);
  for (const [rel, content] of treeA) {
    mkdirSync(dirname(join(previous, rel)), { recursive: true });
    writeFileSync(join(previous, rel), content);
  }
  recoverInterruptedSwap(dest);
  assert.ok(sameTree(readFiles(dest), treeB));
  assert.equal(siblings(dest), ['tree']);
});

test('recovery with nothing to recover changes nothing', () => {
  const dest = freshDest();
  mkdirSync(dirname(dest), { recursive: true });
  recoverInterruptedSwap(dest);
  assert.equal(siblings(dest), []);
  writeTreeAtomically(dest, treeA);
  recoverInterruptedSwap(dest);
  assert.ok(sameTree(readFiles(dest), treeA));
  assert.equal(siblings(dest), ['tree']);
});

test('the next write recovers an interrupted swap first', () => {
  const dest = freshDest();
  writeTreeAtomically(dest, treeA);
  renameSync(dest, join(dirname(dest), `.previous-${basename(dest)}`));
  writeTreeAtomically(dest, treeB);
  assert.ok(sameTree(readFiles(dest), treeB));
  assert.equal(siblings(dest), ['tree']);
});

// ---- killed mid-write -------------------------------------------------------------------------

// Two trees of 200 files of 50 KB: different names (overlapping) and different bytes.
const treesModule = join(work, 'trees.mjs');
writeFileSync(
  treesModule,
  `export function tree(tag) {
  const offset = tag === 'A' ? 0 : 50;
  return new Map(Array.from({ length: 200 }, (_, i) => [\`dir\${i % 10}/file\${i + offset}.dat\`, Buffer.alloc(50 * 1024, \`\${tag}:\${i}:\`)]));
}
`,
);
const writer = join(work, 'writer.mts');
writeFileSync(
  writer,
  `import { writeTreeAtomically } from ${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'src', 'emit', 'atomic.ts')).href)};
import { tree } from ${JSON.stringify(pathToFileURL(treesModule).href)};
const [dest] = process.argv.slice(2);
const trees = [tree('A'), tree('B')];
process.stdout.write('ready\\n');
for (let i = 0; ; i++) {
  writeTreeAtomically(dest, trees[i % 2]);
  process.stdout.write(\`wrote \${i}\\n\`);
}
`,
);

const { tree } = (await import(pathToFileURL(treesModule).href)) as { tree: (tag: 'A' | 'B') => FileTree };
const bigA = tree('A');
const bigB = tree('B');

interface Killed {
  readonly completed: number;
  readonly left: readonly string[];
}

/** Start the writer, SIGKILL it `delayMs` after it is ready; what it completed and left behind. */
function writeAndKill(dest: string, delayMs: number): Promise<Killed> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dest], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const wasReady = out.includes('ready\n');
      out += d;
      if (!wasReady && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', fail);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') return fail(new Error(`the writer ended without being killed (${signal}): ${err}`));
      done({ completed: (out.match(/^wrote /gm) ?? []).length, left: siblings(dest).filter((s) => s !== basename(dest)) });
    });
  });
}

test('killed mid-write at 8 moments: after recovery the destination is exactly tree A or tree B', async () => {
  const dest = freshDest();
  // One write has completed before any writer starts: from now on the tree must never be missing.
  writeTreeAtomically(dest, bigA);
  const delays = [0, 9, 23, 41, 66, 97, 250, 600];
  const seen: string[] = [];
  let interrupted = 0;
  let completedAny = 0;
  for (const delay of delays) {
    const killed = await writeAndKill(dest, delay);
    if (killed.left.some((s) => s.startsWith('.staging-') || s.startsWith('.previous-'))) interrupted++;
    if (killed.completed > 0) completedAny++;
    recoverInterruptedSwap(dest);
    assert.ok(existsSync(dest), `after a kill at ${delay} ms the destination is missing (left: ${killed.left.join(', ')})`);
    const files = readFiles(dest);
    const which = sameTree(files, bigA) ? 'A' : sameTree(files, bigB) ? 'B' : undefined;
    assert.ok(which, `after a kill at ${delay} ms (${killed.completed} writes done) the destination is neither A nor B: ${files.size} files`);
    seen.push(which!);
    assert.not.ok(existsSync(join(dirname(dest), `.previous-${basename(dest)}`)), 'recovery leaves no previous folder');
  }
  // The kills did land in the middle of writes, and after completed ones.
  assert.ok(interrupted > 0, 'no kill interrupted a write: the test did not test anything');
  assert.ok(completedAny > 0, `no writer completed a write before its kill: ${seen.join(' ')}`);
});

test.after(() => {
  rmSync(work, { recursive: true, force: true });
});

test.run();
