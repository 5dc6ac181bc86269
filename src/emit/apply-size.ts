// What client-side `kubectl apply` (kubectl's default, and a default Argo CD sync) needs room for:
// it stores the whole object, as JSON, in the `kubectl.kubernetes.io/last-applied-configuration`
// annotation, and the API server caps all annotations of an object together at 256 KiB
// (apimachinery ValidateAnnotationsSize, TotalAnnotationSizeLimitB = 262144: the sum of each key's
// and value's length). An object over it is refused with "metadata.annotations: Too long".

import { parseAllDocuments } from 'yaml';

export const TOTAL_ANNOTATION_SIZE_LIMIT = 262_144;
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

export interface ApplySize {
  /** `<kind>/<name>` of the object. */
  readonly object: string;
  /** The object as compact JSON, in bytes. */
  readonly jsonBytes: number;
  /** Its annotations once client-side apply has added the last-applied one, in bytes. */
  readonly annotationBytes: number;
  readonly fits: boolean;
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The annotation bytes client-side apply would need for `object`: its own annotations plus the
 * last-applied one, whose value is the object as JSON (kubectl leaves that annotation itself out
 * of the value it stores).
 */
export function applySize(object: Record<string, unknown>): ApplySize {
  const metadata = (object['metadata'] ?? {}) as { name?: unknown; annotations?: Record<string, unknown> };
  const annotations = { ...(metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED_ANNOTATION];
  const json = JSON.stringify(object);
  const own = Object.entries(annotations).reduce((n, [k, v]) => n + utf8Length(k) + utf8Length(String(v)), 0);
  const annotationBytes = own + utf8Length(LAST_APPLIED_ANNOTATION) + utf8Length(json);
  return {
    object: `${String(object['kind'])}/${String(metadata.name)}`,
    jsonBytes: utf8Length(json),
    annotationBytes,
    fits: annotationBytes <= TOTAL_ANNOTATION_SIZE_LIMIT,
  };
}

/**
 * The objects of a YAML file that a user applies to a cluster: documents with apiVersion, kind
 * and metadata, except kustomize's own files and the Kyverno CLI's test manifests, which never
 * reach the API server.
 */
export function clusterObjects(yamlText: string): Record<string, unknown>[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as unknown)
    .filter((o): o is Record<string, unknown> => {
      if (!o || typeof o !== 'object' || Array.isArray(o)) return false;
      const { apiVersion, kind, metadata } = o as Record<string, unknown>;
      if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !metadata) return false;
      return !apiVersion.startsWith('kustomize.config.k8s.io/') && !apiVersion.startsWith('cli.kyverno.io/');
    });
}
