// The playground as a person uses it (issue 15), in Chromium, on the eci rule set's page: malformed
// YAML (a located error, never a blank page), a parameter flip, a shared link reopened, the
// keyboard alone (tab order, Enter to jump to the line), the page served by `eci-policy playground`
// (policy.wasm fetched over HTTP), the screenshot the README shows, and the page's size and
// timings (printed for the notes; speed targets live in the benchmark, not here).

import { statSync, readdirSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { playgroundServer } from '../../src/cli/playground.ts';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { loadWasmPolicy } from '../../src/eval/wasm.ts';
import type { ParamValues } from '../../src/ir/types.ts';
import { compiled } from '../harness/compiled.ts';
import { launchChromium } from './browser.ts';
import { judgedInNode, openPlayground, PAGES_ROOT, shareFragment, shown, writePlayground } from './pages.ts';

const RULE_SET = 'eci';
const c = await compiled(RULE_SET);
const { url, data, wasm, dir } = writePlayground(c);
const policy = await loadWasmPolicy(wasm, RULE_SET, c.params);
let browser: Browser;

test.before(async () => {
  browser = await launchChromium();
});

/** The editor's whole text replaced as a paste would (no key handling, so no auto-indent). */
async function paste(page: Page, text: string): Promise<void> {
  await page.click('.cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

/** Waits for the debounced evaluation after an edit. */
async function evaluated(page: Page): Promise<void> {
  await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'editing…');
}

/** An example whose violations include a deny of a rule the actions parameter may change. */
const flippable = data.examples.find((ex) => !ex.params && judgedInNode(policy, ex.text, data.defaults).resources.some((r) => r.violations.some((v) => v.action === 'deny' && data.overridableRules.includes(v.rule))))!;

test('malformed YAML: a located error, as audit reports it, and the page stays up', async () => {
  const page = await browser.newPage();
  const problems = await openPlayground(page, url);
  const text = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec: {containers: [\n';
  await paste(page, text);
  await evaluated(page);
  const onPage = await shown(page);
  const expected = judgedInNode(policy, text, data.defaults);
  assert.ok(expected.errors.length > 0, 'the reader reports the text as malformed');
  assert.ok(expected.errors.every((e) => e.line > 0), 'every error has its line');
  assert.equal(onPage, expected);
  assert.is(await page.textContent('#status'), 'errors');
  // Marked in the editor too (CodeMirror's lint gutter).
  assert.ok((await page.$$('.cm-lint-marker-error')).length > 0);
  // And fixed: the page recovers as the text does.
  await paste(page, flippable.text);
  await evaluated(page);
  assert.equal(await shown(page), judgedInNode(policy, flippable.text, data.defaults));
  assert.equal(problems, []);
  await page.close();
});

test('several documents and a List, pasted, and a file dropped on the editor: each object judged at its own lines', async () => {
  const page = await browser.newPage();
  const problems = await openPlayground(page, url);
  const pod = (name: string, cap: string) =>
    `{apiVersion: v1, kind: Pod, metadata: {name: ${name}, labels: {alibabacloud.com/eci: "true"}}, spec: {containers: [{name: app, image: nginx, securityContext: {capabilities: {add: [${cap}]}}}]}}`;
  const text = `${flippable.text}\n---\napiVersion: v1\nkind: List\nitems:\n  - ${pod('a', 'SYS_ADMIN')}\n  - ${pod('b', 'NET_RAW')}\n`;
  await paste(page, text);
  await evaluated(page);
  const onPage = await shown(page);
  assert.equal(onPage, judgedInNode(policy, text, data.defaults));
  assert.equal(
    onPage.resources.map((r) => [r.document, r.item]),
    [
      [1, null],
      [2, 0],
      [2, 1],
    ],
  );
  assert.ok(onPage.resources[1]!.violations.some((v) => v.rule === 'ECI-CTR-001'), 'SYS_ADMIN is not allowed');
  assert.equal(onPage.resources[2]!.violations, [], 'NET_RAW is allowed');
  // A file dropped on the editor replaces the manifest.
  const dropped = flippable.text;
  await page.evaluate((content) => {
    const dt = new DataTransfer();
    dt.items.add(new File([content], 'pod.yaml', { type: 'application/yaml' }));
    document.querySelector('#editor .cm-content')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, dropped);
  await page.waitForFunction((n) => document.querySelectorAll('#results section.resource').length === n, 1);
  await evaluated(page);
  assert.equal(await shown(page), judgedInNode(policy, dropped, data.defaults));
  assert.equal(problems, []);
  await page.close();
});

test('a parameter flip applies at once, and a shared link reopens the same manifest and parameters', async () => {
  const page = await browser.newPage();
  const problems = await openPlayground(page, url);
  await page.selectOption('#examples', flippable.name);
  const before = await shown(page);
  const rule = before.resources.flatMap((r) => r.violations).find((v) => v.action === 'deny' && data.overridableRules.includes(v.rule))!.rule;
  await page.click('summary:has-text("Parameters")');
  await page.selectOption(`#action-${rule}`, 'warn');
  const flipped: ParamValues = { ...data.defaults, actions: { ...data.defaults.actions, [rule]: 'warn' } };
  const after = await shown(page);
  assert.equal(after, judgedInNode(policy, flippable.text, flipped));
  assert.ok(after.resources.flatMap((r) => r.violations).some((v) => v.rule === rule && v.action === 'warn'), `${rule} now warns`);
  assert.not.equal(after, before);

  await page.click('#share');
  const link = await page.inputValue('#share-link');
  assert.ok(link.startsWith(`${url}#share=`), link);
  const again = await browser.newPage();
  problems.push(...(await openPlayground(again, link)));
  assert.equal(await shown(again), after);
  assert.is(await again.inputValue(`#action-${rule}`), 'warn');
  // The fragment is the whole state: nothing else is stored or sent.
  assert.is(link.slice(link.indexOf('#')), shareFragment(flippable.text, flipped));
  assert.equal(problems, []);
  await page.close();
  await again.close();
});

test('keyboard only: the tab order reaches the examples, the editor and the violations; Enter jumps to the line', async () => {
  const page = await browser.newPage();
  const problems = await openPlayground(page, url + shareFragment(flippable.text, data.defaults));
  const focused = () =>
    page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      if (!a) return '';
      if (a.classList.contains('cm-content')) return 'editor';
      if (a.classList.contains('violation')) return `violation ${a.dataset['rule']} line ${a.dataset['line']}`;
      return a.id || a.tagName.toLowerCase();
    });
  const order: string[] = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    order.push(await focused());
  }
  const first = (await shown(page)).resources[0]!.violations[0]!;
  assert.equal(order, ['examples', 'share', 'editor', `violation ${first.rule} line ${first.line}`]);
  await page.keyboard.press('Enter');
  assert.is(await focused(), 'editor');
  assert.is(await page.textContent('.cm-activeLineGutter'), String(first.line));
  assert.equal(problems, []);
  await page.close();
});

test("a violation's rule reference is a click away: the explain text", async () => {
  const page = await browser.newPage();
  const problems = await openPlayground(page, url);
  await page.selectOption('#examples', flippable.name);
  const first = (await shown(page)).resources[0]!.violations[0]!;
  await page.click('#results li:first-of-type button.explain');
  assert.ok(await page.isVisible('#reference'));
  const rule = data.rules.find((r) => r.id === first.rule)!;
  assert.is(await page.textContent('#reference-title'), `${rule.id}: ${rule.title}`);
  assert.is(await page.textContent('#reference-text'), rule.explain);
  assert.match(rule.explain, new RegExp(`^${rule.id}: `));
  await page.keyboard.press('Escape');
  assert.not.ok(await page.isVisible('#reference'));
  assert.equal(problems, []);
  await page.close();
});

test('served by eci-policy playground: the page fetches policy.wasm over HTTP and judges the same', async () => {
  const server = playgroundServer(PAGES_ROOT);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const page = await browser.newPage();
    const fetched: string[] = [];
    page.on('requestfinished', (r) => fetched.push(new URL(r.url()).pathname));
    const problems = await openPlayground(page, `${base}/${RULE_SET}/playground/`);
    assert.ok(fetched.includes(`/${RULE_SET}/playground/policy.wasm`), fetched.join(' '));
    await page.selectOption('#examples', flippable.name);
    assert.equal(await shown(page), judgedInNode(policy, flippable.text, data.defaults));
    // Only the playground folders are served.
    const outside = await fetch(`${base}/${RULE_SET}/playground/../../../package.json`);
    assert.is(outside.status, 404);
    // A malformed escape is refused, and the server goes on serving.
    assert.is((await fetch(`${base}/${RULE_SET}/playground/%E0%A4%A`)).status, 400);
    assert.is((await fetch(`${base}/${RULE_SET}/playground/params.json`)).status, 200);
    assert.equal(problems, []);
    await page.close();
  } finally {
    server.close();
  }
});

test('the screenshot, the page size and its timings', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  const t0 = Date.now();
  await openPlayground(page, url);
  const loadMs = Date.now() - t0;
  // The README's picture: a violating pod with pod- and container-level findings.
  const pictured = data.examples.find((ex) => ex.name === 'eci/combined/pod-and-container-levels.yaml') ?? flippable;
  await page.selectOption('#examples', pictured.name);
  const artifacts = join(PROJECT_ROOT, 'test', 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `playground-${RULE_SET}.png`) });

  // A 100-container pod, each container breaking a rule: from keystroke to result.
  const containers = Array.from({ length: 100 }, (_, i) => `  - name: c${i}\n    image: nginx\n    securityContext:\n      capabilities:\n        add: ["SYS_ADMIN"]\n`).join('');
  const wide = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: wide\n  labels:\n    alibabacloud.com/eci: "true"\nspec:\n  containers:\n${containers}`;
  const expected = judgedInNode(policy, wide, data.defaults);
  await page.goto(url + shareFragment(wide, data.defaults));
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await shown(page), expected);
  await page.click('.cm-content');
  await page.keyboard.press('Control+End');
  const k0 = Date.now();
  await page.keyboard.type('#');
  await evaluated(page);
  const keystrokeMs = Date.now() - k0;
  const evalMs = Number(await page.getAttribute('#status', 'data-ms'));
  const size = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const sizes = readdirSync(dir)
    .sort()
    .map((f) => `${f} ${statSync(join(dir, f)).size}`)
    .join(', ');
  process.stdout.write(
    `\n[playground] ${RULE_SET}: page ${size} bytes (${sizes}); load from disk to ready ${loadMs} ms; ` +
      `100-container pod (${expected.resources[0]!.violations.length} violations): keystroke to result ${keystrokeMs} ms (the 150 ms debounce included), evaluation ${evalMs.toFixed(1)} ms\n`,
  );
  assert.ok(expected.resources[0]!.violations.length >= 100);
  await page.close();
});

test.after(async () => {
  await browser?.close();
});

test.run();
