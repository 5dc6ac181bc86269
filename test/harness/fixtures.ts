// Fixture corpus: YAML cases with their expected violations (see test/fixtures/README.md).
// A fixture that does not have the documented shape is an error, never skipped.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDocument } from 'yaml';

export interface ExpectedViolation {
  readonly rule: string;
  readonly action: 'deny' | 'warn';
  readonly list?: string;
  readonly container?: string;
  readonly path?: string;
  readonly value?: unknown;
}

export interface Fixture {
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly params?: Record<string, unknown>;
  readonly input: unknown;
  readonly expect: readonly ExpectedViolation[];
}

export const FIXTURES_ROOT = join(import.meta.dirname, '..', 'fixtures');

const FIXTURE_KEYS = new Set(['description', 'source', 'params', 'input', 'expect']);
const EXPECT_KEYS = new Set(['rule', 'action', 'list', 'container', 'path', 'value']);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? yamlFiles(p) : name.endsWith('.yaml') ? [p] : [];
    });
}

export function loadFixture(file: string): Fixture {
  const name = relative(FIXTURES_ROOT, file);
  const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
  if (doc.errors.length) throw new Error(`${name}: ${doc.errors[0]!.message}`);
  const raw = doc.toJS() as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(raw ?? {})) if (!FIXTURE_KEYS.has(key)) problems.push(`unknown key ${key}`);
  if (typeof raw?.['description'] !== 'string') problems.push('description must be a string');
  if (!('input' in (raw ?? {}))) problems.push('input is missing');
  if (!Array.isArray(raw?.['expect'])) problems.push('expect must be a list');
  for (const [i, e] of ((raw?.['expect'] as unknown[]) ?? []).entries()) {
    const ev = e as Record<string, unknown>;
    for (const key of Object.keys(ev ?? {})) if (!EXPECT_KEYS.has(key)) problems.push(`expect[${i}]: unknown key ${key}`);
    if (typeof ev?.['rule'] !== 'string') problems.push(`expect[${i}].rule must be a string`);
    if (ev?.['action'] !== 'deny' && ev?.['action'] !== 'warn') problems.push(`expect[${i}].action must be deny or warn`);
  }
  if (raw?.['params'] !== undefined && (typeof raw['params'] !== 'object' || raw['params'] === null)) problems.push('params must be a mapping');
  if (problems.length) throw new Error(`${name}: ${problems.join('; ')}`);
  return {
    file,
    name,
    description: raw['description'] as string,
    ...(raw['params'] ? { params: raw['params'] as Record<string, unknown> } : {}),
    input: raw['input'],
    expect: raw['expect'] as ExpectedViolation[],
  };
}

export function loadFixtures(ruleSet: string): Fixture[] {
  return yamlFiles(join(FIXTURES_ROOT, ruleSet)).map(loadFixture);
}
