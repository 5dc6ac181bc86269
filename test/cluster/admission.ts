// What every admission leg of the cluster tests shares: fixtures sent as server-side dry-run
// creates, the object the API server admits with no policy in place (its normalisation), the
// expectation on that object, and the comparison and report.
//
// The API server normalises an object before admission (decoding drops empty lists, the AppArmor
// annotation is copied into the field, defaults are set). Each fixture is therefore first created
// (dry run) with no policy, and OPA WASM judges the object the server returns: where that
// judgement equals the fixture's expectation, the leg must report the fixture's facts; where the
// server changed what the rules read, the fixture is listed as normalised (with the difference)
// and the leg must agree with OPA WASM on the normalised object. Objects the API server rejects
// before admission (decoding and its own validation run first) are listed with its message:
// evidence, not skips.

import type { CompiledRuleSet } from '../../src/emit/build.ts';
import { loadFixtures, type ExpectedViolation, type Fixture } from '../../src/fixtures/corpus.ts';
import { KIND_RESOURCES } from '../../src/targets/cel/lower.ts';
import { admittedFixtures, type AdmittedFixture } from '../../src/targets/kyverno/tests.ts';
import { compareFacts, formatDiff, type Facts } from '../harness/facts.ts';
import { wasmLeg } from '../harness/matrix.ts';
import type { ApiResponse, ControlPlane } from './control-plane.ts';

/** The object created as a server-side dry run (`?dryRun=All`): the whole admission chain, nothing stored. */
export function dryRunCreate(cp: ControlPlane, object: Record<string, unknown>): Promise<ApiResponse> {
  const kind = String(object['kind']);
  const r = KIND_RESOURCES[kind];
  if (!r) throw new Error(`no resource for kind ${kind}`);
  const namespace = String((object['metadata'] as { namespace?: unknown })['namespace'] ?? 'default');
  return cp.api('POST', `${r.group ? `/apis/${r.group}/v1` : '/api/v1'}/namespaces/${namespace}/${r.resource}?dryRun=All`, object);
}

/** The message of a refused request (the Status object's), or its body. */
export function refusal(r: ApiResponse): string {
  return String((r.body as { message?: unknown })?.message ?? JSON.stringify(r.body));
}

/** What a leg reports of one object: the facts from our policies and the server's other warnings, or why the server rejected it before admission. */
export type Outcome = { readonly facts: readonly Facts[]; readonly serverWarnings: readonly string[] } | { readonly rejected: string };

/** Per fixture: the object the server admits with no policy in place, or its rejection. */
export type Normalised = ReadonlyMap<string, { readonly object: Record<string, unknown> } | { readonly rejected: string }>;

/** OPA WASM's facts on an object as the server admits it (the expectation where the server changed what rules read). */
export type Judge = (fixture: Fixture, object: Record<string, unknown>) => readonly ExpectedViolation[];

/** A rule set's fixtures that reach admission (the Kyverno suites' selection: default parameters, an admissible object), and its judge. */
export async function admissionFixtures(c: CompiledRuleSet): Promise<{ readonly admitted: readonly AdmittedFixture[]; readonly judge: Judge }> {
  const { admitted } = admittedFixtures(c.ruleSet, c.params, loadFixtures(c.ruleSet.name) as Fixture[]);
  const wasm = await wasmLeg(c);
  return { admitted, judge: (fixture, object) => wasm([{ ...fixture, input: object }])[0]!.map(({ value: _v, ...f }) => f) as ExpectedViolation[] };
}

/** The fixtures' namespaces (the fixtures use a few). */
export async function createNamespaces(cp: ControlPlane, admitted: readonly AdmittedFixture[]): Promise<void> {
  for (const ns of new Set(admitted.map((a) => String((JSON.parse(a.document).metadata ?? {}).namespace ?? 'default')))) {
    await cp.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }
}

/**
 * Each fixture as a dry-run create with none of our policies in place. `stillAnswering` says
 * whether a refusal or warning text comes from a policy (of an earlier leg) that has not gone yet.
 */
export async function admitWithoutPolicies(cp: ControlPlane, admitted: readonly AdmittedFixture[], stillAnswering: (text: string) => boolean): Promise<Normalised> {
  const out = new Map<string, { object: Record<string, unknown> } | { rejected: string }>();
  for (const a of admitted) {
    const r = await dryRunCreate(cp, JSON.parse(a.document) as Record<string, unknown>);
    const message = r.status === 201 ? '' : refusal(r);
    if (stillAnswering(message) || r.warnings.some(stillAnswering)) throw new Error(`a policy is still in place: ${message || r.warnings.join(' | ')}`);
    out.set(a.name, r.status === 201 ? { object: r.body as Record<string, unknown> } : { rejected: `${r.status}: ${message}` });
  }
  return out;
}

/** Polls until `done` holds, or fails naming `what` after `ms`. */
export async function waitFor(what: string, done: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** A fixture whose server-normalised object has a deny: the probe that a leg's policies are (or are no longer) in place. */
function denyProbe(admitted: readonly AdmittedFixture[], normalised: Normalised): AdmittedFixture {
  const probe = admitted.find((a) => a.scoped && a.fixture.expect.some((e) => e.action === 'deny') && 'object' in normalised.get(a.name)!);
  if (!probe) throw new Error('no fixture with a deny reaches admission');
  return probe;
}

/** Waits until a leg's policies deny the deny probe (they take effect a moment after they are applied). */
export async function untilDenied(what: string, admitted: readonly AdmittedFixture[], normalised: Normalised, admit: (object: Record<string, unknown>) => Promise<Outcome>, ms = 60_000): Promise<void> {
  const probe = JSON.parse(denyProbe(admitted, normalised).document) as Record<string, unknown>;
  await waitFor(what, async () => {
    const o = await admit(probe);
    return 'facts' in o && o.facts.some((f) => f.action === 'deny');
  }, ms);
}

/** Waits until deleted policies stop answering: the deny probe admitted, with no warning of theirs. */
export async function untilNoLongerAnswering(cp: ControlPlane, admitted: readonly AdmittedFixture[], normalised: Normalised, ours: (text: string) => boolean): Promise<void> {
  const probe = JSON.parse(denyProbe(admitted, normalised).document) as Record<string, unknown>;
  await waitFor('the deleted policies to stop answering', async () => {
    const res = await dryRunCreate(cp, probe);
    return res.status === 201 && !res.warnings.some(ours);
  });
}

/** The (rule, verdict) pairs a fixture shows, as the webhook legs' budget counts them. */
export function budgetPairs(a: AdmittedFixture): string[] {
  const pairs = a.fixture.expect.map((e) => `${e.rule} ${e.action}`);
  const folder = /(?:^|\/)([A-Z]+(?:-[A-Z0-9]+)+)\/[^/]+$/.exec(a.fixture.file)?.[1];
  if (folder && !a.fixture.expect.some((e) => e.rule === folder)) pairs.push(`${folder} pass`);
  return pairs;
}

/**
 * The webhook legs' budget (`npm test`): at least one fixture per rule and verdict. A fixture
 * counts for (rule, deny|warn) when it expects that rule's violation, and for (rule, pass) when it
 * is in that rule's folder (test/fixtures/<rule-set>/<RULE-ID>/) and expects none of its
 * violations; fixtures are taken in corpus order while they add a pair. Only fixtures that
 * reach admission (the server admits them with no policy in place) are candidates.
 */
export function budgetFixtures(admitted: readonly AdmittedFixture[], normalised: Normalised): AdmittedFixture[] {
  const seen = new Set<string>();
  return admitted.filter((a) => {
    if (!('object' in normalised.get(a.name)!)) return false;
    const fresh = budgetPairs(a).filter((k) => !seen.has(k));
    fresh.forEach((k) => seen.add(k));
    return fresh.length > 0;
  });
}

export interface LegReport {
  readonly leg: string;
  readonly sent: number;
  readonly judged: number;
  /** Fixtures the server rejected before admission, with its message. */
  readonly rejected: readonly string[];
  /** Fixtures the server normalised so that what the rules read changed: the difference. */
  readonly normalised: readonly string[];
  readonly disagreements: readonly string[];
  /** The API server's own warnings (deprecations, odd quantities), deduplicated. */
  readonly serverWarnings: readonly string[];
}

/**
 * Every fixture through one leg (`admit`), compared with the fixture's expectation on the object
 * the server admits (`judge`: OPA WASM on that object).
 */
export async function compareLeg(
  leg: string,
  fixtures: readonly AdmittedFixture[],
  normalised: Normalised,
  judge: Judge,
  admit: (object: Record<string, unknown>) => Promise<Outcome>,
  /** What the engine shows of the expected facts (all of them, unless an engine quirk hides some). */
  shown: (expected: readonly ExpectedViolation[]) => readonly ExpectedViolation[] = (e) => e,
): Promise<LegReport> {
  const disagreements: string[] = [];
  const rejected: string[] = [];
  const changed: string[] = [];
  const warned = new Set<string>();
  let judged = 0;
  for (const a of fixtures) {
    const before = normalised.get(a.name)!;
    const o = await admit(JSON.parse(a.document) as Record<string, unknown>);
    if ('rejected' in o) {
      rejected.push(`  ${a.fixture.name}: ${o.rejected.slice(0, 300)}`);
      if ('object' in before) disagreements.push(`${a.fixture.name}: rejected with the policies, admitted without: ${o.rejected}`);
      continue;
    }
    if (!('object' in before)) {
      disagreements.push(`${a.fixture.name}: judged with the policies, rejected without: ${before.rejected}`);
      continue;
    }
    judged++;
    for (const w of o.serverWarnings) warned.add(w.replace(/\[[^\]]*\]/g, '[…]').slice(0, 160));
    const serverView = judge(a.fixture, before.object);
    const sameAsFixture = compareFacts(a.fixture.expect, serverView, { ignore: ['value'] });
    let expected: readonly ExpectedViolation[] = a.fixture.expect;
    if (sameAsFixture.missing.length || sameAsFixture.unexpected.length) {
      changed.push(formatDiff(`${a.fixture.name} (OPA WASM on the object as the server admits it, against the fixture)`, 'normalised', sameAsFixture));
      expected = serverView;
    }
    const diff = compareFacts(shown(expected), o.facts, { ignore: ['value'] });
    if (diff.missing.length || diff.unexpected.length) disagreements.push(formatDiff(a.fixture.name, leg, diff));
  }
  return { leg, sent: fixtures.length, judged, rejected, normalised: changed, disagreements, serverWarnings: [...warned] };
}

/** Prints a leg's report (with the budget's coverage) and requires 0 disagreements; `logs` goes with a failure. */
export function assertLeg(ruleSet: string, report: LegReport, chosen: readonly AdmittedFixture[], logs = ''): void {
  const pairs = new Set(chosen.flatMap(budgetPairs));
  process.stdout.write(`${formatLegReport(ruleSet, report)}[cluster] ${ruleSet} ${report.leg}: ${pairs.size} (rule, verdict) pairs covered\n`);
  if (report.disagreements.length) throw new Error(`${report.leg}: ${report.disagreements.length} disagreements\n${report.disagreements.join('\n')}\n${logs}`);
  if (report.judged === 0) throw new Error(`${report.leg}: no fixture judged`);
}

function formatLegReport(ruleSet: string, r: LegReport): string {
  return (
    `\n[cluster] ${ruleSet} ${r.leg}: ${r.sent} fixtures sent, ${r.judged} judged (${r.judged - r.normalised.length} against the fixture, ${r.normalised.length} normalised by the server); ` +
    `rejected before admission: ${r.rejected.length}\n${r.rejected.join('\n')}\n` +
    (r.normalised.length ? `[cluster] ${ruleSet} ${r.leg}: normalised by the server:\n${r.normalised.join('\n')}\n` : '') +
    (r.serverWarnings.length ? `[cluster] ${ruleSet} ${r.leg}: the API server's own warnings: ${r.serverWarnings.join(' | ')}\n` : '')
  );
}

/** Whether this run sends every fixture through the webhook legs (`npm run test:cluster -- --all`). */
const ALL_FIXTURES = process.env['ECI_CLUSTER_ALL'] === '1';

/** What a webhook leg sends, as its test's title says it: the budget, or every fixture with `--all`. */
export const WEBHOOK_FIXTURES = ALL_FIXTURES ? 'every fixture' : 'a fixture per rule and verdict';

export function webhookFixtures(admitted: readonly AdmittedFixture[], normalised: Normalised): readonly AdmittedFixture[] {
  return ALL_FIXTURES ? admitted : budgetFixtures(admitted, normalised);
}
