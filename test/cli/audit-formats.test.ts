// `audit --format sarif|junit` through the real CLI, checked by their consumers' tools:
// SARIF by Microsoft's SARIF validator (npm @microsoft/sarif-multitool, `validate`), JUnit read
// back by junit2json. Expected verdicts from ECI-RULES.md: privileged without approval is
// ECI-CTR-002 (deny), readOnlyRootFilesystem: false is ECI-CTR-007 (warn), SYS_TIME is
// ECI-CTR-001 (deny).

import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse as parseJunit, type TestSuites } from 'junit2json';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { artifactUri } from '../../src/cli/formats/sarif.ts';
import { makeWorkDir, runCli } from './cli-helpers.ts';

const dir = makeWorkDir('audit-formats');
const hostileName = 'x\u0001<y>&"z';
const pods = join(dir, 'pods.yaml');
const podsText = `apiVersion: v1
kind: Pod
metadata:
  name: ${JSON.stringify(hostileName)}
  namespace: team-a
  labels: {alibabacloud.com/eci: "true"}
spec:
  containers:
    - name: app
      image: nginx
      securityContext:
        privileged: true
        readOnlyRootFilesystem: false
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-a}
spec:
  template:
    metadata: {labels: {alibabacloud.com/eci: "true"}}
    spec:
      containers:
        - name: app
          image: nginx
          securityContext:
            capabilities:
              add:
                - NET_ADMIN
                - SYS_TIME
---
apiVersion: v1
kind: Pod
metadata: {name: clean, namespace: team-a, labels: {alibabacloud.com/eci: "true"}}
spec:
  containers: [{name: app, image: nginx}]
`;
writeFileSync(pods, podsText);
const broken = join(dir, 'broken.yaml');
writeFileSync(broken, 'apiVersion: v1\nkind: Pod\nmetadata: {name: [\n');
const lineOf = (needle: string) => podsText.split('\n').findIndex((l) => l.includes(needle)) + 1;

// npm installs the validator's native binary without its postinstall chmod when install
// scripts are not allowed (npm 11's default), so the test sets the bit itself.
const require = createRequire(import.meta.url);
const multitoolDir = dirname(require.resolve('@microsoft/sarif-multitool-linux/package.json'));
function sarifValidate(file: string): Promise<string[]> {
  const bin = join(multitoolDir, 'Sarif.Multitool');
  chmodSync(bin, 0o755);
  return new Promise((done, fail) =>
    execFile(bin, ['validate', file], { maxBuffer: 16 << 20 }, (e, stdout, stderr) => {
      if (e && !stdout) fail(new Error(`sarif-multitool failed: ${stderr}`));
      // Findings are printed as `<file>(line,col): error|warning <code>: <message>`.
      else done(stdout.split('\n').filter((l) => /\): (error|warning) /.test(l)));
    }),
  );
}

interface SarifLog {
  runs: {
    tool: { driver: { name: string; rules: { id: string; defaultConfiguration: { level: string } }[] } };
    results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[]; properties?: Record<string, unknown> }[];
  }[];
}

test('SARIF: valid for Microsoft\'s SARIF validator, results at the file and line of the offending field', async () => {
  const run = await runCli(['audit', '--rule-set', 'eci', '--format', 'sarif', pods, broken]);
  assert.is(run.code, 2, run.stderr);
  const out = join(dir, 'audit.sarif');
  writeFileSync(out, run.stdout);
  assert.equal(await sarifValidate(out), []);

  const log = JSON.parse(run.stdout) as SarifLog;
  const results = log.runs[0]!.results;
  const at = (rule: string) => results.filter((r) => r.ruleId === rule).map((r) => [r.level, r.locations[0]!.physicalLocation.artifactLocation.uri, r.locations[0]!.physicalLocation.region?.startLine]);
  const uri = artifactUri(pods).uri;
  assert.equal(at('ECI-CTR-002'), [['error', uri, lineOf('privileged: true')]]);
  assert.equal(at('ECI-CTR-007'), [['warning', uri, lineOf('readOnlyRootFilesystem: false')]]);
  assert.equal(at('ECI-CTR-001'), [['error', uri, lineOf('- SYS_TIME')]]);
  const input = at('eci-policy/input');
  assert.is(input.length, 1, 'the broken file is an error result, not silently dropped');
  assert.is(input[0]![1], artifactUri(broken).uri);
  const ruleLevels = Object.fromEntries(log.runs[0]!.tool.driver.rules.map((r) => [r.id, r.defaultConfiguration.level]));
  assert.is(ruleLevels['ECI-CTR-007'], 'warning');
  assert.is(ruleLevels['ECI-CTR-002'], 'error');
});

test('the SARIF validator does find errors here (so the check above can fail)', async () => {
  const bad = join(dir, 'bad.sarif');
  writeFileSync(bad, JSON.stringify({ version: '2.1.0', runs: [{ results: [{ message: {} }] }] }));
  const findings = await sarifValidate(bad);
  assert.ok(findings.some((l) => l.includes(': error ')), findings.join('\n'));
});

test('SARIF artifact URIs: relative to the working directory inside it, file:// outside, encoded', () => {
  assert.equal(artifactUri('/repo/deploy/my app.yaml', '/repo'), { uri: 'deploy/my%20app.yaml', uriBaseId: '%SRCROOT%' });
  assert.equal(artifactUri('/elsewhere/a.yaml', '/repo'), { uri: 'file:///elsewhere/a.yaml' });
  assert.equal(artifactUri('-', '/repo'), { uri: 'stdin' });
});

test('JUnit: read back by junit2json; a deny is a failure, warnings are output, a broken input is an error', async () => {
  const run = await runCli(['audit', '--rule-set', 'eci', '--format', 'junit', pods, broken]);
  assert.is(run.code, 2, run.stderr);
  const parsed = (await parseJunit(run.stdout)) as TestSuites;
  assert.equal([parsed.tests, parsed.failures, parsed.errors], [4, 2, 1]);
  const [podsSuite, brokenSuite] = parsed.testsuite!;
  assert.is(podsSuite!.name, pods);
  const cases = podsSuite!.testcase!;
  assert.equal(cases.map((c) => [c.name?.split(' at line')[0], (c.failure ?? []).map((f) => f.type)]), [
    [`Pod team-a/x\\u0001<y>&"z`, ['ECI-CTR-002']],
    ['Deployment team-a/web', ['ECI-CTR-001']],
    ['Pod team-a/clean', []],
  ]);
  assert.match(cases[0]!['system-out']![0]!, /WARN ECI-CTR-007/);
  assert.is(brokenSuite!.name, broken);
  assert.equal(brokenSuite!.testcase!.map((c) => (c.error ?? []).map((e) => e.type)), [['input-yaml']]);
});

test('a clean audit: exit 0, JUnit with no failures, SARIF with no results', async () => {
  const clean = join(dir, 'clean.yaml');
  writeFileSync(clean, podsText.split('---\n')[2]!);
  const junit = await runCli(['audit', '--rule-set', 'eci', '--format', 'junit', clean]);
  assert.is(junit.code, 0);
  const parsed = (await parseJunit(junit.stdout)) as TestSuites;
  assert.equal([parsed.tests, parsed.failures, parsed.errors], [1, 0, 0]);
  const sarif = await runCli(['audit', '--rule-set', 'eci', '--format', 'sarif', clean]);
  assert.is(sarif.code, 0);
  assert.equal((JSON.parse(sarif.stdout) as SarifLog).runs[0]!.results, []);
});

test.run();
