// Hostile text for the escaping tests (test/targets/escape.test.ts and escape.pending.ts): a
// small rule set, built with the DSL, whose rule set title, rule titles, descriptions, fixes,
// messages and parameter values are hostile strings; compiled in-process with src/targets and
// src/emit/bundle.ts.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { all, equals, inParamList, item, jsonObjectArray, not, param, pod, rule, ruleSet } from '../../src/dsl/index.ts';
import { buildWasmBundle } from '../../src/emit/bundle.ts';
import { findEngine } from '../../src/emit/engines.ts';
import type { HeaderInput } from '../../src/targets/render.ts';
import type { ParamValues, RuleSet } from '../../src/ir/types.ts';
import { validateParamValues } from '../../src/ir/params.ts';
import { validateRuleSet } from '../../src/ir/validate.ts';
import { targets } from '../../src/targets/index.ts';

/** 10,000 characters (all in the BMP, so 10,000 UTF-16 units too), mixing quoting characters. */
const CYCLE = 'ab"\\{}中$` \'';
const LONG = Array.from({ length: 10_000 }, (_, i) => CYCLE[i % CYCLE.length]!).join('');

export interface Hostile {
  readonly name: string;
  readonly text: string;
}

export const HOSTILE: readonly Hostile[] = [
  { name: 'double quotes', text: 'say "hi" and "" and "' },
  { name: 'single quotes', text: "it's 'quoted' and ''" },
  { name: 'backslashes', text: 'C:\\dir\\ and \\\\ and \\" and \\n and \\u0041 and a trailing \\' },
  { name: 'LF', text: 'line one\nline two\n' },
  { name: 'CRLF', text: 'line one\r\nline two\r\n' },
  { name: 'tab', text: 'col\tcol\t' },
  { name: 'double braces', text: '{{ .Values.x }} and {{request.object}} and }}' },
  { name: 'triple braces', text: '{{{x}}}' },
  { name: 'triple double quotes', text: '"""doc"""' },
  { name: 'backticks', text: '`id` and ``' },
  { name: 'dollars', text: '$HOME ${x} $(y) $$ $' },
  { name: 'Chinese', text: '中文消息：容器不安全' },
  { name: 'emoji', text: 'ok 😀 👍🏽 🏳️‍🌈' },
  { name: 'U+2028', text: 'line\u2028separator' },
  { name: 'U+2029', text: 'paragraph\u2029separator' },
  { name: 'U+0085', text: 'next\u0085line' },
  { name: 'U+FEFF', text: '\ufeffbyte order mark, and \ufeff inside' },
  { name: '10,000 characters', text: LONG },
];

export const EVERYTHING: Hostile = { name: 'everything at once', text: HOSTILE.map((h) => h.text).join(' | ') };

/** Lone surrogates: not Unicode text, but valid JavaScript strings. */
export const LONE_SURROGATES: readonly Hostile[] = [
  { name: 'lone high surrogate', text: 'a\ud800b' },
  { name: 'lone low surrogate', text: 'a\udc00b' },
  { name: 'reversed pair', text: '\udc00\ud800' },
  { name: 'high surrogate at the end', text: 'end\ud83d' },
  { name: 'low surrogate at the start', text: '\ude00start' },
];

/** Control characters: C0, DEL, C1. */
export const CONTROLS: readonly Hostile[] = [
  { name: 'C0 controls', text: Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') },
  { name: 'C1 controls', text: Array.from({ length: 32 }, (_, i) => String.fromCharCode(0x80 + i)).join('') },
];

export const hasBom = (h: Hostile): boolean => h.text.includes('\ufeff');

export const SYSCTL_RULE_ID = 'X-SYSCTL-001';
export const HOST_SYSCTLS = 'example.com/host-sysctls';
/** A sysctl name with odd characters that the annotation grammar still allows (no `"`, `\`, controls). */
export const ODD_SYSCTL = "kernel.odd-中文-😀-'single'-$x-`tick`-{{x}}}-\u2028\u2029\u0085\ufeff-end";
export const NOT_APPROVED = 'kernel.not-approved';
export const LABEL_KEY = 'example.com/"eci"\\{{x}}';
export const LABEL_VALUE = 'in "scope" \\ 中 😀 \u2028 {{y}}';

/** The rule reporting the message at `index`; its one check is `MESSAGE_CHECK`. */
export const messageRuleId = (index: number): string => `X-MSG-${index}`;
export const MESSAGE_CHECK = 'msg';

/**
 * One rule per message, each with one check (on `hostNetwork: true`) so that every engine
 * reports each message on its own, and an approval check on the host sysctls annotation
 * against the `approvedHostSysctls` list. Titles, descriptions and fixes are `text`.
 */
export function hostileRuleSet(messages: readonly string[], text: string = EVERYTHING.text): RuleSet {
  const rules = messages.map((m, i) =>
    rule({ id: messageRuleId(i), title: text, description: text, action: 'deny', level: 'pod', fix: text }).check(
      MESSAGE_CHECK,
      pod.field('hostNetwork'),
      equals(item, true),
      m,
    ),
  );
  const sysctls = rule({ id: SYSCTL_RULE_ID, title: text, description: text, action: 'deny', level: 'pod', fix: text }).check(
    'host-sysctl',
    pod.annotationJsonItems(HOST_SYSCTLS, 'name'),
    all(jsonObjectArray(pod.annotationRef(HOST_SYSCTLS), ['name', 'value']), not(inParamList(item, 'approvedHostSysctls'))),
    'host sysctl is not approved',
  );
  const ir0 = ruleSet({
    name: 'hostile',
    title: text,
    version: '1.0.0',
    inputRule: { id: 'X-INPUT-001', title: text },
    selector: param.labelSelector('selector', text),
  })
    .param(param.stringList('approvedHostSysctls', text));
  const ir = [...rules, sysctls].reduce((set, r) => set.rule(r), ir0).toIR();
  const v = validateRuleSet(ir);
  if (!v.ok) throw new Error(`hostile rule set does not validate: ${JSON.stringify(v.errors)}`);
  return v.value;
}

export const APPROVED: readonly string[] = [ODD_SYSCTL, ...HOSTILE.map((h) => h.text), EVERYTHING.text];

export const HOSTILE_LABELS: Readonly<Record<string, string>> = { [LABEL_KEY]: LABEL_VALUE };

export function hostileParams(
  rs: RuleSet,
  approved: readonly string[] = APPROVED,
  matchLabels: Readonly<Record<string, string>> = HOSTILE_LABELS,
): ParamValues {
  const p = validateParamValues(rs, { selector: { matchLabels: {} }, approvedHostSysctls: approved, actions: {} }, 'hostile params');
  if (!p.ok) throw new Error(`hostile parameters do not validate: ${JSON.stringify(p.errors)}`);
  // The labels go in after validation: a parameter file's selector must hold valid Kubernetes
  // labels (src/ir/params.ts rejects LABEL_KEY and LABEL_VALUE), but the targets must still
  // escape whatever selector they are given.
  return { ...p.value, selector: { matchLabels } };
}

const HEADER: HeaderInput = { compilerVersion: 'test', source: 'test/targets/hostile.ts', ruleSet: 'hostile', ruleSetVersion: '1.0.0' };

/** Every target's files, e.g. `rego/policy.rego`; throws with the diagnostics on failure. */
export function emitAll(rs: RuleSet, params: ParamValues): Map<string, string> {
  const files = new Map<string, string>();
  for (const t of targets) {
    const r = t.emit(rs, params, HEADER, []);
    if (!r.ok) throw new Error(`${t.name}: ${JSON.stringify(r.errors)}`);
    for (const [rel, content] of r.value) files.set(`${t.name}/${rel}`, content);
  }
  return files;
}

export const OPA = findEngine('opa') ?? join(process.cwd(), '.tools', 'bin', 'opa');
export const KYVERNO = findEngine('kyverno');

export function wasmBundle(rs: RuleSet, params: ParamValues, rego: string): Map<string, Uint8Array> {
  const b = buildWasmBundle(OPA, { packageName: rs.name, rego, params, metadata: { test: 'hostile' } });
  if (!b.ok) throw new Error(`opa build: ${JSON.stringify(b.errors)}`);
  return b.value;
}

/** `opa check --strict` on one Rego file: its exit status and output. */
export function opaCheckStrict(rego: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'eci-policy-rego-'));
  try {
    const file = join(dir, 'policy.rego');
    writeFileSync(file, rego);
    const r = spawnSync(OPA, ['check', '--strict', file], { encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Each string as a Rego rule `s<i> := <literal>`, evaluated by the opa binary: the values OPA
 * reads back, or the parse error.
 */
export function opaReadBack(literals: readonly string[]): { ok: true; values: string[] } | { ok: false; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'eci-policy-rego-'));
  try {
    const file = join(dir, 'strings.rego');
    writeFileSync(file, `package strings\n\n${literals.map((l, i) => `s${i} := ${l}\n`).join('')}`);
    const check = spawnSync(OPA, ['check', '--strict', file], { encoding: 'utf8' });
    if (check.status !== 0) return { ok: false, output: `${check.stdout}${check.stderr}` };
    const r = spawnSync(OPA, ['eval', '--format', 'json', '-d', file, 'data.strings'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) return { ok: false, output: `${r.stdout}${r.stderr}` };
    const doc = JSON.parse(r.stdout) as { result: { expressions: { value: Record<string, string> }[] }[] };
    const value = doc.result[0]!.expressions[0]!.value;
    return { ok: true, values: literals.map((_, i) => value[`s${i}`]!) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A pod that every message check reports, carrying the host sysctls annotation. */
export function hostilePod(labels: Readonly<Record<string, string>> = HOSTILE_LABELS): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'hostile',
      namespace: 'team-a',
      labels,
      annotations: {
        [HOST_SYSCTLS]: JSON.stringify([
          { name: ODD_SYSCTL, value: '1' },
          { name: NOT_APPROVED, value: '2' },
        ]),
      },
    },
    spec: { hostNetwork: true, containers: [{ name: 'app', image: 'nginx' }] },
  };
}

/**
 * The double-quoted string literals of a CEL expression, decoded (the Kyverno target writes
 * them with JSON.stringify); single-quoted literals are skipped.
 */
export function celStringLiterals(expr: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < expr.length; i++) {
    const quote = expr[i];
    if (quote !== '"' && quote !== "'") continue;
    let j = i + 1;
    while (j < expr.length && expr[j] !== quote) j += expr[j] === '\\' ? 2 : 1;
    if (j >= expr.length) throw new Error(`unterminated string literal at ${i}: ${expr.slice(i, i + 40)}`);
    out.push(decodeCelLiteral(expr.slice(i + 1, j), quote));
    i = j;
  }
  return out;
}

/** The text of a CEL string literal's body: JSON's escapes, and `\'` in single-quoted ones. */
function decodeCelLiteral(body: string, quote: string): string {
  let json = '';
  for (let k = 0; k < body.length; k++) {
    const ch = body[k]!;
    if (ch === '\\') {
      const next = body[++k]!;
      json += next === "'" ? "'" : `\\${next}`;
    } else json += ch === '"' && quote === "'" ? '\\"' : ch;
  }
  return JSON.parse(`"${json}"`) as string;
}

/**
 * Whether one of the literals is the message, as it is written into a messageExpression: between
 * the `<RULE-ID>: ` prefix and the ` :: [` that opens the facts.
 */
export function carriesMessage(literals: readonly string[], ruleId: string, message: string): boolean {
  return literals.some((l) => l === `${ruleId}: ${message} :: [`);
}

/** The Pod rules of a ClusterPolicy for an IR rule: `<rule-id>` or `<rule-id>-<suffix>`. */
export function podRulesFor(policy: KyvernoPolicy, ruleId: string): KyvernoPolicyRule[] {
  const id = ruleId.toLowerCase();
  return policy.spec.rules.filter((r) => r.name === id || r.name.startsWith(`${id}-`));
}

export interface KyvernoPolicyRule {
  name: string;
  celPreconditions?: { name: string; expression: string }[];
  validate: {
    failureAction: string;
    cel: { variables: { name: string; expression: string }[]; expressions: { expression: string; messageExpression: string }[] };
  };
}

export interface KyvernoPolicy {
  kind: string;
  metadata: { name: string; annotations: Record<string, string> };
  spec: { rules: KyvernoPolicyRule[] };
}

export interface KyvernoResult {
  readonly rule: string;
  readonly result: string;
  readonly message: string;
}

/**
 * `kyverno apply <policy> --resource <resource>` with a JSON policy report: the results by rule
 * name, or (when Kyverno skips the policy or prints no report) its output.
 */
export function kyvernoApply(policyYaml: string, resource: unknown): { results: Map<string, KyvernoResult>; output: string } {
  if (!KYVERNO) throw new Error('kyverno not found: bash scripts/install-engines.sh kyverno');
  const dir = mkdtempSync(join(tmpdir(), 'eci-policy-kyverno-'));
  try {
    writeFileSync(join(dir, 'policy.yaml'), policyYaml);
    // JSON, with the characters a YAML reader may fold (NEL, C1, U+2028/9) or drop (BOM) escaped.
    const json = JSON.stringify(resource).replace(/[\u0080-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    writeFileSync(join(dir, 'resource.json'), json);
    const r = spawnSync(
      KYVERNO,
      ['apply', join(dir, 'policy.yaml'), '--resource', join(dir, 'resource.json'), '-p', '--output-format', 'json'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const output = `${r.stdout}${r.stderr}`;
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    const results = new Map<string, KyvernoResult>();
    if (line) {
      const report = JSON.parse(line) as { results?: { rule: string; result: string; message: string }[] };
      for (const x of report.results ?? []) results.set(x.rule, { rule: x.rule, result: x.result, message: x.message });
    }
    return { results, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
