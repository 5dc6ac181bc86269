// Comparing violations by the facts of ECI-RULES.md ("Violation shape"): rule, action, list,
// container, path and value. Messages may differ between engines; facts may not.

import { isDeepStrictEqual } from 'node:util';
import type { ExpectedViolation } from '../../src/fixtures/corpus.ts';

export interface Facts {
  readonly rule: string;
  readonly action: string;
  readonly list?: string;
  readonly container?: string;
  readonly path?: string;
  readonly value?: unknown;
}

const FIELDS = ['rule', 'action', 'list', 'container', 'path', 'value'] as const;

export interface CompareOptions {
  /** Facts this engine does not report (Kyverno's messages carry no values). */
  readonly ignore?: readonly (typeof FIELDS)[number][];
}

function matches(expected: ExpectedViolation, actual: Facts, opts: CompareOptions): boolean {
  return FIELDS.every((f) => {
    if (opts.ignore?.includes(f)) return true;
    if (f === 'value') return !('value' in expected) || isDeepStrictEqual(expected.value, actual.value);
    if (f === 'list' || f === 'container') return (expected[f] ?? undefined) === (actual[f] ?? undefined);
    return expected[f] === undefined || expected[f] === actual[f];
  });
}

export interface FactDiff {
  readonly missing: readonly ExpectedViolation[];
  readonly unexpected: readonly Facts[];
}

/**
 * The rule of a marker fact `(<n> more)`: a leg that lists some facts and counts the rest (a
 * ValidatingAdmissionPolicy's message, kept within Kubernetes' 5 KiB).
 */
export const OMITTED_RULE = '(omitted)';

/**
 * The rule of a marker fact for a CEL evaluation error a leg enforces as a violation of its
 * action (Gatekeeper's CEL block under failurePolicy Fail: the message is the error, without
 * facts). Its path is the message. No expectation matches it.
 */
export const CEL_ERROR_RULE = '(cel error)';

/**
 * Each expected violation must match exactly one actual one, and every actual one be expected.
 * Where the leg counted facts it could not list, the unlisted ones must be exactly that many.
 */
export function compareFacts(expected: readonly ExpectedViolation[], actual: readonly Facts[], opts: CompareOptions = {}): FactDiff {
  const markers = actual.filter((a) => a.rule === OMITTED_RULE);
  if (markers.length) {
    const omitted = markers.reduce((n, m) => n + Number(/^\((\d+) more\)$/.exec(m.path ?? '')?.[1] ?? NaN), 0);
    const diff = compareFacts(expected, actual.filter((a) => a.rule !== OMITTED_RULE), opts);
    return diff.unexpected.length === 0 && diff.missing.length === omitted ? { missing: [], unexpected: [] } : { ...diff, unexpected: [...diff.unexpected, ...markers] };
  }
  const unused = [...actual];
  const missing: ExpectedViolation[] = [];
  // Most specific expectations first, so a loose one cannot take a match a precise one needs.
  const ordered = [...expected].sort((a, b) => Object.keys(b).length - Object.keys(a).length);
  for (const e of ordered) {
    const i = unused.findIndex((a) => matches(e, a, opts));
    if (i < 0) missing.push(e);
    else unused.splice(i, 1);
  }
  return { missing, unexpected: unused };
}

const show = (f: object) =>
  FIELDS.filter((k) => k in f && (f as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${k}=${JSON.stringify((f as Record<string, unknown>)[k])}`)
    .join(' ');

export function formatDiff(fixture: string, engine: string, diff: FactDiff): string {
  return [
    `${fixture} [${engine}]`,
    ...diff.missing.map((m) => `  expected, not reported: ${show(m)}`),
    ...diff.unexpected.map((u) => `  reported, not expected: ${show(u)}`),
  ].join('\n');
}
