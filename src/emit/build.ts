// The build: stages run from a table, each collecting every error it finds; the first stage
// with errors stops the build before anything is written.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { fixtureParams, loadFixtures, type Fixture } from '../fixtures/corpus.ts';
import type { Diagnostic, Result } from '../ir/diagnostics.ts';
import { DiagnosticsError, fail, ok } from '../ir/diagnostics.ts';
import { defaultParamValues, parseParams, validateParamValues } from '../ir/params.ts';
import type { ParamValues, RuleSet } from '../ir/types.ts';
import { validateRuleSet } from '../ir/validate.ts';
import { targets } from '../targets/index.ts';
import { writeTreeAtomically, type FileTree } from './atomic.ts';
import { buildWasmBundle } from './bundle.ts';
import { canBuildPlayground, PLAYGROUND_SOURCE, playgroundFiles } from './playground.ts';
import { findEngine, installHint, PROJECT_ROOT } from './engines.ts';
import type { HeaderInput } from '../targets/render.ts';

export const COMPILER_VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface RuleSetSource {
  /** spec/<name>.ts */
  readonly specFile: string;
  /** spec/<name>.params.yaml */
  readonly paramsFile: string;
}

/** Every `spec/<name>.ts` with its `spec/<name>.params.yaml`. */
export function discoverRuleSets(specDir: string): RuleSetSource[] {
  return readdirSync(specDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => ({ specFile: join(specDir, f), paramsFile: join(specDir, `${basename(f, '.ts')}.params.yaml`) }));
}

export interface CompiledRuleSet {
  readonly ruleSet: RuleSet;
  readonly params: ParamValues;
  /** Files relative to generated/<rule-set>/. */
  readonly files: Map<string, string | Uint8Array>;
  /** What could not be produced, and why (e.g. no opa binary). */
  readonly skipped: readonly string[];
}

interface Context {
  readonly source: RuleSetSource;
  readonly display: { spec: string; params: string };
  readonly opa: string | undefined;
  readonly cwd: string;
  irInput?: unknown;
  ruleSet?: RuleSet;
  params?: ParamValues;
  /** test/fixtures/<rule-set>/ beside the spec folder. */
  fixturesDir?: string;
  fixtures: Fixture[];
  files: Map<string, string | Uint8Array>;
  skipped: string[];
}

interface Stage {
  readonly name: string;
  readonly run: (ctx: Context) => Promise<Diagnostic[]> | Diagnostic[];
}

/**
 * A rule's line in its spec file, for located diagnostics: the line of its ID literal, the
 * k-th one when the ID is used by k rules before it (a duplicate is reported at the duplicate).
 */
function lineOfRule(specText: string, ir: unknown, diagnosticPath: string | undefined): number | undefined {
  const m = diagnosticPath?.match(/^rules\[(\d+)\] \(([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\)/);
  if (!m) return undefined;
  const [index, id] = [Number(m[1]), m[2]!];
  const rules = (ir as { rules?: { id?: unknown }[] } | undefined)?.rules ?? [];
  const occurrence = rules.slice(0, index).filter((r) => r?.id === id).length;
  const lines = specText.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.includes(`'${id}'`) || lines[i]!.includes(`"${id}"`)) {
      if (seen === occurrence) return i + 1;
      seen++;
    }
  }
  return undefined;
}

/** The stages reading a rule set: spec, IR, parameters and fixtures (`loadRuleSet` stops here). */
const loadStages: readonly Stage[] = [
  {
    name: 'load-spec',
    run: async (ctx) => {
      if (!existsSync(ctx.source.specFile)) return [{ code: 'spec-missing', message: 'spec file does not exist', file: ctx.display.spec }];
      try {
        type Builder = { toIR?: () => unknown };
        const mod = (await tsImport(pathToFileURL(resolve(ctx.source.specFile)).href, import.meta.url)) as {
          default?: Builder & { default?: Builder };
        };
        // Outside a `"type": "module"` package tsx loads the spec as CommonJS, where the default
        // export sits one level down.
        const builder = typeof mod.default?.toIR === 'function' ? mod.default : mod.default?.default;
        if (typeof builder?.toIR !== 'function')
          return [{ code: 'spec-export', message: 'the spec must `export default` a ruleSet(...) builder', file: ctx.display.spec }];
        ctx.irInput = builder.toIR();
        return [];
      } catch (e) {
        return [{ code: 'spec-load', message: (e as Error).message.split('\n')[0] ?? String(e), file: ctx.display.spec }];
      }
    },
  },
  {
    name: 'validate-ir',
    run: (ctx) => {
      const r = validateRuleSet(ctx.irInput, ctx.display.spec);
      if (r.ok) {
        ctx.ruleSet = r.value;
        return [];
      }
      if (!ctx.source.specFile) return [...r.errors];
      const text = readFileSync(ctx.source.specFile, 'utf8');
      return r.errors.map((d) => {
        const line = lineOfRule(text, ctx.irInput, d.path);
        return line ? { ...d, line } : d;
      });
    },
  },
  {
    name: 'load-params',
    run: (ctx) => {
      if (!existsSync(ctx.source.paramsFile))
        return [{ code: 'params-missing', message: 'parameter file does not exist', file: ctx.display.params }];
      const r = parseParams(ctx.ruleSet!, readFileSync(ctx.source.paramsFile, 'utf8'), ctx.display.params);
      if (!r.ok) return [...r.errors];
      ctx.params = r.value;
      return [];
    },
  },
  {
    // The fixture corpus beside the spec (test/fixtures/<rule-set>/) becomes each engine's
    // native test suite; a malformed fixture fails the build like a bad spec.
    name: 'load-fixtures',
    run: (ctx) => {
      const root = join(dirname(ctx.source.specFile), '..', 'test', 'fixtures');
      ctx.fixturesDir = join(root, ctx.ruleSet!.name);
      try {
        ctx.fixtures = loadFixtures(ctx.ruleSet!.name, root);
        for (const f of ctx.fixtures) fixtureParams(ctx.ruleSet!, ctx.params!, f);
        return [];
      } catch (e) {
        if (e instanceof DiagnosticsError) return [...e.diagnostics];
        return [{ code: 'fixture-invalid', message: (e as Error).message, file: relative(ctx.cwd, root) }];
      }
    },
  },
];

function headerOf(ctx: Context): HeaderInput {
  return { compilerVersion: COMPILER_VERSION, source: ctx.display.spec, ruleSet: ctx.ruleSet!.name, ruleSetVersion: ctx.ruleSet!.version };
}

const stages: readonly Stage[] = [
  ...loadStages,
  {
    name: 'emit-targets',
    run: (ctx) => {
      const rs = ctx.ruleSet!;
      const header = headerOf(ctx);
      const errors: Diagnostic[] = [];
      for (const target of targets) {
        const r = target.emit(rs, ctx.params!, header, ctx.fixtures);
        if (!r.ok) errors.push(...r.errors);
        else for (const [rel, content] of r.value) ctx.files.set(`${target.name}/${rel}`, content);
      }
      return errors;
    },
  },
  {
    name: 'wasm-bundle',
    run: (ctx) => {
      const rs = ctx.ruleSet!;
      if (!ctx.opa) {
        ctx.skipped.push(`bundle/ (OPA WASM bundle): opa not found; ${installHint('opa')}`);
        return [];
      }
      const r = buildWasmBundle(ctx.opa, {
        packageName: rs.name,
        rego: ctx.files.get('rego/policy.rego') as string,
        params: ctx.params,
        metadata: { ruleSet: rs.name, ruleSetVersion: rs.version, compiler: `eci-policy ${COMPILER_VERSION}` },
      });
      if (!r.ok) return r.errors.map((d) => ({ ...d, file: `generated/${rs.name}/rego/policy.rego` }));
      for (const [rel, content] of r.value) ctx.files.set(`bundle/${rel}`, content);
      return [];
    },
  },
  {
    // The page runs the compiled policy.wasm, so it is built only with the bundle.
    name: 'playground',
    run: (ctx) => {
      const wasm = ctx.files.get('bundle/policy.wasm');
      if (!(wasm instanceof Uint8Array)) {
        ctx.skipped.push('playground/: it runs the WASM bundle, which was not built (see bundle/)');
        return [];
      }
      if (!canBuildPlayground()) {
        ctx.skipped.push(`playground/: its browser source (${relative(ctx.cwd, PLAYGROUND_SOURCE)}) is not in this installation`);
        return [];
      }
      const r = playgroundFiles(loadedOf(ctx), ctx.cwd, headerOf(ctx), wasm);
      if (!r.ok) return [...r.errors];
      for (const [rel, content] of r.value) ctx.files.set(`playground/${rel}`, content);
      return [];
    },
  },
];

export interface CompileOptions {
  /** Path to the opa binary; `null` disables the bundle; undefined finds it. */
  readonly opa?: string | null;
  /** Base for the file names shown in diagnostics. */
  readonly cwd?: string;
}

async function runStages(source: RuleSetSource, opts: CompileOptions, which: readonly Stage[]): Promise<Result<Context>> {
  const cwd = opts.cwd ?? process.cwd();
  const ctx: Context = {
    source,
    display: { spec: relative(cwd, source.specFile) || source.specFile, params: relative(cwd, source.paramsFile) || source.paramsFile },
    opa: opts.opa === null ? undefined : (opts.opa ?? findEngine('opa')),
    cwd,
    fixtures: [],
    files: new Map(),
    skipped: [],
  };
  for (const stage of which) {
    const errors = await stage.run(ctx);
    if (errors.length) return fail(errors);
  }
  return ok(ctx);
}

export async function compileRuleSet(source: RuleSetSource, opts: CompileOptions = {}): Promise<Result<CompiledRuleSet>> {
  const r = await runStages(source, opts, stages);
  if (!r.ok) return r;
  const ctx = r.value;
  return ok({ ruleSet: ctx.ruleSet!, params: ctx.params!, files: ctx.files, skipped: ctx.skipped });
}

export interface LoadedRuleSet {
  readonly ruleSet: RuleSet;
  readonly params: ParamValues;
  readonly fixtures: readonly Fixture[];
  /** The spec, parameter file and fixture folder, as diagnostics and generated headers name them. */
  readonly display: { readonly spec: string; readonly params: string; readonly fixtures: string };
}

/**
 * A rule set read and validated as the build reads it (spec, IR, parameters, fixtures), without
 * emitting anything: what the reference docs are written from.
 */
export async function loadRuleSet(source: RuleSetSource, opts: Pick<CompileOptions, 'cwd'> = {}): Promise<Result<LoadedRuleSet>> {
  const r = await runStages(source, { ...opts, opa: null }, loadStages);
  return r.ok ? ok(loadedOf(r.value)) : r;
}

/** The rule set as the load stages read it. */
function loadedOf(ctx: Context): LoadedRuleSet {
  const fixtures = relative(ctx.cwd, ctx.fixturesDir!) || ctx.fixturesDir!;
  return { ruleSet: ctx.ruleSet!, params: ctx.params!, fixtures: ctx.fixtures, display: { ...ctx.display, fixtures } };
}

/**
 * Writes generated/<rule-set>/ atomically. When the bundle (and so the playground) was skipped,
 * the previous bundle/ and playground/ are kept as they were (and the caller is told), so a
 * machine without opa never deletes them.
 */
export function writeCompiled(outDir: string, compiled: CompiledRuleSet): void {
  const dest = join(outDir, compiled.ruleSet.name);
  writeTreeAtomically(dest, withKeptFolders(compiled, dest));
}

/** The folders a build that could not make them keeps as they were (no opa: no bundle, so no playground). */
const KEPT_WHEN_SKIPPED = ['bundle', 'playground'] as const;

/** The compiled files, plus the previous bundle/ and playground/ under `dest` when this build skipped them. */
export function withKeptFolders(compiled: CompiledRuleSet, dest: string): Map<string, string | Uint8Array> {
  const files = new Map(compiled.files);
  if (!compiled.skipped.length) return files;
  for (const dir of KEPT_WHEN_SKIPPED) {
    if ([...files.keys()].some((f) => f.startsWith(`${dir}/`))) continue;
    for (const [rel, content] of readTree(join(dest, dir))) files.set(`${dir}/${rel}`, content);
  }
  return files;
}

export function readTree(dir: string): FileTree {
  const out = new Map<string, Uint8Array>();
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** What `compile` takes: a DSL builder (`ruleSet(...)`) or the IR it produces. */
export type RuleSetInput = { toIR(): unknown } | RuleSet;

export interface CompileInMemoryOptions extends CompileOptions {
  /** Parameter values, merged over the defaults (approve nothing, select every pod). */
  readonly params?: Readonly<Record<string, unknown>>;
}

/**
 * The library entry point: compiles a rule set held in memory (no spec file, no fixtures) to
 * every target, and the WASM bundle when opa is found. Nothing is written.
 */
export async function compile(input: RuleSetInput, opts: CompileInMemoryOptions = {}): Promise<Result<CompiledRuleSet>> {
  const irInput = typeof (input as { toIR?: unknown }).toIR === 'function' ? (input as { toIR(): unknown }).toIR() : input;
  const ctx: Context = {
    source: { specFile: '', paramsFile: '' },
    display: { spec: '(in memory)', params: '(params)' },
    opa: opts.opa === null ? undefined : (opts.opa ?? findEngine('opa')),
    cwd: opts.cwd ?? process.cwd(),
    irInput,
    fixtures: [],
    files: new Map(),
    skipped: [],
  };
  const inMemory: Stage[] = [
    {
      name: 'params',
      run: (c) => {
        const r = validateParamValues(c.ruleSet!, { ...defaultParamValues(c.ruleSet!), ...opts.params }, c.display.params);
        if (!r.ok) return [...r.errors];
        c.params = r.value;
        return [];
      },
    },
  ];
  // No playground in memory: it is a page for a rule set's folder, with its fixtures as examples.
  const plan = stages.flatMap((s) => (s.name === 'load-spec' || s.name === 'load-fixtures' || s.name === 'playground' ? [] : s.name === 'load-params' ? inMemory : [s]));
  for (const stage of plan) {
    const errors = await stage.run(ctx);
    if (errors.length) return fail(errors);
  }
  return ok({ ruleSet: ctx.ruleSet!, params: ctx.params!, files: ctx.files, skipped: ctx.skipped });
}

export async function compileOrThrow(source: RuleSetSource, opts: CompileOptions = {}): Promise<CompiledRuleSet> {
  const r = await compileRuleSet(source, opts);
  if (!r.ok) throw new DiagnosticsError(r.errors);
  return r.value;
}
