// A worker thread of the parallel audit (audit-parallel.ts): loads the WASM bundle once, then
// reads and judges each part of a manifest file it is sent, exactly as the single-threaded audit
// does (judgeEntries), and sends back the resources and errors in reading order.

import { parentPort, workerData } from 'node:worker_threads';
import type { Diagnostic } from '../ir/diagnostics.ts';
import { readJsonPart, readManifestText, type ManifestLimits } from '../manifests/read.ts';
import { judgeEntries, type AuditedResource } from './audit.ts';
import type { PartResult, PartTask } from './audit-parallel.ts';
import { loadBundleDir } from './bundle-dir.ts';

const { bundleDir, root, limits } = workerData as { bundleDir: string; root: string; limits: ManifestLimits };
const policy = await loadBundleDir(bundleDir, root);

parentPort!.on('message', (task: PartTask) => {
  const resources: AuditedResource[] = [];
  const errors: Diagnostic[] = [];
  const report = task.base ? { documents: 0, aligned: true } : undefined;
  const entries =
    task.json ? readJsonPart(task.text, task.file, limits, task.json.part, task.json.parts)
    : readManifestText(task.text, task.file, limits, task.base ? { base: task.base, report: report! } : {});
  judgeEntries(policy, entries, resources, errors);
  const result: PartResult = { id: task.id, resources, errors, ...(report ? { report } : {}) };
  parentPort!.postMessage(result);
});
