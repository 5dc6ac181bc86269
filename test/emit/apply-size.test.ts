// Every Kubernetes object the compiler generates must be deployable the usual way: client-side
// `kubectl apply` stores the object's JSON in an annotation, and all annotations together are
// capped at 262,144 bytes (src/emit/apply-size.ts). A correctness check, not a timing: an object
// over the cap is refused by the API server ("metadata.annotations: Too long").

import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applySize, clusterObjects, TOTAL_ANNOTATION_SIZE_LIMIT } from '../../src/emit/apply-size.ts';
import { discoverRuleSets } from '../../src/emit/build.ts';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { compiled } from '../harness/compiled.ts';

test('the size of an object includes its own annotations and the last-applied copy of itself', () => {
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations: { a: 'bc' } }, data: { k: 'v'.repeat(100) } };
  const s = applySize(object);
  assert.is(s.object, 'ConfigMap/x');
  assert.is(s.jsonBytes, JSON.stringify(object).length);
  assert.is(s.annotationBytes, 'a'.length + 'bc'.length + 'kubectl.kubernetes.io/last-applied-configuration'.length + s.jsonBytes);
  assert.ok(s.fits);
  const huge = { ...object, data: { k: 'v'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT) } };
  assert.not.ok(applySize(huge).fits, 'an object larger than the cap cannot fit');
});

test('only objects applied to a cluster are measured (not kustomize or Kyverno CLI test files)', () => {
  const text = [
    'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec: {}',
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata: {name: k}\nresources: []',
    'apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}',
  ].join('\n---\n');
  assert.equal(clusterObjects(text).map((o) => o['kind']), ['ClusterPolicy']);
});

// Every rule set in spec/ (compiled once for the whole suite by the harness).
for (const source of discoverRuleSets(join(PROJECT_ROOT, 'spec'))) {
  const c = await compiled(basename(source.specFile, '.ts').replace(/-/g, '_'));
  const objects = [...c.files]
    // Engine test suites (kyverno/tests/) are read by CLIs, never applied to a cluster.
    .filter(([rel, content]) => /\.ya?ml$/.test(rel) && !rel.split('/').includes('tests') && typeof content === 'string')
    .flatMap(([rel, content]) => clusterObjects(content as string).map((o) => ({ rel, size: applySize(o) })));
  test(`${c.ruleSet.name}: every generated object fits client-side kubectl apply`, () => {
    assert.ok(objects.length > 0, 'no Kubernetes object found in the output');
    for (const { rel, size } of objects) {
      assert.ok(
        size.fits,
        `generated/${c.ruleSet.name}/${rel}: ${size.object} needs ${size.annotationBytes} bytes of annotations for client-side apply (JSON ${size.jsonBytes} bytes); the limit is ${TOTAL_ANNOTATION_SIZE_LIMIT}`,
      );
    }
    process.stdout.write(`\n[apply-size] ${c.ruleSet.name}: ${objects.map(({ rel, size }) => `${rel} ${size.object} JSON ${size.jsonBytes} B, annotations ${size.annotationBytes} B`).join('; ')}\n`);
  });
}

test.run();
