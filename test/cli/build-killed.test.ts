// A build killed midway (SIGKILL, at several points of its run) never leaves a mix: the output
// folder is the previous build's, byte for byte, or the new build's, complete; and the next build
// cleans up after it (issue 5: atomic output).

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, makeWorkDir, PARAMS_TEXT, ROOT, runCli, snapshot, snapshotDiff, specFolder } from './cli-helpers.ts';

const work = makeWorkDir('build-killed');
const folder = specFolder(work, 'spec');
// The same spec with other parameters: a build whose output differs from the first one's.
const changed = specFolder(work, 'spec-changed', undefined, PARAMS_TEXT.replace('approvedHostSysctls: []', 'approvedHostSysctls: [kernel.core_pattern]'));
const out = join(work, 'out');

function buildKilledAfter(ms: number): Promise<NodeJS.Signals | null> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'build', '--spec', changed.spec, '--out', out], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', fail);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      done(signal);
    });
  });
}

test('a killed build leaves the previous output or the complete new one, never a mix', async () => {
  const first = await runCli(['build', '--spec', folder.spec, '--out', out]);
  assert.is(first.code, 0, first.stderr);
  const previous = snapshot(join(out, 'eci'));
  const startedAt = Date.now();
  const full = await runCli(['build', '--spec', changed.spec, '--out', join(work, 'reference')]);
  const duration = Date.now() - startedAt;
  assert.is(full.code, 0, full.stderr);
  const next = snapshot(join(work, 'reference', 'eci'));
  assert.ok(snapshotDiff(previous, next).length > 0, 'the two builds must differ for the test to mean anything');

  // Kill points spread over a build's duration on this machine, most of them late, where the
  // output is written. Other tests run beside this one, so a build may finish sooner than the
  // estimate: then the estimate shrinks, until eight builds have been killed mid-run.
  let estimate = duration;
  let killed = 0;
  const fractions = [0.15, 0.3, 0.45, 0.6, 0.7, 0.8, 0.88, 0.95];
  for (let attempt = 0; killed < fractions.length && attempt < 24; attempt++) {
    const ms = Math.round(estimate * fractions[killed]!);
    const signal = await buildKilledAfter(ms);
    if (signal === 'SIGKILL') killed++;
    else estimate *= 0.7;
    const now = snapshot(join(out, 'eci'));
    const asBefore = snapshotDiff(previous, now).length === 0;
    const asNew = snapshotDiff(next, now).length === 0;
    // Killed between the two renames: the folder is gone and .previous-eci holds the old one,
    // which the next build restores first.
    const betweenRenames = !existsSync(join(out, 'eci')) && existsSync(join(out, '.previous-eci'));
    assert.ok(asBefore || asNew || betweenRenames, `killed after ${ms} ms: a mix of two builds (${snapshotDiff(previous, now).join(', ')})`);
    // Back to the previous output for the next round.
    const restore = await runCli(['build', '--spec', folder.spec, '--out', out]);
    assert.is(restore.code, 0, restore.stderr);
    assert.equal(snapshotDiff(previous, snapshot(join(out, 'eci'))), []);
    assert.equal(readdirSync(out), ['eci'], 'the next build leaves no staging or previous folder behind');
  }
  assert.is(killed, fractions.length, `only ${killed} builds were still running when killed`);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
