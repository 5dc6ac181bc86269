// The peer fixtures (`../shared/peer-fixtures/`, see its README): three sources of pods and pod
// controllers with the verdicts their authors expect. This module only reads them: each case
// with its id, expected verdict and resource, and the object under admission in that resource.

import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { templatePath, getPath } from '../../src/fixtures/corpus.ts';

export const SOURCES = ['kyverno', 'gatekeeper', 'pod-security-admission'] as const;
export type SourceName = (typeof SOURCES)[number];

export type Verdict = 'pass' | 'fail';

export interface PeerCase {
  readonly source: SourceName;
  readonly id: string;
  readonly expected: Verdict;
  /** The resource file, relative to the peer-fixtures folder (e.g. `gatekeeper/resources/…`). */
  readonly resource: string;
  readonly resourceKind: string;
  /** The case entry as written in cases.yaml (what the mapping's `match` reads). */
  readonly entry: Readonly<Record<string, unknown>>;
}

/**
 * `../shared/peer-fixtures` beside the project (in CI a copy of shared/ sits beside the clone;
 * PEER_FIXTURES overrides it).
 */
export function peerFixturesRoot(projectRoot = PROJECT_ROOT): string {
  const dir = process.env['PEER_FIXTURES'] ? resolve(process.env['PEER_FIXTURES']) : resolve(projectRoot, '..', 'shared', 'peer-fixtures');
  if (!existsSync(join(dir, 'README.md')))
    throw new Error(
      `peer fixtures not found at ${dir}: the conformance suite needs a copy of shared/peer-fixtures/ ` +
        `beside the project folder (../shared/peer-fixtures), or PEER_FIXTURES=<folder>`,
    );
  return dir;
}

function readYaml(file: string): unknown {
  const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  return doc.toJS();
}

/** Every case of one source, checked against the index's own count and shape. */
export function loadSource(source: SourceName, root = peerFixturesRoot()): PeerCase[] {
  const file = join(root, source, 'cases.yaml');
  const index = readYaml(file) as { count?: unknown; cases?: unknown };
  if (!Array.isArray(index?.cases)) throw new Error(`${file}: no cases list`);
  const problems: string[] = [];
  const seen = new Set<string>();
  const cases = (index.cases as Record<string, unknown>[]).map((entry, i): PeerCase => {
    const id = entry['id'];
    if (typeof id !== 'string') problems.push(`cases[${i}]: id is not a string`);
    else if (seen.has(id)) problems.push(`${id}: duplicate id`);
    else seen.add(id);
    if (entry['expected'] !== 'pass' && entry['expected'] !== 'fail') problems.push(`${String(id)}: expected is ${String(entry['expected'])}, not pass or fail`);
    const res = entry['resource'];
    if (typeof res !== 'string' || !existsSync(join(root, source, res))) problems.push(`${String(id)}: resource ${String(res)} does not exist`);
    return {
      source,
      id: String(id),
      expected: entry['expected'] as Verdict,
      resource: join(source, String(res)),
      resourceKind: String(entry['resource_kind']),
      entry,
    };
  });
  if (index.count !== cases.length) problems.push(`count says ${String(index.count)}, the list has ${cases.length}`);
  if (problems.length) throw new Error(`${relative(process.cwd(), file)}:\n  ${problems.join('\n  ')}`);
  return cases;
}

const resourceCache = new Map<string, unknown>();

/** The case's resource document, as parsed (one document per file). */
export function loadResource(c: PeerCase, root = peerFixturesRoot()): unknown {
  const file = join(root, c.resource);
  if (!resourceCache.has(file)) resourceCache.set(file, readYaml(file));
  return resourceCache.get(file);
}

/** The object under admission: an AdmissionReview's `request.object`, else the resource itself. */
export function objectOf(resource: unknown): Record<string, unknown> {
  const r = resource as Record<string, unknown> | null;
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw new Error('a peer resource that is not an object');
  if (r['kind'] !== 'AdmissionReview') return r;
  const object = getPath(r, ['request', 'object']);
  if (!object || typeof object !== 'object' || Array.isArray(object)) throw new Error('an AdmissionReview without request.object');
  return object as Record<string, unknown>;
}

/** The container named `name` in `list` of the object's pod (template) spec, if any. */
export function containerOf(object: Record<string, unknown>, list: string, by: { name?: string; index?: number }): Record<string, unknown> | undefined {
  const items = getPath(object, [...templatePath(object['kind']), 'spec', list]);
  if (!Array.isArray(items)) return undefined;
  const found = by.index !== undefined ? items[by.index] : items.find((c) => c && typeof c === 'object' && (c as Record<string, unknown>)['name'] === by.name);
  return found && typeof found === 'object' ? (found as Record<string, unknown>) : undefined;
}
