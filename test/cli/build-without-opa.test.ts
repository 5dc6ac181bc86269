// Without opa the build still writes the Rego and Kyverno output, says what it skipped and how
// to install opa, and keeps the bundle a previous build wrote (issue 3: a machine that cannot
// get opa must not lose or corrupt anything).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, ROOT } from './cli-helpers.ts';

const out = mkdtempSync(join(tmpdir(), 'eci-policy-no-opa-'));
const noTools = mkdtempSync(join(tmpdir(), 'eci-policy-no-tools-'));

function build(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, 'build', '--out', out], { cwd: ROOT, env, encoding: 'utf8' });
}

test('with opa: the bundle is written', () => {
  const r = build(process.env);
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(join(out, 'eci', 'bundle', 'policy.wasm')));
});

test('without opa: Rego and Kyverno are rebuilt, the bundle is skipped with a hint and kept', () => {
  const wasmBefore = readFileSync(join(out, 'eci', 'bundle', 'policy.wasm'));
  rmSync(join(out, 'eci', 'rego'), { recursive: true });
  // No engines folder, and a PATH with no opa on it.
  const r = build({ ...process.env, ECI_POLICY_TOOLS_BIN: noTools, PATH: '/usr/bin:/bin' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /skipped bundle\/ \(OPA WASM bundle\): opa not found; install it with: bash scripts\/install-engines\.sh opa/);
  assert.ok(existsSync(join(out, 'eci', 'rego', 'policy.rego')), 'the Rego is written');
  assert.ok(existsSync(join(out, 'eci', 'kyverno', 'clusterpolicy.yaml')), 'the Kyverno policy is written');
  assert.ok(readFileSync(join(out, 'eci', 'bundle', 'policy.wasm')).equals(wasmBefore), 'the previous bundle is kept');
});

test.after(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(noTools, { recursive: true, force: true });
});
test.run();
