// The playground pages as the build makes them, written to a temporary folder laid out like
// generated/ (<dir>/<rule-set>/playground/), for the browser tests.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import type { CompiledRuleSet } from '../../src/emit/build.ts';
import { judgeEntries, type AuditedResource } from '../../src/eval/judge.ts';
import { exactJson, type WasmPolicy } from '../../src/eval/wasm.ts';
import type { Diagnostic } from '../../src/ir/diagnostics.ts';
import { DEFAULT_LIMITS, readManifestText } from '../../src/manifests/read.ts';
import type { PlaygroundData } from '../../src/targets/playground/lower.ts';

export const PAGES_ROOT = mkdtempSync(join(tmpdir(), 'eci-playground-'));

export interface PlaygroundPage {
  /** The page opened from disk. */
  readonly url: string;
  readonly dir: string;
  readonly data: PlaygroundData;
  readonly wasm: Uint8Array;
}

export function writePlayground(c: CompiledRuleSet): PlaygroundPage {
  const dir = join(PAGES_ROOT, c.ruleSet.name, 'playground');
  mkdirSync(dir, { recursive: true });
  for (const [f, content] of c.files) if (f.startsWith('playground/')) writeFileSync(join(dir, f.slice('playground/'.length)), content);
  const data = JSON.parse(/window\.ECI_PLAYGROUND = (.*);\n?$/s.exec(c.files.get('playground/data.js') as string)![1]!) as PlaygroundData;
  return { url: pathToFileURL(join(dir, 'index.html')).href, dir, data, wasm: c.files.get('playground/policy.wasm') as Uint8Array };
}

/** Opens a page and waits until it has started (its body's data-ready), failing on any page error. */
export async function openPlayground(page: Page, url: string): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForSelector('body[data-ready]');
  const ready = await page.getAttribute('body', 'data-ready');
  if (ready !== 'true') throw new Error(`the playground did not start: ${await page.textContent('#status')}`);
  return problems;
}

/** A share link's fragment, as the page writes it: the manifest and parameters as base64url JSON. */
export function shareFragment(manifest: string, params: unknown): string {
  return `#share=${Buffer.from(JSON.stringify({ manifest, params })).toString('base64url')}`;
}

export interface ShownViolation {
  readonly rule: string;
  readonly action: string;
  readonly path: string;
  readonly list: string;
  readonly container: string;
  readonly value: string;
  readonly line: number;
  readonly message: string;
}
export interface Shown {
  readonly resources: readonly { readonly document: number; readonly item: number | null; readonly violations: readonly ShownViolation[] }[];
  readonly errors: readonly { readonly code: string; readonly line: number }[];
}

/** What the page shows, read from its DOM. */
export function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => ({
    resources: [...document.querySelectorAll<HTMLElement>('#results section.resource')].map((s) => ({
      document: Number(s.dataset['document']),
      item: s.dataset['item'] === undefined ? null : Number(s.dataset['item']),
      violations: [...s.querySelectorAll<HTMLElement>('button.violation')].map((b) => ({
        rule: b.dataset['rule']!,
        action: b.dataset['action']!,
        path: b.dataset['path']!,
        list: b.dataset['list']!,
        container: b.dataset['container']!,
        value: b.dataset['value']!,
        line: Number(b.dataset['line']),
        message: b.querySelector('.message')!.textContent!,
      })),
    })),
    errors: [...document.querySelectorAll<HTMLElement>('#results button.error')].map((b) => ({ code: b.dataset['code']!, line: Number(b.dataset['line']) })),
  }));
}

/** The same text judged in Node, in the page's terms. */
function expectedOf(resources: readonly AuditedResource[], errors: readonly Diagnostic[]): Shown {
  return {
    resources: resources.map((r) => ({
      document: r.document,
      item: r.item ?? null,
      violations: r.violations.map((v) => ({
        rule: v.rule,
        action: v.action,
        path: v.path,
        list: v.list ?? '',
        container: v.container ?? '',
        value: v.value === undefined ? '' : exactJson(v.value),
        line: v.line,
        message: v.message,
      })),
    })),
    errors: errors.map((e) => ({ code: e.code, line: e.line ?? 0 })),
  };
}

/** A manifest judged in Node as the page judges it (the same reader, placement and policy.wasm). */
export function judgedInNode(policy: WasmPolicy, text: string, params: unknown): Shown {
  policy.setParams(params);
  const resources: AuditedResource[] = [];
  const errors: Diagnostic[] = [];
  judgeEntries(policy, readManifestText(text, 'manifest', DEFAULT_LIMITS), resources, errors);
  return expectedOf(resources, errors);
}
