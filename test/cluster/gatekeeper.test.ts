// Gatekeeper for real (issue 14): the pinned manager (github.com/open-policy-agent/gatekeeper/v3
// at gator's version, built by scripts/install-engines.sh controllers) runs as a local process
// against the test's kube-apiserver, its webhook registered by URL on 127.0.0.1 with a
// certificate signed by the cluster's CA. Each rule set's generated ConstraintTemplate goes in,
// then its Constraints (kubectl apply --dry-run=server, client-side and --server-side, no
// warning) once the manager has made their CRD, and the fixtures go through admission as
// server-side dry-run creates: deny constraints deny, warn constraints arrive as warnings.
//
// Two runs of the manager: the template's CEL block (K8sNativeValidation; its driver is added
// before the Rego driver, so it wins: main.go and the constraint framework's driverForTemplate),
// then the Rego block (--enable-k8s-native-validation=false, the only switch there is).
//
// How the manager runs outside a cluster (Gatekeeper v3.23.1's main.go and chart):
// - --operation=generate as well as webhook and status: without it the constraint CRD is never
//   made (pkg/controller/constrainttemplate, "no matches for kind" in a loop);
// - --default-create-vap-for-templates=false and --default-create-vap-binding-for-constraints=false:
//   generate would otherwise make ValidatingAdmissionPolicies, and the API server would then
//   enforce the CEL block itself;
// - --disable-cert-rotation with --cert-dir: it serves tls.crt and tls.key as given;
// - --debug-use-fake-pod: status runs without a Pod of its own to look up;
// - no kube-controller-manager runs here, so no garbage collection: deleting a template leaves
//   its constraint CRD, which the test deletes itself.
// The webhook configuration is the chart's validation webhook (rules, matchPolicy, sideEffects
// None so dry-run requests are sent, timeoutSeconds 3) with two changes: a URL on loopback, and
// failurePolicy Fail instead of Ignore, so an error or a timeout is a rejection the comparison
// reports instead of a silent pass.

import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { constraintFile, GATEKEEPER_SEPARATOR, lowerRuleSet as lowerGatekeeper } from '../../src/targets/gatekeeper/lower.ts';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';
import { engine, parseRegoMessage, policyMessageFacts } from '../harness/engines.ts';
import { CEL_ERROR_RULE, type Facts } from '../harness/facts.ts';
import { withContainerNames } from '../harness/matrix.ts';
import {
  admissionFixtures,
  admitWithoutPolicies,
  assertLeg,
  compareLeg,
  createNamespaces,
  dryRunCreate,
  refusal,
  untilDenied,
  untilNoLongerAnswering,
  waitFor,
  WEBHOOK_FIXTURES,
  webhookFixtures,
  type Normalised,
  type Outcome,
} from './admission.ts';
import { freePort, startControlPlane, startProcess, stopProcess, type ControlPlane } from './control-plane.ts';
import { GATEKEEPER_MODULE } from './pinned.ts';

const WEBHOOK = 'validation.gatekeeper.sh';
const DENIED = `admission webhook "${WEBHOOK}" denied the request: `;
const NAMESPACE = 'gatekeeper-system';

let cp!: ControlPlane;
const work = mkdtempSync(join(tmpdir(), 'eci-gatekeeper-'));
let webhook: { readonly certDir: string; readonly caBundle: string };
/** The manager's ports: the webhook's stays the same across its restart (the configuration names it). */
let port = 0;
let health = 0;
let prometheus = 0;
test.before(async () => {
  cp = await startControlPlane();
  webhook = cp.servingCertificate('gatekeeper');
  [port, health, prometheus] = [await freePort(), await freePort(), await freePort()];
});
const managerTail: string[] = [];
let manager: ChildProcess | undefined;

/** GET http://127.0.0.1:<health>/readyz: 200 once the TLS check passes and every template and constraint in the cluster is loaded (pkg/readiness). */
function ready(): Promise<boolean> {
  return new Promise((resolve) => {
    get(`http://127.0.0.1:${health}/readyz`, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on('error', () => resolve(false));
  });
}

async function startManager(cel: boolean): Promise<void> {
  managerTail.length = 0;
  manager = startProcess(
    engine('gatekeeper-manager'),
    [
      '--operation=webhook',
      '--operation=status',
      '--operation=generate',
      '--default-create-vap-for-templates=false',
      '--default-create-vap-binding-for-constraints=false',
      `--enable-k8s-native-validation=${cel}`,
      '--debug-use-fake-pod',
      `--port=${port}`,
      '--host=127.0.0.1',
      `--cert-dir=${webhook.certDir}`,
      '--disable-cert-rotation',
      `--health-addr=127.0.0.1:${health}`,
      '--metrics-addr=0',
      `--prometheus-port=${prometheus}`,
      '--enable-external-data=false',
      `--exempt-namespace=${NAMESPACE}`,
      '--disable-opa-builtin=http.send',
      '--shutdown-delay=0',
      '--log-level=WARNING',
    ],
    managerTail,
    { KUBECONFIG: cp.kubeconfig, POD_NAMESPACE: NAMESPACE, POD_NAME: 'gatekeeper-local', GOMAXPROCS: '2' },
  );
  await waitFor('the Gatekeeper manager to be ready', async () => {
    if (manager!.exitCode !== null) throw new Error(`the Gatekeeper manager exited:\n${managerTail.join('\n')}`);
    return ready();
  });
}

/** The facts of one `[<constraint>] <message>` violation, or false when it is not one. */
function violationFacts(text: string, object: Record<string, unknown>, rego: boolean, actionOf: (constraint: string) => 'deny' | 'warn' | undefined, into: Facts[]): boolean {
  const m = /^\[([^\]]+)\] ([\s\S]*)$/.exec(text);
  if (!m) return false;
  const action = actionOf(m[1]!);
  if (!action) throw new Error(`a violation of a constraint not under test: ${text.slice(0, 300)}`);
  const message = m[2]!;
  if (rego) {
    // The Rego block's message is the Rego target's (_format): rule, path and container; the action is the constraint's.
    into.push({ ...parseRegoMessage(message, object), action });
  } else if (!message.includes(`${GATEKEEPER_SEPARATOR}[`)) {
    // A CEL evaluation error under failurePolicy Fail: Gatekeeper's text, no facts.
    into.push({ rule: CEL_ERROR_RULE, action, path: message.slice(0, 300) });
  } else {
    into.push(...withContainerNames(policyMessageFacts(message, GATEKEEPER_SEPARATOR, action), object));
  }
  return true;
}

/** One object as a dry-run create: a deny's violations (joined by newlines) and the warnings' ones. */
async function admit(object: Record<string, unknown>, rego: boolean, actionOf: (constraint: string) => 'deny' | 'warn' | undefined): Promise<Outcome> {
  const r = await dryRunCreate(cp, object);
  const facts: Facts[] = [];
  const serverWarnings = r.warnings.filter((w) => !violationFacts(w, object, rego, actionOf, facts));
  if (r.status === 201) return { facts, serverWarnings };
  const message = refusal(r);
  if (!message.startsWith(DENIED)) return { rejected: `${r.status}: ${message}` };
  for (const v of message.slice(DENIED.length).split(/\n(?=\[)/)) {
    if (!violationFacts(v, object, rego, actionOf, facts)) throw new Error(`an unreadable Gatekeeper denial: ${message.slice(0, 500)}`);
  }
  return { facts, serverWarnings };
}

test('Gatekeeper: its CRDs, namespace, webhook configuration, and the manager ready', async () => {
  // The CRDs of Gatekeeper's own deployment manifest: config/crd/bases has kustomize stubs.
  const docs = parseAllDocuments(readFileSync(join(GATEKEEPER_MODULE, 'manifest_staging/deploy/gatekeeper.yaml'), 'utf8')).map((d) => d.toJS() as { kind?: string });
  const crds = docs.filter((d) => d?.kind === 'CustomResourceDefinition');
  assert.ok(crds.length > 10, `${crds.length} CRDs in the manifest`);
  const file = join(work, 'crds.json');
  writeFileSync(file, crds.map((d) => JSON.stringify(d)).join('\n'));
  const r = await cp.kubectl(['create', '-f', file]);
  assert.is(r.code, 0, r.stderr);
  const w = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  assert.is(w.code, 0, w.stderr);
  await cp.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  const vwc = await cp.api('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'gatekeeper-validating-webhook-configuration', labels: { 'gatekeeper.sh/system': 'yes' } },
    webhooks: [
      {
        name: WEBHOOK,
        admissionReviewVersions: ['v1', 'v1beta1'],
        clientConfig: { url: `https://127.0.0.1:${port}/v1/admit`, caBundle: webhook.caBundle },
        failurePolicy: 'Fail',
        matchPolicy: 'Exact',
        sideEffects: 'None',
        timeoutSeconds: 3,
        namespaceSelector: {
          matchExpressions: [
            { key: 'admission.gatekeeper.sh/ignore', operator: 'DoesNotExist' },
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [NAMESPACE] },
          ],
        },
        rules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['*'] }],
      },
    ],
  });
  assert.is(vwc.status, 201, JSON.stringify(vwc.body));
  await startManager(true);
});

for (const engineName of ['cel', 'rego'] as const) {
  const rego = engineName === 'rego';
  if (rego) {
    test('Gatekeeper: the manager restarted with its CEL driver off (the Rego block)', async () => {
      await stopProcess(manager!);
      await startManager(false);
    });
  }
  for (const ruleSet of ruleSetsWithFixtures()) {
    const c = await compiled(ruleSet);
    const write = (file: string) => {
      const path = join(work, `${ruleSet}-${file.replace(/\//g, '-')}`);
      writeFileSync(path, c.files.get(file) as string);
      return path;
    };
    const template = write('gatekeeper/template.yaml');
    const lowered = lowerGatekeeper(c.ruleSet, c.params);
    const constraints = lowered.constraints.map((k) => write(`gatekeeper/${constraintFile(k)}`));
    const kind = lowered.template.kind;
    const crd = `${kind.toLowerCase()}.constraints.gatekeeper.sh`;
    const actions = new Map(lowered.constraints.map((k) => [k.name, k.action]));
    const { admitted, judge } = await admissionFixtures(c);
    const ours = (text: string) => text.includes(WEBHOOK) || /^\[[^\]]+\] /.test(text);
    let normalised: Normalised = new Map();

    test(`${ruleSet} gatekeeper-${engineName}: the template in, its constraint CRD made, the constraints applied with no warning`, async () => {
      await createNamespaces(cp, admitted);
      normalised = await admitWithoutPolicies(cp, admitted, ours);
      const t = await cp.kubectl(['apply', '-f', template]);
      assert.is(t.code, 0, t.stderr);
      await waitFor(`${crd} to be established`, async () => {
        const r = await cp.api('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
        const conditions = ((r.body as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []);
        return r.status === 200 && conditions.some((x) => x.type === 'Established' && x.status === 'True');
      });
      // As users apply them (the first run); the second run applies them once.
      for (const mode of rego ? [[]] : [['--dry-run=server'], [], ['--server-side']]) {
        const r = await cp.kubectl(['apply', ...mode, ...constraints.flatMap((f) => ['-f', f])]);
        assert.is(r.code, 0, `kubectl apply ${mode.join(' ')}: ${r.stderr}`);
        assert.not.match(r.stderr, /warning/i, `kubectl apply ${mode.join(' ')}: ${r.stderr}`);
      }
      await waitFor('the constraints to be enforced', async () => {
        for (const name of actions.keys()) {
          const r = await cp.api('GET', `/apis/constraints.gatekeeper.sh/v1beta1/${kind.toLowerCase()}/${name}`);
          const byPod = (r.body as { status?: { byPod?: { enforced?: boolean }[] } }).status?.byPod ?? [];
          if (r.status !== 200 || !byPod.some((p) => p.enforced)) return false;
        }
        return true;
      });
      await untilDenied('a deny from the constraints', admitted, normalised, (object) => admit(object, rego, (n) => actions.get(n)));
    });

    test(`${ruleSet} gatekeeper-${engineName}: ${WEBHOOK_FIXTURES} through Gatekeeper's webhook`, async () => {
      const chosen = webhookFixtures(admitted, normalised);
      const report = await compareLeg(`gatekeeper-${engineName}`, chosen, normalised, judge, (object) => admit(object, rego, (n) => actions.get(n)));
      assertLeg(ruleSet, report, chosen, managerTail.join('\n'));
    });

    test(`${ruleSet} gatekeeper-${engineName}: constraints, template and constraint CRD deleted, and no longer answering`, async () => {
      for (const args of [['delete', '--wait=true', ...constraints.flatMap((f) => ['-f', f])], ['delete', '--wait=true', '-f', template], ['delete', '--wait=true', `crd/${crd}`]]) {
        const r = await cp.kubectl(args);
        assert.is(r.code, 0, r.stderr);
      }
      await untilNoLongerAnswering(cp, admitted, normalised, ours);
    });
  }
}

test.after(async () => {
  if (manager) await stopProcess(manager);
  await cp?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.run();
