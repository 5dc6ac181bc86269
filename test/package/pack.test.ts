// The package as a user gets it: `npm pack` (which builds dist/ with tsc: JS and .d.ts), installed
// into an empty project elsewhere, then used three ways: the `eci-policy` bin, the library from
// JavaScript (write a rule with the DSL, compile it, evaluate a pod with the WASM bundle), and
// the library's types from TypeScript under strict settings.

import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PROJECT_ROOT, TOOLS_BIN } from '../../src/emit/engines.ts';
import { makeWorkDir } from '../cli/cli-helpers.ts';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((done) =>
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20, timeout: 300_000 }, (e, stdout, stderr) =>
      done({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const work = makeWorkDir('pack');
const consumer = join(work, 'consumer');
mkdirSync(consumer);
const npm = 'npm';
const packed = await sh(npm, ['pack', '--pack-destination', work], PROJECT_ROOT);
const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
// The dependencies come from npm's cache when `npm ci` has filled it (CI), else from the registry.
const installed = tarball
  ? await sh(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, tarball)], consumer)
  : { code: 1, stdout: '', stderr: 'no tarball' };
const env = { ...process.env, PATH: `${TOOLS_BIN}:${process.env['PATH']}` };

test('npm pack builds an installable package', () => {
  assert.is(packed.code, 0, packed.stderr);
  assert.ok(tarball, 'a .tgz was written');
  assert.is(installed.code, 0, installed.stderr);
});

test('the eci-policy bin runs from the installed package: help, and an audit with a bundle', async () => {
  const help = await sh(join(consumer, 'node_modules', '.bin', 'eci-policy'), ['--help'], consumer, env);
  assert.is(help.code, 0, help.stderr);
  assert.match(help.stdout, /Commands:/);
  writeFileSync(
    join(consumer, 'pod.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team-a, labels: {alibabacloud.com/eci: "true"}}\nspec:\n  containers:\n    - {name: app, image: nginx, securityContext: {privileged: true}}\n',
  );
  const audit = await sh(join(consumer, 'node_modules', '.bin', 'eci-policy'), ['audit', 'pod.yaml', '--bundle', join(PROJECT_ROOT, 'generated', 'eci', 'bundle'), '--format', 'json'], consumer, env);
  // ECI-RULES.md: privileged: true without privilegedApproved is an ECI-CTR-002 deny.
  assert.is(audit.code, 1, audit.stderr);
  const report = JSON.parse(audit.stdout) as { resources: { violations: { rule: string; action: string }[] }[] };
  assert.equal(report.resources[0]!.violations.map((v) => [v.rule, v.action]), [['ECI-CTR-002', 'deny']]);
});

const librarySource = `import { compile, policyOf, rule, ruleSet, container, item, oneOf, not, param, formatDiagnostic } from 'eci-policy';
const onlyBind = rule({ id: 'DEMO-001', title: 'Only NET_BIND_SERVICE', description: 'Containers add no capability but NET_BIND_SERVICE.', action: 'deny', level: 'container', fix: 'Drop the capability.' })
  .typed('add-type', container.field('securityContext', 'capabilities', 'add'), 'array', 'capabilities.add must be a list')
  .check('not-allowed', container.items('securityContext', 'capabilities', 'add'), not(oneOf(item, ['NET_BIND_SERVICE'])), 'capability not allowed');
const rs = ruleSet({ name: 'demo', title: 'Demo', version: '1.0.0', inputRule: { id: 'DEMO-INPUT', title: 'Readable' }, selector: param.labelSelector('selector', 'Pods checked') }).rule(onlyBind);
const r = await compile(rs);
if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\\n'));
const policy = await policyOf(r.value);
const violations = policy.violations({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, spec: { containers: [{ name: 'c', image: 'x', securityContext: { capabilities: { add: ['SYS_ADMIN', 'NET_BIND_SERVICE'] } } }] } });
console.log(JSON.stringify({ files: [...r.value.files.keys()].sort(), violations: violations.map((v) => [v.rule, v.action, v.path, v.value]) }));
`;

test('the library from JavaScript: a rule written with the DSL is compiled and evaluated', async () => {
  writeFileSync(join(consumer, 'use.mjs'), librarySource);
  const ran = await sh(process.execPath, ['use.mjs'], consumer, env);
  assert.is(ran.code, 0, ran.stderr);
  const out = JSON.parse(ran.stdout) as { files: string[]; violations: unknown[] };
  for (const f of ['rego/policy.rego', 'kyverno/clusterpolicy.yaml', 'bundle/policy.wasm']) assert.ok(out.files.includes(f), `${f} compiled`);
  // The rule allows NET_BIND_SERVICE only: SYS_ADMIN (entry 0) is the one violation.
  assert.equal(out.violations, [['DEMO-001', 'deny', 'spec.containers[0].securityContext.capabilities.add[0]', 'SYS_ADMIN']]);
});

test('the library from TypeScript: the shipped .d.ts type-check a consumer (and catch a misuse)', async () => {
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: [] }, files: ['use.mts'] }));
  writeFileSync(join(consumer, 'use.mts'), librarySource.replace("(v) =>", '(v: import(\'eci-policy\').Violation) =>'));
  const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const good = await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer);
  assert.is(good.code, 0, good.stdout + good.stderr);
  writeFileSync(join(consumer, 'use.mts'), librarySource.replace("action: 'deny'", "action: 'block'"));
  const bad = await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer);
  assert.is.not(bad.code, 0, 'an invalid action is a type error for consumers');
  assert.match(bad.stdout, /'"block"' is not assignable/);
});

test.run();
