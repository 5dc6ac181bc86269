// `eci-policy audit` on worker threads and through the JSON fast path, by the real CLI process.
// Expected verdicts from ECI-RULES.md: SYS_TIME is not on ECI-CTR-001's allowlist (deny),
// `privileged: true` without approval is ECI-CTR-002 (deny), a pod without the ECI label is out
// of scope; from the PSS page and README "Integers are int64": pss_restricted allows any non-zero
// runAsUser in int64's range, and one beyond it is a wrong type, a PSS-RUN-AS-USER deny.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { auditJson, makeWorkDir, runCli } from './cli-helpers.ts';

const dir = makeWorkDir('audit-parallel');
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const audit = (args: string[], ruleSet = 'eci') => auditJson(args, undefined, 300_000, ruleSet);

const LABELS = { 'alibabacloud.com/eci': 'true' };
const podYaml = (i: number, add: string, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: p${i}
  namespace: team-a
  labels: {alibabacloud.com/eci: "true"}
spec:
  containers:
  - name: app
    image: nginx:1.25
    securityContext:
      capabilities:
        add: [${add}]${extra}
    env:
${Array.from({ length: 8 }, (_, k) => `    - name: E${k}\n      value: "${'v'.repeat(40)}"`).join('\n')}
`;

// A manifest large enough to be cut into parts (over 512 KiB), with what each part must get
// right: a comment-only preamble, Helm's empty documents, a document the fast reader leaves to
// the yaml library (an anchor), a List, a broken document, and violations throughout.
function bigYaml(): { text: string; offenders: Set<string> } {
  const docs: string[] = ['# Source: chart/templates/pods.yaml\n'];
  const offenders = new Set<string>();
  for (let i = 0; i < 1200; i++) {
    const offending = i % 7 === 0;
    if (offending) offenders.add(`p${i}`);
    if (i === 500) docs.push(''); // an empty document
    if (i === 600) docs.push(`apiVersion: v1\nkind: Pod\nmetadata: &m {name: anchored, namespace: team-a, labels: {alibabacloud.com/eci: "true"}}\nspec:\n  containers:\n  - {name: app, image: x, securityContext: {privileged: true}}\n`);
    if (i === 700) docs.push(`apiVersion: v1\nkind: Pod\nmetadata: {name: broken, labels: {a: b}\nspec: {}\n`);
    if (i === 900) docs.push(`apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: item0, namespace: team-a, labels: {alibabacloud.com/eci: "true"}}\n  spec:\n    containers:\n    - name: app\n      image: x\n      securityContext: {privileged: true}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: item1, namespace: team-a}\n  spec: {containers: [{name: app, image: x, securityContext: {privileged: true}}]}\n`);
    docs.push(podYaml(i, offending ? 'NET_ADMIN, SYS_TIME' : 'NET_ADMIN'));
  }
  return { text: docs.join('---\n'), offenders };
}

test('worker threads give the single-threaded report, in the same order, for several files of many documents with violations and errors', async () => {
  const { text, offenders } = bigYaml();
  const big = file('big.yaml', text);
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: Array.from({ length: 1500 }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `j${i}`, namespace: 'team-a', labels: LABELS }, spec: { containers: [{ name: 'app', image: 'nginx', securityContext: i % 11 === 0 ? { privileged: true } : { runAsUser: 1000 }, env: Array.from({ length: 4 }, (_, k) => ({ name: `E${k}`, value: 'v'.repeat(40) })) }] } })),
  };
  const listFile = file('list.json', JSON.stringify(list, null, 2));
  const small = file('small.yaml', podYaml(0, 'SYS_TIME'));
  const args = [big, small, listFile];
  const [single, parallel] = await Promise.all([audit(['--workers', '0', ...args]), audit(['--workers', '2', ...args])]);
  assert.is(parallel.run.stdout, single.run.stdout, 'byte-identical reports');
  assert.is(parallel.run.stderr, single.run.stderr);
  assert.is(parallel.run.code, 2, 'the broken document is an input error');
  assert.is(single.run.code, 2);
  const r = parallel.report;
  // Order: big.yaml's documents in file order, then small.yaml, then the List's items.
  assert.equal([...new Set(r.resources.map((x) => x.file))], [big, small, listFile]);
  const bigNames = r.resources.filter((x) => x.file === big).map((x) => x.name);
  const expected = Array.from({ length: 1200 }, (_, i) => `p${i}`);
  expected.splice(600, 0, 'anchored');
  expected.splice(901, 0, 'item0', 'item1');
  assert.equal(bigNames, expected);
  const denied = (f: string) => r.resources.filter((x) => x.file === f && x.violations.some((v) => v.action === 'deny')).map((x) => x.name);
  assert.equal(denied(big), expected.filter((n) => offenders.has(n) || n === 'anchored' || n === 'item0'));
  assert.equal(denied(listFile), list.items.filter((_, i) => i % 11 === 0).map((x) => x.metadata.name));
  // Documents are numbered as in the file: the preamble is no document, the empty one counts.
  const lines = text.split('\n');
  const p999 = r.resources.find((x) => x.name === 'p999')!;
  assert.is(p999.document, 1000 + 4, 'p999 follows 999 pods, an empty document, the anchored, the broken and the List');
  assert.is(lines[p999.position.line - 1], 'apiVersion: v1');
  assert.is(lines[p999.position.line + 2], '  name: p999');
  const p994 = r.resources.find((x) => x.name === 'p994')!;
  assert.equal(p994.violations.map((v) => [v.rule, v.path, v.value]), [['ECI-CTR-001', 'spec.containers[0].securityContext.capabilities.add[1]', 'SYS_TIME']]);
  assert.ok(lines[p994.violations[0]!.line - 1]!.includes('add: [NET_ADMIN, SYS_TIME]'));
  assert.is(lines[p994.violations[0]!.line - 4], '    image: nginx:1.25');
  assert.equal(r.errors.map((e) => [e.file, e.code, e.message.split(':')[0]]), [[big, 'input-yaml', `document ${700 + 3}`]]);
  const brokenAt = lines.indexOf('metadata: {name: broken, labels: {a: b}') + 1;
  assert.ok(r.errors[0]!.line! > brokenAt - 3 && r.errors[0]!.line! <= brokenAt + 2, `the broken document's error is placed in it (line ${r.errors[0]!.line}, document at ${brokenAt - 2})`);
});

test('a quoted scalar running over a `---` line: the parts are re-read as one, and the reports stay equal', async () => {
  const { text } = bigYaml();
  const cut = text.indexOf('name: p400\n');
  // From p400's name on, a single-quoted scalar never closes (the file has no other '): the
  // yaml library reads the rest of the file, over every `---`, as that one broken document.
  const f = file('open-quote.yaml', `${text.slice(0, cut)}name: 'p400\n${text.slice(cut + 'name: p400\n'.length)}`);
  const [single, parallel] = await Promise.all([audit(['--workers', '0', f]), audit(['--workers', '2', f])]);
  assert.is(parallel.run.stdout, single.run.stdout);
  assert.is(parallel.run.code, 2);
  assert.equal(parallel.report.resources.at(-1)!.name, 'p399');
  assert.equal(parallel.report.errors.map((e) => e.code), ['input-yaml']);
});

const pssPod = (name: string, user: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'team-a' }, spec: { securityContext: { runAsNonRoot: true, runAsUser: `@${user}@`, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'app', image: 'nginx', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] } });
const withNumbers = (text: string) => text.replace(/"@(-?[0-9]+)@"/g, '$1');

test('JSON: a List export is judged item by item with the line of each violation; int64 max passes and 2^63 is denied', async () => {
  const list = { apiVersion: 'v1', kind: 'List', items: [pssPod('limit', '9223372036854775807'), pssPod('beyond', '9223372036854775808'), pssPod('plain', '1000')] };
  const text = withNumbers(JSON.stringify(list, null, 2));
  const f = file('int64-list.json', text);
  for (const workers of ['0', '2']) {
    const { run, report } = await audit(['--workers', workers, f], 'pss_restricted');
    assert.is(run.code, 1, run.stderr);
    assert.equal(report.resources.map((r) => [r.item, r.name, r.violations.map((v) => `${v.rule} ${v.action} ${v.path}`)]), [
      [0, 'limit', []],
      [1, 'beyond', ['PSS-RUN-AS-USER deny spec.securityContext.runAsUser']],
      [2, 'plain', []],
    ]);
    const beyondLine = text.split('\n').findIndex((l) => l.includes('9223372036854775808')) + 1;
    assert.is(report.resources[1]!.violations[0]!.line, beyondLine);
  }
});

test('JSON fast path: kubectl-style JSON (no integers beyond 2^53) gives each violation its line and column', async () => {
  const pod = (name: string, sc: object) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'team-a', labels: LABELS }, spec: { containers: [{ name: 'app', image: 'nginx', securityContext: sc }] } });
  const list = { apiVersion: 'v1', kind: 'List', items: [pod('a', { runAsUser: 1000 }), pod('b', { privileged: true, capabilities: { add: ['NET_ADMIN', 'SYS_TIME'] } }), { ...pod('c', { privileged: true }), metadata: { name: 'c', namespace: 'team-a' } }] };
  const text = JSON.stringify(list, null, 4); // kubectl indents by 4
  const f = file('pods.json', text);
  const { run, report } = await audit([f]);
  assert.is(run.code, 1, run.stderr);
  assert.equal(report.resources.map((r) => [r.item, r.name, r.violations.map((v) => v.rule)]), [
    [0, 'a', []],
    [1, 'b', ['ECI-CTR-002', 'ECI-CTR-001']],
    [2, 'c', []],
  ]);
  const lines = text.split('\n');
  const at = (needle: string, from = 0) => lines.findIndex((l, i) => i >= from && l.includes(needle)) + 1;
  const bStart = at('"name": "b"');
  const [priv, add] = report.resources[1]!.violations;
  assert.is(priv!.line, at('"privileged": true', bStart));
  assert.is(priv!.column, lines[priv!.line - 1]!.indexOf('true') + 1);
  assert.is(add!.line, at('"SYS_TIME"', bStart));
  assert.is(add!.column, lines[add!.line - 1]!.indexOf('"SYS_TIME"') + 1);
  assert.is(report.resources[1]!.position.line, bStart - 4, 'an item is placed at its opening brace');
});

test('malformed input is a located error, never a pass, on the fast paths and on workers', async () => {
  const truncated = file('truncated.json', '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "metadata": {"name": "t", "labels": {"alibabacloud.com/eci": "true"}},\n  "spec": {"containers": [{"name": "app", "securityContext": {"privileged": true}}\n');
  const duplicate = file('duplicate.json', '{"apiVersion": "v1", "kind": "Pod",\n "metadata": {"name": "d", "labels": {"alibabacloud.com/eci": "true"}},\n "spec": {"containers": [{"name": "app", "securityContext": {"privileged": false, "privileged": true}}]}}\n');
  const badYaml = file('bad.yaml', `${podYaml(1, 'NET_ADMIN')}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n  labels: {alibabacloud.com/eci: "true"\nspec: {}\n`);
  for (const workers of ['0', '2']) {
    const { run, report } = await audit(['--workers', workers, truncated, duplicate, badYaml]);
    assert.is(run.code, 2, run.stderr);
    assert.equal(report.resources.map((r) => r.name), ['p1']);
    assert.equal(report.errors.map((e) => [e.file, e.code]), [[truncated, 'input-yaml'], [duplicate, 'input-yaml'], [badYaml, 'input-yaml']]);
    assert.ok(report.errors.every((e) => typeof e.line === 'number' && e.line > 0), JSON.stringify(report.errors));
    assert.is(report.errors[1]!.line, 3, 'the duplicate key is reported at its line');
    assert.ok(report.errors[1]!.message.includes('Map keys must be unique'), report.errors[1]!.message);
  }
});

test('--workers is checked', async () => {
  const run = await runCli(['audit', '--rule-set', 'eci', '--workers', 'many', 'x.yaml']);
  assert.is(run.code, 2);
  assert.match(run.stderr, /--workers must be an integer/);
});

test.run();
