// Atomic output: a rule set's folder is written in full beside its destination, then swapped in
// with two renames. A build that fails or is killed before the swap leaves the previous folder
// untouched; one killed between the two renames leaves `.previous-<name>`, which the next build
// restores first.

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type FileTree = ReadonlyMap<string, string | Uint8Array>;

export function recoverInterruptedSwap(dest: string): void {
  const previous = join(dirname(dest), `.previous-${basename(dest)}`);
  if (existsSync(previous)) {
    if (!existsSync(dest)) renameSync(previous, dest);
    else rmSync(previous, { recursive: true, force: true });
  }
}

export function writeTreeAtomically(dest: string, files: FileTree): void {
  const parent = dirname(dest);
  mkdirSync(parent, { recursive: true });
  recoverInterruptedSwap(dest);
  const staging = join(parent, `.staging-${basename(dest)}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const [rel, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const file = join(staging, rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    const previous = join(parent, `.previous-${basename(dest)}`);
    if (existsSync(dest)) renameSync(dest, previous);
    renameSync(staging, dest);
    rmSync(previous, { recursive: true, force: true });
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}
