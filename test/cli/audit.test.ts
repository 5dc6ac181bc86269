// `eci-policy audit` through the real CLI process and the committed WASM bundle. Expected
// verdicts come from ECI-RULES.md: SYS_TIME is not on ECI-CTR-001's allowlist (deny),
// `privileged: true` without approval is ECI-CTR-002 (deny), a pod without the ECI label is out
// of scope. Hostile inputs (issue 5, item 5) must be refused or survived with a located error,
// and the other documents must still be checked.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { auditJson, makeWorkDir, parseDiag, ROOT, runCli, type AuditJsonReport } from './cli-helpers.ts';

const dir = makeWorkDir('audit');
const LABELS = 'labels: {alibabacloud.com/eci: "true"}';

const file = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const pod = (name: string, securityContext: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: team-a
  ${LABELS}
spec:
  containers:
    - name: app
      image: nginx
      securityContext: ${securityContext}
`;

test('multi-document file with one broken document: the others are checked, the broken one is reported at its line', async () => {
  const text = [
    `# Source: chart/templates/good.yaml\n${pod('good', '{runAsUser: 1000}')}`,
    // document 2: an unclosed flow map.
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\n  labels: {alibabacloud.com/eci: "true"\nspec: {}\n`,
    '', // Helm leaves empty documents between templates
    `# Source: chart/templates/web.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: team-a}\nspec:\n  template:\n    metadata: {${LABELS}}\n    spec:\n      containers:\n        - name: app\n          image: nginx\n          securityContext:\n            capabilities:\n              add: [NET_ADMIN, SYS_TIME]\n`,
  ].join('---\n');
  const f = file('multi.yaml', text);
  const { run, report } = await auditJson([f]);
  assert.is(run.code, 2, 'an unreadable document fails the audit as an input error');
  assert.equal(report.resources.map((r) => [r.document, r.kind, r.name]), [[1, 'Pod', 'good'], [4, 'Deployment', 'web']]);
  assert.equal(report.resources[0]!.violations, []);
  const v = report.resources[1]!.violations;
  assert.equal(v.map((x) => [x.rule, x.action, x.container, x.path, x.value]), [['ECI-CTR-001', 'deny', 'app', 'spec.template.spec.containers[0].securityContext.capabilities.add[1]', 'SYS_TIME']]);
  const addLine = text.split('\n').findIndex((l) => l.includes('add: [NET_ADMIN, SYS_TIME]')) + 1;
  assert.is(v[0]!.line, addLine, 'the violation points at the line of the offending entry');
  assert.is(report.errors.length, 1);
  const e = report.errors[0]!;
  assert.is(e.code, 'input-yaml');
  assert.ok(e.message.startsWith('document 2:'), e.message);
  const lines = text.split('\n');
  const separators = lines.flatMap((l, i) => (l === '---' ? [i + 1] : []));
  assert.ok(e.line! > separators[0]! && e.line! < separators[1]!, `error line ${e.line} is inside document 2 (lines ${separators[0]}-${separators[1]})`);
  const diag = run.stderr.split('\n').map(parseDiag).find(Boolean);
  assert.equal([diag?.file, diag?.code], [f, 'input-yaml'], run.stderr);
});

test('a YAML alias bomb is refused without expanding it; the next document is still checked', async () => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const f = file('bomb.yaml', `${levels.join('\n')}\n---\n${pod('after', '{privileged: true}')}`);
  const { run, report } = await auditJson([f]);
  assert.is(run.code, 2);
  assert.equal(report.errors.map((e) => [e.code, e.line]), [['input-aliases', 1]]);
  assert.equal(report.resources.map((r) => [r.name, r.violations.map((v) => v.rule)]), [['after', ['ECI-CTR-002']]]);
});

test('deeply nested documents are refused before parsing recurses; shallower ones pass through', async () => {
  const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  const f = file('deep.yaml', [deep(100_000), deep(101), `[${'['.repeat(50_000)}${']'.repeat(50_000)}]`, pod('shallow', '{capabilities: {add: [SYS_TIME]}}')].join('\n---\n'));
  const { run, report } = await auditJson([f]);
  assert.is(run.code, 2);
  assert.equal(report.errors.map((e) => [e.code, e.message.split(':')[0]]), [
    ['input-too-deep', 'document 1'],
    ['input-too-deep', 'document 2'],
    ['input-too-deep', 'document 3'],
  ]);
  assert.equal(report.resources.map((r) => [r.document, r.violations.map((v) => v.rule)]), [[4, ['ECI-CTR-001']]]);
});

test('non-UTF-8 bytes: the file is refused at the line of the first bad byte; other files are still checked', async () => {
  const bad = Buffer.concat([Buffer.from('apiVersion: v1\nkind: Pod\nmetadata: {name: caf'), Buffer.from([0xe9]), Buffer.from('}\n')]);
  const f1 = file('latin1.yaml', bad);
  const f2 = file('ok.yaml', pod('ok', '{privileged: true}'));
  const { run, report } = await auditJson([f1, f2]);
  assert.is(run.code, 2);
  assert.equal(report.errors.map((e) => [e.file, e.code, e.line]), [[f1, 'input-not-utf8', 3]]);
  assert.ok(report.errors[0]!.message.includes('0xe9'), report.errors[0]!.message);
  assert.equal(report.resources.map((r) => [r.file, r.violations.map((v) => v.rule)]), [[f2, ['ECI-CTR-002']]]);
});

test('duplicate keys are refused (kubectl refuses them too: "mapping key already defined")', async () => {
  // kubectl's YAML decoding errors on duplicate keys, e.g. https://github.com/k8up-io/k8up/pull/452,
  // so a manifest with one never reaches admission as written; which value a policy saw would be a guess.
  const f = file('dup.yaml', `${pod('dup', '{privileged: false}')}      securityContext: {privileged: true}\n`);
  const { run, report } = await auditJson([f]);
  assert.is(run.code, 2);
  assert.equal(report.errors.map((e) => [e.code, e.line]), [['input-yaml', 12]]);
  assert.equal(report.resources, []);
});

test('a 20 MB manifest of 17,000+ pods is read document by document and every pod is judged', async () => {
  const docs: string[] = [];
  let size = 0;
  let offenders = 0;
  for (let i = 0; size < 20e6; i++) {
    const offending = i % 100 === 0;
    if (offending) offenders++;
    const d = stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: 'team-a', labels: { 'alibabacloud.com/eci': 'true' } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.25', securityContext: { capabilities: { add: offending ? ['SYS_TIME'] : ['NET_ADMIN'] } }, env: Array.from({ length: 10 }, (_, k) => ({ name: `E${k}`, value: 'v'.repeat(40) })) }] },
    });
    docs.push(d);
    size += d.length + 4;
  }
  const f = file('big.yaml', docs.join('---\n'));
  const { run, report } = await auditJson([f], undefined, 300_000);
  assert.is(run.code, 1, run.stderr);
  assert.is(report.summary.resources, docs.length);
  assert.is(report.summary.deny, offenders);
  assert.ok(report.resources.filter((r) => r.violations.length).every((r) => Number(r.name.slice(1)) % 100 === 0));
});

test('a file over --max-bytes is refused before parsing', async () => {
  const f = file('limit.yaml', pod('x', '{}'));
  const { run, report } = await auditJson(['--max-bytes', '100', f]);
  assert.is(run.code, 2);
  assert.equal(report.errors.map((e) => e.code), ['input-too-large']);
});

test('a pod with 5,000 containers is judged in full', async () => {
  const containers = Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, image: 'nginx', securityContext: { capabilities: { add: ['SYS_TIME'] } } }));
  const f = file('wide.json', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wide', namespace: 'team-a', labels: { 'alibabacloud.com/eci': 'true' } }, spec: { containers } }));
  const { run, report } = await auditJson([f], undefined, 300_000);
  assert.is(run.code, 1, run.stderr);
  const v = report.resources[0]!.violations;
  assert.is(v.length, 5000);
  assert.ok(v.every((x) => x.rule === 'ECI-CTR-001' && x.action === 'deny' && x.value === 'SYS_TIME'));
  assert.is(new Set(v.map((x) => x.container)).size, 5000);
});

test('integers beyond 2^53 are judged exactly: int64 max and min pass a typed field, 2^63 is a wrong type', async () => {
  // PSS allows any non-zero runAsUser; the field is an int64, so 2^63 cannot be decoded (README,
  // "Integers are int64"). As JavaScript numbers, 2^63 - 1 and 2^63 are the same value.
  const restricted = (name: string, podUser: string, containerUser: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: team-a}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: ${podUser}, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: app
      image: nginx
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, runAsUser: ${containerUser}}
`;
  const f = file('int64.yaml', [restricted('limits', '9223372036854775807', '-9223372036854775808'), restricted('beyond', '9223372036854775808', '-9223372036854775809')].join('---\n'));
  const run = await runCli(['audit', '--rule-set', 'pss_restricted', '--format', 'json', f]);
  const report = JSON.parse(run.stdout) as AuditJsonReport;
  assert.is(run.code, 1, run.stderr);
  const facts = report.resources.flatMap((r) => r.violations.map((v) => `${r.name} ${v.rule} ${v.path}`));
  assert.equal(facts.sort(), ['beyond PSS-RUN-AS-USER spec.containers[0].securityContext.runAsUser', 'beyond PSS-RUN-AS-USER spec.securityContext.runAsUser']);
});

test('kubectl List export on stdin: each item is judged and located', async () => {
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'team-a', labels: { 'alibabacloud.com/eci': 'true' } }, spec: { containers: [{ name: 'app', image: 'x' }] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', namespace: 'team-a', labels: { 'alibabacloud.com/eci': 'true' } }, spec: { containers: [{ name: 'app', image: 'x', securityContext: { privileged: true } }] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c', namespace: 'team-a' }, spec: { containers: [{ name: 'app', image: 'x', securityContext: { privileged: true } }] } },
    ],
  };
  const text = JSON.stringify(list, null, 2);
  const { run, report } = await auditJson(['-'], Buffer.from(text));
  assert.is(run.code, 1);
  assert.equal(report.resources.map((r) => [r.file, r.item, r.name, r.violations.map((v) => v.rule)]), [
    ['-', 0, 'a', []],
    ['-', 1, 'b', ['ECI-CTR-002']],
    ['-', 2, 'c', []], // no ECI label: out of scope
  ]);
  const privLine = text.split('\n').findIndex((l) => l.includes('"privileged": true')) + 1;
  assert.is(report.resources[1]!.violations[0]!.line, privLine);
});

test('folders are read recursively; documents that are not objects are errors; other kinds get only the ECI-INPUT-001 warning', async () => {
  const sub = join(dir, 'tree', 'nested');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(dir, 'tree', 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}\n---\njust a string\n');
  writeFileSync(join(sub, 'b.yml'), pod('b', '{runAsUser: 1000}'));
  writeFileSync(join(sub, 'notes.txt'), 'not a manifest');
  const { run, report } = await auditJson([join(dir, 'tree')]);
  assert.is(run.code, 2);
  assert.is(report.summary.files, 2);
  assert.equal(report.resources.map((r) => [r.kind, r.violations.map((v) => `${v.rule} ${v.action}`)]), [['ConfigMap', ['ECI-INPUT-001 warn']], ['Pod', []]]);
  assert.equal(report.errors.map((e) => [e.code, e.line]), [['input-not-object', 6]]);
});

test('table output groups by resource with rule, container, path, value, line and fix hint', async () => {
  const f = file('table.yaml', pod('t', '{privileged: true, capabilities: {add: [SYS_TIME]}}'));
  const run = await runCli(['audit', '--rule-set', 'eci', f]);
  assert.is(run.code, 1);
  assert.ok(run.stdout.includes(`${f}:1  Pod team-a/t`), run.stdout);
  assert.match(run.stdout, /DENY {2}ECI-CTR-001 {2}containers\/app {2}line 11 {2}spec\.containers\[0\]\.securityContext\.capabilities\.add\[0\] = "SYS_TIME"/);
  assert.match(run.stdout, /DENY {2}ECI-CTR-002 {2}containers\/app {2}line 11 {2}spec\.containers\[0\]\.securityContext\.privileged = true/);
  assert.match(run.stdout, /fix: /);
  assert.match(run.stdout, /1 resource checked in 1 file: 1 with violations \(2 deny, 0 warn\)/);
});

test('table output shows control characters from manifests escaped, never raw (no terminal escapes)', async () => {
  const f = file('ansi.yaml', pod('\u001b[2Jevil', '{privileged: true}').replace("name: \u001b[2Jevil", 'name: "\\e[2Jevil"'));
  const run = await runCli(['audit', '--rule-set', 'eci', f]);
  assert.is(run.code, 1, run.stdout + run.stderr);
  assert.not.ok(run.stdout.includes('\u001b'), 'no raw ESC in the table');
  assert.ok(run.stdout.includes('Pod team-a/\\u001b[2Jevil'), run.stdout);
});

test('a reader that stops early (| head) ends the audit quietly with its exit code', async () => {
  const containers = Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, image: 'nginx', securityContext: { capabilities: { add: ['SYS_TIME'] } } }));
  const f = file('many.json', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'many', namespace: 'team-a', labels: { 'alibabacloud.com/eci': 'true' } }, spec: { containers } }));
  const r = spawnSync('bash', ['-c', `set -o pipefail; node --import tsx src/cli/main.ts audit --rule-set eci --format json ${JSON.stringify(f)} | head -c 100 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`], { cwd: ROOT, encoding: 'utf8' });
  assert.not.match(r.stderr, /EPIPE|Unhandled/, r.stderr);
  assert.match(r.stderr, /status 1/, 'the deny violations still set exit code 1');
});

test('bad usage and unreadable inputs exit 2 with a message', async () => {
  const none = await runCli(['audit']);
  assert.is(none.code, 2);
  assert.match(none.stderr, /name the manifests to audit/);
  const fmt = await runCli(['audit', '--format', 'xml', 'x.yaml']);
  assert.is(fmt.code, 2);
  assert.match(fmt.stderr, /unknown format xml/);
  const missing = await runCli(['audit', '--rule-set', 'eci', '--format', 'json', join(dir, 'nope.yaml')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /nope\.yaml: input-unreadable: no such file or folder/);
  const help = await runCli(['audit', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /Exit codes: 0 no deny violation, 1 deny violations, 2/);
});

test.run();
