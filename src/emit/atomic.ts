// Atomic output: a rule set's folder is written in full beside its destination, then swapped in
// with two renames. A build that fails or is killed before the swap leaves the previous folder
// untouched; one killed between the two renames leaves `.previous-<name>`, which the next build
// restores first (and it removes staging folders of writers that died).

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type FileTree = ReadonlyMap<string, string | Uint8Array>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finishes or undoes what a killed writer left: restores `.previous-<name>` when the swap was
 * cut between its two renames, and removes staging folders of writers that no longer run.
 */
export function recoverInterruptedSwap(dest: string): void {
  const parent = dirname(dest);
  const previous = join(parent, `.previous-${basename(dest)}`);
  if (existsSync(previous)) {
    if (!existsSync(dest)) renameSync(previous, dest);
    else rmSync(previous, { recursive: true, force: true });
  }
  if (!existsSync(parent)) return;
  const prefix = `.staging-${basename(dest)}-`;
  for (const entry of readdirSync(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) rmSync(join(parent, entry), { recursive: true, force: true });
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

/**
 * One file written whole or not at all: written beside it under a temporary name, then renamed
 * over it. Temporary files of writers that no longer run are removed first.
 */
export function writeFileAtomically(file: string, content: string | Uint8Array): void {
  const parent = dirname(file);
  mkdirSync(parent, { recursive: true });
  const prefix = `.${basename(file)}.tmp-`;
  for (const entry of readdirSync(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) rmSync(join(parent, entry), { force: true });
  }
  const temp = join(parent, `${prefix}${process.pid}`);
  try {
    writeFileSync(temp, content);
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}
