// The meaning of IR values that every target must implement identically: quantity grammar and
// bounds, integer strings, path formatting and string transforms. Targets read these constants
// instead of restating them.

import type { Transform } from './types.ts';
import { assertNever } from './types.ts';

/**
 * Memory quantities: a decimal with at most 3 fraction digits and an optional suffix (the
 * catalogue's list); no exponents. Compared exactly as integers in thousandths.
 */
export const QUANTITY_PATTERN = '^[0-9]{1,15}(\\.[0-9]{1,3})?(Ki|Mi|Gi|Ti|k|M|G|T)?$';
export const QUANTITY_MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};
/**
 * The largest quantity compared (64Ti). CEL integers are 64-bit: quantities are summed in
 * thousandths, so each is bounded; every engine rejects larger quantities the same way (as not
 * comparable).
 */
export const QUANTITY_MAX_BYTES = 64 * 2 ** 40;
/** Integer strings compared as numbers have at most 12 digits (value × 1024 × 5 × 1000 < 2^63). */
export const INT_STRING_MAX_DIGITS = 12;

/** Rego's keywords: not a package name, and not a key written as `.key` in a Rego reference. */
export const REGO_KEYWORDS: readonly string[] = ['as', 'contains', 'default', 'else', 'every', 'false', 'if', 'import', 'in', 'not', 'null', 'package', 'some', 'true', 'with'];

export const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const plainKey = (k: string): boolean => PLAIN_KEY.test(k);

export function applyTransform(t: Transform | undefined, s: string): string {
  switch (t) {
    case undefined:
      return s;
    case 'upper':
      return s.toUpperCase();
    case 'sysctlName':
      // See Transform in types.ts: kubelet's swap followed by the runtime's '.' → '/' leaves
      // every separator a '/', i.e. every separator a '.' in dotted form.
      return s.replace(/\//g, '.');
    default:
      return assertNever(t, 'transform');
  }
}
