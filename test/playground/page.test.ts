// The playground in a real browser (issue 15): each rule set's generated page opened from disk in
// Chromium (playwright-core), every fixture loaded through its examples menu, and the violations
// the page shows (rule, action, path, container, value, message, line) compared exactly with the
// harness: the same policy.wasm judging the same text in Node, as `eci-policy audit` reads it
// (src/manifests/read.ts, src/eval/judge.ts). Where the reader reads the fixture's own input, the
// page's facts must also be the catalogue's: the fixture's expected violations, as the matrix
// requires of every engine. interaction.test.ts tests the rest of the page.

import type { Browser } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exactJson, loadWasmPolicy } from '../../src/eval/wasm.ts';
import { loadFixtures } from '../../src/fixtures/corpus.ts';
import { DEFAULT_LIMITS, readManifestText } from '../../src/manifests/read.ts';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';
import { compareFacts, formatDiff, type Facts } from '../harness/facts.ts';
import { compareOptions } from '../harness/matrix.ts';
import { launchChromium } from './browser.ts';
import { judgedInNode, openPlayground, shown, writePlayground, type ShownViolation } from './pages.ts';

/** A violation as the page shows it, as the matrix's facts (the value is the page's JSON text). */
const factsOf = (v: ShownViolation): Facts => ({
  rule: v.rule,
  action: v.action,
  path: v.path,
  ...(v.list ? { list: v.list, container: v.container } : {}),
  ...(v.value ? { value: JSON.parse(v.value) as unknown } : {}),
});

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
      const expected = judgedInNode(harness, ex.text, ex.params ?? data.defaults);
      try {
        assert.equal(onPage, expected);
      } catch {
        diffs.push(`${ex.name}:\n  page    ${JSON.stringify(onPage)}\n  harness ${JSON.stringify(expected)}`);
      }
      // Read as the fixture's own input: the page's facts are the catalogue's expectation.
      const fixture = fixtures.get(ex.name)!;
      const entries = [...readManifestText(ex.text, 'manifest', DEFAULT_LIMITS)];
      if (entries.length === 1 && entries[0]!.kind === 'object' && exactJson(entries[0]!.value.object) === exactJson(fixture.input)) {
        asInput++;
        const facts = onPage.resources.flatMap((r) => r.violations).map(factsOf);
        const diff = compareFacts(fixture.expect, facts, compareOptions('opa-wasm'));
        if (diff.missing.length || diff.unexpected.length) diffs.push(formatDiff(ex.name, 'playground', diff));
      } else {
        otherwise.push(`  ${ex.name}: ${entries.map((e) => (e.kind === 'error' ? `error ${e.error.code}` : 'an object other than the fixture loader reads')).join(', ')}`);
      }
    }
    process.stdout.write(
      `\n[playground] ${ruleSet}: ${data.examples.length} fixtures through the page; ${asInput} read as the fixture's own input (their facts compared with the catalogue's), ${otherwise.length} read otherwise (compared with the harness on the same text):\n${otherwise.join('\n')}\n`,
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
