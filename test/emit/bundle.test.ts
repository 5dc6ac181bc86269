// Regression tests for bugs found while writing the unit tests (each fixed in src/):
// buildWasmBundle reports a failed `opa build` with `err.stderr || err.message`, but opa
// prints its errors on stdout ("error: load error: ... rego_parse_error: ..."), so the
// diagnostic is only "Command failed: /…/opa build -t wasm …": the reason is lost. That is
// also how the build says that the policy uses a builtin the JavaScript SDK cannot run (the
// point of passing the SDK's capabilities): the user is not told which builtin.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildWasmBundle } from '../../src/emit/bundle.ts';
import { findEngine } from '../../src/emit/engines.ts';

const opa = findEngine('opa');

const build = (rego: string) => buildWasmBundle(opa!, { packageName: 'p', rego, params: {}, metadata: {} });

test('opa is available', () => {
  assert.ok(opa, 'opa not found: bash scripts/install-engines.sh opa');
});

test('a Rego syntax error: the diagnostic carries opa\'s parse error', () => {
  const r = build('package p\n\nimport rego.v1\n\nallow if {\n');
  assert.not.ok(r.ok);
  if (r.ok) return;
  assert.is(r.errors.length, 1);
  assert.is(r.errors[0]!.code, 'opa-build');
  assert.ok(r.errors[0]!.message.includes('rego_parse_error'), r.errors[0]!.message);
});

test('a builtin the WASM SDK cannot run: the diagnostic names it', () => {
  const r = build('package p\n\nimport rego.v1\n\nviolations := []\n\nallow if http.send({"method": "get", "url": "http://x"}).status_code == 200\n\ndeny := set()\n\nwarn := set()\n');
  assert.not.ok(r.ok);
  if (r.ok) return;
  assert.ok(r.errors[0]!.message.includes('http.send'), r.errors[0]!.message);
});

test('a bundle that does build is ok (the control)', () => {
  const r = build('package p\n\nimport rego.v1\n\nviolations := []\n\ndefault allow := false\n\ndeny := set()\n\nwarn := set()\n');
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
});

test.run();
