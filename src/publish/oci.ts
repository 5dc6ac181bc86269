// The bundle as an OCI artifact, written as an OCI image layout (oci-layout, index.json, blobs/)
// that any registry client pushes, e.g. `skopeo copy oci:<dir>:<tag> docker://<registry>/<repo>:<tag>`.
// Its shape is what OPA's OCI downloader reads (download/oci_download.go): a manifest whose
// layer of media type application/vnd.oci.image.layer.v1.tar+gzip is the bundle tarball, and a
// config of media type application/vnd.oci.image.config.v1+json, here `{}` as OPA's docs push it.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from '../ir/diagnostics.ts';
import { fail, ok } from '../ir/diagnostics.ts';
import type { BundleManifest } from './archive.ts';

export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

const REF_NAME = 'org.opencontainers.image.ref.name';
/** The OCI distribution spec's tag grammar. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

interface Index {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
}

export interface OciTarget {
  readonly dir: string;
  readonly tag: string;
}

/**
 * `<dir>[:<tag>]`, as skopeo's `oci:` transport writes it; without a tag, the rule set's version
 * from the bundle manifest.
 */
export function parseOciTarget(text: string, manifest: BundleManifest): Result<OciTarget> {
  const colon = text.lastIndexOf(':');
  const [dir, tag] = colon > 0 && !text.slice(colon).includes('/') ? [text.slice(0, colon), text.slice(colon + 1)] : [text, undefined];
  const chosen = tag ?? (typeof manifest.metadata['ruleSetVersion'] === 'string' ? manifest.metadata['ruleSetVersion'] : undefined);
  if (!dir) return fail([{ code: 'oci-target', message: `--oci ${text}: name the layout folder, as <dir>[:<tag>]` }]);
  if (chosen === undefined) return fail([{ code: 'oci-target', message: `--oci ${text}: no tag given and the bundle manifest has no ruleSetVersion` }]);
  if (!TAG.test(chosen)) return fail([{ code: 'oci-tag', message: `--oci ${text}: ${JSON.stringify(chosen)} is not an OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})` }]);
  return ok({ dir, tag: chosen });
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

function writeBlob(dir: string, content: Uint8Array, mediaType: string, annotations?: Record<string, string>): Descriptor {
  const hex = createHash('sha256').update(content).digest('hex');
  const file = join(dir, 'blobs', 'sha256', hex);
  if (!existsSync(file)) writeFileSync(file, content);
  return { mediaType, digest: `sha256:${hex}`, size: content.length, ...(annotations ? { annotations } : {}) };
}

/** The layout's index, or an empty one; a non-empty folder that is not a layout is refused. */
function existingIndex(dir: string): Result<Index> {
  const empty: Index = { schemaVersion: 2, manifests: [] };
  if (!existsSync(dir) || readdirSync(dir).length === 0) return ok(empty);
  if (!existsSync(join(dir, 'oci-layout')) || !existsSync(join(dir, 'index.json')))
    return fail([{ code: 'oci-target', message: 'the folder exists and is not an OCI image layout (no oci-layout, index.json)', file: dir }]);
  try {
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Index;
    return ok({ schemaVersion: 2, manifests: Array.isArray(index.manifests) ? index.manifests : [] });
  } catch (e) {
    return fail([{ code: 'oci-target', message: `cannot read index.json: ${(e as Error).message}`, file: dir }]);
  }
}

/**
 * Writes the bundle tarball into the layout under `tag`; other tags already in the layout are
 * kept, the same tag is replaced. index.json is written last (renamed into place), so a layout
 * is never left naming a blob that is not there. Returns the manifest's descriptor.
 */
export function writeOciLayout(target: OciTarget, tarball: Uint8Array, manifest: BundleManifest): Result<Descriptor> {
  const index = existingIndex(target.dir);
  if (!index.ok) return index;
  mkdirSync(join(target.dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(target.dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  const config = writeBlob(target.dir, json({}), MEDIA_TYPES.config);
  const layer = writeBlob(target.dir, tarball, MEDIA_TYPES.layer, { 'org.opencontainers.image.title': 'bundle.tar.gz' });
  const version = manifest.metadata['ruleSetVersion'];
  const ociManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config,
    layers: [layer],
    annotations: {
      'org.opencontainers.image.revision': manifest.revision,
      ...(typeof version === 'string' ? { 'org.opencontainers.image.version': version } : {}),
    },
  };
  const descriptor = writeBlob(target.dir, json(ociManifest), MEDIA_TYPES.manifest, { [REF_NAME]: target.tag });
  const manifests = [...index.value.manifests.filter((d) => d.annotations?.[REF_NAME] !== target.tag), descriptor];
  const tmp = join(target.dir, `.index.json.${process.pid}`);
  writeFileSync(tmp, json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
  renameSync(tmp, join(target.dir, 'index.json'));
  return ok(descriptor);
}
