// The library: the DSL to write rule sets, `compile` to turn one into Rego, Kyverno and an OPA
// WASM bundle in memory, and evaluation of Kubernetes objects with the compiled bundle.

export * from './dsl/index.ts';
export { compile, compileRuleSet, writeCompiled, type CompiledRuleSet, type CompileInMemoryOptions, type RuleSetInput, type RuleSetSource } from './emit/build.ts';
export { exactJson, loadWasmPolicy, policyOf, type Violation, type WasmPolicy } from './eval/wasm.ts';
export { loadBundleDir } from './eval/bundle-dir.ts';
export { audit, auditExitCode, type AuditReport, type AuditedResource, type LocatedViolation } from './eval/audit.ts';
export { auditParallel, PARALLEL_MIN_BYTES, type ParallelAuditOptions } from './eval/audit-parallel.ts';
export { readManifests, DEFAULT_LIMITS, type ManifestLimits, type ManifestObject } from './manifests/read.ts';
export { formatDiagnostic, type Diagnostic, type Result } from './ir/diagnostics.ts';
export { defaultParamValues } from './ir/params.ts';
export type { Action, ParamValues, Rule, RuleSet } from './ir/types.ts';
