// Regression tests for bugs found while writing the unit tests (each fixed in src/):
// A writer killed while filling its staging folder leaves `.staging-<name>-<pid>` beside the
// destination (e.g. generated/.staging-eci-12345, up to a whole rule set's output). Neither
// recoverInterruptedSwap nor the next writeTreeAtomically removes it (the next build only
// clears the staging folder of its own pid), so they pile up in generated/, where `git add
// generated` picks them up. test/emit/atomic.test.ts shows them appear after SIGKILL.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recoverInterruptedSwap, writeTreeAtomically } from '../../src/emit/atomic.ts';

const work = mkdtempSync(join(tmpdir(), 'eci-policy-atomic-pending-'));

/** A process ID no process can have: above the kernel's pid_max. */
function deadPid(): number {
  const pidMax = existsSync('/proc/sys/kernel/pid_max') ? Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) : 4_194_304;
  return pidMax + 1;
}

test('the staging folder of a killed writer does not survive the next build', () => {
  const dest = join(work, 'out', 'tree');
  writeTreeAtomically(dest, new Map([['a.txt', 'A']]));
  // What a writer killed mid-write leaves: its half-filled staging folder.
  const stale = join(dirname(dest), `.staging-${basename(dest)}-${deadPid()}`);
  mkdirSync(join(stale, 'rego'), { recursive: true });
  writeFileSync(join(stale, 'rego', 'policy.rego'), 'package half_written\n');
  recoverInterruptedSwap(dest);
  writeTreeAtomically(dest, new Map([['b.txt', 'B']]));
  assert.equal(readdirSync(dirname(dest)).sort(), ['tree'], 'a dead writer\'s staging folder is left beside the destination');
});

test.after(() => {
  rmSync(work, { recursive: true, force: true });
});

test.run();
