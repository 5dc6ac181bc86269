// Kyverno for real (issue 14): the pinned admission controller (github.com/kyverno/kyverno/cmd/kyverno,
// built from tools/engines like the CLI by scripts/install-engines.sh controllers) runs as a local
// process against the test's kube-apiserver, its webhooks registered by URL on 127.0.0.1. It
// enforces each rule set's generated ClusterPolicy, then (in a second pass) its ValidatingPolicies,
// on the fixtures sent as server-side dry-run creates: Enforce rules and [Deny] policies deny,
// Audit rules (emitWarning) and [Warn] policies arrive as warnings.
//
// How Kyverno v1.19.1 runs outside a cluster (cmd/kyverno/main.go and what it calls):
// - --serverIP=127.0.0.1:<port> registers the webhooks by URL (https://<serverIP><path>: the
//   port goes in the flag, pkg/controllers/webhook/utils.go) and switches its runtime to "debug"
//   mode, where it never looks up its Deployment (pkg/utils/runtime/utils.go);
// - its certificate manager makes the CA and serving pair as Secrets in its namespace, with the
//   serverIP's address as a SAN (pkg/tls/keypair.go); --caSecretName and --tlsSecretName are
//   required; the webhooks answer once the pair is written (about 2 s after they are registered);
// - the env variables cmd/internal/check.go requires; no ConfigMap is needed (defaults: no
//   resource filters);
// - in debug mode it leaves its webhook configurations behind on exit (the clean-up runs only
//   when its Deployment is going down, pkg/webhooks/server.go), and they fail closed: the test
//   deletes them after stopping it.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import type { ExpectedViolation } from '../../src/fixtures/corpus.ts';
import { lowerRuleSet as lowerKyverno, MESSAGE_SEPARATOR } from '../../src/targets/kyverno/lower.ts';
import { lowerRuleSet as lowerVpol, VPOL_SEPARATOR } from '../../src/targets/kyverno-vpol/lower.ts';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';
import { engine, kyvernoRuleFacts, policyMessageFacts, type KyvernoRuleInfo } from '../harness/engines.ts';
import type { Facts } from '../harness/facts.ts';
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
import { KYVERNO_MODULE } from './pinned.ts';

const NAMESPACE = 'kyverno';
const MANAGED = 'webhook.kyverno.io/managed-by=kyverno';

let cp!: ControlPlane;
const work = mkdtempSync(join(tmpdir(), 'eci-kyverno-'));
let port = 0;
test.before(async () => {
  cp = await startControlPlane();
  port = await freePort();
});
const kyvernoTail: string[] = [];
let kyverno: ChildProcess | undefined;

/** How a leg reads Kyverno's answer: the facts of a denial's message or of one warning, or false when the text is not ours. */
interface Reader {
  readonly denial: (message: string, object: Record<string, unknown>, into: Facts[]) => boolean;
  readonly warning: (text: string, object: Record<string, unknown>, into: Facts[]) => boolean;
}

/**
 * The ClusterPolicy's answers. A denial (pkg/webhooks/utils/block.go) is YAML after its head:
 * `resource <Kind>/<ns>/<name> was blocked due to the following policies` then `<policy>:` and
 * `  <rule>: '<message>'` per failed Enforce rule; an Audit rule's warning (emitWarning,
 * pkg/webhooks/utils/warning.go) is `policy <policy>.<rule>: <message>`.
 */
function clusterPolicyReader(policy: string, rules: ReadonlyMap<string, KyvernoRuleInfo>): Reader {
  const ruleFacts = (rule: string, message: string, object: Record<string, unknown>) => {
    const info = rules.get(rule);
    if (!info) throw new Error(`Kyverno reported an unknown rule ${rule}: ${message.slice(0, 300)}`);
    return withContainerNames(kyvernoRuleFacts(message, info), object);
  };
  return {
    denial: (message, object, into) => {
      const head = /\bwas blocked due to the following policies *\n/.exec(message);
      if (!head || !message.includes('admission webhook "validate.kyverno.svc-fail"')) return false;
      const blocked = parse(message.slice(head.index + head[0].length)) as Record<string, Record<string, string>>;
      for (const [p, failed] of Object.entries(blocked)) {
        if (p !== policy) throw new Error(`a policy not under test blocked the request: ${p}`);
        for (const [rule, text] of Object.entries(failed)) into.push(...ruleFacts(rule, text, object));
      }
      return true;
    },
    warning: (text, object, into) => {
      const m = /^policy ([^.\s]+)\.(\S+): ([\s\S]*)$/.exec(text);
      if (!m) return false;
      if (m[1] !== policy) throw new Error(`a policy not under test warned: ${text.slice(0, 300)}`);
      into.push(...ruleFacts(m[2]!, m[3]!, object));
      return true;
    },
  };
}

/**
 * The ValidatingPolicies' answers (pkg/webhooks/resource/vpol/handler.go): a denial is
 * `admission webhook "vpol.validate.kyverno.svc-fail-finegrained-<policy>" denied the request: Policy <name> failed: <message>`,
 * a warning `Policy <name> failed: <message>`.
 */
function validatingPolicyReader(actions: ReadonlyMap<string, 'deny' | 'warn'>): Reader {
  const read = (text: string, object: Record<string, unknown>, into: Facts[]) => {
    const m = /^Policy (\S+) failed: ([\s\S]*)$/.exec(text);
    if (!m) return false;
    const action = actions.get(m[1]!);
    if (!action) throw new Error(`a policy not under test answered: ${text.slice(0, 300)}`);
    into.push(...withContainerNames(policyMessageFacts(m[2]!, VPOL_SEPARATOR, action), object));
    return true;
  };
  // The webhook's name carries the policy's (`vpol.validate.kyverno.svc-fail-finegrained-<policy>`).
  const prefix = /^admission webhook "vpol\.validate\.kyverno\.svc[^"]*" denied the request: /;
  return {
    denial: (message, object, into) => {
      const head = prefix.exec(message);
      return head !== null && read(message.slice(head[0].length), object, into);
    },
    warning: read,
  };
}

async function admit(object: Record<string, unknown>, reader: Reader): Promise<Outcome> {
  const r = await dryRunCreate(cp, object);
  const facts: Facts[] = [];
  const serverWarnings = r.warnings.filter((w) => !reader.warning(w, object, facts));
  if (r.status === 201) return { facts, serverWarnings };
  const message = refusal(r);
  if (reader.denial(message, object, facts)) return { facts, serverWarnings };
  return { rejected: `${r.status}: ${message}` };
}

/** Kyverno's webhook server's readiness (200 once its serving certificate is loaded), checked against its CA. */
function readiness(ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    get(`https://127.0.0.1:${port}/health/readiness`, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on('error', () => resolve(false));
  });
}

/**
 * What Kyverno's ClusterPolicy webhook shows of a verdict: a request it blocks gets the Enforce
 * rules' messages and no warning, so the Audit rules' facts are not shown then (v1.19.1,
 * pkg/webhooks/resource/validation/validation.go: the blocked branch returns nil warnings; the
 * audit responses join only an admitted request's). The ValidatingPolicies warn either way.
 */
function clusterPolicyShows(expected: readonly ExpectedViolation[]): readonly ExpectedViolation[] {
  return expected.some((e) => e.action === 'deny') ? expected.filter((e) => e.action === 'deny') : expected;
}

/** A refusal or warning from any Kyverno webhook or policy. */
const fromKyverno = (text: string) => /kyverno\.svc|^[Pp]olicy \S+[.:]? /.test(text);

test('Kyverno: its CRDs and namespace, and the admission controller started', async () => {
  const dirs = ['kyverno', 'policies.kyverno.io', 'policyreport', 'reports'].map((d) => join(KYVERNO_MODULE, 'config/crds', d));
  // Created, not applied: some are larger than client-side apply's annotation allows.
  const r = await cp.kubectl(['create', ...dirs.flatMap((d) => ['-f', d])]);
  assert.is(r.code, 0, r.stderr);
  const w = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  assert.is(w.code, 0, w.stderr);
  await cp.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  kyverno = startProcess(
    engine('kyverno-admission-controller'),
    [
      `--kubeconfig=${cp.kubeconfig}`,
      `--serverIP=127.0.0.1:${port}`,
      '--webhookServerHost=127.0.0.1',
      `--webhookServerPort=${port}`,
      '--caSecretName=kyverno-svc.kyverno.svc.kyverno-tls-ca',
      '--tlsSecretName=kyverno-svc.kyverno.svc.kyverno-tls-pair',
      '--disableMetrics=true',
      '--controllerRuntimeMetricsAddress=0',
      '--admissionReports=false',
      '--disableLogColor',
      '--v=1',
    ],
    kyvernoTail,
    {
      KYVERNO_NAMESPACE: NAMESPACE,
      KYVERNO_SERVICEACCOUNT_NAME: 'kyverno',
      KYVERNO_DEPLOYMENT: 'kyverno',
      // The leader-election identity: fixed, so a restart takes the lease at once.
      KYVERNO_POD_NAME: 'kyverno-local',
      INIT_CONFIG: 'kyverno',
      METRICS_CONFIG: 'kyverno-metrics',
      KYVERNO_SVC: 'kyverno-svc',
      GOMAXPROCS: '2',
    },
  );
  // Ready: its webhooks registered, and its server answering /health/readiness over TLS with
  // the certificate its CA Secret (the webhooks' caBundle) signs, which it writes a moment later.
  await waitFor('Kyverno to register its webhooks and serve them', async () => {
    if (kyverno!.exitCode !== null) throw new Error(`Kyverno exited:\n${kyvernoTail.join('\n')}`);
    const r = await cp.api('GET', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/kyverno-policy-validating-webhook-cfg');
    if (r.status !== 200) return false;
    const secret = await cp.api('GET', `/api/v1/namespaces/${NAMESPACE}/secrets/kyverno-svc.kyverno.svc.kyverno-tls-ca`);
    const ca = (secret.body as { data?: Record<string, string> }).data?.['tls.crt'];
    return secret.status === 200 && ca !== undefined && (await readiness(Buffer.from(ca, 'base64')));
  }, 120_000);
});

for (const leg of ['kyverno', 'kyverno-vpol'] as const) {
  for (const ruleSet of ruleSetsWithFixtures()) {
    const c = await compiled(ruleSet);
    const files = [...c.files.keys()].filter((f) => (leg === 'kyverno' ? f === 'kyverno/clusterpolicy.yaml' : /^kyverno-vpol\/validatingpolicy-\w+\.yaml$/.test(f))).sort();
    const paths = files.map((f) => {
      const p = join(work, `${ruleSet}-${f.replace(/\//g, '-')}`);
      writeFileSync(p, c.files.get(f) as string);
      return p;
    });
    const fileArgs = paths.flatMap((p) => ['-f', p]);
    let reader: Reader;
    if (leg === 'kyverno') {
      const lowered = lowerKyverno(c.ruleSet, c.params);
      const rules = new Map(lowered.rules.map((r) => [r.name, { ruleId: r.ruleId, separator: MESSAGE_SEPARATOR, action: r.failureAction === 'Enforce' ? ('deny' as const) : ('warn' as const) }]));
      reader = clusterPolicyReader(lowered.policyName, rules);
    } else {
      reader = validatingPolicyReader(new Map(lowerVpol(c.ruleSet, c.params).policies.map((p) => [p.name, p.action])));
    }
    const { admitted, judge } = await admissionFixtures(c);
    let normalised: Normalised = new Map();

    test(`${ruleSet} ${leg}: the policies applied, and enforced by the admission controller`, async () => {
      await createNamespaces(cp, admitted);
      normalised = await admitWithoutPolicies(cp, admitted, fromKyverno);
      const r = await cp.kubectl(['apply', ...fileArgs]);
      assert.is(r.code, 0, r.stderr);
      // Kyverno adds the policy's webhook once it has compiled it (and, at first, once its
      // serving certificate is written): wait for a deny.
      await untilDenied(`Kyverno to enforce the ${leg === 'kyverno' ? 'ClusterPolicy' : 'ValidatingPolicies'}`, admitted, normalised, (object) => admit(object, reader), 120_000);
    });

    test(`${ruleSet} ${leg}: ${WEBHOOK_FIXTURES} through Kyverno's webhook`, async () => {
      const chosen = webhookFixtures(admitted, normalised);
      const report = await compareLeg(`kyverno-admission ${leg}`, chosen, normalised, judge, (object) => admit(object, reader), leg === 'kyverno' ? clusterPolicyShows : undefined);
      assertLeg(ruleSet, report, chosen, kyvernoTail.join('\n'));
    });

    test(`${ruleSet} ${leg}: the policies deleted, and no longer answering`, async () => {
      const r = await cp.kubectl(['delete', '--wait=true', ...fileArgs]);
      assert.is(r.code, 0, r.stderr);
      await untilNoLongerAnswering(cp, admitted, normalised, fromKyverno);
    });
  }
}

test.after(async () => {
  if (kyverno) await stopProcess(kyverno);
  // What Kyverno leaves behind fails closed (see the head of this file).
  await cp?.kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', '-l', MANAGED]);
  await cp?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.run();
