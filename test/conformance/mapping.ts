// test/conformance/mapping.yaml: which of our rules each peer policy, constraint or PSA check
// corresponds to, and why each case that is not compared is not. Every case of every source
// must be matched by exactly one entry, so nothing is dropped silently.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { SOURCES, type PeerCase, type SourceName, type Verdict } from './sources.ts';

export const MAPPING_FILE = join(import.meta.dirname, 'mapping.yaml');

export interface Exclusion {
  /** Our rule IDs whose violations the peer exempts (a Kyverno podSecurity `exclude`). */
  readonly rules: readonly string[];
  /** Container images (Kyverno wildcards `*`, `?`): container violations of those images; none: pod-level violations. */
  readonly images?: readonly string[];
}

export interface Target {
  readonly ruleSet: string;
  /** `all`: the whole level (any deny of the rule set). */
  readonly rules: 'all' | readonly string[];
  /** Only violations whose path matches (a peer rule that is one part of one of our rules). */
  readonly paths?: RegExp;
  readonly exclude: readonly Exclusion[];
}

export interface CaseException {
  readonly cases: readonly string[];
  readonly reason: string;
  /** The PSS text (or PSA source) our verdict follows, where the peer deviates from it. */
  readonly pss?: string;
  /** Our fixture for the case, where the peer deviates and we keep our verdict. */
  readonly ourFixture?: string;
}

export interface Entry {
  readonly source: SourceName;
  /** Where in mapping.yaml (for messages): `<source>[<i>]`. */
  readonly at: string;
  readonly peer: string;
  readonly match: Readonly<Record<string, unknown>>;
  readonly target?: Target;
  readonly notApplicable?: string;
  readonly pss?: string;
  /** Only these verdicts carry over (the peer's parameters are wider or narrower than PSS). */
  readonly verdicts?: { readonly only: Verdict; readonly reason: string };
  readonly exceptions: readonly CaseException[];
}

export interface RuleSetRef {
  readonly spec: string;
  readonly params: string;
}

export interface Mapping {
  readonly pssVersion: string;
  readonly ruleSets: Readonly<Record<string, RuleSetRef>>;
  readonly entries: readonly Entry[];
}

export type Decision =
  | { readonly applicable: true; readonly entry: Entry; readonly target: Target }
  | {
      readonly applicable: false;
      readonly entry: Entry;
      /** `peer`: the whole peer rule; `case`: this case; `verdict`: its verdict does not carry over. */
      readonly scope: 'peer' | 'case' | 'verdict';
      readonly reason: string;
      readonly pss?: string;
      readonly ourFixture?: string;
    };

type Obj = Record<string, unknown>;

function keysOf(o: unknown, at: string, allowed: readonly string[], required: readonly string[], problems: string[]): o is Obj {
  if (!o || typeof o !== 'object' || Array.isArray(o)) {
    problems.push(`${at}: must be a mapping`);
    return false;
  }
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problems.push(`${at}: unknown key ${k}`);
  for (const k of required) if (!(k in o)) problems.push(`${at}: ${k} is missing`);
  return true;
}

const str = (v: unknown, at: string, problems: string[]): string => {
  if (typeof v !== 'string' || !v.trim()) problems.push(`${at}: must be a non-empty string`);
  return typeof v === 'string' ? v : '';
};

const strList = (v: unknown, at: string, problems: string[]): string[] => {
  if (!Array.isArray(v) || !v.length || v.some((x) => typeof x !== 'string')) problems.push(`${at}: must be a non-empty list of strings`);
  return Array.isArray(v) ? v.map(String) : [];
};

function parseTarget(o: unknown, at: string, ruleSets: Readonly<Record<string, RuleSetRef>>, problems: string[]): Target | undefined {
  if (!keysOf(o, at, ['rule_set', 'rules', 'paths', 'exclude'], ['rule_set', 'rules'], problems)) return undefined;
  const ruleSet = str(o['rule_set'], `${at}.rule_set`, problems);
  if (ruleSet && !ruleSets[ruleSet]) problems.push(`${at}.rule_set: ${ruleSet} is not in rule_sets`);
  const rules = o['rules'] === 'all' ? 'all' : strList(o['rules'], `${at}.rules`, problems);
  let paths: RegExp | undefined;
  if (o['paths'] !== undefined) {
    try {
      paths = new RegExp(str(o['paths'], `${at}.paths`, problems));
    } catch (e) {
      problems.push(`${at}.paths: ${(e as Error).message}`);
    }
  }
  const exclude = ((o['exclude'] as unknown[] | undefined) ?? []).flatMap((x, i): Exclusion[] => {
    const xat = `${at}.exclude[${i}]`;
    if (!keysOf(x, xat, ['rules', 'images'], ['rules'], problems)) return [];
    return [{ rules: strList(x['rules'], `${xat}.rules`, problems), ...(x['images'] !== undefined ? { images: strList(x['images'], `${xat}.images`, problems) } : {}) }];
  });
  return { ruleSet, rules, ...(paths ? { paths } : {}), exclude };
}

/** Reads and checks mapping.yaml's shape (not yet against the cases: see `decide`). */
export function loadMapping(file = MAPPING_FILE): Mapping {
  const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  const raw = doc.toJS() as unknown;
  const problems: string[] = [];
  if (!keysOf(raw, 'mapping', ['pss_version', 'rule_sets', 'sources'], ['pss_version', 'rule_sets', 'sources'], problems)) throw new Error(`${file}: ${problems.join('; ')}`);
  const ruleSets: Record<string, RuleSetRef> = {};
  for (const [name, ref] of Object.entries((raw['rule_sets'] as Obj) ?? {})) {
    if (keysOf(ref, `rule_sets.${name}`, ['spec', 'params'], ['spec', 'params'], problems))
      ruleSets[name] = { spec: str(ref['spec'], `rule_sets.${name}.spec`, problems), params: str(ref['params'], `rule_sets.${name}.params`, problems) };
  }
  const entries: Entry[] = [];
  const sources = raw['sources'] as Obj;
  for (const k of Object.keys(sources ?? {})) if (!(SOURCES as readonly string[]).includes(k)) problems.push(`sources: unknown source ${k}`);
  for (const source of SOURCES) {
    const list = sources?.[source];
    if (!Array.isArray(list)) {
      problems.push(`sources.${source}: must be a list`);
      continue;
    }
    list.forEach((e: unknown, i) => {
      const at = `${source}[${i}]`;
      const allowed = ['peer', 'match', 'maps_to', 'not_applicable', 'pss', 'note', 'verdicts', 'cases_not_applicable'];
      if (!keysOf(e, at, allowed, ['peer', 'match'], problems)) return;
      const peer = str(e['peer'], `${at}.peer`, problems);
      const where = `${at} (${peer})`;
      if (!keysOf(e['match'], `${where}.match`, Object.keys((e['match'] as Obj) ?? {}), [], problems)) return;
      if (('maps_to' in e) === ('not_applicable' in e)) problems.push(`${where}: give exactly one of maps_to and not_applicable`);
      const target = 'maps_to' in e ? parseTarget(e['maps_to'], `${where}.maps_to`, ruleSets, problems) : undefined;
      let verdicts: Entry['verdicts'];
      if (e['verdicts'] !== undefined && keysOf(e['verdicts'], `${where}.verdicts`, ['only', 'reason'], ['only', 'reason'], problems)) {
        const only = (e['verdicts'] as Obj)['only'];
        if (only !== 'pass' && only !== 'fail') problems.push(`${where}.verdicts.only: pass or fail`);
        verdicts = { only: only as Verdict, reason: str((e['verdicts'] as Obj)['reason'], `${where}.verdicts.reason`, problems) };
      }
      const exceptions = ((e['cases_not_applicable'] as unknown[] | undefined) ?? []).flatMap((x, j): CaseException[] => {
        const xat = `${where}.cases_not_applicable[${j}]`;
        if (!keysOf(x, xat, ['case', 'cases', 'reason', 'pss', 'our_fixture'], ['reason'], problems)) return [];
        if (('case' in x) === ('cases' in x)) problems.push(`${xat}: give exactly one of case and cases`);
        const cases = 'case' in x ? [str(x['case'], `${xat}.case`, problems)] : strList(x['cases'], `${xat}.cases`, problems);
        return [
          {
            cases,
            reason: str(x['reason'], `${xat}.reason`, problems),
            ...(x['pss'] !== undefined ? { pss: str(x['pss'], `${xat}.pss`, problems) } : {}),
            ...(x['our_fixture'] !== undefined ? { ourFixture: str(x['our_fixture'], `${xat}.our_fixture`, problems) } : {}),
          },
        ];
      });
      entries.push({
        source,
        at,
        peer,
        match: e['match'] as Obj,
        ...(target ? { target } : {}),
        ...('not_applicable' in e ? { notApplicable: str(e['not_applicable'], `${where}.not_applicable`, problems) } : {}),
        ...(e['pss'] !== undefined ? { pss: str(e['pss'], `${where}.pss`, problems) } : {}),
        ...(verdicts ? { verdicts } : {}),
        exceptions,
      });
    });
  }
  if (problems.length) throw new Error(`${file}:\n  ${problems.join('\n  ')}`);
  return { pssVersion: String(raw['pss_version']), ruleSets, entries };
}

/** A `match` value: a scalar is compared for equality (null with null), a list is any of. */
function matches(entry: Entry, c: PeerCase): boolean {
  return Object.entries(entry.match).every(([k, want]) => {
    const have = c.entry[k] ?? null;
    return Array.isArray(want) ? want.some((w) => w === have) : (want ?? null) === have;
  });
}

/**
 * Each case's decision. Errors (returned, never skipped): a case no entry matches or several
 * do, an exception naming a case its entry does not match.
 */
export function decide(mapping: Mapping, cases: readonly PeerCase[]): { decisions: Map<string, Decision>; problems: string[] } {
  const decisions = new Map<string, Decision>();
  const problems: string[] = [];
  const bySource = new Map<SourceName, PeerCase[]>();
  for (const c of cases) bySource.set(c.source, [...(bySource.get(c.source) ?? []), c]);
  for (const c of cases) {
    const hits = mapping.entries.filter((e) => e.source === c.source && matches(e, c));
    if (hits.length !== 1) {
      problems.push(`${c.id}: ${hits.length ? `matched by ${hits.length} entries (${hits.map((h) => h.at).join(', ')})` : 'matched by no mapping entry'}`);
      continue;
    }
    const entry = hits[0]!;
    const exception = entry.exceptions.find((x) => x.cases.includes(c.id));
    if (entry.notApplicable !== undefined) {
      if (exception) problems.push(`${entry.at}: case ${c.id} is listed, but the whole peer rule is not applicable`);
      decisions.set(c.id, { applicable: false, entry, scope: 'peer', reason: entry.notApplicable });
    } else if (exception) {
      decisions.set(c.id, {
        applicable: false,
        entry,
        scope: 'case',
        reason: exception.reason,
        ...(exception.pss ? { pss: exception.pss } : {}),
        ...(exception.ourFixture ? { ourFixture: exception.ourFixture } : {}),
      });
    } else if (entry.verdicts && entry.verdicts.only !== c.expected) {
      decisions.set(c.id, { applicable: false, entry, scope: 'verdict', reason: entry.verdicts.reason });
    } else {
      decisions.set(c.id, { applicable: true, entry, target: entry.target! });
    }
  }
  for (const entry of mapping.entries) {
    const own = bySource.get(entry.source) ?? [];
    if (!own.length) continue;
    if (!own.some((c) => matches(entry, c))) problems.push(`${entry.at} (${entry.peer}): matches no case`);
    for (const x of entry.exceptions)
      for (const id of x.cases) if (!own.some((c) => c.id === id && matches(entry, c))) problems.push(`${entry.at} (${entry.peer}): listed case ${id} is not one of its cases`);
  }
  return { decisions, problems };
}
